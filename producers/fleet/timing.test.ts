import { describe, expect, it } from 'vitest';
import { summarizeEvents } from '../../processors/qoe-core/summarize.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { WireEvent } from '../client/wire.ts';
import { ACCESS_PROFILES, NetworkTrace, scheduledConditions } from './network.ts';
import type { PlanOca, PlanRendition } from './plan.ts';
import type { SessionTruth } from './player.ts';
import type { PopulationInput } from './population.ts';
import { Rng } from './random.ts';
import { makePlayerConfig, validateFleetSettings } from './settings.ts';
import { MemorySink } from './sink.ts';
import { defaultStubOcas, scriptedSteeringSource, stubPlanSource } from './stub-sources.ts';
import { asIngested, uniformPopulation } from './testing.ts';
import { type Pacing, type TimingOptions, TimingSimulator } from './timing.ts';

const EPOCH = Date.UTC(2025, 0, 1, 12, 0, 0);
const ONE_LEVEL: PlanRendition[] = [
  {
    id: 'only',
    bandwidthBps: 1_000_000,
    averageBandwidthBps: 1_000_000,
    height: 480,
    playlist: 'only/index.m3u8',
  },
];
const EDGE: PlanOca[] = [
  { id: 'oca-edge-as3320-a', baseUrl: 'http://127.0.0.1:1/e/', region: 'eu-central', isp: 'AS3320' },
];

interface Run {
  readonly sink: MemorySink;
  readonly truths: SessionTruth[];
  readonly sim: TimingSimulator;
}

async function simulate(options: {
  readonly players: number;
  readonly seed?: number;
  readonly durationMs: number;
  readonly population?: PopulationInput;
  readonly pacing?: Pacing;
  readonly extra?: Partial<TimingOptions>;
  readonly plan?: Parameters<typeof stubPlanSource>[0];
}): Promise<Run> {
  const settings = validateFleetSettings({
    mode: 'timing',
    players: options.players,
    seed: options.seed ?? 7,
    durationMs: options.durationMs,
  });
  const config = makePlayerConfig(settings, options.population, EPOCH);
  const sink = new MemorySink();
  const truths: SessionTruth[] = [];
  const sim = new TimingSimulator({
    players: options.players,
    config,
    planSource: stubPlanSource(options.plan),
    sink,
    pacing: options.pacing ?? { kind: 'afap' },
    durationMs: options.durationMs,
    onSessionEnd: (t) => truths.push(t),
    ...options.extra,
  });
  await sim.run();
  return { sink, truths, sim };
}

/** A constant-bandwidth DSL line (base RTT 35 ms, no queueing in the good state). */
function constantTrace(kbps: number) {
  return () => NetworkTrace.scripted(ACCESS_PROFILES.dsl, new Rng(1), [{ untilMs: 1e12, kbps }]);
}

function kinds(events: readonly WireEvent[]): string[] {
  return events.map((e) => e.kind);
}

describe('timing model: buffer and stall arithmetic (hand-worked)', () => {
  // One player, one 1000 kbit/s level, 20 s of content in ten 2 s segments of exactly
  // 250,000 bytes, on a constant line with a 35 ms RTT to an edge in its own ISP.
  // Plan: one round trip (35 + 4 ms to the control plane's region) + 20 ms server = 59 ms.
  // Manifest: two requests of 460 bytes (300 + 220*1 + 40*10 = 920 bytes in all), the first
  // after opening the connection to the OCA: 2 round trips (TCP + TLS 1.3) = 70 ms.
  // The device's start-up overhead is 0 here: the first frame shows with the first segment.
  const base = {
    players: 1,
    durationMs: 60_000,
    population: uniformPopulation({ access: 'dsl', watchMs: 1e9 }),
    plan: { ocas: EDGE, renditions: ONE_LEVEL, durationMs: 20_000, segmentDurationMs: 2_000 },
  };

  it('never stalls when the line outruns the bit rate (2000 kbit/s)', async () => {
    const { sink, truths } = await simulate({
      ...base,
      extra: { traceFor: constantTrace(2_000), segmentSizeSpread: 0 },
    });
    // Manifest halves: 35 + 460*8/2000 = 36.84 -> 37 ms each, after 70 ms of handshakes:
    // loadMs 144, loaded at 59 + 144 = 203. Segment: 35 + 2,000,000 bits / 2000 bit/ms =
    // 1035 ms: first frame at 1238. Playback of 20 s ends at 21,238 ms: completed.
    const truth = truths[0]!;
    expect(truth.startupMs).toBe(1_238);
    expect(truth.playMs).toBe(20_000);
    expect(truth.stallCount).toBe(0);
    expect(truth.stallMs).toBe(0);
    expect(truth.endReason).toBe('completed');
    expect(truth.endTime - truth.startTime).toBe(21_238);
    expect(truth.avgBitrateKbps).toBe(1_000);
    expect(truth.segments).toBe(10);
    expect(truth.bytes).toBe(2_500_000);
    const session = sink.events.filter((e) => e.sessionId === truth.sessionId);
    const manifest = session.find((e) => e.kind === 'manifest_loaded')!;
    expect(manifest.clientTs - EPOCH).toBe(203);
    expect(manifest.manifestLoaded?.loadMs).toBe(144);
    const segments = session.filter((e) => e.kind === 'segment_downloaded');
    expect(segments.map((e) => e.clientTs - EPOCH)).toEqual(
      Array.from({ length: 10 }, (_, k) => 203 + 1_035 * (k + 1)),
    );
    expect(segments.every((e) => e.segment?.downloadMs === 1_035)).toBe(true);
  });

  it('stalls every segment when the line is slower than the bit rate (600 kbit/s)', async () => {
    const { sink, truths } = await simulate({
      ...base,
      extra: { traceFor: constantTrace(600), segmentSizeSpread: 0 },
    });
    // Manifest halves: 35 + 460*8/600 = 41.13 -> 42 ms each, after 70 ms of handshakes:
    // loaded at 59 + 154 = 213. Segment: 35 + 2,000,000 / 600 = 3368.33 -> 3369 ms; segment
    // k lands at 213 + 3369 (k+1). First frame at 3582. Each later segment lands 3369 ms
    // after the previous one, but the 2 s it brings run out after 2000 ms: a stall of
    // 1369 ms before each of segments 1..9. Nine stalls, 12,321 ms; the last segment lands
    // at 33,903 and plays until 35,903.
    const truth = truths[0]!;
    expect(truth.startupMs).toBe(3_582);
    expect(truth.stallCount).toBe(9);
    expect(truth.stallMs).toBe(9 * 1_369);
    expect(truth.playMs).toBe(20_000);
    expect(truth.endReason).toBe('completed');
    expect(truth.endTime - truth.startTime).toBe(35_903);
    expect(truth.rebufferRatio).toBeCloseTo(12_321 / 32_321, 12);
    const session = sink.events.filter((e) => e.sessionId === truth.sessionId);
    const stalls = session.filter((e) => e.kind === 'stall_start').map((e) => e.clientTs - EPOCH);
    const ends = session.filter((e) => e.kind === 'stall_end');
    expect(stalls[0]).toBe(5_582);
    expect(ends[0]!.clientTs - EPOCH).toBe(6_951);
    expect(ends.every((e) => e.stall?.durationMs === 1_369)).toBe(true);
    // Each stall_end comes with the segment that ended it, at the same millisecond.
    expect(kinds(session).slice(0, 6)).toEqual([
      'play_intent',
      'manifest_loaded',
      'segment_downloaded',
      'first_frame',
      'stall_start',
      'segment_downloaded',
    ]);
  });

  it('drains the buffer only while playing: a 60 s pause adds no stall and no play time', async () => {
    // Pauses only (one every ~4 s of play on average), everything else as above at 2000 kbit/s.
    const population = uniformPopulation({
      access: 'dsl',
      watchMs: 1e9,
      viewer: { ...uniformPopulation({}).viewer, pausesPerHour: 900, pauseMedianMs: 60_000, pauseSigma: 0 },
    });
    const { truths, sink } = await simulate({
      ...base,
      durationMs: 600_000,
      population,
      extra: { traceFor: constantTrace(2_000), segmentSizeSpread: 0 },
    });
    const truth = truths[0]!;
    expect(truth.pauseCount).toBeGreaterThan(0);
    expect(truth.pausedMs).toBe(60_000 * truth.pauseCount);
    expect(truth.playMs).toBe(20_000);
    expect(truth.stallMs).toBe(0);
    // Wall time of the session: startup + play + pauses, to the millisecond.
    expect(truth.endTime - truth.startTime).toBe(1_238 + 20_000 + truth.pausedMs);
    const session = sink.events.filter((e) => e.sessionId === truth.sessionId);
    expect(session.filter((e) => e.kind === 'pause').length).toBe(truth.pauseCount);
    expect(session.filter((e) => e.kind === 'resume').length).toBe(truth.pauseCount);
  });
});

describe('timing model: determinism', () => {
  it('gives identical event streams and truths for the same seed, different ones for another', async () => {
    const run = (seed: number) => simulate({ players: 30, seed, durationMs: 15 * 60_000 });
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a.sink.events.length).toBeGreaterThan(1_000);
    expect(b.sink.events).toEqual(a.sink.events);
    expect(b.truths).toEqual(a.truths);
    expect(c.sink.events).not.toEqual(a.sink.events);
  });
});

describe('timing model: ground truth equals the QoE core on the emitted events', () => {
  it('agrees session by session on a mixed population with degraded OCAs', async () => {
    const edges = defaultStubOcas();
    // Trouble to fail over from and stall on: a slow edge, then an outage of every OCA.
    const conditions = scheduledConditions([
      {
        atMs: 0,
        ocaId: 'oca-edge-as3320-a',
        degradation: { latencyMs: 50, errorRate: 0.02, throughputKbps: 900 },
      },
      { atMs: 0, ocaId: 'oca-edge-as7922-a', degradation: { latencyMs: 0, errorRate: 0.3 } },
      ...edges.map((o) => ({ atMs: 20 * 60_000, ocaId: o.id, degradation: { latencyMs: 0, errorRate: 1 } })),
      ...edges.map((o) => ({ atMs: 22 * 60_000, ocaId: o.id, degradation: { latencyMs: 0, errorRate: 0 } })),
    ]);
    const population: PopulationInput = {
      ...uniformPopulation({}),
      isps: [
        ...uniformPopulation({ access: 'dsl' }).isps.map((i) => ({
          ...i,
          access: { dsl: 0.5, hspa: 0.3, lte: 0.2 },
        })),
        {
          isp: 'AS7922',
          region: 'us-east',
          country: 'US',
          clientAddress: '73.0.0.10',
          weight: 1,
          access: { cable: 0.5, hspa: 0.5 },
        },
      ],
      devices: [
        { deviceClass: 'tv', weight: 1, os: 'Tizen', model: 'smart-tv', watchMedianMs: 8 * 60_000 },
        { deviceClass: 'mobile', weight: 1, os: 'Android', model: 'phone', watchMedianMs: 3 * 60_000 },
      ],
      abr: { throughput: 1, bola: 1 },
      titles: { ids: ['title-001', 'title-002', 'title-003'], zipfExponent: 1 },
      // Busy viewers, so seeks, pauses, exits and errors all happen in a short run.
      viewer: {
        seeksPerHour: 20,
        pausesPerHour: 12,
        pauseMedianMs: 20_000,
        fatalMediaErrorsPerHour: 0.5,
        thinkTimeMeanMs: 5_000,
      },
    };
    const { sink, truths } = await simulate({
      players: 60,
      seed: 2024,
      durationMs: 30 * 60_000,
      population,
      plan: { durationMs: 10 * 60_000, abr: { maxBufferLength: 12, maxMaxBufferLength: 30 } },
      extra: { conditions },
    });
    const summaries = summarizeEvents(
      sink.events.map((e) => asIngested(e)),
      { unended: 'timed_out' },
    );
    const bySession = new Map<string, SessionSummary>(summaries.map((s) => [s.sessionId, s]));
    expect(truths.length).toBeGreaterThan(100);
    // Sessions with events are exactly the sessions with a truth.
    expect(new Set(bySession.keys())).toEqual(new Set(truths.map((t) => t.sessionId)));
    for (const truth of truths) {
      const s = bySession.get(truth.sessionId)!;
      const picked = {
        endReason: s.endReason,
        ebvs: s.ebvs,
        vsf: s.vsf,
        vpf: s.vpf,
        startupMs: s.startupMs,
        playMs: s.playMs,
        pausedMs: s.pausedMs,
        stallMs: s.stallMs,
        seekStallMs: s.seekStallMs,
        stallCount: s.stallCount,
        seekStallCount: s.seekStallCount,
        switchesUp: s.switchesUp,
        switchesDown: s.switchesDown,
        firstBitrateKbps: s.firstBitrateKbps,
        seekCount: s.seekCount,
        pauseCount: s.pauseCount,
        errorCount: s.errorCount,
        exitDuringStall: s.exitDuringStall,
        bytes: s.bytes,
        segments: s.segments,
        eventCount: s.eventCount,
        startTime: s.startTime,
        endTime: s.endTime,
      };
      const expected = {
        endReason: truth.endReason,
        ebvs: truth.ebvs,
        vsf: truth.vsf,
        vpf: truth.vpf,
        startupMs: truth.startupMs,
        playMs: truth.playMs,
        pausedMs: truth.pausedMs,
        stallMs: truth.stallMs,
        seekStallMs: truth.seekStallMs,
        stallCount: truth.stallCount,
        seekStallCount: truth.seekStallCount,
        switchesUp: truth.switchesUp,
        switchesDown: truth.switchesDown,
        firstBitrateKbps: truth.firstBitrateKbps,
        seekCount: truth.seekCount,
        pauseCount: truth.pauseCount,
        errorCount: truth.errorCount,
        exitDuringStall: truth.exitDuringStall,
        bytes: truth.bytes,
        segments: truth.segments,
        eventCount: truth.eventCount,
        startTime: truth.startTime,
        endTime: truth.endTime,
      };
      expect({ sessionId: truth.sessionId, ...picked }).toEqual({ sessionId: truth.sessionId, ...expected });
      if (truth.avgBitrateKbps === null) expect(s.avgBitrateKbps).toBeNull();
      else expect(s.avgBitrateKbps).toBeCloseTo(truth.avgBitrateKbps, 9);
      if (truth.rebufferRatio === null) expect(s.rebufferRatio).toBeNull();
      else expect(s.rebufferRatio).toBeCloseTo(truth.rebufferRatio, 12);
    }
    // The workload exercised what the comparison is about.
    const sum = (f: (t: SessionTruth) => number) => truths.reduce((a, t) => a + f(t), 0);
    expect(sum((t) => t.stallCount)).toBeGreaterThan(0);
    expect(sum((t) => t.seekStallCount)).toBeGreaterThan(0);
    expect(sum((t) => t.pauseCount)).toBeGreaterThan(0);
    expect(sum((t) => t.switchesUp + t.switchesDown)).toBeGreaterThan(0);
    expect(sum((t) => (t.vsf ? 1 : 0))).toBeGreaterThan(0);
    expect(sum((t) => (t.vpf ? 1 : 0))).toBeGreaterThan(0);
    expect(sum((t) => (t.ebvs ? 1 : 0))).toBeGreaterThan(0);
    expect(sum((t) => t.errorCount)).toBeGreaterThan(0);
    expect(new Set(truths.map((t) => t.endReason))).toEqual(
      new Set(['viewer_exit', 'completed', 'error', 'navigated_away']),
    );
  });
});

describe('timing model: paced', () => {
  it('follows the wall clock at a speed factor and reports its lag', async () => {
    const started = performance.now();
    const lags: number[] = [];
    const { sink, truths, sim } = await simulate({
      players: 20,
      durationMs: 40_000,
      pacing: { kind: 'paced', speed: 100 },
      extra: { onPacedPass: (lagMs) => lags.push(lagMs) },
    });
    const wall = performance.now() - started;
    // 40 s simulated at x100 is 400 ms of wall time; allow for a loaded machine.
    expect(wall).toBeGreaterThanOrEqual(390);
    expect(wall).toBeLessThan(5_000);
    expect(sink.events.length).toBeGreaterThan(100);
    expect(truths.length).toBeGreaterThan(0);
    expect(sim.snapshot(40_000).pacing).toBe('paced x100');
    // One lag sample per pass over the queue (at most one pass per 50 ms tick, and more when
    // events are due sooner), each a non-negative wall-clock lag no larger than the run.
    expect(lags.length).toBeGreaterThanOrEqual(Math.floor(390 / 50));
    for (const lag of lags) {
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(wall);
    }
    // Each session's events are in time order.
    const last = new Map<string, number>();
    for (const e of sink.events) {
      expect(e.clientTs).toBeGreaterThanOrEqual(last.get(e.sessionId) ?? 0);
      last.set(e.sessionId, e.clientTs);
    }
  });
});

describe('timing model: OCA choice', () => {
  const twoEdges: PlanOca[] = [
    { id: 'oca-edge-as3320-a', baseUrl: 'http://127.0.0.1:1/a/', region: 'eu-central', isp: 'AS3320' },
    { id: 'oca-edge-as3320-b', baseUrl: 'http://127.0.0.1:1/b/', region: 'eu-central', isp: 'AS3320' },
  ];

  it('retries a failing OCA, then moves to the next one in the plan', async () => {
    const { sink, truths } = await simulate({
      players: 5,
      durationMs: 3 * 60_000,
      population: uniformPopulation({ access: 'cable' }),
      plan: { ocas: twoEdges },
      extra: {
        conditions: scheduledConditions([
          { atMs: 0, ocaId: 'oca-edge-as3320-a', degradation: { latencyMs: 0, errorRate: 1 } },
        ]),
      },
    });
    expect(truths.every((t) => !t.vsf && !t.vpf)).toBe(true);
    for (const truth of truths) {
      const events = sink.events.filter((e) => e.sessionId === truth.sessionId);
      // The manifest request hits oca-a first: an attempt and 2 retries (the default
      // maxNumRetry), each a non-fatal 503, then oca-b serves everything.
      const errors = events.filter((e) => e.kind === 'error');
      expect(errors.map((e) => [e.error?.details, e.error?.fatal, e.error?.httpStatus])).toEqual([
        ['manifestLoadError', false, 503],
        ['manifestLoadError', false, 503],
        ['manifestLoadError', false, 503],
      ]);
      // Backoff 1 s then 2 s (retryDelayMs doubling): the manifest is in after > 3 s.
      const manifest = events.find((e) => e.kind === 'manifest_loaded');
      expect(manifest?.manifestLoaded?.ocaId).toBe('oca-edge-as3320-b');
      expect(manifest?.manifestLoaded?.loadMs).toBeGreaterThan(3_000);
      expect(
        events
          .filter((e) => e.kind === 'segment_downloaded')
          .every((e) => e.segment?.ocaId === 'oca-edge-as3320-b'),
      ).toBe(true);
    }
  });

  it('polls the steering server every TTL and follows a PATHWAY-PRIORITY change', async () => {
    const settings = validateFleetSettings({ mode: 'timing', players: 4, seed: 5, durationMs: 3 * 60_000 });
    const config = makePlayerConfig(settings, uniformPopulation({ access: 'cable' }), EPOCH);
    const sink = new MemorySink();
    let clock = (): number => 0;
    const steering = scriptedSteeringSource(
      () => clock(),
      [{ atMs: 60_000, pathwayPriority: ['oca-edge-as3320-b'] }],
      10,
    );
    const sim = new TimingSimulator({
      players: 4,
      config,
      planSource: stubPlanSource({
        ocas: twoEdges,
        steeringUri: 'http://steer.test/v1/steering/{sessionId}',
      }),
      steeringSource: steering,
      sink,
      pacing: { kind: 'afap' },
      durationMs: settings.durationMs,
      rampUpMs: 0,
    });
    clock = () => sim.simulatedNow;
    await sim.run();
    expect(steering.requests.length).toBeGreaterThan(4 * 10);
    expect(steering.requests[0]?.pathway).toBe('oca-edge-as3320-a');
    expect(steering.requests[0]?.uri).toMatch(/^http:\/\/steer\.test\/v1\/steering\/f5-/);
    const segments = sink.events.filter((e) => e.kind === 'segment_downloaded');
    const at = (e: WireEvent) => e.clientTs - EPOCH;
    // Before the change everything comes from oca-a; one TTL (10 s) plus a segment after
    // it, everything from oca-b.
    expect(
      segments.filter((e) => at(e) < 60_000).every((e) => e.segment?.ocaId === 'oca-edge-as3320-a'),
    ).toBe(true);
    const late = segments.filter((e) => at(e) > 75_000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((e) => e.segment?.ocaId === 'oca-edge-as3320-b')).toBe(true);
    expect(steering.requests.some((r) => r.pathway === 'oca-edge-as3320-b')).toBe(true);
  });
});

describe('session ids', () => {
  it("reports under the control plane's session id when the plan names one, and its own otherwise", async () => {
    const population = uniformPopulation({ access: 'dsl', watchMs: 4_000 });
    const plan = { ocas: EDGE, renditions: ONE_LEVEL, durationMs: 20_000, segmentDurationMs: 2_000 };
    const named = await simulate({
      players: 3,
      durationMs: 30_000,
      population,
      plan: { ...plan, sessionIdPrefix: 'cp-' },
    });
    const own = await simulate({ players: 3, durationMs: 30_000, population, plan });

    expect(named.truths.length).toBeGreaterThan(3);
    expect(named.truths.every((t) => /^cp-\d+$/.test(t.sessionId))).toBe(true);
    expect(new Set(named.sink.events.map((e) => e.sessionId))).toEqual(
      new Set(named.truths.map((t) => t.sessionId)),
    );
    expect(own.truths.some((t) => t.sessionId.startsWith('cp-'))).toBe(false);
    expect(new Set(own.sink.events.map((e) => e.sessionId))).toEqual(
      new Set(own.truths.map((t) => t.sessionId)),
    );
  });
});
