import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPlayloopError } from '../../core/errors.ts';
import type { WireBatch } from '../client/wire.ts';
import { validateEvent } from '../ingest/validate.ts';
import { runFleet } from './fleet.ts';
import { scheduledConditions } from './network.ts';
import { parsePlaybackPlan, parseSteeringManifest, steeringRequestUrl } from './plan.ts';
import type { SessionTruth } from './player.ts';
import { DEFAULT_POPULATION } from './population.ts';
import { createProgressDisplay, type FleetProgress, formatProgress } from './progress.ts';
import { IngestSink, MemorySink } from './sink.ts';
import {
  DEFAULT_RENDITIONS,
  defaultStubOcas,
  proximityRank,
  scriptedSteeringSource,
  stubPlanSource,
} from './stub-sources.ts';
import { asIngested } from './testing.ts';

describe('runFleet', () => {
  it('runs the timing mode, says so, dates events in the past and shows progress', async () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (chunk: string) => lines.push(chunk) > 0 };
    const sink = new MemorySink();
    const truths: SessionTruth[] = [];
    const before = Date.now();
    const result = await runFleet({
      settings: { mode: 'timing', players: 25, seed: 9, durationMs: 10 * 60_000 },
      planSource: stubPlanSource(),
      sink,
      progress: createProgressDisplay(stream, { intervalMs: 0 }),
      onSessionEnd: (t) => truths.push(t),
    });
    expect(result.mode).toBe('timing');
    expect(result.pacing).toBe('afap');
    expect(result.simulatedMs).toBe(10 * 60_000);
    expect(result.progress.eventsSent).toBe(sink.events.length);
    expect(result.progress.sessionsDone).toBe(truths.length);
    expect(truths.every((t) => t.mode === 'timing')).toBe(true);
    // Faster than real time, the run is dated to end by now: nothing from the future.
    expect(Math.max(...sink.events.map((e) => e.clientTs))).toBeLessThanOrEqual(before + 1_000);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(/^fleet\[timing, afap\] \| sim 10:00 /);
    // Sessions of every ISP went out under that ISP's address.
    expect(sink.origins.map((o) => o.isp).sort()).toEqual(['AS3320', 'AS64496', 'AS64497', 'AS7922']);
  });

  it('emits only events that ingest accepts, exactly as the contract reads them', async () => {
    const sink = new MemorySink();
    const ocas = defaultStubOcas();
    await runFleet({
      settings: {
        mode: 'timing',
        players: 30,
        seed: 21,
        durationMs: 15 * 60_000,
        epochMs: 1_700_000_000_000,
      },
      population: {
        ...DEFAULT_POPULATION,
        viewer: { seeksPerHour: 10, pausesPerHour: 10, fatalMediaErrorsPerHour: 1, thinkTimeMeanMs: 5_000 },
      },
      planSource: stubPlanSource({
        durationMs: 5 * 60_000,
        steeringUri: 'http://127.0.0.1:7071/v1/steering/{sessionId}',
        experiments: () => [{ key: 'abr-bandwidth-factor', cell: 'headroom-0-8' }],
      }),
      steeringSource: scriptedSteeringSource(() => 0, []),
      conditions: scheduledConditions(
        ocas.map((o) => ({ atMs: 5 * 60_000, ocaId: o.id, degradation: { latencyMs: 0, errorRate: 0.4 } })),
      ),
      sink,
    });
    const events = sink.events;
    const receivedAt = Math.max(...events.map((e) => e.clientTs)) + 1;
    const validate = validateEvent({
      receivedAt,
      clockSkewMs: 0,
      clock: { maxSkewMs: 0, maxFutureMs: 0, maxPastMs: 86_400_000 },
      pathOf: (i) => `$.events[${i}]`,
    });
    const kinds = new Set<string>();
    const refused: string[] = [];
    const differing: string[] = [];
    events.forEach((event, index) => {
      // What goes over the wire is JSON.
      const result = validate({ index, value: JSON.parse(JSON.stringify(event)) });
      if (result.type !== 'ok') {
        refused.push(`${JSON.stringify(result)} for ${JSON.stringify(event)}`);
        return;
      }
      const { server: _server, ...expected } = asIngested(event);
      if (!isDeepStrictEqual(result.value.value, expected)) differing.push(JSON.stringify(event));
      kinds.add(event.kind);
    });
    expect(refused).toEqual([]);
    expect(differing).toEqual([]);
    expect([...kinds].sort()).toEqual(
      [
        'error',
        'first_frame',
        'heartbeat',
        'manifest_loaded',
        'pause',
        'play_intent',
        'rendition_switch',
        'resume',
        'seek',
        'segment_downloaded',
        'session_end',
        'stall_end',
        'stall_start',
      ].sort(),
    );
  });

  it('refuses settings that contradict the mode, naming the key', async () => {
    const attempt = runFleet({
      settings: { mode: 'http', players: 500, durationMs: 1_000 },
      planSource: stubPlanSource(),
      sink: new MemorySink(),
    });
    await expect(attempt).rejects.toSatisfy(
      (err: unknown) =>
        isPlayloopError(err) && err.code === 'PLAYLOOP_CONFIG_INVALID' && /players/.test(err.message),
    );
  });
});

describe('progress display', () => {
  const p: FleetProgress = {
    mode: 'timing',
    pacing: 'paced x1',
    simulatedMs: 3_725_000,
    wallMs: 3_725_400,
    players: 10_000,
    active: 9_500,
    playing: 9_000,
    stalledNow: 12,
    sessionsStarted: 20_000,
    sessionsDone: 10_500,
    eventsEmitted: 1_234_567,
    eventsSent: 1_230_000,
    stalls: 345,
    meanBitrateKbps: 2_101.4,
    ebvs: 3,
    vsf: 1,
    vpf: 2,
    lagMs: 14,
  };

  it('formats one line that names the mode', () => {
    expect(formatProgress(p)).toBe(
      'fleet[timing, paced x1] | sim 1:02:05 wall 1:02:05 | players 9,500/10,000 active, 9,000 playing, 12 stalled | ' +
        'sessions 10,500 done | events 1,230,000/1,234,567 sent | stalls 345 | bitrate 2,101 kbps | ebvs/vsf/vpf 3/1/2 | lag 14 ms',
    );
  });

  it('rewrites one line on a terminal and prints plain lines at an interval otherwise', () => {
    const tty: string[] = [];
    const d = createProgressDisplay({ isTTY: true, write: (c) => tty.push(c) > 0 }, { intervalMs: 100 });
    d.update(() => p, 0);
    d.update(() => expect.unreachable('too soon to take a snapshot'), 50);
    d.update(() => p, 150);
    d.done(p);
    expect(tty).toHaveLength(3);
    expect(tty[0]?.startsWith('\r\x1b[2K')).toBe(true);
    expect(tty[0]?.endsWith('\n')).toBe(false);
    expect(tty[2]?.endsWith('\n')).toBe(true);
    const log: string[] = [];
    const plain = createProgressDisplay({ write: (c) => log.push(c) > 0 });
    plain.update(() => p, 0);
    plain.update(() => p, 5_000);
    plain.update(() => p, 10_000);
    expect(log).toHaveLength(2);
    expect(log.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
});

describe('plan contract', () => {
  it('accepts a stub plan and refuses a broken one with every reason', async () => {
    const result = await stubPlanSource().getPlan({
      titleId: 'title-001',
      sessionId: 's-1',
      viewerId: 'v-1',
      deviceClass: 'tv',
      isp: 'AS7922',
      region: 'us-east',
      country: 'US',
      clientAddress: '73.0.0.10',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect('error' in parsePlaybackPlan(result.plan)).toBe(false);
    // Proximity ranking: the player's ISP first, then its region, then the others.
    expect(result.plan.ocas.map((o) => o.id).slice(0, 3)).toEqual([
      'oca-edge-as7922-a',
      'oca-edge-as7922-b',
      'oca-storage-us-east',
    ]);
    const broken = parsePlaybackPlan({
      ...result.plan,
      renditions: [...DEFAULT_RENDITIONS].reverse(),
      ocas: [{ id: 'x', baseUrl: 'http://127.0.0.1/no-slash' }],
    });
    expect('error' in broken && broken.error).toMatch(
      /must end with \/.*renditions must ascend|renditions must ascend.*must end with \//s,
    );
  });

  it('ranks by proximity without reordering ties', () => {
    const ranked = proximityRank(defaultStubOcas(), { isp: 'AS64496', region: 'eu-central' });
    expect(ranked.map((o) => o.id)).toEqual([
      'oca-edge-as3320-a',
      'oca-edge-as3320-b',
      'oca-storage-eu-central',
      'oca-edge-as7922-a',
      'oca-edge-as7922-b',
      'oca-storage-us-east',
    ]);
  });

  it('reads steering manifests per the HLS Content Steering spec', () => {
    const m = parseSteeringManifest(
      {
        VERSION: 1,
        TTL: 300,
        'RELOAD-URI': '../next?session=1',
        'PATHWAY-PRIORITY': ['oca-b', 'oca-a'],
        'PATHWAY-CLONES': [],
      },
      'http://127.0.0.1:7071/v1/steering/s-1/manifest.json',
    );
    expect(m).toEqual({
      version: 1,
      ttlSec: 300,
      reloadUri: 'http://127.0.0.1:7071/v1/steering/next?session=1',
      pathwayPriority: ['oca-b', 'oca-a'],
    });
    expect(
      parseSteeringManifest({ VERSION: 1, TTL: 10, 'PATHWAY-PRIORITY': [] }, 'http://x/'),
    ).toHaveProperty('error');
    expect(
      steeringRequestUrl({
        uri: 'http://127.0.0.1:7071/steer?s=1',
        pathway: 'oca-a',
        throughputBps: 4_800_123.4,
      }),
    ).toBe('http://127.0.0.1:7071/steer?s=1&_HLS_pathway=oca-a&_HLS_throughput=4800123');
  });
});

describe('IngestSink', () => {
  it('posts batches through the ingest client with the origin address in X-Forwarded-For', async () => {
    const posts: { forwarded: string | null; batch: WireBatch }[] = [];
    const fakeFetch: typeof fetch = async (_input, init) => {
      const headers = new Headers(init?.headers);
      posts.push({
        forwarded: headers.get('x-forwarded-for'),
        batch: JSON.parse(String(init?.body)) as WireBatch,
      });
      return new Response(JSON.stringify({ accepted: 1, rejected: [] }), { status: 202 });
    };
    const sink = new IngestSink({
      endpoint: 'http://127.0.0.1:9',
      key: 'playloop-local-dev-key',
      fetch: fakeFetch,
    });
    const event = (sessionId: string) => ({
      sessionId,
      seq: 0,
      viewerId: 'v',
      titleId: 'title-001',
      clientTs: 1,
      kind: 'pause' as const,
    });
    sink.send({ isp: 'AS3320', clientAddress: '79.192.0.10' }, [event('a')]);
    sink.send({ isp: 'AS7922', clientAddress: '73.0.0.10' }, [event('b')]);
    await sink.flush();
    expect(posts.map((p) => [p.forwarded, p.batch.events.map((e) => e.sessionId)]).sort()).toEqual([
      ['73.0.0.10', ['b']],
      ['79.192.0.10', ['a']],
    ]);
    expect(sink.stats()).toMatchObject({ accepted: 2, givenUp: 0, pending: 0 });
  });

  it('spreads sessions over lanes, each session on one lane in order', async () => {
    // A fetch that holds every request until released: each lane has one in flight.
    const posts: WireBatch[] = [];
    const held: Array<() => void> = [];
    const fakeFetch: typeof fetch = (_input, init) => {
      const batch = JSON.parse(String(init?.body)) as WireBatch;
      posts.push(batch);
      return new Promise((resolve) =>
        held.push(() =>
          resolve(
            new Response(JSON.stringify({ accepted: batch.events.length, rejected: [] }), { status: 202 }),
          ),
        ),
      );
    };
    const sink = new IngestSink({
      endpoint: 'http://127.0.0.1:9',
      key: 'playloop-local-dev-key',
      fetch: fakeFetch,
      lanesPerOrigin: 4,
      maxBatchEvents: 5,
    });
    const origin = { isp: 'AS3320', clientAddress: '79.192.0.10' };
    const sessions = Array.from({ length: 40 }, (_, i) => `f7-${i}-0`);
    for (let seq = 0; seq < 5; seq++) {
      sink.send(
        origin,
        sessions.map((sessionId) => ({
          sessionId,
          seq,
          viewerId: 'v',
          titleId: 'title-001',
          clientTs: seq,
          kind: 'heartbeat' as const,
        })),
      );
    }
    // Four lanes, one request in flight on each.
    await Promise.resolve();
    expect(held.length).toBe(4);
    const flushed = sink.flush();
    while (sink.stats().accepted < 200) {
      for (const release of held.splice(0)) release();
      await new Promise((r) => setTimeout(r, 0));
    }
    await flushed;
    expect(sink.stats()).toMatchObject({ accepted: 200, givenUp: 0, pending: 0 });
    // Every session's events arrive in seq order, all through one lane's requests.
    const seen = new Map<string, number[]>();
    for (const batch of posts)
      for (const e of batch.events) seen.set(e.sessionId, [...(seen.get(e.sessionId) ?? []), e.seq]);
    for (const s of sessions) expect(seen.get(s)).toEqual([0, 1, 2, 3, 4]);
  });
});
