/**
 * One request's events through the per-event steps (validate -> enrich -> encode, after
 * the CMCD mapping for beacons), each event on its own: good events become records for the
 * events topic, bad ones become dead letters (with their raw bytes) and entries of the 202
 * answer's `rejected` list.
 */
import type { DeadLetter } from '../../schemas/generated/dead-letter.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { WireRejection } from '../client/wire.ts';
import { deadLetterRecord, sessionIdOf } from './dead-letter.ts';
import { type Encoder, encodeEvent, type OutRecord } from './encode.ts';
import { type EnrichContext, enrichEvent } from './enrich.ts';
import { chain, type Indexed, type Rejection, type Step } from './pipeline.ts';
import { type ValidateContext, validateEvent } from './validate.ts';

export interface StepsContext {
  readonly validate: ValidateContext;
  readonly enrich: EnrichContext;
  readonly eventEncoder: Encoder<PlaybackEvent>;
  readonly topics: { readonly events: string; readonly eventsDlq: string };
}

export interface DeadLetterContext {
  readonly deadLetterEncoder: Encoder<DeadLetter>;
  readonly topics: { readonly events: string; readonly eventsDlq: string };
  readonly failedAt: number;
  readonly ingestKeyId: string;
  /** The raw bytes of input `index` as received (computed only when something is refused). */
  readonly rawPayloadOf: (index: number) => Buffer;
  /** The session id of a refused input; by default its `sessionId` field when usable. */
  readonly sessionIdOf?: (index: number) => string | null;
}

export interface Processed {
  readonly records: OutRecord[];
  readonly deadLetters: OutRecord[];
  readonly rejections: Array<WireRejection & { code: Rejection['code'] }>;
}

/** validate -> enrich -> encode for one request's context. */
export function eventSteps(ctx: StepsContext): Step<Indexed<unknown>, Indexed<OutRecord>> {
  return chain(
    chain(validateEvent(ctx.validate), enrichEvent(ctx.enrich)),
    encodeEvent(ctx.eventEncoder, ctx.topics.events, ctx.validate.pathOf),
  );
}

export function processEvents<I>(
  inputs: readonly I[],
  steps: Step<Indexed<I>, Indexed<OutRecord>>,
  dlq: DeadLetterContext,
): Processed {
  const out: Processed = { records: [], deadLetters: [], rejections: [] };
  for (let index = 0; index < inputs.length; index++) {
    const value = inputs[index] as I;
    const result = steps({ index, value });
    switch (result.type) {
      case 'ok':
        out.records.push(result.value.value);
        break;
      case 'dlq': {
        const { rejection } = result;
        out.rejections.push({ index, path: rejection.path, reason: rejection.reason, code: rejection.code });
        out.deadLetters.push(
          deadLetterRecord(dlq.deadLetterEncoder, dlq.topics.eventsDlq, dlq.topics.events, {
            rejection,
            index,
            payload: dlq.rawPayloadOf(index),
            sessionId: dlq.sessionIdOf === undefined ? sessionIdOf(value) : dlq.sessionIdOf(index),
            failedAt: dlq.failedAt,
            ingestKeyId: dlq.ingestKeyId,
          }),
        );
        break;
      }
      case 'drop':
      case 'retry':
        // Per-event steps only pass or dead-letter; anything else is a programming error.
        throw new TypeError(`per-event step returned ${result.type} for input ${index}`);
    }
  }
  return out;
}
