/**
 * The simulated player fleet (producers/fleet): what other parts of playloop use. See
 * fleet.ts for the overview, network.ts and population.ts for the models.
 */
export * from './abr/index.ts';
export { cmcdQueryValue, encodeCmcd } from './cmcd.ts';
export { type ContentInfo, type ContentRendition, contentFromPlan, makeContent } from './content.ts';
export { type FleetOptions, type FleetRunResult, runFleet } from './fleet.ts';
export { HttpFleet, type HttpModeOptions, type HttpModeResult } from './http-mode.ts';
export { type HttpPlanSourceOptions, httpPlanSource, httpSteeringSource } from './http-sources.ts';
export {
  ACCESS_KINDS,
  ACCESS_PROFILES,
  type AccessKind,
  type AccessProfile,
  type ConditionChange,
  HEALTHY,
  healthyOcas,
  NetworkTrace,
  type OcaConditions,
  scheduledConditions,
} from './network.ts';
export * from './plan.ts';
export { FLEET_MODES, type FleetMode, type SessionTruth } from './player.ts';
export {
  DEFAULT_POPULATION,
  DEVICE_CLASSES,
  type DeviceClass,
  type Population,
  type PopulationInput,
  validatePopulation,
} from './population.ts';
export {
  createProgressDisplay,
  type FleetProgress,
  formatProgress,
  type ProgressDisplay,
  silentProgress,
} from './progress.ts';
export {
  FLEET_VERSION,
  type FleetSettings,
  type FleetSettingsInput,
  validateFleetSettings,
} from './settings.ts';
export { type EventSink, IngestSink, type IngestSinkOptions, MemorySink, type SinkOrigin } from './sink.ts';
export {
  DEFAULT_RENDITIONS,
  defaultStubOcas,
  proximityRank,
  scriptedSteeringSource,
  stubPlanSource,
} from './stub-sources.ts';
export { type Pacing, type TimingOptions, type TimingResult, TimingSimulator } from './timing.ts';
export { controlPlaneSources, controlPlaneUrl, ingestEndpoint, ingestSinkFromConfig } from './wiring.ts';
