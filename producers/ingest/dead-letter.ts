/**
 * A refused event as a record for the dead-letter topic: its raw payload exactly as the
 * player sent it, the reason, the JSON path, its index in the batch and which key sent it.
 * Nothing is dropped silently: every event of a 202 answer is either in the events topic or
 * here.
 */
import { ErrorKinds } from '../../core/errors.ts';
import type { DeadLetter } from '../../schemas/generated/dead-letter.ts';
import type { Encoder, OutRecord } from './encode.ts';
import type { Rejection } from './pipeline.ts';

/**
 * A dead letter carries at most this much of the raw event. Kafka refuses a record over the
 * broker's message.max.bytes (1 MiB by default), and a refused record would fail the whole
 * coalesced send, turning one hostile event into 503s for everyone; a valid event is a few
 * kilobytes at most.
 */
export const MAX_DEAD_LETTER_PAYLOAD_BYTES = 256 * 1_024;

export interface DeadLetterInput {
  readonly rejection: Rejection;
  readonly index: number;
  /** The event's bytes as received. */
  readonly payload: Buffer;
  /** The event's session id when it has a usable one: the record key, so it sorts with its session. */
  readonly sessionId: string | null;
  readonly failedAt: number;
  readonly ingestKeyId: string;
}

/** The session id of a refused event, when it has a usable one: same key, same partition. */
export function sessionIdOf(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const sid = (raw as Record<string, unknown>)['sessionId'];
  return typeof sid === 'string' && sid.length > 0 && sid.length <= 64 && !/\p{Cs}/u.test(sid) ? sid : null;
}

export function deadLetterRecord(
  encoder: Encoder<DeadLetter>,
  topic: string,
  originTopic: string,
  input: DeadLetterInput,
): OutRecord {
  const { sessionId } = input;
  const whole = input.payload.length <= MAX_DEAD_LETTER_PAYLOAD_BYTES;
  const letter: DeadLetter = {
    source: 'ingest',
    code: ErrorKinds.INVALID_EVENT.code,
    reason:
      `${input.rejection.code}: ${input.rejection.reason}` +
      (whole
        ? ''
        : ` (payload cut to its first ${MAX_DEAD_LETTER_PAYLOAD_BYTES} of ${input.payload.length} bytes)`),
    path: input.rejection.path,
    failedAt: input.failedAt,
    payload: whole ? input.payload : input.payload.subarray(0, MAX_DEAD_LETTER_PAYLOAD_BYTES),
    sessionId,
    originTopic,
    originPartition: null,
    originOffset: null,
    batchIndex: input.index,
    ingestKeyId: input.ingestKeyId,
  };
  return { topic, key: sessionId, value: encoder.encode(letter) };
}
