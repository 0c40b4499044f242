// Generated from schemas/abr-config.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** Versioned ABR configuration for one cohort scope, written to the compacted topic config.abr keyed by scope (global, device:tv, ...). Knob names are the ones players know: hls.js abrBandWidthFactor, abrBandWidthUpFactor, abrEwmaDefaultEstimate, maxBufferLength, startLevel; dash.js bandwidthSafetyFactor. A null knob means: inherit from the broader scope. */
export interface AbrConfig {
  scope: string;
  version: number;
  generatedAt: number;
  knobs: AbrKnobs;
  targeting: Cohort;
  action: AbrAction;
  previousVersion: null | number;
  evidence: AbrEvidence;
}

export interface AbrKnobs {
  abrBandWidthFactor: null | number;
  abrBandWidthUpFactor: null | number;
  /** bits per second */
  abrEwmaDefaultEstimate: null | number;
  /** seconds */
  maxBufferLength: null | number;
  startLevel: null | number;
  bandwidthSafetyFactor: null | number;
}

export interface Cohort {
  deviceClasses: Array<string>;
  countries: Array<string>;
  isps: Array<string>;
}

export const AbrActionValues = ["baseline","promote","rollback","manual"] as const;
export type AbrAction = (typeof AbrActionValues)[number];

export interface AbrEvidence {
  reason: string;
  experimentKey: null | string;
  cell: null | string;
  windowStart: null | number;
  windowEnd: null | number;
  /** The metric values behind the decision, e.g. primary lift and its interval. */
  metrics: Record<string, number>;
}

export const schema = {"type":"record","name":"AbrConfig","namespace":"dev.playloop.config","doc":"Versioned ABR configuration for one cohort scope, written to the compacted topic config.abr keyed by scope (global, device:tv, ...). Knob names are the ones players know: hls.js abrBandWidthFactor, abrBandWidthUpFactor, abrEwmaDefaultEstimate, maxBufferLength, startLevel; dash.js bandwidthSafetyFactor. A null knob means: inherit from the broader scope.","fields":[{"name":"scope","type":"string"},{"name":"version","type":"long"},{"name":"generatedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"knobs","type":{"type":"record","name":"AbrKnobs","fields":[{"name":"abrBandWidthFactor","type":["null","double"],"default":null},{"name":"abrBandWidthUpFactor","type":["null","double"],"default":null},{"name":"abrEwmaDefaultEstimate","type":["null","double"],"default":null,"doc":"bits per second"},{"name":"maxBufferLength","type":["null","double"],"default":null,"doc":"seconds"},{"name":"startLevel","type":["null","int"],"default":null},{"name":"bandwidthSafetyFactor","type":["null","double"],"default":null}]}},{"name":"targeting","type":{"type":"record","name":"Cohort","fields":[{"name":"deviceClasses","type":{"type":"array","items":"string"},"default":[]},{"name":"countries","type":{"type":"array","items":"string"},"default":[]},{"name":"isps","type":{"type":"array","items":"string"},"default":[]}]}},{"name":"action","type":{"type":"enum","name":"AbrAction","symbols":["baseline","promote","rollback","manual"]}},{"name":"previousVersion","type":["null","long"],"default":null},{"name":"evidence","type":{"type":"record","name":"AbrEvidence","fields":[{"name":"reason","type":"string"},{"name":"experimentKey","type":["null","string"],"default":null},{"name":"cell","type":["null","string"],"default":null},{"name":"windowStart","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},{"name":"windowEnd","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},{"name":"metrics","type":{"type":"map","values":"double"},"default":{},"doc":"The metric values behind the decision, e.g. primary lift and its interval."}]}}]} as const;
