/**
 * The control plane's HTTP server:
 *
 *   POST /v1/tokens                        {viewerId} -> a viewer token (development issuance)
 *   POST /v1/playback/:titleId             device capabilities + network hints -> playback plan
 *   GET  /v1/sessions/:sessionId/master.m3u8?st=...   the session's steered multivariant playlist
 *   GET  /v1/steering/:sessionId?st=...    the session's Content Steering manifest (hls.js polls it)
 *   GET  /admin/steering/sessions/:sessionId          last steering telemetry of a session
 *   GET  /healthz, /readyz, /metrics
 *
 * Errors are `{ "error": { code, message, retriable, details? } }` with the status of their
 * kind (core/errors.ts): 400 for a malformed body (every bad field named), 401 for a missing,
 * bad or expired viewer token (with an RFC 6750 WWW-Authenticate challenge), 404 for an
 * unknown title, 415/413 for the wrong content type or an oversized body, 422 when the device
 * can play no rendition, 403 for a bad session token, 410 for an expired one on the steering
 * endpoint (hls.js stops polling on 410 and stays on its Pathway, rather than retrying).
 *
 * Nothing on the request path waits on Kafka or ClickHouse: configs, experiments and
 * availability are in memory, allocation events go to a bounded queue.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { errorMessage, isPlayloopError, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { AssignableExperiment } from '../../experiments/assignment/assign.ts';
import type { SteeringPolicy } from '../../experiments/definitions/vocabulary.ts';
import type { AbrConfig } from '../../schemas/generated/abr-config.ts';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import type { JwtFailure } from '../auth/jwt.ts';
import { sessionKeyring, verifySessionToken } from '../auth/session-token.ts';
import { bearerToken, issueViewerToken, ViewerTokenVerifier, viewerKeyring } from '../auth/viewer-token.ts';
import type { Catalog } from '../media/catalog.ts';
import type { Keyring } from '../signing/url-signing.ts';
import { parseSteeringQuery, SteeringTelemetry } from '../steering/telemetry.ts';
import type { AllocationEmitterStats, AllocationSink } from './allocations.ts';
import type { AvailabilityHealth, AvailabilityProvider } from './availability-refresher.ts';
import type { BreakerState } from './breaker.ts';
import { type ControlPlaneMetrics, createControlPlaneMetrics } from './metrics.ts';
import { type ConfigReader, Planner, type ViewerContext } from './planner.ts';
import type { OcaDescriptor } from './ranking.ts';
import { parsePlaybackRequest, TITLE_ID } from './request.ts';

/** Where the client address says the viewer is (producers/ingest/ip-lookup.ts IpLookup fits). */
export interface LocationLookup {
  lookup(address: string): { readonly isp: string; readonly region: string; readonly country: string };
}

export interface ControlPlaneSettings {
  /** Base URL for the playlist and steering URLs in plans; default: from the request's Host. */
  readonly publicUrl?: string | undefined;
  readonly tokenKeys: readonly string[];
  readonly viewerTokenTtlSec: number;
  readonly devTokenIssuance: boolean;
  /** Validity of signed media URLs and session tokens (config signing.urlTtlSec). */
  readonly urlTtlSec: number;
  readonly steering: {
    readonly ttlSec: number;
    readonly ttlFloorSec: number;
    readonly ttlCeilingSec: number;
    readonly defaultPolicy: SteeringPolicy;
    readonly telemetrySessions: number;
  };
}

export interface ControlPlaneDeps {
  readonly settings: ControlPlaneSettings;
  readonly catalog: Catalog;
  readonly ocas: readonly OcaDescriptor[];
  readonly steering: ConfigReader<SteeringConfig>;
  readonly abr: ConfigReader<AbrConfig>;
  /** Current experiment definitions (validated); only running ones allocate. */
  readonly experiments: () => readonly AssignableExperiment[];
  readonly availability: AvailabilityProvider & { health?: () => AvailabilityHealth };
  readonly allocations: AllocationSink & { stats?: () => AllocationEmitterStats };
  readonly mediaKeyring: Keyring;
  readonly log: Logger;
  readonly locationLookup?: LocationLookup;
  readonly nowMs?: () => number;
  readonly newSessionId?: () => string;
  /** Circuit breakers of the dependencies, for /readyz and /metrics. */
  readonly breakers?: () => Readonly<Record<string, BreakerState>>;
}

export interface ControlPlaneServer {
  readonly app: FastifyInstance;
  readonly planner: Planner;
  readonly metrics: ControlPlaneMetrics;
  readonly telemetry: SteeringTelemetry;
}

const BEARER_REALM = 'playloop';
/** Values the IP database uses for "we do not know" (producers/ingest/ip-lookup.ts). */
const UNKNOWN_LOCATION = new Set(['unknown', 'local', 'private', 'ZZ', '']);
const HLS_PLAYLIST = 'application/vnd.apple.mpegurl';
/** What fastify itself writes for a serialized object. */
const JSON_UTF8 = 'application/json; charset=utf-8';

function known(value: string | undefined): string | null {
  return value === undefined || UNKNOWN_LOCATION.has(value) ? null : value;
}

function errorBody(err: PlayloopError): { error: ReturnType<PlayloopError['toJSON']> } {
  return { error: err.toJSON() };
}

function tokenError(kind: 'viewer' | 'session', reason: JwtFailure, detail: string): PlayloopError {
  const what = kind === 'viewer' ? 'viewer token' : 'session token';
  if (kind === 'viewer') {
    return new PlayloopError('UNAUTHORIZED', `${what} ${reason}: ${detail}`, { details: { reason } });
  }
  return new PlayloopError('FORBIDDEN', `${what} ${reason}: ${detail}`, { details: { reason } });
}

export function buildControlPlaneServer(deps: ControlPlaneDeps): ControlPlaneServer {
  const { settings, log } = deps;
  const nowMs = deps.nowMs ?? Date.now;
  const viewerRing = viewerKeyring(settings.tokenKeys);
  const sessionRing = sessionKeyring(settings.tokenKeys);
  const viewerTokens = new ViewerTokenVerifier(viewerRing);
  const telemetry = new SteeringTelemetry(settings.steering.telemetrySessions);
  const pathwayIds = new Set(deps.ocas.map((o) => o.id));
  const metrics = createControlPlaneMetrics({
    allocationsQueued: () => deps.allocations.stats?.().queued ?? 0,
    allocationsSent: () => deps.allocations.stats?.().sent ?? 0,
    allocationsDropped: () => deps.allocations.stats?.().dropped ?? {},
    breakers: () => deps.breakers?.() ?? {},
    configSources: () => ({ steering: deps.steering.health().source, abr: deps.abr.health().source }),
    steeringSessions: () => telemetry.size,
  });
  const planner = new Planner({
    catalog: deps.catalog,
    ocas: deps.ocas,
    steering: deps.steering,
    abr: deps.abr,
    experiments: deps.experiments,
    availability: deps.availability,
    allocations: deps.allocations,
    mediaKeyring: deps.mediaKeyring,
    sessionRing,
    settings: { urlTtlSec: settings.urlTtlSec, steering: settings.steering },
    log,
    nowMs,
    newSessionId: deps.newSessionId ?? randomUUID,
    onFallback: (kind) => metrics.fallbacks.inc({ kind }),
  });

  const logger: FastifyBaseLogger = log;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger,
    // A log line per request would cost more than the plan at thousands of plans a second.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request either (pino's child() per plan adds up); errors are
    // logged with their URL instead of a request id.
    childLoggerFactory: (logger) => logger,
    bodyLimit: 16_384,
  });
  app.addHook('onClose', async () => planner.close());
  // JSON only: a text/plain body is 415, not a string that fails validation as 400.
  app.removeContentTypeParser('text/plain');

  // Browser players (hls.js in a page) call the control plane cross-origin. A callback hook,
  // not an async one: no promise per request.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('access-control-allow-origin', '*');
    done();
  });
  app.options('/v1/*', async (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', 'Authorization, Content-Type')
      .header('access-control-max-age', '600')
      .send(),
  );

  app.setErrorHandler(async (error: unknown, request, reply) => {
    let err: PlayloopError;
    if (isPlayloopError(error)) err = error;
    else {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status === 415)
        err = new PlayloopError('UNSUPPORTED_MEDIA_TYPE', `${errorMessage(error)}; send application/json`);
      else if (status === 413) err = new PlayloopError('PAYLOAD_TOO_LARGE', errorMessage(error));
      else if (typeof status === 'number' && status >= 400 && status < 500) {
        err = new PlayloopError('BAD_REQUEST', errorMessage(error));
      } else {
        log.error({ err: error, url: request.url }, 'unexpected error');
        err = new PlayloopError('INTERNAL', 'unexpected error');
      }
    }
    if (err.httpStatus === 401) {
      const reason = err.details['reason'];
      // RFC 6750 §3: no error code when the request had no token at all.
      reply.header(
        'www-authenticate',
        reason === 'missing' || reason === undefined
          ? `Bearer realm="${BEARER_REALM}"`
          : `Bearer realm="${BEARER_REALM}", error="invalid_token", error_description="${String(reason)}"`,
      );
    }
    if (err.retriable) reply.header('retry-after', '1');
    return reply.code(err.httpStatus).send(errorBody(err));
  });

  function baseUrlOf(request: FastifyRequest): string {
    return settings.publicUrl ?? `${request.protocol}://${request.host}`;
  }

  function locate(
    request: FastifyRequest,
    hints: { isp?: string | undefined; region?: string | undefined; country?: string | undefined },
  ): Omit<ViewerContext, 'viewerId'> {
    let isp = hints.isp ?? null;
    let region = hints.region ?? null;
    let country = hints.country ?? null;
    if ((isp === null || region === null || country === null) && deps.locationLookup !== undefined) {
      const found = deps.locationLookup.lookup(request.ip);
      isp ??= known(found.isp);
      region ??= known(found.region);
      country ??= known(found.country);
    }
    return { isp, region, country };
  }

  app.post<{ Body: unknown }>('/v1/tokens', async (request, reply) => {
    if (!settings.devTokenIssuance) {
      throw new PlayloopError(
        'FORBIDDEN',
        'viewer token issuance is disabled (controlPlane.devTokenIssuance)',
      );
    }
    const body = request.body;
    const viewerId =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)['viewerId']
        : undefined;
    if (typeof viewerId !== 'string') {
      throw new PlayloopError('BAD_REQUEST', 'body must be {"viewerId": "<id>"}', {
        details: { field: 'viewerId' },
      });
    }
    const issued = issueViewerToken(viewerId, viewerRing, nowMs(), settings.viewerTokenTtlSec);
    metrics.tokensIssued.inc();
    return reply.code(201).header('cache-control', 'no-store').send({
      token: issued.token,
      tokenType: 'Bearer',
      viewerId: issued.viewerId,
      expiresAtSec: issued.expiresAtSec,
    });
  });

  app.post<{ Params: { titleId: string }; Body: unknown }>(
    '/v1/playback/:titleId',
    async (request, reply) => {
      const started = performance.now();
      try {
        const { titleId } = request.params;
        if (!TITLE_ID.test(titleId)) {
          throw new PlayloopError('BAD_REQUEST', `title id ${JSON.stringify(titleId)} is not a title id`);
        }
        const auth = viewerTokens.verify(bearerToken(request.headers.authorization), nowMs());
        if (!auth.ok) {
          metrics.authFailures.inc({ token: 'viewer', reason: auth.reason });
          throw tokenError('viewer', auth.reason, auth.detail);
        }
        // Title before body: an unknown title is 404 whatever the body says.
        planner.ladderOf(titleId);
        const body = parsePlaybackRequest(request.body);
        const viewer: ViewerContext = { viewerId: auth.viewerId, ...locate(request, body.network) };
        // The plan's JSON is written by the planner from cached pieces (render.ts), so
        // fastify sends the text as it is instead of serializing 4-5 KB of objects.
        const { json, first } = planner.planJson(titleId, viewer, body, baseUrlOf(request));
        metrics.planServed(first);
        metrics.planSeconds.observe((performance.now() - started) / 1000);
        return reply.header('cache-control', 'no-store').type(JSON_UTF8).send(json);
      } catch (err) {
        metrics.plans.inc({ outcome: isPlayloopError(err) ? err.code : 'PLAYLOOP_INTERNAL' });
        throw err;
      }
    },
  );

  app.get<{ Params: { sessionId: string }; Querystring: { st?: string } }>(
    '/v1/sessions/:sessionId/master.m3u8',
    async (request, reply) => {
      const { sessionId } = request.params;
      const st = request.query.st;
      const auth = verifySessionToken(st, sessionId, sessionRing, nowMs());
      if (!auth.ok) {
        metrics.authFailures.inc({ token: 'session', reason: auth.reason });
        throw tokenError('session', auth.reason, auth.detail);
      }
      const steeringUri = `${baseUrlOf(request)}/v1/steering/${sessionId}?st=${st}`;
      const body = planner.masterPlaylist(auth.claims, steeringUri);
      return reply.header('content-type', HLS_PLAYLIST).header('cache-control', 'no-store').send(body);
    },
  );

  app.get<{ Params: { sessionId: string }; Querystring: Record<string, string | undefined> }>(
    '/v1/steering/:sessionId',
    async (request, reply) => {
      const { sessionId } = request.params;
      const st = request.query['st'];
      const auth = verifySessionToken(st, sessionId, sessionRing, nowMs());
      if (!auth.ok) {
        metrics.authFailures.inc({ token: 'session', reason: auth.reason });
        if (auth.reason === 'expired') {
          throw new PlayloopError('GONE', `session ${sessionId} has expired; keep the current Pathway`, {
            details: { reason: 'expired' },
          });
        }
        throw tokenError('session', auth.reason, auth.detail);
      }
      const report = parseSteeringQuery(request.query);
      const pathwayLabel =
        report.pathway === undefined ? 'none' : pathwayIds.has(report.pathway) ? report.pathway : 'unknown';
      metrics.steeringRequests.inc({ pathway: pathwayLabel });
      if (report.throughputBps !== undefined) metrics.steeringThroughput.observe(report.throughputBps);
      const manifest = planner.steeringManifest(auth.claims, st as string);
      telemetry.record(sessionId, report, manifest['PATHWAY-PRIORITY'][0], nowMs());
      return reply.header('cache-control', 'no-store').send(manifest);
    },
  );

  app.get<{ Params: { sessionId: string } }>('/admin/steering/sessions/:sessionId', async (request) => {
    const last = telemetry.last(request.params.sessionId);
    if (last === undefined) {
      throw new PlayloopError(
        'NOT_FOUND',
        `no steering request seen for session ${request.params.sessionId}`,
      );
    }
    return last;
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async () => ({
    ready: true,
    config: { steering: deps.steering.health(), abr: deps.abr.health() },
    availability: deps.availability.health?.() ?? { source: deps.availability.current().source },
    allocations: deps.allocations.stats?.() ?? null,
    breakers: deps.breakers?.() ?? {},
    experiments: deps
      .experiments()
      .filter((e) => e.status === 'running')
      .map((e) => e.key),
    steeringSessions: telemetry.size,
  }));
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  return { app, planner, metrics, telemetry };
}
