/**
 * playloop's A/B statistics: pure functions, no I/O. See README.md beside this file for
 * each method's formula source and the provenance of the reference values in the tests.
 */

export { binomialCdf, binomialQuantile, binomialSf, binomialUpperQuantile } from './binomial.ts';
export { chiSquareCdf, chiSquareSf } from './chi-square.ts';
export {
  type Better,
  type ComparisonMeta,
  fromProportions,
  fromQuantileDifference,
  fromWelch,
  type MetricComparison,
  type MetricRole,
  type SequentialEvidence,
  withSequential,
} from './comparison.ts';
export {
  type CovariateSums,
  type CupedCell,
  type CupedResult,
  cupedAdjust,
  cupedTheta,
} from './cuped.ts';
export {
  type CellAssessment,
  type Decision,
  type DecisionInput,
  type DecisionKind,
  type DecisionRule,
  decide,
  type GuardrailAssessment,
  type GuardrailStatus,
  type PrimaryAssessment,
  type PrimaryStatus,
  type RuleKind,
  type TestMode,
} from './decision.ts';
export {
  type ExitProbability,
  GROUP_SEQUENTIAL_MIN_GROWTH,
  type GroupSequentialBoundaryPoint,
  type GroupSequentialConfig,
  type GroupSequentialCurvePoint,
  type GroupSequentialData,
  type GroupSequentialDesign,
  type GroupSequentialLook,
  type GroupSequentialLookResult,
  type GroupSequentialState,
  groupSequentialBoundaries,
  groupSequentialBoundaryCurve,
  groupSequentialExitProbabilities,
  groupSequentialInflationFactor,
  groupSequentialInformationFraction,
  groupSequentialInitialState,
  groupSequentialMaxInformation,
  groupSequentialPower,
  groupSequentialRepeatedPValue,
  groupSequentialSequence,
  groupSequentialUpdate,
  lanDeMetsSpending,
  obrienFlemingConstantBoundary,
  pocockConstantBoundary,
  type SpendingFunctionKind,
  spendingBoundaries,
  withGroupSequential,
} from './group-sequential.ts';
export {
  deltaMethodLift,
  type MeanTestOptions,
  summarize,
  type WelchResult,
  welchTTest,
} from './means.ts';
export {
  type MsprtBoundaryPoint,
  type MsprtConfig,
  type MsprtLook,
  type MsprtLookResult,
  type MsprtState,
  msprtBoundary,
  msprtBoundaryCurve,
  msprtInitialState,
  msprtLogLikelihoodRatio,
  msprtMixingVariance,
  msprtSequence,
  msprtUpdate,
} from './msprt.ts';
export { benjaminiHochbergAdjust, holmAdjust } from './multiple-comparisons.ts';
export { normalCdf, normalPdf, normalQuantile, normalSf, normalTwoSidedP } from './normal.ts';
export {
  type CellSizes,
  type CellWeights,
  type MeansPlan,
  meansPower,
  meansSampleSize,
  type ProportionsPlan,
  proportionsPower,
  proportionsSampleSize,
  resolveEffect,
  type SampleSizeResult,
} from './power.ts';
export { createRng, type Rng } from './prng.ts';
export { type ProportionTestOptions, type ProportionTestResult, twoProportionZTest } from './proportions.ts';
export {
  maritzJarrettStandardError,
  type OrderedSample,
  type QuantileDifference,
  type QuantileEstimate,
  type QuantileInterval,
  type QuantileOptions,
  quantileConfidenceInterval,
  quantileDifference,
  quantileDifferenceOrdered,
  sampleQuantile,
} from './quantiles.ts';
export {
  inverseRegularizedBeta,
  logBeta,
  logGamma,
  regularizedBeta,
  regularizedGamma,
  type Tails,
} from './special.ts';
export { type SrmCell, type SrmOptions, type SrmResult, sampleRatioMismatch } from './srm.ts';
export { studentTCdf, studentTPdf, studentTQuantile, studentTSf, studentTTwoSidedP } from './student-t.ts';
export type { EffectSize, Interval, MeanSummary, ProportionSummary, RelativeLift } from './types.ts';
