/**
 * OCAs over real sockets with real media: a short ladder encoded by Debian's ffmpeg (cached
 * under the data dir, so only the first run pays for it), one storage OCA and two edges on
 * ephemeral ports, requests through Node's fetch exactly as a player would make them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTitleIds, sharedLadderCatalog } from '../control-plane/media/catalog.ts';
import { parseMediaPlaylist, parseVariantStreams } from '../control-plane/media/hls.ts';
import { ensureLadder, type Ladder } from '../control-plane/media/ladder.ts';
import { SHORT_LADDER } from '../control-plane/media/ladder-spec.ts';
import { createCmcdForwarder } from '../control-plane/oca/cmcd-forward.ts';
import { type OcaFleet, startOcaFleet } from '../control-plane/oca/fleet.ts';
import { startConfiguredOcaFleet } from '../control-plane/oca/index.ts';
import { expectedDurationMs } from '../control-plane/oca/pacing.ts';
import type { CmcdRecord, OcaStats } from '../control-plane/oca/server.ts';
import { defaultFleetSpec } from '../control-plane/oca/spec.ts';
import { createKeyring, signMediaPrefix } from '../control-plane/signing/url-signing.ts';
import { loadConfig } from '../core/config.ts';
import { pollUntil } from '../core/retry.ts';

const keyring = createKeyring([{ id: 'it1', secret: 'integration-test-signing-secret' }]);
const titles = defaultTitleIds(8);
let ladder: Ladder;
let fleet: OcaFleet;
const cmcdSeen: CmcdRecord[] = [];

const STORAGE = 'oca-storage-test';
const EDGE_EU = 'oca-edge-as3320-a';
const EDGE_US = 'oca-edge-as7922-a';

function urlOf(id: string): string {
  return fleet.get(id).url;
}

/** A signed URL for one session of one title, on one OCA. */
function signed(ocaId: string, titleId: string, file: string, expiresInSec = 600): string {
  const prefix = signMediaPrefix(
    { titleId, sessionId: 'it-session-1', expiresAtSec: Math.floor(Date.now() / 1000) + expiresInSec },
    keyring,
  );
  return `${urlOf(ocaId)}${prefix}${file}`;
}

function statsOf(id: string): OcaStats {
  const found = fleet.stats().find((s) => s.id === id);
  if (found === undefined) throw new Error(`no stats for ${id}`);
  return found;
}

/** Time to response headers (first byte) and to the last byte. */
async function timedFetch(
  url: string,
): Promise<{ status: number; headersMs: number; totalMs: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const headersMs = performance.now() - started;
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headersMs, totalMs: performance.now() - started, bytes: body.length };
}

function largestSegment(): { path: string; bytes: number } {
  const top = ladder.renditions.at(-1);
  if (top === undefined) throw new Error('empty ladder');
  return top.segments.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

beforeAll(async () => {
  // The encode is content-addressed and immutable, so the default data dir can share it
  // across runs and tests; everything else here is in memory.
  ladder = await ensureLadder(loadConfig().dataDir, SHORT_LADDER);
  const capacityBytes = Math.ceil(ladder.totalBytes * 3);
  fleet = await startOcaFleet(
    {
      host: '127.0.0.1',
      basePort: 0,
      ocas: [
        { id: EDGE_EU, tier: 'edge', region: 'eu-central', isp: 'AS3320', capacityBytes, upstream: STORAGE },
        { id: EDGE_US, tier: 'edge', region: 'us-east', isp: 'AS7922', capacityBytes, upstream: STORAGE },
        { id: STORAGE, tier: 'storage', region: 'eu-central', isp: 'ix-fra' },
      ],
    },
    { catalog: sharedLadderCatalog(titles, ladder), keyring, onCmcd: (r) => cmcdSeen.push(r) },
  );
});

afterAll(async () => {
  await fleet?.stop();
});

describe('real media from the OCAs', () => {
  it('serves a multivariant playlist with at least 3 renditions and 2 s fMP4 media playlists', async () => {
    const masterUrl = signed(EDGE_EU, 'title-001', 'master.m3u8');
    const response = await fetch(masterUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const variants = parseVariantStreams(await response.text());
    expect(variants.length).toBeGreaterThanOrEqual(3);
    for (const variant of variants) {
      expect(Number(variant.attributes.get('BANDWIDTH'))).toBeGreaterThan(0);
      expect(variant.attributes.get('RESOLUTION')).toMatch(/^\d+x\d+$/);
      expect(variant.attributes.get('CODECS')).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      // Relative URIs resolve under the signed prefix, as a player resolves them.
      const playlistUrl = new URL(variant.uri, masterUrl);
      const playlistResponse = await fetch(playlistUrl);
      expect(playlistResponse.status).toBe(200);
      const media = parseMediaPlaylist(await playlistResponse.text());
      expect(media.targetDurationSec).toBe(2);
      expect(media.playlistType).toBe('VOD');
      expect(media.endList).toBe(true);
      expect(media.segments.length).toBe(SHORT_LADDER.durationSec / 2);
      for (const segment of media.segments) expect(segment.durationSec).toBeCloseTo(2, 3);
      expect(media.mapUri).toBeDefined();

      // The init section and the first segment are ISO BMFF: `ftyp` first, then `moof` in
      // the segment (ISO/IEC 14496-12 box headers: 4-byte size, 4-byte type).
      const init = Buffer.from(await (await fetch(new URL(media.mapUri ?? '', playlistUrl))).arrayBuffer());
      expect(init.subarray(4, 8).toString('latin1')).toBe('ftyp');
      expect(init.includes(Buffer.from('moov'))).toBe(true);
      const first = Buffer.from(
        await (await fetch(new URL(media.segments[0]?.uri ?? '', playlistUrl))).arrayBuffer(),
      );
      expect(first.includes(Buffer.from('moof'))).toBe(true);
      expect(first.includes(Buffer.from('mdat'))).toBe(true);
    }
  });

  it('declares the bit rates it measured and ffmpeg codecs in the ladder manifest', () => {
    expect(ladder.renditions.map((r) => r.id)).toEqual(['240p', '480p', '720p']);
    for (let i = 1; i < ladder.renditions.length; i++) {
      const lower = ladder.renditions[i - 1];
      const higher = ladder.renditions[i];
      expect(higher?.averageBandwidth ?? 0).toBeGreaterThan(lower?.averageBandwidth ?? 0);
    }
    for (const r of ladder.renditions) {
      const nominal = (SHORT_LADDER.renditions.find((s) => s.id === r.id)?.videoBitrateKbps ?? 0) * 1000;
      // Video at the capped target plus 64 kb/s AAC plus container overhead.
      expect(r.averageBandwidth).toBeGreaterThan(nominal * 0.7);
      expect(r.averageBandwidth).toBeLessThan(nominal * 1.4 + 100_000);
      expect(r.bandwidth).toBeGreaterThanOrEqual(r.averageBandwidth);
    }
  });
});

describe('signed URLs', () => {
  it('serves a signed URL and refuses a tampered, expired or missing one with 403 and the reason', async () => {
    const good = signed(STORAGE, 'title-001', '240p/index.m3u8');
    expect((await fetch(good)).status).toBe(200);

    // Change one character of the signature.
    const sigEnd = good.lastIndexOf('/240p/');
    const c = good[sigEnd - 1];
    const tampered = `${good.slice(0, sigEnd - 1)}${c === 'A' ? 'B' : 'A'}${good.slice(sigEnd)}`;
    const expired = signed(STORAGE, 'title-001', '240p/index.m3u8', -5);
    const missing = `${urlOf(STORAGE)}/t/title-001/240p/index.m3u8`;
    const otherTitle = good.replace('/t/title-001/', '/t/title-002/');
    for (const [url, reason] of [
      [tampered, 'tampered'],
      [expired, 'expired'],
      [missing, 'missing'],
      [otherTitle, 'tampered'],
    ] as const) {
      const response = await fetch(url);
      expect(response.status, url).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const body = (await response.json()) as { code: string; reason: string };
      expect(body).toMatchObject({ code: 'PLAYLOOP_FORBIDDEN', reason });
    }
    const forbidden = statsOf(STORAGE).forbidden;
    expect(forbidden).toEqual({ tampered: 2, expired: 1, missing: 1 });
  });

  it('answers 404 for a file that is not in the title, even with a good token', async () => {
    expect((await fetch(signed(STORAGE, 'title-001', '240p/../manifest.json'))).status).toBe(404);
    expect((await fetch(signed(STORAGE, 'title-999', 'master.m3u8'))).status).toBe(404);
  });
});

describe('edge cache', () => {
  it('fills a miss from storage over HTTP, counts it, and hits the second time', async () => {
    const segment = ladder.renditions[1]?.segments[2];
    if (segment === undefined) throw new Error('no segment');
    const onDisk = await readFile(join(ladder.dir, segment.path));
    const storageBefore = statsOf(STORAGE).requests;
    const edgeBefore = statsOf(EDGE_EU).cache;

    const first = await fetch(signed(EDGE_EU, 'title-002', segment.path));
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(Buffer.from(await first.arrayBuffer()).equals(onDisk)).toBe(true);
    const afterMiss = statsOf(EDGE_EU).cache;
    expect(afterMiss?.misses).toBe((edgeBefore?.misses ?? 0) + 1);
    expect(afterMiss?.missFillBytes).toBe((edgeBefore?.missFillBytes ?? 0) + segment.bytes);
    expect(statsOf(STORAGE).requests).toBe(storageBefore + 1);

    const second = await fetch(signed(EDGE_EU, 'title-002', segment.path));
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await second.arrayBuffer()).equals(onDisk)).toBe(true);
    const afterHit = statsOf(EDGE_EU).cache;
    expect(afterHit?.hits).toBe((edgeBefore?.hits ?? 0) + 1);
    expect(afterHit?.missFillBytes).toBe(afterMiss?.missFillBytes);
    expect(statsOf(STORAGE).requests).toBe(storageBefore + 1);

    // Same bytes under another title are another object: titles are cached separately.
    const otherTitle = await fetch(signed(EDGE_EU, 'title-003', segment.path));
    expect(otherTitle.headers.get('x-cache')).toBe('MISS');
    await otherTitle.arrayBuffer();
  });

  it('shares one fill between concurrent misses for the same object', async () => {
    const segment = ladder.renditions[0]?.segments[3];
    if (segment === undefined) throw new Error('no segment');
    const storageBefore = statsOf(STORAGE).requests;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => fetch(signed(EDGE_US, 'title-004', segment.path))),
    );
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBe(segment.bytes);
    }
    expect(statsOf(STORAGE).requests).toBe(storageBefore + 1);
  });

  it('exports hits, misses and fill bytes as Prometheus metrics', async () => {
    const response = await fetch(`${urlOf(EDGE_EU)}/metrics`);
    const text = await response.text();
    const hit = text.match(
      /^playloop_oca_cache_lookups_total\{result="hit",oca="oca-edge-as3320-a"[^}]*\} (\d+)$/m,
    );
    expect(Number(hit?.[1])).toBe(statsOf(EDGE_EU).cache?.hits);
    const fill = text.match(
      /^playloop_oca_fill_bytes_total\{reason="miss",oca="oca-edge-as3320-a"[^}]*\} (\d+)$/m,
    );
    expect(Number(fill?.[1])).toBe(statsOf(EDGE_EU).cache?.missFillBytes);
  });

  it('answers 502 when its storage OCA fails, and recovers when storage does', async () => {
    fleet.degrade(STORAGE, { errorRate: 1 });
    try {
      const response = await fetch(signed(EDGE_EU, 'title-005', '240p/index.m3u8'));
      expect(response.status).toBe(502);
      expect(((await response.json()) as { code: string }).code).toBe('PLAYLOOP_UPSTREAM_FAILED');
    } finally {
      fleet.restore(STORAGE);
    }
    expect((await fetch(signed(EDGE_EU, 'title-005', '240p/index.m3u8'))).status).toBe(200);
  });
});

describe('degradation on command', () => {
  it('adds the commanded latency before the first byte', async () => {
    const url = signed(STORAGE, 'title-001', '480p/index.m3u8');
    const baseline = [];
    for (let i = 0; i < 5; i++) baseline.push((await timedFetch(url)).headersMs);
    const base = Math.min(...baseline);

    const admin = await fetch(`${urlOf(STORAGE)}/admin/degrade`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 300 }),
    });
    expect(admin.status).toBe(200);
    try {
      const slow = [];
      for (let i = 0; i < 3; i++) slow.push((await timedFetch(url)).headersMs);
      for (const ms of slow) {
        expect(ms).toBeGreaterThanOrEqual(300);
        expect(ms).toBeLessThan(base + 300 + 250);
      }
    } finally {
      expect((await fetch(`${urlOf(STORAGE)}/admin/degrade`, { method: 'DELETE' })).status).toBe(200);
    }
    expect((await timedFetch(url)).headersMs).toBeLessThan(250);
  });

  it('caps throughput per connection by pacing the body', async () => {
    const segment = largestSegment();
    const url = signed(STORAGE, 'title-001', segment.path);
    const kbps = 4_000;
    fleet.degrade(STORAGE, { throughputKbps: kbps });
    try {
      const expected = expectedDurationMs(segment.bytes, kbps);
      expect(expected).toBeGreaterThan(800); // long enough to measure against timer noise
      const result = await timedFetch(url);
      expect(result.status).toBe(200);
      expect(result.bytes).toBe(segment.bytes);
      const measuredKbps = (result.bytes * 8) / result.totalMs;
      expect(result.totalMs).toBeGreaterThanOrEqual(expected * 0.95);
      expect(result.totalMs).toBeLessThan(expected * 1.2 + 200);
      expect(measuredKbps).toBeLessThanOrEqual(kbps * 1.05);

      // Two connections at once each get the cap: it is per connection, not shared.
      const both = await Promise.all([timedFetch(url), timedFetch(url)]);
      for (const r of both) expect(r.totalMs).toBeLessThan(expected * 1.3 + 300);
    } finally {
      fleet.restore(STORAGE);
    }
    const fast = await timedFetch(url);
    expect(fast.totalMs).toBeLessThan(expectedDurationMs(segment.bytes, kbps) / 2);
  });

  it('answers 503 at the configured error rate, the same failures for the same seed', async () => {
    const url = signed(EDGE_US, 'title-001', '240p/index.m3u8');
    const run = async (): Promise<boolean[]> => {
      const admin = await fetch(`${urlOf(EDGE_US)}/admin/degrade`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 0.25, seed: 20_251_126 }),
      });
      expect(admin.status).toBe(200);
      const failed: boolean[] = [];
      for (let i = 0; i < 400; i++) {
        const response = await fetch(url);
        await response.arrayBuffer();
        expect([200, 503]).toContain(response.status);
        if (response.status === 503) expect(response.headers.get('access-control-allow-origin')).toBe('*');
        failed.push(response.status === 503);
      }
      return failed;
    };
    const before = statsOf(EDGE_US).injectedErrors;
    const first = await run();
    const second = await run();
    await fetch(`${urlOf(EDGE_US)}/admin/degrade`, { method: 'DELETE' });
    const count = first.filter(Boolean).length;
    // scipy 1.17.1: stats.binom.interval(0.999, 400, 0.25) = (72.0, 129.0)
    expect(count).toBeGreaterThanOrEqual(72);
    expect(count).toBeLessThanOrEqual(129);
    expect(second).toEqual(first);
    expect(statsOf(EDGE_US).injectedErrors - before).toBe(2 * count);
  });

  it('refuses a malformed degradation command with 400', async () => {
    const response = await fetch(`${urlOf(EDGE_US)}/admin/degrade`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 2 }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('PLAYLOOP_BAD_REQUEST');
  });
});

describe('CMCD and CORS', () => {
  it('reads CMCD from the query string and from headers after a preflight', async () => {
    const segment = ladder.renditions[0]?.segments[0];
    if (segment === undefined) throw new Error('no segment');
    const cmcd = 'bl=4200,br=400,cid="title-006",mtp=2500,ot=v,sf=h,sid="it-session-1",st=v';
    const viaQuery = await fetch(
      `${signed(EDGE_EU, 'title-006', segment.path)}?CMCD=${encodeURIComponent(cmcd)}`,
    );
    expect(viaQuery.status).toBe(200);
    await viaQuery.arrayBuffer();

    const target = signed(EDGE_EU, 'title-006', segment.path);
    const preflight = await fetch(target, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://player.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'cmcd-request,cmcd-object,cmcd-session,cmcd-status',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('cmcd-request');
    const viaHeaders = await fetch(target, {
      headers: {
        'cmcd-request': 'bl=1800,mtp=900',
        'cmcd-object': 'br=400,ot=v',
        'cmcd-session': 'sid="it-session-1"',
      },
    });
    expect(viaHeaders.headers.get('access-control-expose-headers')).toContain('X-Cache');
    await viaHeaders.arrayBuffer();

    // Records are written when each response is over: wait for both.
    const records = await pollUntil(
      async () => {
        const recent = fleet.recentCmcd(EDGE_EU, 2);
        return recent.length === 2 && recent.every((r) => r.titleId === 'title-006') ? recent : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'two CMCD records' },
    );
    expect(records.map((r) => r.cmcd)).toEqual([
      { bl: 4200, br: 400, cid: 'title-006', mtp: 2500, ot: 'v', sf: 'h', sid: 'it-session-1', st: 'v' },
      { bl: 1800, mtp: 900, br: 400, ot: 'v', sid: 'it-session-1' },
    ]);
    expect(records.map((r) => r.cache)).toEqual(['MISS', 'HIT']);
    expect(records[0]).toMatchObject({
      titleId: 'title-006',
      grantSessionId: 'it-session-1',
      kind: 'segment',
      status: 200,
      bytes: segment.bytes,
      completed: true,
      raw: { query: cmcd, headers: {} },
    });
    expect(records[1]?.raw.headers).toEqual({
      'cmcd-request': 'bl=1800,mtp=900',
      'cmcd-object': 'br=400,ot=v',
      'cmcd-session': 'sid="it-session-1"',
    });
    expect(cmcdSeen.slice(-2)).toEqual(records);
    const fromAdmin = (await (await fetch(`${urlOf(EDGE_EU)}/admin/cmcd?limit=1`)).json()) as CmcdRecord[];
    expect(fromAdmin[0]?.cmcd).toEqual(records[1]?.cmcd);
  });
});

describe('CMCD forwarding', () => {
  it('mirrors complete segment downloads to an ingest /v1/cmcd endpoint with oca, bytes and ms', async () => {
    // A stand-in for ingest that records what reaches it (the real route maps it onto a
    // segment_downloaded event: producers/ingest/cmcd.ts).
    const received: Array<{
      method: string;
      url: string;
      authorization: string | undefined;
      object: string | undefined;
    }> = [];
    const ingest = Fastify();
    ingest.route({
      method: ['GET', 'POST'],
      url: '/v1/cmcd',
      handler: async (request, reply) => {
        const object = request.headers['cmcd-object'];
        received.push({
          method: request.method,
          url: request.url,
          authorization: request.headers.authorization,
          object: typeof object === 'string' ? object : undefined,
        });
        return reply.code(202).send({ accepted: 1 });
      },
    });
    await ingest.listen({ host: '127.0.0.1', port: 0 });
    const address = ingest.server.address();
    const ingestUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    const forwarder = createCmcdForwarder({ ingestUrl, ingestKey: 'it-ingest-key-0001' });
    const forwardingFleet = await startOcaFleet(
      {
        host: '127.0.0.1',
        basePort: 0,
        ocas: [{ id: 'oca-storage-fwd', tier: 'storage', region: 'r', isp: 'ix' }],
      },
      { catalog: sharedLadderCatalog(titles, ladder), keyring, onCmcd: forwarder.onCmcd },
    );
    try {
      const base = forwardingFleet.get('oca-storage-fwd').url;
      const prefix = signMediaPrefix(
        { titleId: 'title-001', sessionId: 'fwd-1', expiresAtSec: Math.floor(Date.now() / 1000) + 600 },
        keyring,
      );
      const segment = ladder.renditions[0]?.segments[1];
      if (segment === undefined) throw new Error('no segment');
      const cmcd = 'br=400,cid="title-001",d=2000,ot=v,sid="fwd-1"';
      await (await fetch(`${base}${prefix}${segment.path}?CMCD=${encodeURIComponent(cmcd)}`)).arrayBuffer();
      // A playlist request with CMCD is counted but not mirrored.
      await (
        await fetch(`${base}${prefix}240p/index.m3u8?CMCD=${encodeURIComponent('ot=m,sid="fwd-1"')}`)
      ).text();
      // Header-mode CMCD travels as headers.
      await (
        await fetch(`${base}${prefix}${segment.path}`, {
          headers: { 'cmcd-object': 'br=400,d=2000,ot=v', 'cmcd-session': 'cid="title-001",sid="fwd-1"' },
        })
      ).arrayBuffer();
      await pollUntil(
        async () => (forwarder.stats().sent + forwarder.stats().skipped >= 3 ? true : undefined),
        {
          timeoutMs: 5_000,
          intervalMs: 20,
          what: 'beacons forwarded',
        },
      );
      await forwarder.drain();
      expect(forwarder.stats()).toEqual({ sent: 2, failed: 0, dropped: 0, skipped: 1 });
      expect(received).toHaveLength(2);
      const [viaQuery, viaHeaders] = received;
      const params = new URL(viaQuery?.url ?? '', ingestUrl).searchParams;
      expect(params.get('CMCD')).toBe(cmcd);
      expect(params.get('oca')).toBe('oca-storage-fwd');
      expect(Number(params.get('bytes'))).toBe(segment.bytes);
      expect(Number(params.get('ms'))).toBeGreaterThanOrEqual(0);
      expect(viaQuery?.authorization).toBe('Bearer it-ingest-key-0001');
      expect(viaHeaders?.object).toBe('br=400,d=2000,ot=v');
    } finally {
      await forwardingFleet.stop();
      await ingest.close();
    }
  });
});

describe('the default fleet from config', () => {
  it('starts 2 storage and 4 edge OCAs that verify URLs signed with the configured keys', async () => {
    const config = loadConfig();
    const started = await startConfiguredOcaFleet(config, {
      ladderSpec: SHORT_LADDER,
      titleIds: ['title-001'],
      // The default ports (config.oca.basePort) may be taken by a running stack: ephemeral here.
      fleetSpec: { ...defaultFleetSpec(config.oca), basePort: 0 },
    });
    try {
      const { fleet: configured, keyring: configuredKeys } = started;
      expect(configured.ocas.map((o) => [o.tier, o.region, o.isp])).toEqual([
        ['storage', 'eu-central', 'ix-fra'],
        ['storage', 'us-east', 'ix-nyc'],
        ['edge', 'eu-central', 'AS3320'],
        ['edge', 'eu-central', 'AS3320'],
        ['edge', 'us-east', 'AS7922'],
        ['edge', 'us-east', 'AS7922'],
      ]);
      const prefix = signMediaPrefix(
        { titleId: 'title-001', sessionId: 'cfg-1', expiresAtSec: Math.floor(Date.now() / 1000) + 60 },
        configuredKeys,
      );
      for (const oca of configured.ocas) {
        expect((await fetch(`${oca.url}/healthz`)).status).toBe(200);
        const response = await fetch(`${oca.url}${prefix}240p/index.m3u8`);
        expect(response.status).toBe(200);
        await response.text();
      }
      // An edge filled from its own region's storage OCA.
      expect(configured.stats().find((o) => o.id === 'oca-storage-us-east')?.requests).toBe(3);
    } finally {
      await started.fleet.stop();
    }
  });
});

describe('proactive fill', () => {
  it('pre-fills a region by predicted popularity, counting fill bytes apart from misses', async () => {
    const before = statsOf(EDGE_US).cache;
    const reports = await fleet.proactiveFill([
      {
        region: 'us-east',
        titles: [
          { titleId: 'title-007', expectedViews: 500 },
          { titleId: 'title-008', expectedViews: 300 },
          { titleId: 'title-003', expectedViews: 10 },
        ],
      },
    ]);
    // Only the us-east edge; 80 % of a 3-title cache fits the top 2 titles.
    expect(reports.map((r) => r.ocaId)).toEqual([EDGE_US]);
    const report = reports[0];
    expect(report?.plan.titles).toEqual(['title-007', 'title-008']);
    expect(report?.result).toMatchObject({
      objects: 2 * ladder.files.size,
      bytes: 2 * ladder.totalBytes,
      failed: 0,
    });
    const after = statsOf(EDGE_US).cache;
    expect((after?.proactiveFillBytes ?? 0) - (before?.proactiveFillBytes ?? 0)).toBe(2 * ladder.totalBytes);
    expect(after?.missFillBytes).toBe(before?.missFillBytes);
    expect(after?.misses).toBe(before?.misses);

    const filled = await fetch(signed(EDGE_US, 'title-007', largestSegment().path));
    expect(filled.headers.get('x-cache')).toBe('HIT');
    await filled.arrayBuffer();
    const notFilled = await fetch(signed(EDGE_US, 'title-003', largestSegment().path));
    expect(notFilled.headers.get('x-cache')).toBe('MISS');
    await notFilled.arrayBuffer();
    // The other region's edge was left alone.
    expect(statsOf(EDGE_EU).cache?.proactiveFillBytes).toBe(0);
  });
});
