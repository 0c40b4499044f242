/**
 * The ingest pipeline's shape: a list of small named steps, each `(input) => result`, where
 * the result says what happens next (PostHog's ingestion `nodejs/src/ingestion/framework`
 * works the same way):
 *
 * - `ok`: go on to the next step with `value`.
 * - `drop`: stop; nothing is kept. At the request level this is the 4xx answer for a body
 *   that holds no events at all (malformed JSON, wrong shape); the client is told why.
 * - `dlq`: the event is bad data; it goes to the dead-letter topic with its raw payload and
 *   the reason, and the client sees it in `rejected`.
 * - `retry`: infrastructure failed (Kafka down, over a bound); the client should send the
 *   same thing again later (503 with Retry-After).
 *
 * Bad data is a value, never an exception: steps return these results and throw only on
 * programmer errors.
 */
import type { PlayloopError } from '../../core/errors.ts';

/** Why an event was refused: a stable code (a metrics label), where, and a sentence. */
export interface Rejection {
  readonly code: RejectionCode;
  /** JSON path from the request body's root, e.g. `$.events[3].segment.bytes`. */
  readonly path: string;
  readonly reason: string;
}

/** Stable, bounded set: each is a label value of the rejected-events counter. */
export const REJECTION_CODES = [
  'not_an_object',
  'missing_field',
  'unknown_field',
  'forbidden_key',
  'invalid_type',
  'not_finite',
  'out_of_range',
  'too_long',
  'invalid_string',
  'not_in_enum',
  'kind_mismatch',
  'timestamp_out_of_range',
  'clock_skew_out_of_range',
  'cmcd_invalid',
  'encode_failed',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type StepResult<T> =
  | { readonly type: 'ok'; readonly value: T }
  | { readonly type: 'drop'; readonly error: PlayloopError }
  | { readonly type: 'dlq'; readonly rejection: Rejection }
  | { readonly type: 'retry'; readonly error: PlayloopError };

export type Step<I, O> = (input: I) => StepResult<O>;

/** An event with its index in the request, so every step can name its JSON path. */
export interface Indexed<T> {
  readonly index: number;
  readonly value: T;
}

export function ok<T>(value: T): StepResult<T> {
  return { type: 'ok', value };
}

export function drop<T>(error: PlayloopError): StepResult<T> {
  return { type: 'drop', error };
}

export function deadLetter<T>(rejection: Rejection): StepResult<T> {
  return { type: 'dlq', rejection };
}

export function retry<T>(error: PlayloopError): StepResult<T> {
  return { type: 'retry', error };
}

/**
 * Runs `input` through two steps, stopping at the first result that is not `ok`. Typed
 * composition keeps each step's input the previous step's output. (Not named `then`: a
 * module exporting `then` is a thenable, and `await import()` of it never settles.)
 */
export function chain<A, B, C>(first: Step<A, B>, second: Step<B, C>): Step<A, C> {
  return (input: A) => {
    const r = first(input);
    return r.type === 'ok' ? second(r.value) : r;
  };
}
