/**
 * The OCA health model. Pure: window sums in, a health state out.
 *
 * 1. Each closed window, an OCA's QoE is compared with its baseline: the rest of the fleet
 *    in the same scope and window (the OCA itself left out, so one bad OCA among two cannot
 *    hide by dragging the baseline up). Same window, same viewers' network conditions: a
 *    fleet-wide evening dip is no reason to move anyone.
 * 2. Rates (rebuffer ratio, VSF rate, VPF rate) are compared statistically: the window is
 *    BAD for a rate when the one-sided lower confidence bound of (OCA - baseline) exceeds a
 *    practical margin, i.e. the data are confident the OCA is worse by more than the margin
 *    (Newcombe's hybrid score interval, see confidence.ts). A noisy window of a healthy OCA
 *    has a wide interval whose lower bound stays below the margin, so noise does not count
 *    as evidence. The window is GOOD when the point difference is within a smaller exit
 *    margin or the OCA is not even significantly worse (lower bound <= 0); in between it
 *    is ELEVATED, which counts neither way.
 *    Margins are max(absolute, relative x baseline): an OCA must be worse in absolute terms
 *    (a 0.1% vs 0.2% VSF rate moves nobody) and relative to the fleet.
 * 3. Startup p90 and throughput come from t-digest states and byte/time sums, which carry
 *    no variance, so they use ratio thresholds with a dead band (enter/exit ratios) and a
 *    minimum sample; documented as heuristics, not tests.
 * 4. Windows where the OCA or its baseline has fewer than `minSessions` sessions carry no
 *    evidence at all: they neither advance nor reset a streak.
 * 5. Hysteresis (tracker below): `enterWindows` consecutive bad windows to degrade,
 *    `drainWindows` consecutive severe ones to drain, `exitWindows` consecutive good ones to
 *    recover; separate enter and exit thresholds (step 2) so a value hovering at one
 *    threshold cannot toggle the state. This is the debounce + dead-band scheme of control
 *    engineering (a Schmitt trigger) applied per window.
 *
 * The score (0-1) is 1 minus the worst signal's severity; the published score moves only
 * on a state change or when every recent evidence window agrees it moved by a full step,
 * so ranking among healthy OCAs does not churn on noise either.
 */
import type { OcaState } from '../../schemas/generated/steering-config.ts';
import { newcombeDifferenceBounds } from './confidence.ts';

/** Sums of one OCA (or of its baseline) over one window: qoe_windows columns, summed. */
export interface WindowSums {
  readonly sessions: number;
  readonly attempts: number;
  readonly plays: number;
  readonly ebvs: number;
  readonly vsf: number;
  readonly vpf: number;
  readonly startups: number;
  /** p90 of startup time over the startups (t-digest); null without startups. */
  readonly startupP90Ms: number | null;
  readonly playMs: number;
  readonly stallMs: number;
  readonly stalls: number;
  readonly bytes: number;
  readonly downloadMs: number;
  readonly scoreSum: number;
  readonly scored: number;
}

export const EMPTY_SUMS: WindowSums = Object.freeze({
  sessions: 0,
  attempts: 0,
  plays: 0,
  ebvs: 0,
  vsf: 0,
  vpf: 0,
  startups: 0,
  startupP90Ms: null,
  playMs: 0,
  stallMs: 0,
  stalls: 0,
  bytes: 0,
  downloadMs: 0,
  scoreSum: 0,
  scored: 0,
});

/** Margins of a rate, in the rate's unit; each is max(absolute, relative x baseline rate). */
export interface RateMargins {
  readonly enterAbs: number;
  readonly enterRel: number;
  readonly exitAbs: number;
  readonly exitRel: number;
  readonly drainAbs: number;
  readonly drainRel: number;
}

export interface HealthParams {
  /** One-sided significance level of each rate comparison. */
  readonly alpha: number;
  /** Sessions the OCA and its baseline each need in a window for it to be evidence. */
  readonly minSessions: number;
  readonly rebufferRatio: RateMargins;
  readonly vsfRate: RateMargins;
  readonly vpfRate: RateMargins;
  readonly startup: {
    readonly minStartups: number;
    /** p90 / baseline p90 at or above which the window is bad (with minDeltaMs). */
    readonly enterRatio: number;
    readonly exitRatio: number;
    readonly drainRatio: number;
    /** And at least this much slower in absolute terms. */
    readonly enterMinDeltaMs: number;
  };
  readonly throughput: {
    /** Download time behind the OCA's throughput before it is judged. */
    readonly minDownloadMs: number;
    /** throughput / baseline at or below which the window is bad. */
    readonly enterRatio: number;
    readonly exitRatio: number;
    readonly drainRatio: number;
  };
  readonly enterWindows: number;
  readonly exitWindows: number;
  readonly drainWindows: number;
  /** Windows without evidence after which a non-healthy OCA is re-admitted one step. */
  readonly probeAfterWindows: number;
  /** A published score moves only by at least this much (see tracker). */
  readonly scoreStep: number;
}

/**
 * Defaults. Rate margins follow what a viewer notices: a rebuffer ratio 2 points above the
 * fleet (and twice it) is a visibly worse OCA; 10 points (and 5x) is unusable. VSF and VPF:
 * 2 points (and twice) to degrade, 20 points (and 5x) to drain.
 */
export const DEFAULT_HEALTH_PARAMS: HealthParams = Object.freeze({
  alpha: 0.01,
  minSessions: 20,
  rebufferRatio: { enterAbs: 0.02, enterRel: 1, exitAbs: 0.01, exitRel: 0.5, drainAbs: 0.1, drainRel: 4 },
  vsfRate: { enterAbs: 0.02, enterRel: 1, exitAbs: 0.01, exitRel: 0.5, drainAbs: 0.2, drainRel: 4 },
  vpfRate: { enterAbs: 0.02, enterRel: 1, exitAbs: 0.01, exitRel: 0.5, drainAbs: 0.2, drainRel: 4 },
  startup: { minStartups: 20, enterRatio: 2, exitRatio: 1.5, drainRatio: 4, enterMinDeltaMs: 500 },
  throughput: { minDownloadMs: 10_000, enterRatio: 0.5, exitRatio: 0.7, drainRatio: 0.2 },
  enterWindows: 3,
  exitWindows: 3,
  drainWindows: 3,
  probeAfterWindows: 30,
  scoreStep: 0.1,
});

export type SignalMetric =
  | 'rebufferRatio'
  | 'vsfRate'
  | 'vpfRate'
  | 'startupP90Ms'
  | 'throughputKbps'
  | 'segmentFailureRate'
  | 'segmentThroughputKbps';
export type Level = 'good' | 'elevated' | 'bad' | 'severe';
export type WindowLevel = Level | 'none';

export interface Signal {
  readonly metric: SignalMetric;
  readonly value: number;
  readonly baseline: number;
  readonly level: Level;
  /** 0 unless bad or severe; 1 at the drain threshold and beyond. */
  readonly severity: number;
  /** Rates: the one-sided lower confidence bound of (value - baseline). */
  readonly lowerBound: number | null;
  /** Segment throughput: the one-sided upper confidence bound of value / baseline. */
  readonly upperRatio?: number;
  /** The threshold the value was held to for entering (margin for rates, ratio otherwise). */
  readonly enterThreshold: number;
  /** Units behind the value (plays, attempts, startups, ms of download). */
  readonly n: number;
}

export interface WindowAssessment {
  readonly level: WindowLevel;
  /** 1 - worst severity; 1 when the window carries no evidence. */
  readonly score: number;
  readonly signals: readonly Signal[];
  readonly sessions: number;
  /** Why there is no evidence, when level is 'none'. */
  readonly note?: string;
}

const LEVEL_RANK: Readonly<Record<Level, number>> = { good: 0, elevated: 1, bad: 2, severe: 3 };

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

export function rebufferRatio(s: WindowSums): number | null {
  const watched = s.playMs + s.stallMs;
  return watched > 0 ? s.stallMs / watched : null;
}

export function throughputKbps(s: WindowSums): number | null {
  // bytes * 8 / ms = bits per ms = kbit/s.
  return s.downloadMs > 0 ? (s.bytes * 8) / s.downloadMs : null;
}

export function rateSignal(
  metric: SignalMetric,
  own: { rate: number; n: number },
  base: { rate: number; n: number },
  margins: RateMargins,
  alpha: number,
): Signal | null {
  const bounds = newcombeDifferenceBounds(own, base, alpha);
  if (bounds === null) return null;
  const enter = Math.max(margins.enterAbs, margins.enterRel * base.rate);
  const exit = Math.max(margins.exitAbs, margins.exitRel * base.rate);
  const drain = Math.max(margins.drainAbs, margins.drainRel * base.rate);
  const difference = own.rate - base.rate;
  // Good: practically in line (difference within the exit margin), or not even
  // significantly worse (lower bound <= 0): small-sample noise such as 1 VSF in 20 attempts
  // must not hold a recovered OCA back. Bad needs significance AND the enter margin.
  const level: Level =
    bounds.lower > drain
      ? 'severe'
      : bounds.lower > enter
        ? 'bad'
        : difference <= exit || bounds.lower <= 0
          ? 'good'
          : 'elevated';
  return {
    metric,
    value: own.rate,
    baseline: base.rate,
    level,
    severity: level === 'bad' || level === 'severe' ? clamp01(bounds.lower / drain) : 0,
    lowerBound: bounds.lower,
    enterThreshold: enter,
    n: own.n,
  };
}

/** Judges one OCA's window against its baseline. */
export function assessWindow(own: WindowSums, baseline: WindowSums, p: HealthParams): WindowAssessment {
  const none = (note: string): WindowAssessment => ({
    level: 'none',
    score: 1,
    signals: [],
    sessions: own.sessions,
    note,
  });
  if (own.sessions < p.minSessions) return none(`${own.sessions} sessions < ${p.minSessions}`);
  if (baseline.sessions < p.minSessions) {
    return none(`baseline has ${baseline.sessions} sessions < ${p.minSessions}`);
  }
  const signals: Signal[] = [];
  const push = (s: Signal | null): void => {
    if (s !== null) signals.push(s);
  };

  const ownRebuffer = rebufferRatio(own);
  const baseRebuffer = rebufferRatio(baseline);
  if (ownRebuffer !== null && baseRebuffer !== null) {
    push(
      rateSignal(
        'rebufferRatio',
        { rate: ownRebuffer, n: own.plays },
        { rate: baseRebuffer, n: baseline.plays },
        p.rebufferRatio,
        p.alpha,
      ),
    );
  }
  if (own.attempts > 0 && baseline.attempts > 0) {
    push(
      rateSignal(
        'vsfRate',
        { rate: own.vsf / own.attempts, n: own.attempts },
        { rate: baseline.vsf / baseline.attempts, n: baseline.attempts },
        p.vsfRate,
        p.alpha,
      ),
    );
  }
  if (own.plays > 0 && baseline.plays > 0) {
    push(
      rateSignal(
        'vpfRate',
        { rate: own.vpf / own.plays, n: own.plays },
        { rate: baseline.vpf / baseline.plays, n: baseline.plays },
        p.vpfRate,
        p.alpha,
      ),
    );
  }

  const s = p.startup;
  if (
    own.startups >= s.minStartups &&
    own.startupP90Ms !== null &&
    baseline.startupP90Ms !== null &&
    baseline.startupP90Ms > 0
  ) {
    const ratio = own.startupP90Ms / baseline.startupP90Ms;
    const slower = own.startupP90Ms - baseline.startupP90Ms;
    const level: Level =
      ratio >= s.drainRatio && slower >= s.enterMinDeltaMs
        ? 'severe'
        : ratio >= s.enterRatio && slower >= s.enterMinDeltaMs
          ? 'bad'
          : ratio <= s.exitRatio
            ? 'good'
            : 'elevated';
    signals.push({
      metric: 'startupP90Ms',
      value: own.startupP90Ms,
      baseline: baseline.startupP90Ms,
      level,
      severity:
        level === 'bad' || level === 'severe'
          ? clamp01((ratio - s.exitRatio) / (s.drainRatio - s.exitRatio))
          : 0,
      lowerBound: null,
      enterThreshold: s.enterRatio,
      n: own.startups,
    });
  }

  const t = p.throughput;
  const ownTput = throughputKbps(own);
  const baseTput = throughputKbps(baseline);
  if (own.downloadMs >= t.minDownloadMs && ownTput !== null && baseTput !== null && baseTput > 0) {
    signals.push(throughputLevel('throughputKbps', ownTput, baseTput, own.downloadMs, t));
  }

  if (signals.length === 0) return none('no metric could be compared');
  return fromSignals(signals, own.sessions);
}

/**
 * A throughput ratio with a dead band (heuristic, no variance in the sums): bad at or below
 * `enterRatio` of the baseline, severe at `drainRatio`, good at `exitRatio` or above.
 */
export function throughputLevel(
  metric: 'throughputKbps' | 'segmentThroughputKbps',
  value: number,
  baseline: number,
  n: number,
  t: { readonly enterRatio: number; readonly exitRatio: number; readonly drainRatio: number },
): Signal {
  const ratio = value / baseline;
  const level: Level =
    ratio <= t.drainRatio
      ? 'severe'
      : ratio <= t.enterRatio
        ? 'bad'
        : ratio >= t.exitRatio
          ? 'good'
          : 'elevated';
  return {
    metric,
    value,
    baseline,
    level,
    severity:
      level === 'bad' || level === 'severe'
        ? clamp01((t.exitRatio - ratio) / (t.exitRatio - t.drainRatio))
        : 0,
    lowerBound: null,
    enterThreshold: t.enterRatio,
    n,
  };
}

/** The worst level among signals ('good' for none). */
export function worstOf(signals: readonly Signal[]): Level {
  let level: Level = 'good';
  for (const signal of signals) if (LEVEL_RANK[signal.level] > LEVEL_RANK[level]) level = signal.level;
  return level;
}

function fromSignals(signals: readonly Signal[], sessions: number): WindowAssessment {
  let worstSeverity = 0;
  for (const signal of signals) worstSeverity = Math.max(worstSeverity, signal.severity);
  return { level: worstOf(signals), score: 1 - worstSeverity, signals, sessions };
}

/**
 * One window's verdict from both kinds of evidence: session-level (QoE windows) and
 * segment-level (segment-health.ts). Bad if either says bad, good only if neither says
 * worse than good: every signal keeps its own minimum sample, and a source without
 * evidence simply does not vote. Session throughput measures the same bytes over download
 * time as segment throughput but charges a failed-over session's slow downloads to the OCA
 * it ended on; where segment evidence exists it supersedes the session throughput signal.
 */
export function combineAssessments(session: WindowAssessment, segment: WindowAssessment): WindowAssessment {
  if (segment.level === 'none') return session;
  if (session.level === 'none') return { ...segment, sessions: session.sessions };
  const signals = [...session.signals.filter((s) => s.metric !== 'throughputKbps'), ...segment.signals];
  return fromSignals(signals, session.sessions);
}

/** The signal that explains a window's level best: the highest level, then the most severe. */
export function worstSignal(a: WindowAssessment): Signal | undefined {
  let worst: Signal | undefined;
  for (const s of a.signals) {
    if (
      worst === undefined ||
      LEVEL_RANK[s.level] > LEVEL_RANK[worst.level] ||
      (LEVEL_RANK[s.level] === LEVEL_RANK[worst.level] && s.severity > worst.severity)
    ) {
      worst = s;
    }
  }
  return worst;
}

const METRIC_WORDS: Readonly<Record<SignalMetric, string>> = {
  rebufferRatio: 'rebuffer ratio',
  vsfRate: 'VSF rate',
  vpfRate: 'VPF rate',
  startupP90Ms: 'startup p90',
  throughputKbps: 'throughput',
  segmentFailureRate: 'segment failure rate',
  segmentThroughputKbps: 'segment throughput',
};

function num(x: number): string {
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return Math.round(x).toString();
  return Number(x.toPrecision(3)).toString();
}

/** "rebuffer ratio 0.12 vs fleet 0.01 (difference >= 0.09 at 99% confidence, margin 0.02)". */
export function describeSignal(s: Signal, alpha: number): string {
  const head = `${METRIC_WORDS[s.metric]} ${num(s.value)}${s.metric === 'startupP90Ms' ? ' ms' : s.metric === 'throughputKbps' || s.metric === 'segmentThroughputKbps' ? ' kbps' : ''} vs fleet ${num(s.baseline)}`;
  if (s.lowerBound !== null) {
    const confidence = `${num(100 * (1 - alpha))}%`;
    return `${head} (difference >= ${num(s.lowerBound)} at ${confidence} confidence, margin ${num(s.enterThreshold)})`;
  }
  if (s.upperRatio !== undefined) {
    const confidence = `${num(100 * (1 - alpha))}%`;
    return `${head} (geometric means per session; ratio ${num(s.value / s.baseline)} <= ${num(s.upperRatio)} at ${confidence} confidence, threshold ${num(s.enterThreshold)})`;
  }
  return `${head} (ratio ${num(s.value / s.baseline)}, threshold ${num(s.enterThreshold)})`;
}

// ------------------------------------------------------------------------------- hysteresis

export interface OcaTracker {
  readonly state: OcaState;
  /** When the OCA entered `state` (end of the window that decided it), epoch ms. */
  readonly since: number;
  /** Consecutive evidence windows at bad or worse / at severe / at good / below severe. */
  readonly badStreak: number;
  readonly severeStreak: number;
  readonly goodStreak: number;
  readonly calmStreak: number;
  /** Consecutive windows without evidence. */
  readonly quietWindows: number;
  /** Raw scores of the latest evidence windows, newest last (at most the longest streak). */
  readonly recentScores: readonly number[];
  /** The published score (after hysteresis). */
  readonly score: number;
  /** Start of the first window of each running streak (the evidence window of a change). */
  readonly badSince: number;
  readonly severeSince: number;
  readonly goodSince: number;
  readonly calmSince: number;
  /** The latest window with evidence, and its assessment. */
  readonly lastEvidence: { readonly windowStart: number; readonly assessment: WindowAssessment } | null;
}

export interface Transition {
  readonly from: OcaState;
  readonly to: OcaState;
  /** In words, with the numbers. */
  readonly reason: string;
  /** Windows the decision rests on. */
  readonly windows: number;
  readonly streakStart: number;
}

export function newTracker(state: OcaState, since: number, score = 1): OcaTracker {
  return {
    state,
    since,
    badStreak: 0,
    severeStreak: 0,
    goodStreak: 0,
    calmStreak: 0,
    quietWindows: 0,
    recentScores: [],
    score,
    badSince: since,
    severeSince: since,
    goodSince: since,
    calmSince: since,
    lastEvidence: null,
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 1 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * One window for one OCA: updates the streaks and returns the new tracker, with the state
 * change if the streaks complete one.
 */
export function stepTracker(
  tracker: OcaTracker,
  assessment: WindowAssessment,
  window: { readonly start: number; readonly end: number },
  p: HealthParams,
  ocaId: string,
): { tracker: OcaTracker; transition: Transition | null } {
  if (assessment.level === 'none') {
    const quietWindows = tracker.quietWindows + 1;
    if (tracker.state !== 'healthy' && quietWindows >= p.probeAfterWindows) {
      const to: OcaState = tracker.state === 'drained' ? 'degraded' : 'healthy';
      const reason = `${ocaId} ${to}: no evidence for ${quietWindows} windows, re-admitted on probation (was ${tracker.state})`;
      return {
        tracker: {
          ...newTracker(to, window.end, to === 'healthy' ? 1 : tracker.score),
          lastEvidence: tracker.lastEvidence,
        },
        transition: { from: tracker.state, to, reason, windows: quietWindows, streakStart: window.start },
      };
    }
    return { tracker: { ...tracker, quietWindows }, transition: null };
  }

  const level = assessment.level;
  const bad = level === 'bad' || level === 'severe';
  const badStreak = bad ? tracker.badStreak + 1 : 0;
  const severeStreak = level === 'severe' ? tracker.severeStreak + 1 : 0;
  const goodStreak = level === 'good' ? tracker.goodStreak + 1 : 0;
  const calmStreak = level !== 'severe' ? tracker.calmStreak + 1 : 0;
  const keep = Math.max(p.enterWindows, p.exitWindows, p.drainWindows);
  const recentScores = [...tracker.recentScores, assessment.score].slice(-keep);
  const since = (streak: number, previous: number): number => (streak > 1 ? previous : window.start);
  const badSince = since(badStreak, tracker.badSince);
  const severeSince = since(severeStreak, tracker.severeSince);
  const goodSince = since(goodStreak, tracker.goodSince);
  const calmSince = since(calmStreak, tracker.calmSince);
  const lastEvidence = { windowStart: window.start, assessment };

  let to: OcaState = tracker.state;
  let windows = 0;
  let streakStart = window.start;
  if (tracker.state !== 'drained' && severeStreak >= p.drainWindows) {
    [to, windows, streakStart] = ['drained', severeStreak, severeSince];
  } else if (tracker.state === 'healthy' && badStreak >= p.enterWindows) {
    [to, windows, streakStart] = ['degraded', badStreak, badSince];
  } else if (tracker.state !== 'healthy' && goodStreak >= p.exitWindows) {
    [to, windows, streakStart] = ['healthy', goodStreak, goodSince];
  } else if (tracker.state === 'drained' && calmStreak >= p.exitWindows) {
    // No longer severe, not yet good: a drained OCA steps down to degraded.
    [to, windows, streakStart] = ['degraded', calmStreak, calmSince];
  }

  const base: OcaTracker = {
    ...tracker,
    badStreak,
    severeStreak,
    goodStreak,
    calmStreak,
    quietWindows: 0,
    recentScores,
    badSince,
    severeSince,
    goodSince,
    calmSince,
    lastEvidence,
  };
  if (to === tracker.state) {
    return { tracker: { ...base, score: settledScore(tracker.score, recentScores, p) }, transition: null };
  }
  const recent = recentScores.slice(-windows);
  const reason = transitionReason(ocaId, tracker.state, to, windows, assessment, p);
  return {
    tracker: {
      ...base,
      state: to,
      since: window.end,
      score: round2(mean(recent)),
      // A new state starts its streaks afresh.
      badStreak: 0,
      severeStreak: 0,
      goodStreak: 0,
      calmStreak: 0,
    },
    transition: { from: tracker.state, to, reason, windows, streakStart },
  };
}

/**
 * The published score moves only when every recent evidence window says it is a full step
 * away, on the same side: a single odd window never reorders OCAs.
 */
function settledScore(published: number, recent: readonly number[], p: HealthParams): number {
  const k = Math.max(p.enterWindows, p.exitWindows);
  if (recent.length < k) return published;
  const last = recent.slice(-k);
  const allBelow = last.every((s) => s <= published - p.scoreStep);
  const allAbove = last.every((s) => s >= published + p.scoreStep);
  return allBelow || allAbove ? round2(mean(last)) : published;
}

function transitionReason(
  ocaId: string,
  from: OcaState,
  to: OcaState,
  windows: number,
  assessment: WindowAssessment,
  p: HealthParams,
): string {
  const plural = windows === 1 ? 'window' : 'windows';
  if (to === 'healthy' || (from === 'drained' && to === 'degraded')) {
    const described = assessment.signals.map((s) => describeSignal(s, p.alpha)).join('; ');
    const verdict = to === 'healthy' ? 'back in line with the fleet' : 'no longer severe';
    return `${ocaId} ${to} (was ${from}): ${verdict} for ${windows} ${plural}; latest: ${described}`;
  }
  const worst = worstSignal(assessment);
  const what = worst === undefined ? 'QoE worse than the fleet' : describeSignal(worst, p.alpha);
  return `${ocaId} ${to} (was ${from}): ${what} for ${windows} ${plural}`;
}
