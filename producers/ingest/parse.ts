/**
 * Step 1 (request level): the raw body into a batch `{ events: [...], sentAt? }`.
 *
 * Anything wrong here concerns the whole request (400, or 413 for too many events) and no
 * event is kept: there are no events to dead-letter until the body is a batch. Each event
 * is left as `unknown`; the validate step judges it on its own.
 */
import { isUtf8 } from 'node:buffer';
import { PlayloopError } from '../../core/errors.ts';
import { drop, ok, type Step } from './pipeline.ts';

export interface ParsedBatch {
  readonly events: readonly unknown[];
  /** The player's clock when it sent the batch (epoch ms), when it said. */
  readonly sentAt: number | null;
}

export interface ParseLimits {
  readonly maxEventsPerBatch: number;
}

const BATCH_KEYS = new Set(['events', 'sentAt']);

function badRequest(message: string, path?: string): PlayloopError {
  return new PlayloopError('BAD_REQUEST', message, path === undefined ? {} : { details: { path } });
}

export function parseBatch(limits: ParseLimits): Step<Buffer, ParsedBatch> {
  return (body) => {
    if (body.length === 0) return drop(badRequest('body is required: { "events": [ ... ] }'));
    // JSON text must be UTF-8 (RFC 8259 §8.1); a lenient decode would replace bad bytes with
    // U+FFFD and store something the player never sent.
    if (!isUtf8(body)) return drop(badRequest('body is not valid UTF-8 (RFC 8259 §8.1 requires it)'));
    let parsed: unknown;
    try {
      // JSON.parse defines "__proto__" as an own property, never as the prototype, and the
      // validate step builds fresh objects, so a hostile key cannot pollute anything.
      // RFC 8259 §8.1 lets a parser ignore a byte-order mark; JSON.parse would choke on it.
      const bom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
      parsed = JSON.parse(body.toString('utf8', bom));
    } catch (err) {
      const why = err instanceof Error ? err.message.slice(0, 200) : 'unparseable';
      return drop(badRequest(`body is not valid JSON: ${why}`));
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return drop(badRequest('body must be a JSON object: { "events": [ ... ] }', '$'));
    }
    const batch = parsed as Record<string, unknown>;
    for (const key of Object.keys(batch)) {
      if (!BATCH_KEYS.has(key)) {
        return drop(
          badRequest(
            `${pathOfKey(key)} is not allowed: a batch holds only "events" and "sentAt"`,
            pathOfKey(key),
          ),
        );
      }
    }
    const events = batch['events'];
    if (!Array.isArray(events)) {
      return drop(
        badRequest(
          events === undefined ? '$.events is missing' : '$.events must be an array of events',
          '$.events',
        ),
      );
    }
    if (events.length > limits.maxEventsPerBatch) {
      return drop(
        new PlayloopError(
          'PAYLOAD_TOO_LARGE',
          `batch has ${events.length} events; at most ${limits.maxEventsPerBatch} are accepted in one request`,
          { details: { path: '$.events' } },
        ),
      );
    }
    const sentAt = batch['sentAt'];
    if (
      sentAt !== undefined &&
      sentAt !== null &&
      !(Number.isSafeInteger(sentAt) && (sentAt as number) >= 0)
    ) {
      return drop(
        badRequest('$.sentAt must be the send time as an integer of epoch milliseconds', '$.sentAt'),
      );
    }
    return ok({ events, sentAt: typeof sentAt === 'number' ? sentAt : null });
  };
}

const MAX_KEY_IN_PATH = 64;

/**
 * `$.name` for plain identifiers, `$["odd key"]` otherwise (JSONPath, RFC 9535 §2.5.1). A
 * hostile key can be a megabyte long: paths show at most its first 64 characters.
 */
export function pathOfKey(key: string, parent = '$'): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) && key.length <= MAX_KEY_IN_PATH) return `${parent}.${key}`;
  const shown = key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key;
  return `${parent}[${JSON.stringify(shown)}]`;
}
