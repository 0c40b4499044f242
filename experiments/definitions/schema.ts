/**
 * The shape of an experiment definition (one YAML file in experiments/). This schema is the
 * structural half of validation; rules that relate fields to one another (weights summing
 * to 10000, one control, metric directions, ...) live in rules.ts, and rules across files
 * (namespaces, knob conflicts) in validate.ts.
 *
 * Units, fixed here and in every message:
 * - weights are basis points of the experiment's units: integers summing to exactly
 *   10000 (= 100%). Integers, because a cell is a whole range of the 10,000 buckets and
 *   decimal percentages such as 33.3 cannot be split exactly;
 * - `namespace.range` is a half-open range [start, end) of the namespace's 10,000 layer
 *   buckets;
 * - `trafficShare` is a fraction in [0, 1] with at most four decimals (a whole number of
 *   buckets, compared as an integer `bucket < round(share * 10000)` on every platform).
 */
import { z } from 'zod';
import { HASH_VERSIONS } from '../assignment/hash.ts';
import {
  BUCKETS,
  DECISION_RULES,
  DEVICE_CLASSES,
  DIRECTIONS,
  METRIC_NAMES,
  STATUSES,
  STEERING_POLICIES,
  UNIT_TYPES,
} from './vocabulary.ts';

/** Lower-case words joined by single hyphens; also the file name (`<key>.yaml`). */
export const KEY_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Seeds and namespace names never contain "/" or ":", which the hash salts use (assignment/hash.ts). */
export const SEED_PATTERN = /^[A-Za-z0-9._-]+$/;
export const CELL_NAME_PATTERN = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
/** ISO 3166-1 alpha-2, upper case, as GeoIP databases give it. */
export const COUNTRY_PATTERN = /^[A-Z]{2}$/;
/** An ISP is named by its autonomous system number, as steering scopes do (`isp:AS3320`). */
export const ISP_PATTERN = /^AS[1-9][0-9]*$/;

const bucket = z.number().int('must be a whole number of buckets').min(0).max(BUCKETS);

/** hls.js and dash.js factors are shares of the measured bandwidth: (0, 1]. */
const bandwidthShare = z
  .number()
  .refine((v) => v > 0 && v <= 1, { error: 'must be in (0, 1]: a share of the measured bandwidth' });

export const abrOverridesSchema = z.strictObject({
  abrBandWidthFactor: bandwidthShare.optional(),
  abrBandWidthUpFactor: bandwidthShare.optional(),
  abrEwmaDefaultEstimate: z
    .number()
    .int('must be a whole number of bit/s')
    .min(1, 'must be at least 1 bit/s')
    .max(1e9, 'must be at most 1e9 bit/s')
    .optional(),
  maxBufferLength: z
    .number()
    .refine((v) => v > 0 && v <= 600, { error: 'must be in (0, 600] seconds' })
    .optional(),
  startLevel: z
    .number()
    .int('must be a level index')
    .min(-1, 'must be -1 (automatic) or a level index')
    .optional(),
  bandwidthSafetyFactor: bandwidthShare.optional(),
});

export const steeringOverridesSchema = z.strictObject({
  policy: z.enum(STEERING_POLICIES),
});

export const cellConfigSchema = z.strictObject({
  abr: abrOverridesSchema.optional(),
  steering: steeringOverridesSchema.optional(),
});

export const cellSchema = z.strictObject({
  name: z.string().regex(CELL_NAME_PATTERN, 'must be lower-case words joined by "-" or "_"').max(64),
  description: z.string().optional(),
  /** Exactly one cell is the control: the baseline every treatment is compared with. */
  control: z.boolean().default(false),
  /** Basis points: an integer in [1, 10000]; all weights sum to exactly 10000. */
  weight: z
    .number()
    .int('must be an integer number of basis points (10000 = 100%)')
    .min(1, 'must be at least 1 basis point; remove a cell rather than weight it 0')
    .max(BUCKETS, 'must be at most 10000 basis points'),
  config: cellConfigSchema,
});

/** An effect size on a metric: relative (0.05 = 5% of the control's mean) or absolute, in the metric's unit. */
export const effectSizeSchema = z.strictObject({
  relative: z.number().optional(),
  absolute: z.number().optional(),
});

const metricRef = {
  metric: z.enum(METRIC_NAMES),
  better: z.enum(DIRECTIONS),
};

export const primaryMetricSchema = z.strictObject({
  ...metricRef,
  /** Minimum detectable effect the sample size is planned for. */
  mde: effectSizeSchema,
  /** Non-inferiority margin; required with decisionRule non-inferiority, refused otherwise. */
  margin: effectSizeSchema.optional(),
});

export const secondaryMetricSchema = z.strictObject(metricRef);

export const guardrailMetricSchema = z.strictObject({
  ...metricRef,
  /** How much worse than the control a treatment may be and still ship (non-inferiority margin). */
  margin: effectSizeSchema,
});

export const targetingSchema = z.strictObject({
  deviceClasses: z.array(z.enum(DEVICE_CLASSES)).default([]),
  countries: z
    .array(z.string().regex(COUNTRY_PATTERN, 'must be an ISO 3166-1 alpha-2 code in upper case'))
    .default([]),
  isps: z
    .array(z.string().regex(ISP_PATTERN, 'must be an autonomous system number such as AS3320'))
    .default([]),
});

export const experimentSchema = z.strictObject({
  key: z.string().regex(KEY_PATTERN, 'must be lower-case words joined by single hyphens').max(80),
  hypothesis: z.string().trim().min(20, 'must state the hypothesis (at least 20 characters)'),
  owner: z.string().trim().min(1, 'must name an owner'),
  unit: z.enum(UNIT_TYPES),
  status: z.enum(STATUSES),
  /** The cell whose config became the default; required when status is shipped. */
  shippedCell: z.string().optional(),
  namespace: z.strictObject({
    name: z.string().regex(SEED_PATTERN, 'must use only letters, digits, ".", "_" and "-"').max(64),
    range: z.strictObject({ start: bucket, end: bucket }),
  }),
  seed: z.string().regex(SEED_PATTERN, 'must use only letters, digits, ".", "_" and "-"').max(128),
  hashVersion: z.number().refine((v) => (HASH_VERSIONS as readonly number[]).includes(v), {
    error: `unknown hash version; supported: ${HASH_VERSIONS.join(', ')}`,
  }),
  targeting: targetingSchema.prefault({}),
  trafficShare: z.number().min(0).max(1),
  cells: z.array(cellSchema),
  metrics: z.strictObject({
    primary: primaryMetricSchema,
    secondary: z.array(secondaryMetricSchema).default([]),
    guardrails: z.array(guardrailMetricSchema).default([]),
  }),
  analysis: z.strictObject({
    /** Significance level, a fraction: 0.05, not 5. */
    alpha: z.number().refine((v) => v > 0 && v <= 0.2, {
      error: 'must be a fraction in (0, 0.2] (0.05 is 5%)',
    }),
    /** Planned power, a fraction: 0.8, not 80. */
    power: z.number().refine((v) => v >= 0.5 && v < 1, {
      error: 'must be a fraction in [0.5, 1) (0.8 is 80%)',
    }),
    decisionRule: z.enum(DECISION_RULES),
    minRuntimeDays: z.number().int('must be whole days').min(1, 'must be at least 1 day'),
  }),
});

/** Every field name the schema knows, for "did you mean" hints on unknown fields. */
export const KNOWN_FIELD_NAMES: readonly string[] = [
  ...Object.keys(experimentSchema.shape),
  ...Object.keys(cellSchema.shape),
  ...Object.keys(cellConfigSchema.shape),
  ...Object.keys(primaryMetricSchema.shape),
  ...Object.keys(guardrailMetricSchema.shape),
  ...Object.keys(effectSizeSchema.shape),
  ...Object.keys(targetingSchema.shape),
  ...Object.keys(steeringOverridesSchema.shape),
  ...Object.keys(experimentSchema.shape.namespace.shape),
  ...Object.keys(experimentSchema.shape.namespace.shape.range.shape),
  ...Object.keys(experimentSchema.shape.metrics.shape),
  ...Object.keys(experimentSchema.shape.analysis.shape),
];

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A validated definition. Loaded definitions are deep-frozen: nothing changes them after validation. */
export type ExperimentDefinition = DeepReadonly<z.output<typeof experimentSchema>>;
export type Cell = ExperimentDefinition['cells'][number];
export type CellConfig = Cell['config'];
export type AbrOverrides = NonNullable<CellConfig['abr']>;
export type SteeringOverrides = NonNullable<CellConfig['steering']>;
export type Targeting = ExperimentDefinition['targeting'];
export type EffectSize = ExperimentDefinition['metrics']['primary']['mde'];
