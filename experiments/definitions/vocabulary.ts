/**
 * The closed vocabularies an experiment definition may use: the knobs a cell may override
 * (by the names the players themselves use), the QoE metrics (one definition, shared with
 * the processors and dashboards), device classes, steering policies and lifecycle states.
 *
 * A name outside these lists is an error in a definition, never ignored: a typo such as
 * `abrBandwidthFactor` (lower-case w) would otherwise run an experiment that changes nothing.
 */

/** Device classes as the player reports them in `device.deviceClass` (schemas/playback-event.avsc). */
export const DEVICE_CLASSES = ['tv', 'mobile', 'tablet', 'desktop', 'console', 'stb'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

export const UNIT_TYPES = ['viewer', 'session'] as const;
export type UnitType = (typeof UNIT_TYPES)[number];

/**
 * ABR knobs a cell may override. Names and units are the players' own, so a cell's config
 * can be handed to the player as is:
 * - hls.js `HlsConfig` (src/config.ts; defaults in hls.js 1.7: abrBandWidthFactor 0.95,
 *   abrBandWidthUpFactor 0.7, abrEwmaDefaultEstimate 5e5 bit/s, maxBufferLength 30 s,
 *   startLevel undefined = automatic, -1 also means automatic);
 * - dash.js `streaming.abr.bandwidthSafetyFactor` (default 0.9).
 */
export const ABR_KNOBS = {
  abrBandWidthFactor: {
    player: 'hls.js',
    summary: 'share of the measured bandwidth the player may use to stay or switch down, in (0, 1]',
  },
  abrBandWidthUpFactor: {
    player: 'hls.js',
    summary: 'share of the measured bandwidth the player may use to switch up, in (0, 1]',
  },
  abrEwmaDefaultEstimate: {
    player: 'hls.js',
    summary: 'bandwidth estimate before the first measurement, bit/s (integer)',
  },
  maxBufferLength: { player: 'hls.js', summary: 'forward buffer target, seconds' },
  startLevel: { player: 'hls.js', summary: 'first level index, -1 for automatic' },
  bandwidthSafetyFactor: {
    player: 'dash.js',
    summary: 'streaming.abr.bandwidthSafetyFactor: share of the measured bandwidth used, in (0, 1]',
  },
} as const;
export type AbrKnob = keyof typeof ABR_KNOBS;
export const ABR_KNOB_NAMES = Object.keys(ABR_KNOBS) as AbrKnob[];

/**
 * Steering policies the steering processor implements: how it orders `PATHWAY-PRIORITY`
 * in the HLS/DASH Content Steering manifest. Keep in step with processors/steering.
 * - `proximity-only`: nearest OCA first, QoE ignored (the baseline without feedback);
 * - `health-weighted`: OCAs ordered by recent QoE (rebuffering, errors, throughput) as
 *   well as proximity.
 */
export const STEERING_POLICIES = ['proximity-only', 'health-weighted'] as const;
export type SteeringPolicy = (typeof STEERING_POLICIES)[number];

/** The knob a steering override sets, in the namespace of knobs used for conflict checks. */
export const STEERING_POLICY_KNOB = 'steering.policy';

/**
 * QoE metrics (DESIGN.md, "QoE metrics") with the direction that is better and the kind
 * of value, which bounds an absolute effect size: a proportion lives in [0, 1], the score
 * in [0, 100].
 */
export const METRICS = {
  startupMs: { better: 'lower', kind: 'duration-ms' },
  ebvs: { better: 'lower', kind: 'proportion' },
  vsf: { better: 'lower', kind: 'proportion' },
  vpf: { better: 'lower', kind: 'proportion' },
  rebufferRatio: { better: 'lower', kind: 'proportion' },
  stallsPerHour: { better: 'lower', kind: 'rate' },
  avgBitrateKbps: { better: 'higher', kind: 'kbps' },
  switches: { better: 'lower', kind: 'count' },
  score: { better: 'higher', kind: 'score' },
} as const satisfies Record<string, { better: Direction; kind: string }>;
export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export const DIRECTIONS = ['lower', 'higher'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Largest absolute effect that can make sense for a metric kind (exclusive). */
export function absoluteEffectLimit(metric: MetricName): number {
  switch (METRICS[metric].kind) {
    case 'proportion':
      return 1;
    case 'score':
      return 100;
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/**
 * Lifecycle. An experiment is drafted, runs, and is stopped (abandoned or concluded) or
 * shipped (its winning cell becomes the default). Only `running` experiments allocate.
 */
export const STATUSES = ['draft', 'running', 'stopped', 'shipped'] as const;
export type ExperimentStatus = (typeof STATUSES)[number];

/**
 * Allowed status changes. A stopped experiment is not restarted: its units already saw the
 * stop, so a rerun is a new experiment with a new key and seed. `shipped` is final.
 */
export const STATUS_TRANSITIONS: Readonly<Record<ExperimentStatus, readonly ExperimentStatus[]>> = {
  draft: ['running', 'stopped'],
  running: ['stopped', 'shipped'],
  stopped: ['shipped'],
  shipped: [],
};

/**
 * Decision rules (how `analysis` turns results into ship / don't ship):
 * - `superiority`: ship the best treatment when its primary metric is better than the
 *   control's at `alpha` and every guardrail passes its non-inferiority test (worse by no
 *   more than its margin, one-sided at `alpha`); otherwise keep the control.
 * - `non-inferiority`: ship when the treatment's primary metric is worse than the
 *   control's by no more than the primary's margin (one-sided at `alpha`) and guardrails
 *   hold: for changes made for another reason (cost, simplicity), where "no worse" wins.
 * Neither decides before `minRuntimeDays` (whole weeks cover the weekly viewing cycle).
 */
export const DECISION_RULES = ['superiority', 'non-inferiority'] as const;
export type DecisionRule = (typeof DECISION_RULES)[number];

/** Buckets in the assignment space: weights and namespace ranges are in these units. */
export const BUCKETS = 10_000;
