/**
 * Where the fleet's telemetry goes: an `EventSink`. Events come in batches per origin (the
 * address players of one ISP present), because ingest derives ISP, region and country from
 * the request's client address, one per request.
 *
 * - `MemorySink` keeps everything (tests, ground-truth comparisons).
 * - `ingestSink` sends through playloop's ingest client library (producers/client): one
 *   `IngestClient` per origin, each request carrying `X-Forwarded-For: <origin address>` so
 *   ingest, trusting the loopback proxy (`ingest.trustedProxies`), files the events under
 *   that ISP. `send` returns a promise while a client's queue is over its high-water mark,
 *   which is how the simulator feels backpressure.
 */
import { IngestClient, type IngestClientOptions, type IngestGiveUpError } from '../client/index.ts';
import type { WireEvent } from '../client/wire.ts';

export interface SinkOrigin {
  readonly isp: string;
  /** The client address ingest should see (X-Forwarded-For). */
  readonly clientAddress: string;
}

export interface EventSink {
  /** Hands over a batch from one origin; a returned promise asks the caller to wait. */
  send(origin: SinkOrigin, events: readonly WireEvent[]): void | Promise<void>;
  /** Delivers everything handed over so far. */
  flush(): Promise<void>;
}

export class MemorySink implements EventSink {
  readonly events: WireEvent[] = [];
  readonly origins: SinkOrigin[] = [];
  private readonly originOf = new Map<string, SinkOrigin>();

  send(origin: SinkOrigin, events: readonly WireEvent[]): void {
    for (const e of events) {
      this.events.push(e);
      this.originOf.set(e.sessionId, origin);
    }
    if (!this.origins.some((o) => o.clientAddress === origin.clientAddress)) this.origins.push(origin);
  }

  async flush(): Promise<void> {}

  /** The origin a session's events were sent from. */
  origin(sessionId: string): SinkOrigin | undefined {
    return this.originOf.get(sessionId);
  }
}

export interface IngestSinkOptions {
  /** Ingest base URL, e.g. http://127.0.0.1:7070. */
  readonly endpoint: string;
  readonly key: string;
  /** Events per POST; ingest accepts up to its maxEventsPerBatch (500 by default). */
  readonly maxBatchEvents?: number;
  readonly flushIntervalMs?: number;
  /** Queue length per origin past which `send` asks the simulator to wait. */
  readonly highWaterEvents?: number;
  readonly maxQueueEvents?: number;
  readonly fetch?: typeof fetch;
  /** The client's clock for `sentAt` (the wall clock by default). */
  readonly now?: () => number;
  readonly onGiveUp?: (error: IngestGiveUpError, events: readonly WireEvent[]) => void;
}

export interface IngestSinkStats {
  accepted: number;
  rejected: number;
  givenUp: number;
  requests: number;
  pending: number;
}

export class IngestSink implements EventSink {
  private readonly clients = new Map<string, IngestClient>();
  private readonly highWater: number;

  constructor(private readonly options: IngestSinkOptions) {
    this.highWater = options.highWaterEvents ?? 20_000;
  }

  private clientFor(origin: SinkOrigin): IngestClient {
    let client = this.clients.get(origin.clientAddress);
    if (client === undefined) {
      const base =
        this.options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
      const forwarded: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('x-forwarded-for', origin.clientAddress);
        return base(input, { ...init, headers });
      };
      const o = this.options;
      const clientOptions: IngestClientOptions = {
        endpoint: o.endpoint,
        key: o.key,
        maxBatchEvents: o.maxBatchEvents ?? 500,
        flushIntervalMs: o.flushIntervalMs ?? 1_000,
        maxQueueEvents: o.maxQueueEvents ?? 200_000,
        keepalive: false,
        fetch: forwarded,
        ...(o.now === undefined ? {} : { now: o.now }),
        ...(o.onGiveUp === undefined ? {} : { onGiveUp: o.onGiveUp }),
      };
      client = new IngestClient(clientOptions);
      this.clients.set(origin.clientAddress, client);
    }
    return client;
  }

  send(origin: SinkOrigin, events: readonly WireEvent[]): void | Promise<void> {
    const client = this.clientFor(origin);
    for (const e of events) client.track(e);
    if (client.pending > this.highWater) return client.flush().then(noop, noop);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.flush().then(noop, noop)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close().then(noop, noop)));
  }

  stats(): IngestSinkStats {
    const s: IngestSinkStats = { accepted: 0, rejected: 0, givenUp: 0, requests: 0, pending: 0 };
    for (const c of this.clients.values()) {
      s.accepted += c.stats.accepted;
      s.rejected += c.stats.rejected;
      s.givenUp += c.stats.givenUp;
      s.requests += c.stats.requests;
      s.pending += c.pending;
    }
    return s;
  }
}

function noop(): void {}
