import { describe, expect, it } from 'vitest';
import { combineAssessments, type WindowAssessment } from './health.ts';
import {
  assessSegments,
  compareStrata,
  DEFAULT_SEGMENT_PARAMS,
  type SegmentCell,
  type SegmentSums,
  segmentComparisons,
  throughputSignal,
} from './segment-health.ts';

/** Sums of a cell: request counts, and the log throughputs (ln kbit/s) of its timed sessions. */
function sums(
  segments: number,
  failures: number,
  opts: { sessions?: number; logs?: readonly number[]; bytes?: number; downloadMs?: number } = {},
): SegmentSums {
  const logs = opts.logs ?? [];
  return {
    segments,
    failures,
    bytes: opts.bytes ?? 0,
    downloadMs: opts.downloadMs ?? 0,
    sessions: opts.sessions ?? logs.length,
    tputSessions: logs.length,
    logKbpsSum: logs.reduce((a, x) => a + x, 0),
    logKbpsSumSq: logs.reduce((a, x) => a + x * x, 0),
  };
}

/** n sessions whose log throughputs are ln(kbps) +- spread, alternating (mean exactly ln(kbps)). */
const around = (n: number, kbps: number, spread: number): number[] =>
  Array.from({ length: n }, (_, i) => Math.log(kbps) + (i % 2 === 0 ? spread : -spread));

describe('compareStrata', () => {
  it('is the plain rest of the scope for one stratum; throughput by Welch as scipy computes it', () => {
    const c = compareStrata('isp:AS1', 'oca-a', [
      {
        own: sums(95, 5, { sessions: 30, logs: [1, 2, 3, 4] }),
        rest: sums(196, 4, { sessions: 40, logs: [2, 4, 6] }),
      },
    ]);
    expect(c.failure).toEqual({
      own: { rate: 0.05, n: 100 },
      baseline: { rate: 0.02, n: 200 },
      ownSessions: 30,
      baselineSessions: 40,
    });
    const t = c.throughput as NonNullable<typeof c.throughput>;
    expect(t.ownLogMean).toBe(2.5);
    expect(t.baselineLogMean).toBe(4);
    // scipy.stats.ttest_ind([1,2,3,4], [2,4,6], equal_var=False): Welch df 3.234718826405868,
    // one-sided 99% upper bound of the difference 4.171824314364259.
    expect(t.df).toBeCloseTo(3.234718826405868, 10);
    const s = throughputSignal(t, DEFAULT_SEGMENT_PARAMS.throughput, 0.01);
    expect(Math.log(s.upperRatio as number)).toBeCloseTo(4.171824314364259, 6);
    expect(s.value / s.baseline).toBeCloseTo(Math.exp(-1.5), 12);
    // Far from significant: good.
    expect(s.level).toBe('good');
  });

  it('standardises the baseline to the OCA mix over ISPs, with Kish effective n (worked by hand)', () => {
    // ISP 1: own 100 requests; rest 200 requests, 10 failed (5%).
    // ISP 2: own 300 requests; rest 100 requests, 1 failed (1%).
    // Log throughputs: ISP 1 rest mean 3 (sessions 2, 4), ISP 2 rest mean 1 (0, 2); the OCA
    // has 1 timed session in ISP 1 and 3 in ISP 2.
    const c = compareStrata('global', 'oca-a', [
      { own: sums(100, 0, { logs: [3] }), rest: sums(190, 10, { logs: [2, 4] }) },
      { own: sums(294, 6, { logs: [1, 1, 1] }), rest: sums(99, 1, { logs: [0, 2] }) },
    ]);
    // Expected rate = (100 x 0.05 + 300 x 0.01) / 400 = 8 / 400 = 0.02.
    expect(c.failure?.baseline.rate).toBeCloseTo(0.02, 12);
    // n_eff = 400^2 / (100^2 / 200 + 300^2 / 100) = 160000 / 950.
    expect(c.failure?.baseline.n).toBeCloseTo(160_000 / 950, 9);
    expect(c.failure?.own).toEqual({ rate: 6 / 400, n: 400 });
    const t = c.throughput as NonNullable<typeof c.throughput>;
    // Own mean (3 + 1 + 1 + 1) / 4 = 1.5; expected (1 x 3 + 3 x 1) / 4 = 1.5: like with like.
    expect(t.ownLogMean).toBe(1.5);
    expect(t.baselineLogMean).toBe(1.5);
    // Own: s^2 = (12 - 4 x 1.5^2) / 3 = 1, / 4. Baseline: (1^2 x 2 / 2 + 3^2 x 2 / 2) / 4^2 = 10/16.
    expect(t.ownVariance).toBeCloseTo(0.25, 12);
    expect(t.baselineVariance).toBeCloseTo(10 / 16, 12);
    // Satterthwaite: (0.25 + 1/16 + 9/16)^2 / (0.25^2/3 + (1/16)^2/1 + (9/16)^2/1).
    const df = (0.25 + 1 / 16 + 9 / 16) ** 2 / (0.25 ** 2 / 3 + (1 / 16) ** 2 + (9 / 16) ** 2);
    expect(t.df).toBeCloseTo(df, 12);
  });

  it('leaves out strata without a baseline', () => {
    const c = compareStrata('global', 'oca-a', [
      { own: sums(100, 0, { logs: around(10, 1_000, 0.1) }), rest: sums(0, 0) },
      {
        own: sums(50, 0, { logs: around(4, 2_000, 0.1) }),
        rest: sums(50, 0, { logs: around(6, 4_000, 0.1) }),
      },
    ]);
    expect(c.failure?.own.n).toBe(50);
    expect(c.throughput?.ownSessions).toBe(4);
    expect(c.throughput?.baselineLogMean).toBeCloseTo(Math.log(4_000), 12);
    expect(c.own.segments).toBe(150);
  });
});

describe('segmentComparisons: like with like', () => {
  // oca-slow serves mostly the slow ISP's viewers, at exactly that ISP's throughput; oca-fast
  // mostly the fast ISP. Pooled, oca-slow would look 4x slower than "the rest of the fleet".
  const cell = (isp: string, ocaId: string, n: number, kbps: number): SegmentCell => ({
    isp,
    region: 'eu',
    ocaId,
    ...sums(3 * n, 0, { logs: around(n, kbps, 0.2) }),
  });
  const cells: SegmentCell[] = [
    cell('AS1', 'oca-fast', 60, 16_000),
    cell('AS1', 'oca-slow', 10, 16_000),
    cell('AS2', 'oca-fast', 10, 4_000),
    cell('AS2', 'oca-slow', 60, 4_000),
  ];
  const all = segmentComparisons(cells);
  const find = (scope: string, oca: string) => all.find((c) => c.scope === scope && c.ocaId === oca);

  it('fans out to global, ISP and region scopes', () => {
    expect(all.map((c) => `${c.scope} ${c.ocaId}`)).toEqual([
      'global oca-fast',
      'global oca-slow',
      'isp:AS1 oca-fast',
      'isp:AS1 oca-slow',
      'isp:AS2 oca-fast',
      'isp:AS2 oca-slow',
      'region:eu oca-fast',
      'region:eu oca-slow',
    ]);
  });

  it('compares an OCA serving slow networks with those networks, not with the pooled fleet', () => {
    const g = find('global', 'oca-slow') as NonNullable<ReturnType<typeof find>>;
    const t = g.throughput as NonNullable<typeof g.throughput>;
    expect(Math.exp(t.ownLogMean - t.baselineLogMean)).toBeCloseTo(1, 12);
    const a = assessSegments(g, DEFAULT_SEGMENT_PARAMS, 0.01);
    expect(a.signals.find((s) => s.metric === 'segmentThroughputKbps')?.level).toBe('good');
  });
});

describe('assessSegments', () => {
  const p = DEFAULT_SEGMENT_PARAMS;
  const base = sums(998, 2, { logs: around(60, 8_000, 0.3) });

  it('carries no evidence below the minimum sample (segments or sessions)', () => {
    const fewSegments = compareStrata('isp:AS1', 'oca-a', [
      { own: sums(p.minSegments - 1, 0, { sessions: 30 }), rest: base },
    ]);
    expect(assessSegments(fewSegments, p, 0.01).level).toBe('none');
    const fewSessions = compareStrata('isp:AS1', 'oca-a', [
      { own: sums(500, 100, { logs: around(p.minSessions - 1, 500, 0.1) }), rest: base },
    ]);
    expect(assessSegments(fewSessions, p, 0.01).level).toBe('none');
  });

  it('calls a high failure rate bad when the lower bound clears the margin, severe past the drain margin', () => {
    // 30 of 200 failed (15%) vs 2 of 1000 (0.2%): far past 2 points, short of 20 points.
    const bad = compareStrata('isp:AS1', 'oca-a', [{ own: sums(170, 30, { sessions: 40 }), rest: base }]);
    const a = assessSegments(bad, p, 0.01);
    const f = a.signals.find((s) => s.metric === 'segmentFailureRate');
    expect(f?.level).toBe('bad');
    expect(f?.lowerBound).toBeGreaterThan(0.02);
    expect(a.level).toBe('bad');
    const severe = compareStrata('isp:AS1', 'oca-a', [{ own: sums(100, 100, { sessions: 40 }), rest: base }]);
    expect(assessSegments(severe, p, 0.01).level).toBe('severe');
  });

  it('holds the throughput ratio bound to the dead band: < 0.5x bad, < 0.2x severe, >= 0.7x good', () => {
    const at = (ratio: number, spread = 0.05) =>
      assessSegments(
        compareStrata('isp:AS1', 'oca-a', [
          { own: sums(100, 0, { logs: around(30, ratio * 8_000, spread) }), rest: base },
        ]),
        p,
        0.01,
      ).level;
    expect([at(0.1), at(0.3), at(0.6), at(0.8), at(1.5)]).toEqual([
      'severe',
      'bad',
      'elevated',
      'good',
      'good',
    ]);
    // Slower on the point estimate, but sessions spread so widely that it is not significant.
    expect(at(0.3, 3)).toBe('good');
  });
});

describe('combineAssessments', () => {
  const signal = (metric: 'rebufferRatio' | 'throughputKbps', level: 'good' | 'bad') => ({
    metric,
    value: 1,
    baseline: 1,
    level,
    severity: level === 'bad' ? 0.5 : 0,
    lowerBound: null,
    enterThreshold: 1,
    n: 100,
  });
  const session = (signals: WindowAssessment['signals']): WindowAssessment => ({
    level: signals.some((s) => s.level === 'bad') ? 'bad' : 'good',
    score: 1,
    signals,
    sessions: 30,
  });
  const none: WindowAssessment = { level: 'none', score: 1, signals: [], sessions: 0 };
  const rest = sums(100, 0, { logs: around(30, 8_000, 0.05) });
  const segGood = assessSegments(
    compareStrata('isp:AS1', 'oca-a', [{ own: sums(100, 0, { logs: around(30, 8_000, 0.05) }), rest }]),
    DEFAULT_SEGMENT_PARAMS,
    0.01,
  );
  const segBad = assessSegments(
    compareStrata('isp:AS1', 'oca-a', [{ own: sums(100, 0, { logs: around(30, 2_400, 0.05) }), rest }]),
    DEFAULT_SEGMENT_PARAMS,
    0.01,
  );

  it('is bad if either says bad, good only if neither does, and a silent source does not vote', () => {
    expect(combineAssessments(session([signal('rebufferRatio', 'bad')]), segGood).level).toBe('bad');
    expect(combineAssessments(session([signal('rebufferRatio', 'good')]), segBad).level).toBe('bad');
    expect(combineAssessments(session([signal('rebufferRatio', 'good')]), segGood).level).toBe('good');
    expect(combineAssessments(none, segBad).level).toBe('bad');
    expect(combineAssessments(session([signal('rebufferRatio', 'bad')]), none).level).toBe('bad');
    expect(combineAssessments(none, none).level).toBe('none');
  });

  it('lets segment throughput supersede session throughput (failover attribution)', () => {
    const c = combineAssessments(session([signal('throughputKbps', 'bad')]), segGood);
    expect(c.level).toBe('good');
    expect(c.signals.map((s) => s.metric)).not.toContain('throughputKbps');
    expect(c.sessions).toBe(30);
  });
});
