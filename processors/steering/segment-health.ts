/**
 * Segment-level evidence: per window, every segment request judged at download time and
 * attributed to the OCA that served it. Pure: window cells in, one assessment per
 * (scope, OCA) out.
 *
 * Why segments and not sessions: a QoE window counts a session when it ends and attributes
 * all of it to one OCA, so evidence of a degradation arrives a session length late, and a
 * session that failed over from a bad OCA to a good one brings the bad OCA's stalls and slow
 * downloads to the good one. A segment is over in seconds and was served by exactly one OCA.
 *
 * Like with like: an OCA is compared with the rest of its scope in the same window, stratum
 * by stratum, where a stratum is the viewers' ISP (access networks differ far more between
 * ISPs than between OCAs). In an ISP scope that is one stratum, the plain rest of the scope.
 * In the global and region scopes the baseline is indirectly standardised to the OCA's own
 * ISP mix (the "expected" value of epidemiology's standardised ratios; Breslow & Day,
 * Statistical Methods in Cancer Research II, IARC 1987, ch. 2): each ISP's rest-of-scope
 * value weighted by the OCA's own traffic in that ISP.
 *
 * - Failure rate (failed requests / requests): Newcombe's hybrid score bound of the
 *   difference own - baseline, as the session rates are (health.ts). The standardised
 *   baseline rate is a weighted mean of stratum rates, sum(w_i p_i) / sum(w_i) with
 *   w_i = own requests in stratum i; its binomial variance is p(1-p) / n_eff with Kish's
 *   effective sample size n_eff = (sum w_i)^2 / sum(w_i^2 / n_i), n_i the rest's requests
 *   (L. Kish, Survey Sampling, Wiley 1965, sec. 11.7), which is the plain n_i for one stratum.
 * - Throughput: the unit is the SESSION, not the segment. One player's downloads share its
 *   access link (fiber and HSPA differ 70x), so 40 segments of 4 players are 4 observations,
 *   and a byte-weighted mean is ruled by the slowest links. Each session's throughput on the
 *   OCA in the window (its bytes over its download time) is taken in logs; the OCA's mean log
 *   throughput is compared with the baseline's (the standardised mean of the ISPs' rest-of-
 *   scope means, weights = the OCA's sessions per ISP) by Welch's t bound with
 *   Satterthwaite's degrees of freedom (B. L. Welch, Biometrika 34, 1947; F. E. Satterthwaite,
 *   Biometrics Bulletin 2, 1946), one-sided at alpha. In ratio terms (exp of the difference:
 *   the ratio of geometric means) the window is BAD when the upper bound is below
 *   `enterRatio` (confidently under half the baseline), SEVERE below `drainRatio`, GOOD when
 *   the ratio is at least `exitRatio` or the OCA is not significantly slower (upper bound
 *   >= 1), ELEVATED in between: the shape of the rate signals.
 * - Minimum sample: `minSessions` sessions on the OCA and on its baseline in the compared
 *   strata (per signal), and for the failure rate also `minSegments` requests on each side;
 *   below it a signal is not judged, and a window where neither signal is judged carries no
 *   segment evidence.
 */
import { studentTQuantile } from '../../experiments/stats/index.ts';
import {
  type Level,
  type RateMargins,
  rateSignal,
  type Signal,
  type WindowAssessment,
  worstOf,
} from './health.ts';

/** Sums of one OCA's segment requests in one cell (window x ISP x region). */
export interface SegmentSums {
  /** Successful downloads. */
  readonly segments: number;
  /** Failed requests (attributed load errors). */
  readonly failures: number;
  /** Bytes and download time of the successful downloads. */
  readonly bytes: number;
  readonly downloadMs: number;
  /** Distinct sessions with a request. */
  readonly sessions: number;
  /** Sessions with a timed download, and the sum and sum of squares of their ln(kbit/s). */
  readonly tputSessions: number;
  readonly logKbpsSum: number;
  readonly logKbpsSumSq: number;
}

export const EMPTY_SEGMENTS: SegmentSums = Object.freeze({
  segments: 0,
  failures: 0,
  bytes: 0,
  downloadMs: 0,
  sessions: 0,
  tputSessions: 0,
  logKbpsSum: 0,
  logKbpsSumSq: 0,
});

export interface SegmentCell extends SegmentSums {
  readonly isp: string;
  readonly region: string;
  readonly ocaId: string;
}

export interface SegmentParams {
  /** Requests the OCA and its baseline each need for the failure rate. */
  readonly minSegments: number;
  /** Sessions the OCA and its baseline each need, per signal. */
  readonly minSessions: number;
  readonly failureRate: RateMargins;
  readonly throughput: {
    readonly enterRatio: number;
    readonly exitRatio: number;
    readonly drainRatio: number;
  };
}

/**
 * Defaults: a segment failure rate 2 points above the baseline (and twice it) degrades, 20
 * points (and 5x) drains, as for VSF; throughput as the session throughput's dead band.
 */
export const DEFAULT_SEGMENT_PARAMS: SegmentParams = Object.freeze({
  minSegments: 40,
  minSessions: 20,
  failureRate: { enterAbs: 0.02, enterRel: 1, exitAbs: 0.01, exitRel: 0.5, drainAbs: 0.2, drainRel: 4 },
  throughput: { enterRatio: 0.5, exitRatio: 0.7, drainRatio: 0.2 },
});

/** One OCA against its (standardised) baseline in one scope and window. */
export interface SegmentComparison {
  readonly scope: string;
  readonly ocaId: string;
  /** The OCA's own sums over the whole scope. */
  readonly own: SegmentSums;
  /** Null when no stratum has requests on both sides. */
  readonly failure: {
    readonly own: { readonly rate: number; readonly n: number };
    readonly baseline: { readonly rate: number; readonly n: number };
    /** Sessions behind each side in the compared strata. */
    readonly ownSessions: number;
    readonly baselineSessions: number;
  } | null;
  /** Null without two timed sessions of the OCA in strata whose rest has two. */
  readonly throughput: {
    /** Mean ln(kbit/s) per session, own and standardised baseline. */
    readonly ownLogMean: number;
    readonly baselineLogMean: number;
    /** Variances of those means (s^2 / n; the baseline's is the weighted sum over ISPs). */
    readonly ownVariance: number;
    readonly baselineVariance: number;
    /** Welch-Satterthwaite degrees of freedom of the difference. */
    readonly df: number;
    readonly ownSessions: number;
    readonly baselineSessions: number;
  } | null;
}

export const requests = (s: SegmentSums): number => s.segments + s.failures;

export function addSegments(a: SegmentSums, b: SegmentSums): SegmentSums {
  return {
    segments: a.segments + b.segments,
    failures: a.failures + b.failures,
    bytes: a.bytes + b.bytes,
    downloadMs: a.downloadMs + b.downloadMs,
    sessions: a.sessions + b.sessions,
    tputSessions: a.tputSessions + b.tputSessions,
    logKbpsSum: a.logKbpsSum + b.logKbpsSum,
    logKbpsSumSq: a.logKbpsSumSq + b.logKbpsSumSq,
  };
}

/** Sample variance from a count (>= 2), sum and sum of squares. */
export function sampleVariance(n: number, sum: number, sumSq: number): number {
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

/** Scopes a cell counts in, as the control plane reads them (steering.ts). */
function scopesOf(cell: SegmentCell): string[] {
  const scopes = ['global'];
  if (cell.isp !== '') scopes.push(`isp:${cell.isp}`);
  if (cell.region !== '') scopes.push(`region:${cell.region}`);
  return scopes;
}

/** The OCA against the rest of its scope, ISP by ISP (see the module comment). */
export function compareStrata(
  scope: string,
  ocaId: string,
  strata: ReadonlyArray<{ readonly own: SegmentSums; readonly rest: SegmentSums }>,
): SegmentComparison {
  let own = EMPTY_SEGMENTS;
  for (const s of strata) own = addSegments(own, s.own);

  // Failure rate, standardised to the OCA's requests per ISP.
  let ownFailures = 0;
  let weight = 0;
  let weightedRate = 0;
  let weightSquaredOverN = 0;
  let ownRequestSessions = 0;
  let baselineRequestSessions = 0;
  for (const { own: o, rest: r } of strata) {
    const w = requests(o);
    const n = requests(r);
    if (w === 0 || n === 0) continue;
    ownFailures += o.failures;
    ownRequestSessions += o.sessions;
    baselineRequestSessions += r.sessions;
    weight += w;
    weightedRate += (w * r.failures) / n;
    weightSquaredOverN += (w * w) / n;
  }
  const failure =
    weight === 0
      ? null
      : {
          own: { rate: ownFailures / weight, n: weight },
          baseline: { rate: weightedRate / weight, n: (weight * weight) / weightSquaredOverN },
          ownSessions: ownRequestSessions,
          baselineSessions: baselineRequestSessions,
        };

  // Throughput: mean log per session; the baseline standardised to the OCA's sessions per ISP.
  let n0 = 0;
  let sum0 = 0;
  let sumSq0 = 0;
  let weightT = 0;
  let weightedMean = 0;
  let baselineSessions = 0;
  const baselineParts: Array<{ c: number; df: number }> = [];
  for (const { own: o, rest: r } of strata) {
    if (o.tputSessions < 1 || r.tputSessions < 2) continue;
    const w = o.tputSessions;
    n0 += w;
    sum0 += o.logKbpsSum;
    sumSq0 += o.logKbpsSumSq;
    weightT += w;
    weightedMean += (w * r.logKbpsSum) / r.tputSessions;
    // w_i^2 s_i^2 / n_i; divided by (sum w)^2 below.
    baselineParts.push({
      c: (w * w * sampleVariance(r.tputSessions, r.logKbpsSum, r.logKbpsSumSq)) / r.tputSessions,
      df: r.tputSessions - 1,
    });
    baselineSessions += r.tputSessions;
  }
  let throughput: SegmentComparison['throughput'] = null;
  if (n0 >= 2) {
    const ownVariance = sampleVariance(n0, sum0, sumSq0) / n0;
    const parts = [
      { c: ownVariance, df: n0 - 1 },
      ...baselineParts.map((p) => ({ c: p.c / (weightT * weightT), df: p.df })),
    ];
    const baselineVariance = parts.slice(1).reduce((a, p) => a + p.c, 0);
    const total = ownVariance + baselineVariance;
    // Satterthwaite: (sum c_i)^2 / sum(c_i^2 / df_i); infinite when every variance is 0.
    const denominator = parts.reduce((a, p) => a + (p.c * p.c) / p.df, 0);
    throughput = {
      ownLogMean: sum0 / n0,
      baselineLogMean: weightedMean / weightT,
      ownVariance,
      baselineVariance,
      df: denominator > 0 ? (total * total) / denominator : Number.POSITIVE_INFINITY,
      ownSessions: n0,
      baselineSessions,
    };
  }
  return { scope, ocaId, own, failure, throughput };
}

/** Every (scope, OCA) of one window's cells, each against the rest of its scope. */
export function segmentComparisons(cells: readonly SegmentCell[]): SegmentComparison[] {
  // scope -> isp -> oca -> sums
  const tree = new Map<string, Map<string, Map<string, SegmentSums>>>();
  for (const cell of cells) {
    if (cell.ocaId === '') continue;
    for (const scope of scopesOf(cell)) {
      let byIsp = tree.get(scope);
      if (!byIsp) {
        byIsp = new Map();
        tree.set(scope, byIsp);
      }
      let byOca = byIsp.get(cell.isp);
      if (!byOca) {
        byOca = new Map();
        byIsp.set(cell.isp, byOca);
      }
      byOca.set(cell.ocaId, addSegments(byOca.get(cell.ocaId) ?? EMPTY_SEGMENTS, cell));
    }
  }
  const out: SegmentComparison[] = [];
  for (const scope of [...tree.keys()].sort()) {
    const byIsp = tree.get(scope) as Map<string, Map<string, SegmentSums>>;
    const ocaIds = new Set<string>();
    for (const byOca of byIsp.values()) for (const id of byOca.keys()) ocaIds.add(id);
    for (const ocaId of [...ocaIds].sort()) {
      const strata: Array<{ own: SegmentSums; rest: SegmentSums }> = [];
      for (const byOca of byIsp.values()) {
        const own = byOca.get(ocaId);
        if (own === undefined) continue;
        let rest = EMPTY_SEGMENTS;
        for (const [id, sums] of byOca) if (id !== ocaId) rest = addSegments(rest, sums);
        strata.push({ own, rest });
      }
      out.push(compareStrata(scope, ocaId, strata));
    }
  }
  return out;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/**
 * Welch's one-sided upper bound of the ratio of geometric means (own / baseline), held to
 * the dead band (see the module comment).
 */
export function throughputSignal(
  t: NonNullable<SegmentComparison['throughput']>,
  band: SegmentParams['throughput'],
  alpha: number,
): Signal {
  const difference = t.ownLogMean - t.baselineLogMean;
  const se = Math.sqrt(t.ownVariance + t.baselineVariance);
  const upperRatio = Math.exp(difference + studentTQuantile(1 - alpha, t.df) * se);
  const ratio = Math.exp(difference);
  const level: Level =
    upperRatio < band.drainRatio
      ? 'severe'
      : upperRatio < band.enterRatio
        ? 'bad'
        : ratio >= band.exitRatio || upperRatio >= 1
          ? 'good'
          : 'elevated';
  return {
    metric: 'segmentThroughputKbps',
    value: Math.exp(t.ownLogMean),
    baseline: Math.exp(t.baselineLogMean),
    level,
    severity:
      level === 'bad' || level === 'severe'
        ? clamp01((band.exitRatio - upperRatio) / (band.exitRatio - band.drainRatio))
        : 0,
    lowerBound: null,
    upperRatio,
    enterThreshold: band.enterRatio,
    n: t.ownSessions,
  };
}

/** Judges one OCA's segments in one window; 'none' when no signal has its minimum sample. */
export function assessSegments(c: SegmentComparison, p: SegmentParams, alpha: number): WindowAssessment {
  const signals: Signal[] = [];
  const f = c.failure;
  if (
    f !== null &&
    f.own.n >= p.minSegments &&
    f.baseline.n >= p.minSegments &&
    f.ownSessions >= p.minSessions &&
    f.baselineSessions >= p.minSessions
  ) {
    const s = rateSignal('segmentFailureRate', f.own, f.baseline, p.failureRate, alpha);
    if (s !== null) signals.push(s);
  }
  const t = c.throughput;
  if (t !== null && t.ownSessions >= p.minSessions && t.baselineSessions >= p.minSessions) {
    signals.push(throughputSignal(t, p.throughput, alpha));
  }
  if (signals.length === 0) {
    return {
      level: 'none',
      score: 1,
      signals: [],
      sessions: 0,
      note: `too few segment requests or sessions on ${c.ocaId} or its baseline`,
    };
  }
  const worstSeverity = Math.max(...signals.map((s) => s.severity));
  return { level: worstOf(signals), score: 1 - worstSeverity, signals, sessions: 0 };
}
