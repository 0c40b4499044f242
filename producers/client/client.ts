/**
 * The player-side ingest client: batches events, flushes on size and on time, retries 429,
 * 503 and network failures with full-jitter exponential backoff (honouring Retry-After),
 * and gives up loudly: every event it cannot deliver reaches `onGiveUp` (console.error by
 * default) and makes an explicit `flush()` reject.
 *
 * Runs in browsers and Node alike: `fetch`, `AbortController`, `setTimeout` and nothing
 * Node-only (a unit test checks the import graph). One request is in flight at a time, so
 * a session's events arrive in the order they were tracked.
 *
 * Delivery is at least once: a request that timed out may still have been stored, and its
 * retry stores it again; consumers drop duplicates by (sessionId, seq).
 */
import { type BackoffPolicy, backoffDelayMs } from '../../core/retry.ts';
import type { WireAccepted, WireError, WireEvent, WireRejection } from './wire.ts';

export interface IngestClientOptions {
  /** The ingest base URL, e.g. http://127.0.0.1:7070 (the client posts to /v1/events). */
  readonly endpoint: string;
  /** An ingest key, sent as `Authorization: Bearer <key>`. */
  readonly key: string;
  /** A batch is sent once it holds this many events. */
  readonly maxBatchEvents?: number;
  /** ... or this many bytes of JSON; keep it under the server's maxBodyBytes (1 MiB). */
  readonly maxBatchBytes?: number;
  /** ... or when its oldest event has waited this long. */
  readonly flushIntervalMs?: number;
  /** Events held while the server is unreachable; past it new events are given up. */
  readonly maxQueueEvents?: number;
  readonly retry?: Partial<BackoffPolicy>;
  /** One attempt is abandoned (and retried) after this long. */
  readonly requestTimeoutMs?: number;
  /** fetch's keepalive for small bodies, so a batch sent while a page unloads still goes. */
  readonly keepalive?: boolean;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Events the server refused (they are in its dead-letter topic); not retried. */
  readonly onRejected?: (rejections: WireRejection[], events: readonly WireEvent[]) => void;
  /** Events this client will never deliver, and why. Defaults to console.error. */
  readonly onGiveUp?: (error: IngestGiveUpError, events: readonly WireEvent[]) => void;
}

export type GiveUpReason = 'retries_exhausted' | 'refused' | 'too_large' | 'queue_full' | 'closed';

/** Thrown by `flush()` / `close()` and handed to `onGiveUp`: these events are lost. */
export class IngestGiveUpError extends Error {
  constructor(
    readonly reason: GiveUpReason,
    message: string,
    readonly events: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'IngestGiveUpError';
  }
}

export interface FlushResult {
  accepted: number;
  rejected: number;
  givenUp: number;
}

export interface ClientStats {
  /** Accepted by the server, i.e. acknowledged by Kafka. */
  accepted: number;
  /** Refused by the server's validation (dead-lettered there). */
  rejected: number;
  /** Never delivered: retries exhausted, refused request, queue full, too large. */
  givenUp: number;
  /** Attempts that were retried. */
  retries: number;
  requests: number;
}

export const DEFAULT_CLIENT_RETRY: BackoffPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  multiplier: 2,
  maxAttempts: 8,
});

interface DrainResult extends FlushResult {
  errors: IngestGiveUpError[];
}

interface Queued {
  readonly event: WireEvent;
  readonly json: string;
  readonly bytes: number;
}

/** UTF-8 length of a string without TextEncoder allocations. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const BATCH_OVERHEAD_BYTES = 64;

function retriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The wait before retry `attempt + 1`: full-jitter exponential backoff (Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog 2015), but never sooner than the server's
 * Retry-After.
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs: number | undefined,
): number {
  return Math.max(backoffDelayMs(attempt, policy, random), retryAfterMs ?? 0);
}

export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  // RFC 9110 §10.2.3: delay-seconds or an HTTP-date.
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class IngestClient {
  readonly stats: ClientStats = { accepted: 0, rejected: 0, givenUp: 0, retries: 0, requests: 0 };
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<DrainResult> | undefined;
  private closed = false;
  private readonly url: string;
  private readonly maxBatchEvents: number;
  private readonly maxBatchBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueEvents: number;
  private readonly retry: BackoffPolicy;
  private readonly requestTimeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: IngestClientOptions) {
    this.url = `${options.endpoint.replace(/\/+$/, '')}/v1/events`;
    this.maxBatchEvents = options.maxBatchEvents ?? 100;
    this.maxBatchBytes = options.maxBatchBytes ?? 512 * 1_024;
    this.flushIntervalMs = options.flushIntervalMs ?? 2_000;
    this.maxQueueEvents = options.maxQueueEvents ?? 10_000;
    this.retry = { ...DEFAULT_CLIENT_RETRY, ...options.retry };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    if (this.maxBatchEvents < 1 || this.maxBatchBytes < 1_024 || this.maxQueueEvents < this.maxBatchEvents) {
      throw new RangeError(
        'IngestClient: maxBatchEvents must be >= 1, maxBatchBytes >= 1024 and maxQueueEvents >= maxBatchEvents',
      );
    }
  }

  /** Queues one event; sends when a batch is full, or after flushIntervalMs. */
  track(event: WireEvent): void {
    if (this.closed) {
      this.giveUp(new IngestGiveUpError('closed', 'the client is closed; event not sent', 1), [event]);
      return;
    }
    // Serialised now: later changes to the object by the caller do not change what is sent.
    const json = JSON.stringify(event);
    const bytes = utf8Length(json) + 1;
    if (bytes + BATCH_OVERHEAD_BYTES > this.maxBatchBytes) {
      this.giveUp(
        new IngestGiveUpError(
          'too_large',
          `one event is ${bytes} bytes; a batch holds at most ${this.maxBatchBytes}`,
          1,
        ),
        [event],
      );
      return;
    }
    if (this.queue.length >= this.maxQueueEvents) {
      this.giveUp(
        new IngestGiveUpError(
          'queue_full',
          `${this.queue.length} events wait for the server already; event not kept`,
          1,
        ),
        [event],
      );
      return;
    }
    this.queue.push({ event, json, bytes });
    this.queuedBytes += bytes;
    if (
      this.queue.length >= this.maxBatchEvents ||
      this.queuedBytes + BATCH_OVERHEAD_BYTES >= this.maxBatchBytes
    ) {
      void this.kick();
    } else if (this.timer === undefined && this.running === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.kick();
      }, this.flushIntervalMs);
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Sends everything queued, now. Resolves with what happened; rejects with an
   * IngestGiveUpError when any of it was given up (after `onGiveUp` was told).
   */
  async flush(): Promise<FlushResult> {
    const total: FlushResult = { accepted: 0, rejected: 0, givenUp: 0 };
    let firstError: IngestGiveUpError | undefined;
    // A running drain may have started before the latest events were queued: go on until
    // the queue is empty.
    do {
      const r = await this.kick();
      total.accepted += r.accepted;
      total.rejected += r.rejected;
      total.givenUp += r.givenUp;
      firstError ??= r.errors[0];
    } while (this.queue.length > 0);
    if (firstError !== undefined) throw firstError;
    return total;
  }

  /** Flushes and stops; later `track()` calls are given up. */
  async close(): Promise<FlushResult> {
    this.closed = true;
    return this.flush();
  }

  /** Starts a drain unless one runs; never rejects (give-ups are reported, not thrown). */
  private kick(): Promise<DrainResult> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      // Events tracked during the last request and not yet due: arm the timer for them.
      if (this.queue.length > 0 && this.timer === undefined && !this.closed) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.kick();
        }, this.flushIntervalMs);
      }
    });
    return this.running;
  }

  private async drain(): Promise<DrainResult> {
    const result: DrainResult = { accepted: 0, rejected: 0, givenUp: 0, errors: [] };
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const outcome = await this.sendWithRetry(batch);
      if (outcome instanceof IngestGiveUpError) {
        result.givenUp += batch.length;
        result.errors.push(outcome);
        this.giveUp(
          outcome,
          batch.map((q) => q.event),
        );
      } else {
        result.accepted += outcome.accepted;
        result.rejected += outcome.rejected.length;
        this.stats.accepted += outcome.accepted;
        this.stats.rejected += outcome.rejected.length;
        if (outcome.rejected.length > 0) {
          this.options.onRejected?.(
            outcome.rejected,
            batch.map((q) => q.event),
          );
        }
      }
    }
    return result;
  }

  private takeBatch(): Queued[] {
    let bytes = BATCH_OVERHEAD_BYTES;
    let n = 0;
    while (n < this.queue.length && n < this.maxBatchEvents) {
      const next = this.queue[n] as Queued;
      if (n > 0 && bytes + next.bytes > this.maxBatchBytes) break;
      bytes += next.bytes;
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedBytes -= bytes - BATCH_OVERHEAD_BYTES;
    return batch;
  }

  private async sendWithRetry(batch: readonly Queued[]): Promise<WireAccepted | IngestGiveUpError> {
    const events = batch.map((q) => q.json).join(',');
    let lastProblem = '';
    for (let attempt = 0; attempt < this.retry.maxAttempts; attempt++) {
      if (attempt > 0) this.stats.retries++;
      const sentAt = this.now();
      const body = `{"sentAt":${sentAt},"events":[${events}]}`;
      const outcome = await this.attempt(body);
      if (outcome.kind === 'accepted') return outcome.body;
      if (outcome.kind === 'refused') {
        return new IngestGiveUpError(
          outcome.status === 413 ? 'too_large' : 'refused',
          `ingest refused the batch (${outcome.status}): ${outcome.message}`,
          batch.length,
          outcome.status,
        );
      }
      lastProblem = outcome.message;
      if (attempt + 1 < this.retry.maxAttempts) {
        const delay = retryDelayMs(attempt, this.retry, this.random, outcome.retryAfterMs);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return new IngestGiveUpError(
      'retries_exhausted',
      `gave up after ${this.retry.maxAttempts} attempts: ${lastProblem}`,
      batch.length,
    );
  }

  private async attempt(
    body: string,
  ): Promise<
    | { kind: 'accepted'; body: WireAccepted }
    | { kind: 'refused'; status: number; message: string }
    | { kind: 'retry'; message: string; retryAfterMs?: number }
  > {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.requestTimeoutMs);
    this.stats.requests++;
    try {
      const res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.key}` },
        body,
        signal: abort.signal,
        // Browsers cap keepalive bodies at 64 KiB in total; larger ones go without it.
        keepalive: (this.options.keepalive ?? true) && body.length < 60_000,
      });
      const text = await res.text();
      if (res.status === 202) return { kind: 'accepted', body: JSON.parse(text) as WireAccepted };
      const message = errorMessageOf(text, res.status);
      if (retriableStatus(res.status)) {
        const after = retryAfterMs(res.headers.get('retry-after'), this.now());
        return after === undefined
          ? { kind: 'retry', message: `${res.status} ${message}` }
          : { kind: 'retry', message: `${res.status} ${message}`, retryAfterMs: after };
      }
      return { kind: 'refused', status: res.status, message };
    } catch (err) {
      // Network failure, reset connection, timeout: the request may or may not have landed.
      const message = abort.signal.aborted
        ? `no answer within ${this.requestTimeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
      return { kind: 'retry', message: `network: ${message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  private giveUp(error: IngestGiveUpError, events: readonly WireEvent[]): void {
    this.stats.givenUp += events.length;
    if (this.options.onGiveUp !== undefined) this.options.onGiveUp(error, events);
    else console.error(`playloop ingest client: ${events.length} event(s) lost: ${error.message}`);
  }
}

function errorMessageOf(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as Partial<WireError>;
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error.message;
  } catch {
    // Not our JSON error body (a proxy's page, say): show its start.
  }
  return text.slice(0, 200) || `HTTP ${status}`;
}
