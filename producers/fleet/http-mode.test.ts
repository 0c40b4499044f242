/**
 * The HTTP mode against a tiny local server (127.0.0.1, port 0) serving a fake two-rendition
 * ladder for two OCAs, plus a steering endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCmcd } from '../../control-plane/oca/cmcd.ts';
import type { WireEvent } from '../client/wire.ts';
import { HttpFleet } from './http-mode.ts';
import type { PlanResult, PlanSource, PlaybackPlan } from './plan.ts';
import type { SessionTruth } from './player.ts';
import { makePlayerConfig, validateFleetSettings } from './settings.ts';
import { MemorySink } from './sink.ts';
import { uniformPopulation } from './testing.ts';

const SEGMENTS = 3;
const LEVELS = { low: 300_000, high: 800_000 } as const;
type Level = keyof typeof LEVELS;
const segmentBytes = (level: Level): number => LEVELS[level] / 8;

interface Seen {
  readonly oca: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
}

interface FakeOcas {
  readonly url: string;
  readonly seen: Seen[];
  /** OCA ids whose segment requests are answered 503. */
  readonly failing: Set<string>;
  steeringPriority: string[];
  close(): Promise<void>;
}

function mediaPlaylist(): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-TARGETDURATION:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  for (let i = 0; i < SEGMENTS; i++) lines.push('#EXTINF:1.000000,', `seg_${String(i).padStart(5, '0')}.m4s`);
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

async function startFakeOcas(): Promise<FakeOcas> {
  const seen: Seen[] = [];
  const failing = new Set<string>();
  const state = { steeringPriority: [] as string[] };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter((p) => p.length > 0);
    const answer = (status: number, body: string | Buffer, type = 'application/octet-stream'): void => {
      seen.push({ oca: parts[0] ?? '', path: parts.slice(1).join('/'), query: url.searchParams, status });
      res.writeHead(status, { 'content-type': type, 'x-cache': 'HIT' });
      res.end(body);
    };
    if (parts[0] === 'steer') {
      answer(
        200,
        JSON.stringify({ VERSION: 1, TTL: 1, 'PATHWAY-PRIORITY': state.steeringPriority }),
        'application/json',
      );
      return;
    }
    const [oca, first, file] = parts;
    if (oca === undefined || first === undefined) return answer(404, 'no');
    if (first === 'master.m3u8') return answer(200, '#EXTM3U\n', 'application/vnd.apple.mpegurl');
    const level = first as Level;
    if (!(level in LEVELS)) return answer(404, 'no such level');
    if (file === 'index.m3u8') return answer(200, mediaPlaylist(), 'application/vnd.apple.mpegurl');
    if (file === 'init.mp4') return answer(200, Buffer.alloc(800));
    if (file?.endsWith('.m4s')) {
      if (failing.has(oca)) return answer(503, 'overloaded');
      return answer(200, Buffer.alloc(segmentBytes(level)));
    }
    answer(404, 'no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    failing,
    get steeringPriority() {
      return state.steeringPriority;
    },
    set steeringPriority(v: string[]) {
      state.steeringPriority = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function planSource(base: string, options: { steering?: boolean } = {}): PlanSource {
  let n = 0;
  return {
    async getPlan(request): Promise<PlanResult> {
      const plan: PlaybackPlan = {
        planId: `p-${++n}`,
        titleId: request.titleId,
        ocas: [
          { id: 'oca-a', baseUrl: `${base}/oca-a/`, region: 'eu-central', isp: 'AS3320' },
          { id: 'oca-b', baseUrl: `${base}/oca-b/`, region: 'eu-central', isp: 'AS3320' },
        ],
        multivariant: 'master.m3u8',
        renditions: [
          { id: 'low', bandwidthBps: LEVELS.low, playlist: 'low/index.m3u8' },
          { id: 'high', bandwidthBps: LEVELS.high, playlist: 'high/index.m3u8' },
        ],
        abr: {},
        steering: options.steering ? { uri: `${base}/steer/manifest.json`, pathwayId: 'oca-a' } : null,
        experiments: [{ key: 'abr-bandwidth-factor', cell: 'control' }],
      };
      return { ok: true, plan };
    },
  };
}

async function runHttp(ocas: FakeOcas, options: { steering?: boolean; players?: number } = {}) {
  const players = options.players ?? 2;
  const settings = validateFleetSettings({
    mode: 'http',
    players,
    seed: 3,
    durationMs: 4_500,
    rampUpMs: 0,
    retry: { maxNumRetry: 1, retryDelayMs: 20, maxRetryDelayMs: 100 },
  });
  const population = uniformPopulation({ access: 'fiber', watchMs: 1e9 });
  const config = makePlayerConfig(
    settings,
    { ...population, viewer: { ...population.viewer, thinkTimeMeanMs: 60_000 } },
    Date.now(),
  );
  const sink = new MemorySink();
  const truths: SessionTruth[] = [];
  // Stop once every player finished its first session (bounded by durationMs anyway).
  const done = new AbortController();
  const fleet = new HttpFleet({
    players,
    config,
    planSource: planSource(ocas.url, options),
    sink,
    durationMs: settings.durationMs,
    rampUpMs: 0,
    signal: done.signal,
    onSessionEnd: (t) => {
      truths.push(t);
      if (truths.length >= players) done.abort();
    },
  });
  const result = await fleet.run();
  return { sink, truths, result };
}

const ofSession = (events: readonly WireEvent[], sessionId: string) =>
  events.filter((e) => e.sessionId === sessionId);

describe.concurrent('HTTP mode against a local fake ladder', () => {
  // One server per test: the tests run at once and each scripts its own OCAs.
  const servers: FakeOcas[] = [];
  const serve = async (): Promise<FakeOcas> => {
    const s = await startFakeOcas();
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('plays real downloads through the player state machine, with CMCD on every segment', async () => {
    const ocas = await serve();
    const before = ocas.seen.length;
    const { sink, truths, result } = await runHttp(ocas);
    expect(result.mode).toBe('http');
    expect(truths).toHaveLength(2);
    for (const truth of truths) {
      expect(truth.mode).toBe('http');
      expect(truth.endReason).toBe('completed');
      // Playback is three 1 s segments of virtual time: exactly 3000 ms of play if no stall.
      expect(truth.playMs + truth.stallMs).toBe(3_000);
      expect(truth.segments).toBe(SEGMENTS);
      const events = ofSession(sink.events, truth.sessionId);
      expect(events.map((e) => e.kind).slice(0, 3)).toEqual([
        'play_intent',
        'manifest_loaded',
        'segment_downloaded',
      ]);
      expect(events[0]?.experiments).toEqual([{ key: 'abr-bandwidth-factor', cell: 'control' }]);
      expect(events[0]?.device?.playerVersion).toContain('http');
      const segments = events.filter((e) => e.kind === 'segment_downloaded');
      for (const s of segments) {
        const level = s.segment?.level === 1 ? 'high' : 'low';
        expect(s.segment?.bytes).toBe(segmentBytes(level));
        expect(s.segment?.ocaId).toBe('oca-a');
        expect(s.segment?.cacheHit).toBe(true);
        expect(s.segment?.downloadMs).toBeGreaterThan(0);
        expect(s.cmcd?.sf).toBe('h');
      }
      expect(events.at(-1)?.kind).toBe('session_end');
    }
    const segmentRequests = ocas.seen.slice(before).filter((r) => r.path.endsWith('.m4s'));
    expect(segmentRequests).toHaveLength(2 * SEGMENTS);
    for (const r of segmentRequests) {
      const cmcd = parseCmcd(r.query.get('CMCD') ?? '');
      expect(truths.map((t) => t.sessionId)).toContain(cmcd['sid']);
      expect(cmcd['cid']).toBe(truths[0]?.titleId);
      expect(cmcd['ot']).toBe('av');
      expect(cmcd['d']).toBe(1_000);
      expect([300, 800]).toContain(cmcd['br']);
    }
  });

  it('retries a failing OCA, then fails over to the next one in the plan', async () => {
    const ocas = await serve();
    ocas.failing.add('oca-a');
    const { sink, truths } = await runHttp(ocas, { players: 1 });
    const truth = truths[0]!;
    expect(truth.endReason).toBe('completed');
    const events = ofSession(sink.events, truth.sessionId);
    const errors = events.filter((e) => e.kind === 'error');
    // One attempt and one retry on oca-a (maxNumRetry 1), each a non-fatal fragLoadError 503.
    expect(errors.map((e) => [e.error?.details, e.error?.fatal, e.error?.httpStatus])).toEqual([
      ['fragLoadError', false, 503],
      ['fragLoadError', false, 503],
    ]);
    const segments = events.filter((e) => e.kind === 'segment_downloaded');
    expect(segments).toHaveLength(SEGMENTS);
    expect(segments.every((e) => e.segment?.ocaId === 'oca-b')).toBe(true);
  });

  it('follows the Content Steering PATHWAY-PRIORITY', async () => {
    const ocas = await serve();
    ocas.steeringPriority = ['oca-b', 'oca-a'];
    const before = ocas.seen.length;
    const { sink, truths } = await runHttp(ocas, { steering: true, players: 1 });
    const truth = truths[0]!;
    const polls = ocas.seen.slice(before).filter((r) => r.oca === 'steer');
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls[0]?.query.get('_HLS_pathway')).toBe('oca-a');
    expect(Number(polls[0]?.query.get('_HLS_throughput'))).toBeGreaterThan(0);
    // The steering answer is in before the first segment request (it races only the manifest).
    const segments = ofSession(sink.events, truth.sessionId).filter((e) => e.kind === 'segment_downloaded');
    expect(segments.length).toBe(SEGMENTS);
    expect(segments.every((e) => e.segment?.ocaId === 'oca-b')).toBe(true);
  });
});
