/**
 * Step 4 (per event): the enriched event into a Kafka record, Avro in the Confluent wire
 * format through the registry's codec, keyed by sessionId so one session's events stay in
 * order on one partition. Validation already guarantees the value fits the schema; if the
 * encoder still refuses it (a contract and validator out of step), the event is
 * dead-lettered rather than lost.
 */
import { errorMessage, isPlayloopError } from '../../core/errors.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { deadLetter, type Indexed, ok, type Step } from './pipeline.ts';

/** What the pipeline needs from a codec; infra/registry.ts AvroCodec is one. */
export interface Encoder<T> {
  encode(value: T): Buffer;
}

export interface OutRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer;
}

export function encodeEvent(
  encoder: Encoder<PlaybackEvent>,
  topic: string,
  pathOf: (index: number) => string,
): Step<Indexed<PlaybackEvent>, Indexed<OutRecord>> {
  return ({ index, value: event }) => {
    try {
      return ok({ index, value: { topic, key: event.sessionId, value: encoder.encode(event) } });
    } catch (err) {
      if (!isPlayloopError(err) || err.code !== 'PLAYLOOP_INVALID_EVENT') throw err;
      const at =
        typeof err.details['path'] === 'string' && err.details['path'] !== ''
          ? `.${err.details['path']}`
          : '';
      return deadLetter({ code: 'encode_failed', path: `${pathOf(index)}${at}`, reason: errorMessage(err) });
    }
  };
}
