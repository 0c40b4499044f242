/**
 * Where the fleet's telemetry goes: an `EventSink`. Events come in batches per origin (the
 * address players of one ISP present), because ingest derives ISP, region and country from
 * the request's client address, one per request.
 *
 * - `MemorySink` keeps everything (tests, ground-truth comparisons).
 * - `ingestSink` sends through playloop's ingest client library (producers/client): a few
 *   `IngestClient`s per origin ("lanes"), each request carrying `X-Forwarded-For: <origin
 *   address>` so ingest, trusting the loopback proxy (`ingest.trustedProxies`), files the
 *   events under that ISP. `send` returns a promise while a client's queue is over its
 *   high-water mark, which is how the simulator feels backpressure.
 *
 * Why lanes: a client keeps one request in flight, so a session's events arrive in order.
 * One client per origin caps an ISP's thousands of players at one batch per round trip
 * (measured: at 5,000 players the fleet waited 14 s on it while ingest had CPU to spare).
 * Each session is hashed to one lane, so its events still go through one client, in order.
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
  /** Queue length per client past which `send` asks the simulator to wait. */
  readonly highWaterEvents?: number;
  /** Clients per origin, each with one request in flight; a session always uses the same one. */
  readonly lanesPerOrigin?: number;
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

/** FNV-1a (32 bit) over the UTF-16 code units: a cheap, stable spread of session ids. */
function laneOf(sessionId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

export class IngestSink implements EventSink {
  /** Per origin address, its lanes. */
  private readonly lanes = new Map<string, IngestClient[]>();
  private readonly highWater: number;
  private readonly lanesPerOrigin: number;

  constructor(private readonly options: IngestSinkOptions) {
    this.highWater = options.highWaterEvents ?? 20_000;
    this.lanesPerOrigin = options.lanesPerOrigin ?? 4;
    if (!Number.isInteger(this.lanesPerOrigin) || this.lanesPerOrigin < 1)
      throw new RangeError('IngestSink: lanesPerOrigin must be a whole number >= 1');
  }

  private get clients(): IngestClient[] {
    return [...this.lanes.values()].flat();
  }

  private lanesFor(origin: SinkOrigin): IngestClient[] {
    let lanes = this.lanes.get(origin.clientAddress);
    if (lanes === undefined) {
      lanes = Array.from({ length: this.lanesPerOrigin }, () => this.newClient(origin));
      this.lanes.set(origin.clientAddress, lanes);
    }
    return lanes;
  }

  private newClient(origin: SinkOrigin): IngestClient {
    const base = this.options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
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
    return new IngestClient(clientOptions);
  }

  send(origin: SinkOrigin, events: readonly WireEvent[]): void | Promise<void> {
    const lanes = this.lanesFor(origin);
    if (lanes.length === 1) {
      const only = lanes[0] as IngestClient;
      for (const e of events) only.track(e);
    } else {
      for (const e of events) (lanes[laneOf(e.sessionId, lanes.length)] as IngestClient).track(e);
    }
    const full = lanes.filter((c) => c.pending > this.highWater);
    if (full.length > 0) return Promise.all(full.map((c) => c.flush().then(noop, noop))).then(noop);
  }

  async flush(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.flush().then(noop, noop)));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().then(noop, noop)));
  }

  stats(): IngestSinkStats {
    const s: IngestSinkStats = { accepted: 0, rejected: 0, givenUp: 0, requests: 0, pending: 0 };
    for (const c of this.clients) {
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
