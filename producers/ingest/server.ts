/**
 * The ingest HTTP server: `POST /v1/events` (JSON batches from players), `/v1/cmcd` (CMCD
 * beacons), `/healthz`, `/readyz` and `/metrics`.
 *
 * A request goes: auth (401) -> draining / Kafka down / in-flight bound (503) -> body read
 * (415, 413) -> parse (400, 413) -> rate limit (429) -> per-event steps -> one coalesced
 * Kafka send -> 202. The 202 is sent only after Kafka acknowledged every record of the
 * request with acks=-1 (all in-sync replicas), valid events and dead letters alike: a 202
 * means nothing of that batch can be lost any more. A 503 means nothing of it was
 * accepted for sure (some records may have been written: the client retries, and the
 * (sessionId, seq) pair lets consumers drop the duplicates: at least once).
 */
import fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { DeadLetter } from '../../schemas/generated/dead-letter.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { WireAccepted, WireError } from '../client/wire.ts';
import { createIngestKeys } from './auth.ts';
import { ProduceBatcher } from './batcher.ts';
import { estimateClockSkewMs } from './clock-skew.ts';
import { CMCD_HEADERS, type CmcdBeacon, cmcdSessionId, cmcdToEvent } from './cmcd.ts';
import type { Encoder } from './encode.ts';
import { InFlightBytes } from './in-flight.ts';
import { createTableLookup, type IpLookup } from './ip-lookup.ts';
import type { RecordSink } from './kafka-sink.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { parseBatch } from './parse.ts';
import { chain } from './pipeline.ts';
import { eventSteps, type Processed, processEvents, type StepsContext } from './process-events.ts';
import { RateLimiter } from './rate-limit.ts';
import { eventSpans, type Span } from './raw-spans.ts';
import type { ClockBounds } from './validate.ts';

export interface IngestServerSettings {
  readonly keys: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxEventsPerBatch: number;
  readonly rateLimit: { readonly eventsPerSecond: number; readonly burstEvents: number };
  readonly maxInFlightBytes: number;
  readonly retryAfterSeconds: number;
  readonly clock: ClockBounds;
  readonly produce: { readonly maxBatchBytes: number; readonly maxBatchRecords: number };
  readonly trustedProxies: readonly string[];
}

export interface IngestDeps {
  /** config.ingest, or any object with the same settings. */
  readonly settings: IngestServerSettings;
  readonly topics: { readonly events: string; readonly eventsDlq: string };
  readonly eventEncoder: Encoder<PlaybackEvent>;
  readonly deadLetterEncoder: Encoder<DeadLetter>;
  readonly sink: RecordSink;
  readonly log: Logger;
  readonly ipLookup?: IpLookup;
  readonly now?: () => number;
  /** Builds metrics on a registry of this server's own; pass one to share it. */
  readonly metrics?: IngestMetrics;
}

export interface IngestServer {
  readonly app: FastifyInstance;
  readonly metrics: IngestMetrics;
  readonly inFlight: InFlightBytes;
  readonly batcher: ProduceBatcher;
}

const BEARER_CHALLENGE = 'Bearer realm="playloop-ingest"';

function errorBody(err: PlayloopError): WireError {
  return { error: { code: err.code, message: err.message, retriable: err.retriable } };
}

/** Builds the server (not listening). `app.close()` drains: it waits for accepted work. */
export function buildIngestServer(deps: IngestDeps): IngestServer {
  const { settings, topics, log } = deps;
  const now = deps.now ?? Date.now;
  const ipLookup = deps.ipLookup ?? createTableLookup();
  const keys = createIngestKeys(settings.keys);
  const limiter = new RateLimiter(settings.rateLimit, now);
  const inFlight = new InFlightBytes(settings.maxInFlightBytes);
  const metrics =
    deps.metrics ??
    createIngestMetrics({ inFlightBytes: () => inFlight.bytes, kafkaUp: () => deps.sink.available });
  const batcher = new ProduceBatcher(
    async (records) => {
      const started = performance.now();
      await deps.sink.send(records);
      metrics.produceLatency.observe((performance.now() - started) / 1_000);
    },
    settings.produce.maxBatchBytes,
    settings.produce.maxBatchRecords,
  );
  const parse = parseBatch({ maxEventsPerBatch: settings.maxEventsPerBatch });
  const keyIds = new WeakMap<FastifyRequest, string>();
  let draining = false;

  const logger: FastifyBaseLogger = log;
  const app: FastifyInstance = fastify({
    loggerInstance: logger,
    // One log line per request would cost more than the request at 1,000 requests/s.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.maxBodyBytes,
    trustProxy: settings.trustedProxies.length > 0 ? [...settings.trustedProxies] : false,
    // Fastify's own closing answer has no Retry-After; the drain check below gives one.
    return503OnClosing: false,
  });

  function send(reply: FastifyReply, err: PlayloopError, retryAfterSeconds?: number): FastifyReply {
    if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
    if (err.httpStatus === 401) void reply.header('www-authenticate', BEARER_CHALLENGE);
    return reply.code(err.httpStatus).send(errorBody(err));
  }

  const unavailable = (reply: FastifyReply, err: PlayloopError): FastifyReply =>
    send(reply, err, settings.retryAfterSeconds);

  // Everything before the body is read: wrong key, draining, Kafka down, no room.
  async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const keyId = keys.identify(request.headers.authorization);
    if (keyId === undefined) {
      send(
        reply,
        new PlayloopError('UNAUTHORIZED', 'missing or unknown ingest key: send Authorization: Bearer <key>'),
      );
      return reply;
    }
    keyIds.set(request, keyId);
    if (draining) {
      void reply.header('connection', 'close');
      unavailable(
        reply,
        new PlayloopError('OVERLOADED', 'ingest is shutting down; send to another instance or retry'),
      );
      return reply;
    }
    if (!deps.sink.available) {
      unavailable(reply, new PlayloopError('KAFKA_UNAVAILABLE', 'Kafka cannot be reached; retry later'));
      return reply;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared <= settings.maxBodyBytes && !inFlight.fits(declared)) {
      unavailable(
        reply,
        new PlayloopError('OVERLOADED', 'ingest holds as many bytes as it may; retry later'),
      );
      return reply;
    }
  }

  // Bodies stay raw bytes: parse needs them to check UTF-8, and dead letters keep them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  // Browsers (the hls.js page) send with fetch from another origin: answer the preflight.
  // Hooks in callback style: an async hook costs a promise per request on the hot path.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/v1/')) {
      void reply.header('access-control-allow-origin', '*');
      void reply.header('access-control-expose-headers', 'retry-after');
    }
    done(null, payload);
  });
  for (const url of ['/v1/events', '/v1/cmcd']) {
    app.options(url, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST, GET, OPTIONS')
        .header(
          'access-control-allow-headers',
          'authorization, content-type, cmcd-object, cmcd-request, cmcd-session, cmcd-status',
        )
        .header('access-control-max-age', '600')
        .send(),
    );
  }

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    done();
  });

  app.setErrorHandler(async (err: unknown, request, reply) => {
    // Fastify's own client errors (413 body too large, 415 media type, 400 bad length)
    // carry a 4xx statusCode; anything else is ours and must not reach a client as a 4xx.
    const status =
      typeof err === 'object' && err !== null && 'statusCode' in err
        ? Number((err as { statusCode: unknown }).statusCode)
        : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (status === 413)
      return send(
        reply,
        new PlayloopError('PAYLOAD_TOO_LARGE', `body is over ${settings.maxBodyBytes} bytes`),
      );
    if (status === 415) {
      return send(
        reply,
        new PlayloopError(
          'UNSUPPORTED_MEDIA_TYPE',
          `content type "${request.headers['content-type'] ?? ''}" is not accepted; send application/json`,
        ),
      );
    }
    if (status >= 400 && status < 500) return send(reply, new PlayloopError('BAD_REQUEST', message));
    log.error({ err }, 'ingest: unexpected error');
    return send(reply, new PlayloopError('INTERNAL', 'unexpected internal error'));
  });

  /** Produce, then answer: shared by batches and beacons. `heldBytes` is released here. */
  async function accept(reply: FastifyReply, processed: Processed, heldBytes: number): Promise<FastifyReply> {
    try {
      await batcher.submit(processed.records.concat(processed.deadLetters));
    } catch (err) {
      const e =
        err instanceof PlayloopError
          ? err
          : new PlayloopError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the records', { cause: err });
      return unavailable(reply, e);
    } finally {
      inFlight.release(heldBytes);
    }
    metrics.accepted.inc(processed.records.length);
    metrics.deadLettered.inc(processed.deadLetters.length);
    for (const r of processed.rejections) metrics.rejected.inc({ reason: r.code });
    const body: WireAccepted = { accepted: processed.records.length, rejected: processed.rejections };
    return reply.code(202).send(body);
  }

  /** Holds `bytes` and charges `events` to the key; answers 503 or 429 when either fails. */
  function admit(request: FastifyRequest, reply: FastifyReply, bytes: number, events: number): boolean {
    if (!inFlight.tryReserve(bytes)) {
      unavailable(
        reply,
        new PlayloopError('OVERLOADED', 'ingest holds as many bytes as it may; retry later'),
      );
      return false;
    }
    const rate = limiter.take(keyIds.get(request) as string, events);
    if (!rate.allowed) {
      inFlight.release(bytes);
      const err = new PlayloopError(
        'RATE_LIMITED',
        `over ${settings.rateLimit.eventsPerSecond} events/s (burst ${settings.rateLimit.burstEvents}) for this key`,
      );
      send(reply, err, rate.retryAfterSeconds);
      return false;
    }
    return true;
  }

  function contexts(
    request: FastifyRequest,
    receivedAt: number,
    clockSkewMs: number,
    pathOf: (i: number) => string,
  ) {
    const ua = request.headers['user-agent'];
    const ingestKeyId = keyIds.get(request) as string;
    const steps: StepsContext = {
      validate: {
        receivedAt,
        clockSkewMs,
        clock: settings.clock,
        pathOf,
        allowUnsequenced: pathOf(0) === '$',
      },
      enrich: {
        receivedAt,
        clockSkewMs,
        userAgent: typeof ua === 'string' ? ua : null,
        ip: ipLookup.lookup(request.ip),
        ingestKeyId,
      },
      eventEncoder: deps.eventEncoder,
      topics,
    };
    return { steps, ingestKeyId };
  }

  app.post('/v1/events', { onRequest: guard }, async (request, reply) => {
    const receivedAt = now();
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      return send(
        reply,
        new PlayloopError('BAD_REQUEST', 'body is required: { "events": [ ... ] } as application/json'),
      );
    }
    const parsed = parse(body);
    if (parsed.type !== 'ok') {
      if (parsed.type === 'drop') return send(reply, parsed.error);
      throw new TypeError(`parse returned ${parsed.type}`);
    }
    const { events, sentAt } = parsed.value;
    if (!admit(request, reply, body.length, events.length)) return reply;
    let processed: Processed;
    try {
      const clockSkewMs = estimateClockSkewMs(sentAt, receivedAt);
      const { steps, ingestKeyId } = contexts(request, receivedAt, clockSkewMs, (i) => `$.events[${i}]`);
      let spans: Span[] | undefined | null = null;
      processed = processEvents(events, eventSteps(steps), {
        deadLetterEncoder: deps.deadLetterEncoder,
        topics,
        failedAt: receivedAt,
        ingestKeyId,
        rawPayloadOf: (i) => {
          spans ??= eventSpans(body);
          const span = spans?.[i];
          // The scanner finds every span of a body JSON.parse accepted; the fallback is
          // only there so a scanner bug costs fidelity, not the event.
          return span === undefined
            ? Buffer.from(JSON.stringify(events[i]) ?? 'null')
            : body.subarray(span[0], span[1]);
        },
      });
    } catch (err) {
      inFlight.release(body.length);
      throw err;
    }
    return accept(reply, processed, body.length);
  });

  async function beacon(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const receivedAt = now();
    const query = (request.query ?? {}) as Record<string, unknown>;
    const input: CmcdBeacon = { query, headers: request.headers, receivedAt };
    // The dead letter's payload: the beacon's CMCD exactly as it came, query and headers.
    const raw = Buffer.from(
      JSON.stringify({
        query,
        headers: Object.fromEntries(
          CMCD_HEADERS.flatMap((h) => (request.headers[h] === undefined ? [] : [[h, request.headers[h]]])),
        ),
      }),
    );
    if (!admit(request, reply, raw.length, 1)) return reply;
    let processed: Processed;
    try {
      const { steps, ingestKeyId } = contexts(request, receivedAt, 0, () => '$');
      processed = processEvents([input], chain(cmcdToEvent, eventSteps(steps)), {
        deadLetterEncoder: deps.deadLetterEncoder,
        topics,
        failedAt: receivedAt,
        ingestKeyId,
        rawPayloadOf: () => raw,
        sessionIdOf: () => cmcdSessionId(input),
      });
    } catch (err) {
      inFlight.release(raw.length);
      throw err;
    }
    return accept(reply, processed, raw.length);
  }

  // Beacons carry their data in the URL and headers; a body, if any, is not read.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => {
      payload.resume();
      payload.on('end', () => done(null, undefined));
      payload.on('error', (err) => done(err, undefined));
    });
    scope.get('/v1/cmcd', { onRequest: guard }, beacon);
    scope.post('/v1/cmcd', { onRequest: guard }, beacon);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = !draining && deps.sink.available;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      kafka: deps.sink.available ? 'up' : 'down',
      draining,
    });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onClose', async () => {
    // Requests in flight hold their promises until Kafka acks; close waits for them, and
    // this waits for any send still going.
    await batcher.drain();
  });

  return { app, metrics, inFlight, batcher };
}
