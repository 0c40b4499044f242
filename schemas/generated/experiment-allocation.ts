// Generated from schemas/experiment-allocation.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** One unit allocated to one cell of a running experiment, written to experiment.allocations keyed by unitId (so one unit's allocations stay in order on one partition). Only units in the experiment are written; exclusions are not events. Produced by experiments/assignment/allocation-event.ts toAllocationEvent. */
export interface ExperimentAllocation {
  /** The experiment's key (its file name in experiments/). */
  experimentKey: string;
  /** The cell's name. */
  cell: string;
  /** Whether the cell is the experiment's control. */
  control: boolean;
  /** What was randomised: a viewer (all their sessions share the cell) or a session. */
  unitType: ExperimentUnitType;
  /** The randomised unit's id: viewerId or sessionId. Also the Kafka key. */
  unitId: string;
  viewerId: string;
  /** Null when allocated before a playback session existed. */
  sessionId: null | string;
  /** Cell bucket in [0, 10000): hash of (seed, unitId) under hashVersion. */
  bucket: number;
  /** The experiment's namespace (layer). */
  namespace: string;
  /** Assignment hash version (experiments/assignment/README.md). */
  hashVersion: number;
  /** The experiment's seed: with hashVersion and unitId it reproduces the bucket. */
  seed: string;
  /** Revision of the definition the allocation was decided under: first 16 hex digits of sha256 over its canonical JSON. */
  definitionDigest: string;
  allocatedAt: number;
  /** Who allocated: control-plane, fleet (simulated players) or player. */
  source: string;
  /** Targeting context at allocation: tv, mobile, tablet, desktop, console, stb. */
  deviceClass: null | string;
  /** ISO 3166-1 alpha-2. */
  country: null | string;
  /** Autonomous system number, e.g. AS3320. */
  isp: null | string;
}

export const ExperimentUnitTypeValues = ["viewer","session"] as const;
export type ExperimentUnitType = (typeof ExperimentUnitTypeValues)[number];

export const schema = {"type":"record","name":"ExperimentAllocation","namespace":"dev.playloop.experiments","doc":"One unit allocated to one cell of a running experiment, written to experiment.allocations keyed by unitId (so one unit's allocations stay in order on one partition). Only units in the experiment are written; exclusions are not events. Produced by experiments/assignment/allocation-event.ts toAllocationEvent.","fields":[{"name":"experimentKey","type":"string","doc":"The experiment's key (its file name in experiments/)."},{"name":"cell","type":"string","doc":"The cell's name."},{"name":"control","type":"boolean","doc":"Whether the cell is the experiment's control."},{"name":"unitType","type":{"type":"enum","name":"ExperimentUnitType","symbols":["viewer","session"]},"doc":"What was randomised: a viewer (all their sessions share the cell) or a session."},{"name":"unitId","type":"string","doc":"The randomised unit's id: viewerId or sessionId. Also the Kafka key."},{"name":"viewerId","type":"string"},{"name":"sessionId","type":["null","string"],"default":null,"doc":"Null when allocated before a playback session existed."},{"name":"bucket","type":"int","doc":"Cell bucket in [0, 10000): hash of (seed, unitId) under hashVersion."},{"name":"namespace","type":"string","doc":"The experiment's namespace (layer)."},{"name":"hashVersion","type":"int","doc":"Assignment hash version (experiments/assignment/README.md)."},{"name":"seed","type":"string","doc":"The experiment's seed: with hashVersion and unitId it reproduces the bucket."},{"name":"definitionDigest","type":"string","doc":"Revision of the definition the allocation was decided under: first 16 hex digits of sha256 over its canonical JSON."},{"name":"allocatedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"source","type":"string","doc":"Who allocated: control-plane, fleet (simulated players) or player."},{"name":"deviceClass","type":["null","string"],"default":null,"doc":"Targeting context at allocation: tv, mobile, tablet, desktop, console, stb."},{"name":"country","type":["null","string"],"default":null,"doc":"ISO 3166-1 alpha-2."},{"name":"isp","type":["null","string"],"default":null,"doc":"Autonomous system number, e.g. AS3320."}]} as const;
