// Generated from schemas/dead-letter.avsc by schemas/codegen.ts. DO NOT EDIT.
// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.

/** A record that could not be processed, with its raw payload and the reason. Written to <topic>.dlq; nothing is dropped silently. */
export interface DeadLetter {
  /** Which step refused it: ingest, sessionize, qoe, outcomes, ... */
  source: string;
  /** Stable error code, e.g. PLAYLOOP_INVALID_EVENT. */
  code: string;
  /** Human-readable reason. */
  reason: string;
  /** JSON path of the offending field, when known. */
  path: null | string;
  failedAt: number;
  /** The raw payload as received (JSON text for ingest, the Kafka value for processors). */
  payload: Buffer;
  sessionId: null | string;
  originTopic: null | string;
  originPartition: null | number;
  originOffset: null | string;
  /** Index in the HTTP batch, for ingest. */
  batchIndex: null | number;
  ingestKeyId: null | string;
}

export const schema = {"type":"record","name":"DeadLetter","namespace":"dev.playloop.dlq","doc":"A record that could not be processed, with its raw payload and the reason. Written to <topic>.dlq; nothing is dropped silently.","fields":[{"name":"source","type":"string","doc":"Which step refused it: ingest, sessionize, qoe, outcomes, ..."},{"name":"code","type":"string","doc":"Stable error code, e.g. PLAYLOOP_INVALID_EVENT."},{"name":"reason","type":"string","doc":"Human-readable reason."},{"name":"path","type":["null","string"],"default":null,"doc":"JSON path of the offending field, when known."},{"name":"failedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"payload","type":"bytes","doc":"The raw payload as received (JSON text for ingest, the Kafka value for processors)."},{"name":"sessionId","type":["null","string"],"default":null},{"name":"originTopic","type":["null","string"],"default":null},{"name":"originPartition","type":["null","int"],"default":null},{"name":"originOffset","type":["null","string"],"default":null},{"name":"batchIndex","type":["null","int"],"default":null,"doc":"Index in the HTTP batch, for ingest."},{"name":"ingestKeyId","type":["null","string"],"default":null}]} as const;
