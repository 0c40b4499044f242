/**
 * The one place that defines playloop's error kinds.
 *
 * Every error carries a stable `code`, an HTTP status where it can reach a client, and a
 * `retriable` flag that is always stated, never inferred (kafkajs `src/errors.js` infers
 * nothing either; fastify `lib/errors.js` keeps codes in one file). Callers decide what to
 * do from `code` and `retriable`, never by matching an error's name or message.
 */

export interface ErrorKind {
  readonly code: string;
  readonly httpStatus: number;
  readonly retriable: boolean;
  readonly summary: string;
}

function kind(code: string, httpStatus: number, retriable: boolean, summary: string): ErrorKind {
  return Object.freeze({ code, httpStatus, retriable, summary });
}

export const ErrorKinds = Object.freeze({
  // Configuration and programmer errors: retrying never helps.
  CONFIG_INVALID: kind('PLAYLOOP_CONFIG_INVALID', 500, false, 'configuration is invalid'),
  USAGE: kind('PLAYLOOP_USAGE', 400, false, 'command used wrongly'),
  // Client input.
  BAD_REQUEST: kind('PLAYLOOP_BAD_REQUEST', 400, false, 'request is malformed'),
  UNAUTHORIZED: kind('PLAYLOOP_UNAUTHORIZED', 401, false, 'credentials are missing or unknown'),
  FORBIDDEN: kind('PLAYLOOP_FORBIDDEN', 403, false, 'not allowed'),
  NOT_FOUND: kind('PLAYLOOP_NOT_FOUND', 404, false, 'no such resource'),
  PAYLOAD_TOO_LARGE: kind('PLAYLOOP_PAYLOAD_TOO_LARGE', 413, false, 'body is over the size limit'),
  UNSUPPORTED_MEDIA_TYPE: kind('PLAYLOOP_UNSUPPORTED_MEDIA_TYPE', 415, false, 'content type is not accepted'),
  RATE_LIMITED: kind('PLAYLOOP_RATE_LIMITED', 429, true, 'over the rate limit'),
  INVALID_EVENT: kind('PLAYLOOP_INVALID_EVENT', 400, false, 'event does not match the contract'),
  EXPERIMENT_INVALID: kind('PLAYLOOP_EXPERIMENT_INVALID', 422, false, 'experiment definition is invalid'),
  STATS_INPUT_INVALID: kind('PLAYLOOP_STATS_INPUT_INVALID', 422, false, 'statistical input is invalid'),
  /** An event whose session summary was already emitted (processors/sessionize): dead-lettered. */
  LATE_EVENT: kind('PLAYLOOP_LATE_EVENT', 422, false, 'event arrived after its session summary was emitted'),
  NOT_PLAYABLE: kind(
    'PLAYLOOP_NOT_PLAYABLE',
    422,
    false,
    'the device can play no rendition of the title (codecs or resolution)',
  ),
  GONE: kind('PLAYLOOP_GONE', 410, false, 'the resource existed but has expired'),
  // Infrastructure: transient, worth retrying with backoff.
  OVERLOADED: kind('PLAYLOOP_OVERLOADED', 503, true, 'over an in-flight bound; try again later'),
  KAFKA_UNAVAILABLE: kind('PLAYLOOP_KAFKA_UNAVAILABLE', 503, true, 'Kafka cannot be reached'),
  REGISTRY_UNAVAILABLE: kind('PLAYLOOP_REGISTRY_UNAVAILABLE', 503, true, 'schema registry cannot be reached'),
  CLICKHOUSE_UNAVAILABLE: kind('PLAYLOOP_CLICKHOUSE_UNAVAILABLE', 503, true, 'ClickHouse cannot be reached'),
  NO_SERVING_OCA: kind('PLAYLOOP_NO_SERVING_OCA', 503, true, 'no OCA can serve the title right now'),
  UPSTREAM_FAILED: kind(
    'PLAYLOOP_UPSTREAM_FAILED',
    502,
    true,
    'an upstream server (e.g. a storage OCA) failed',
  ),
  // Contracts refused by the registry or the store: retrying the same thing fails again.
  SCHEMA_INCOMPATIBLE: kind('PLAYLOOP_SCHEMA_INCOMPATIBLE', 409, false, 'schema change is not compatible'),
  MIGRATION_FAILED: kind('PLAYLOOP_MIGRATION_FAILED', 500, false, 'a database migration failed'),
  // Media: the encoder failed or is missing; the same input fails the same way.
  MEDIA_ENCODE_FAILED: kind('PLAYLOOP_MEDIA_ENCODE_FAILED', 500, false, 'media could not be encoded'),
  // Local stack.
  STACK_FAILED: kind('PLAYLOOP_STACK_FAILED', 500, false, 'the local stack could not do what was asked'),
  INTERNAL: kind('PLAYLOOP_INTERNAL', 500, false, 'unexpected internal error'),
});

export type ErrorKindName = keyof typeof ErrorKinds;

export class PlayloopError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    kindOrName: ErrorKind | ErrorKindName,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const k = typeof kindOrName === 'string' ? ErrorKinds[kindOrName] : kindOrName;
    this.name = 'PlayloopError';
    this.code = k.code;
    this.httpStatus = k.httpStatus;
    // A kind fixes retriable; a call site may only override it explicitly (e.g. a
    // registry 4xx that is a contract refusal rather than an outage).
    this.retriable = options.retriable ?? k.retriable;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  toJSON(): { code: string; message: string; retriable: boolean; details?: Record<string, unknown> } {
    const body: { code: string; message: string; retriable: boolean; details?: Record<string, unknown> } = {
      code: this.code,
      message: this.message,
      retriable: this.retriable,
    };
    if (Object.keys(this.details).length > 0) body.details = { ...this.details };
    return body;
  }
}

export function isPlayloopError(err: unknown): err is PlayloopError {
  return err instanceof PlayloopError;
}

/**
 * Programmer errors (TypeError and kin) are never retried: the same code fails the same way.
 */
export function isProgrammerError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}

/** Whether trying again can help. Unknown errors are not retriable: the caller stops safely. */
export function isRetriable(err: unknown): boolean {
  if (isPlayloopError(err)) return err.retriable;
  if (isProgrammerError(err)) return false;
  // kafkajs marks its own errors with a boolean `retriable`; trust it when present.
  if (typeof err === 'object' && err !== null && 'retriable' in err) {
    return (err as { retriable: unknown }).retriable === true;
  }
  return false;
}

/** The message with its causes, innermost last: "inserting rows: ClickHouse refused it: ...". */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  let cause = err.cause;
  for (let depth = 0; cause !== undefined && depth < 4; depth++) {
    const text = cause instanceof Error ? cause.message : String(cause);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(': ');
}
