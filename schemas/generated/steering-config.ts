// Generated from schemas/steering-config.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** Versioned steering configuration for one scope, written to the compacted topic config.steering keyed by scope (global, isp:AS3320, region:eu-west). The control plane ranks OCAs and answers Content Steering requests from the latest document of the most specific scope. */
export interface SteeringConfig {
  scope: string;
  /** Monotonic per scope; a reader ignores a document older than the one it holds. */
  version: number;
  generatedAt: number;
  /** TTL of the HLS/DASH Content Steering manifest for this scope; the steering server enforces its own floor. */
  ttlSec: number;
  ocas: Array<OcaHealth>;
  /** OCA ids, best first, for players in this scope (PATHWAY-PRIORITY). */
  pathwayPriority: Array<string>;
  evidence: SteeringEvidence;
}

export interface OcaHealth {
  ocaId: string;
  state: OcaState;
  /** 0 (unusable) to 1 (perfect), after hysteresis. */
  score: number;
  /** Sessions in the evidence window. */
  sessions: number;
  rebufferRatio: null | number;
  vsfRate: null | number;
  startupP90Ms: null | number;
  throughputKbps: null | number;
  /** When the OCA entered this state. */
  since: number;
}

export const OcaStateValues = ["healthy","degraded","drained"] as const;
export type OcaState = (typeof OcaStateValues)[number];

export interface SteeringEvidence {
  windowStart: number;
  windowEnd: number;
  /** Why this version differs from the last, in words. */
  reason: string;
  experimentKey: null | string;
}

export const schema = {"type":"record","name":"SteeringConfig","namespace":"dev.playloop.config","doc":"Versioned steering configuration for one scope, written to the compacted topic config.steering keyed by scope (global, isp:AS3320, region:eu-west). The control plane ranks OCAs and answers Content Steering requests from the latest document of the most specific scope.","fields":[{"name":"scope","type":"string"},{"name":"version","type":"long","doc":"Monotonic per scope; a reader ignores a document older than the one it holds."},{"name":"generatedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"ttlSec","type":"int","doc":"TTL of the HLS/DASH Content Steering manifest for this scope; the steering server enforces its own floor."},{"name":"ocas","type":{"type":"array","items":{"type":"record","name":"OcaHealth","fields":[{"name":"ocaId","type":"string"},{"name":"state","type":{"type":"enum","name":"OcaState","symbols":["healthy","degraded","drained"]}},{"name":"score","type":"double","doc":"0 (unusable) to 1 (perfect), after hysteresis."},{"name":"sessions","type":"long","doc":"Sessions in the evidence window."},{"name":"rebufferRatio","type":["null","double"],"default":null},{"name":"vsfRate","type":["null","double"],"default":null},{"name":"startupP90Ms","type":["null","double"],"default":null},{"name":"throughputKbps","type":["null","double"],"default":null},{"name":"since","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the OCA entered this state."}]}}},{"name":"pathwayPriority","type":{"type":"array","items":"string"},"doc":"OCA ids, best first, for players in this scope (PATHWAY-PRIORITY)."},{"name":"evidence","type":{"type":"record","name":"SteeringEvidence","fields":[{"name":"windowStart","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"windowEnd","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"reason","type":"string","doc":"Why this version differs from the last, in words."},{"name":"experimentKey","type":["null","string"],"default":null}]}}]} as const;
