/**
 * One Open Connect-style appliance (OCA) as a fastify server.
 *
 * - Storage OCAs serve every title from the encoded ladder on disk.
 * - Edge OCAs serve from an LRU cache (by bytes); a miss is filled from the edge's storage
 *   OCA over HTTP, stored, counted, and concurrent misses for one object share one fill.
 * - Every media request carries a signed path (control-plane/signing): a tampered, expired
 *   or missing signature is a 403 with the reason, before any other work.
 * - Degradation on command (degrade.ts) is applied to media responses for real: latency
 *   before the first byte, 503s at a seeded error rate, and a paced body (pacing.ts).
 * - CORS for browser players (hls.js fetches segments cross-origin) and Timing-Allow-Origin
 *   so Resource Timing in the page sees real durations.
 * - CMCD (CTA-5004) on each request is parsed, counted, kept in a small ring for
 *   `/admin/cmcd` and handed to `onCmcd` (cmcd-forward.ts mirrors it to ingest).
 *
 * Simplifications, on purpose: an edge answers a miss once the whole object has arrived from
 * storage (no streaming pass-through), so a miss adds the fill time to the time to first
 * byte, which is what a player measures anyway; no Range requests (the ladder has no byte-range
 * segments); the admin API is unauthenticated and meant for 127.0.0.1.
 *
 * Media:  GET|HEAD /t/<titleId>/<token>/master.m3u8 | <rendition>/<file>
 * Admin:  GET /admin/stats, GET|POST|DELETE /admin/degrade, GET /admin/cmcd, GET /metrics, GET /healthz
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { errorMessage, isPlayloopError, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { sleep } from '../../core/retry.ts';
import type { Catalog } from '../media/catalog.ts';
import type { Ladder, LadderFile } from '../media/ladder.ts';
import { renderMultivariantPlaylist } from '../media/playlist.ts';
import { type Keyring, signMediaPrefix, verifyMediaPath } from '../signing/url-signing.ts';
import { CMCD_HEADERS, type CmcdData, cmcdFromRequest } from './cmcd.ts';
import { type Degradation, type DegradationInput, Degrader, degradationSchema } from './degrade.ts';
import type { FillObject } from './fill.ts';
import { ByteLru } from './lru.ts';
import { createOcaMetrics, type OcaMetrics } from './metrics.ts';
import { pacedStream } from './pacing.ts';
import type { OcaSpec, OcaTier } from './spec.ts';

export interface CmcdRecord {
  readonly atMs: number;
  readonly ocaId: string;
  readonly titleId: string;
  /** The session the signed URL was issued to (CMCD `sid` should match it). */
  readonly grantSessionId: string;
  readonly file: string;
  readonly kind: 'master' | 'playlist' | 'init' | 'segment' | 'unknown';
  readonly status: number;
  /** Body bytes of the response (all of them when `completed`). */
  readonly bytes: number;
  /** Request to last byte (or to the connection closing), ms. */
  readonly ms: number;
  /** The whole response reached the socket; false when the player hung up first. */
  readonly completed: boolean;
  readonly cache: 'HIT' | 'MISS' | undefined;
  readonly cmcd: CmcdData;
  /** The payloads exactly as the player sent them, for mirroring to ingest. */
  readonly raw: { readonly query: string | undefined; readonly headers: Readonly<Record<string, string>> };
}

export interface OcaDeps {
  readonly catalog: Catalog;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly nowMs: () => number;
  /** Edge OCAs: base URL of the storage OCA to fill from. */
  readonly upstreamUrl?: string;
  readonly upstreamTimeoutMs?: number;
  readonly onCmcd?: (record: CmcdRecord) => void;
  /** How many recent CMCD records `/admin/cmcd` keeps. */
  readonly cmcdRingSize?: number;
}

export interface CacheStats {
  readonly capacityBytes: number;
  readonly bytes: number;
  readonly objects: number;
  readonly hits: number;
  readonly misses: number;
  readonly hitBytes: number;
  /** Bytes fetched from storage to answer misses. */
  readonly missFillBytes: number;
  /** Bytes fetched from storage by proactive fill, counted apart from misses. */
  readonly proactiveFillBytes: number;
  readonly proactiveFillObjects: number;
  readonly evictions: number;
  readonly evictedBytes: number;
  /** hits / (hits + misses), or 0 before any lookup. */
  readonly hitRatio: number;
}

export interface OcaStats {
  readonly id: string;
  readonly tier: OcaTier;
  readonly region: string;
  readonly isp: string;
  readonly url: string | undefined;
  readonly requests: number;
  readonly bytesServed: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly forbidden: Readonly<Record<'expired' | 'tampered' | 'missing', number>>;
  readonly injectedErrors: number;
  readonly upstreamErrors: number;
  readonly cmcdRequests: number;
  readonly degradation: Degradation;
  readonly cache: CacheStats | undefined;
}

export interface Oca {
  readonly spec: OcaSpec;
  readonly app: FastifyInstance;
  /** Base URL once listening, e.g. `http://127.0.0.1:7102`. */
  readonly url: string | undefined;
  readonly metrics: OcaMetrics;
  listen(host: string, port: number): Promise<string>;
  degrade(input: DegradationInput): Degradation;
  restore(): void;
  stats(): OcaStats;
  recentCmcd(limit?: number): CmcdRecord[];
  /** Edge only: fetch these objects from storage into the cache (proactive fill). */
  fill(objects: readonly FillObject[], options?: { concurrency?: number }): Promise<FillResult>;
  close(): Promise<void>;
}

export interface FillResult {
  readonly ocaId: string;
  readonly objects: number;
  readonly bytes: number;
  /** Already cached, so not fetched. */
  readonly alreadyCached: number;
  readonly failed: number;
}

type MediaKind = 'master' | 'playlist' | 'init' | 'segment';

const EXPOSED_HEADERS = 'Content-Length, Content-Type, X-Cache, X-OCA-Id, Server-Timing';
const MASTER = 'master.m3u8';

class Counts {
  requests = 0;
  bytesServed = 0;
  byStatus: Record<string, number> = {};
  forbidden = { expired: 0, tampered: 0, missing: 0 };
  injectedErrors = 0;
  upstreamErrors = 0;
  cmcdRequests = 0;
  hits = 0;
  misses = 0;
  hitBytes = 0;
  missFillBytes = 0;
  proactiveFillBytes = 0;
  proactiveFillObjects = 0;
  evictions = 0;
  evictedBytes = 0;
}

export function createOca(spec: OcaSpec, deps: OcaDeps): Oca {
  if (spec.tier === 'edge' && deps.upstreamUrl === undefined) {
    throw new TypeError(`edge OCA ${spec.id} needs an upstreamUrl`);
  }
  const log = deps.log.child({ oca: spec.id });
  const metrics = createOcaMetrics(spec);
  const counts = new Counts();
  const degrader = new Degrader(spec.id);
  const cache =
    spec.tier === 'edge' ? new ByteLru<Buffer>(spec.capacityBytes ?? 0, (b) => b.length) : undefined;
  const inflight = new Map<string, Promise<Buffer>>();
  const masters = new Map<string, Buffer>();
  const cmcdRing: CmcdRecord[] = [];
  const cmcdRingSize = deps.cmcdRingSize ?? 1_000;
  const upstreamTimeoutMs = deps.upstreamTimeoutMs ?? 30_000;
  let url: string | undefined;
  if (cache !== undefined) metrics.cacheCapacityBytes.set(cache.capacityBytes);

  // Typed as fastify's logger interface so the instance has fastify's default generics.
  const fastifyLog: FastifyBaseLogger = log;
  const app: FastifyInstance = Fastify({
    loggerInstance: fastifyLog,
    logController: new LogController({ disableRequestLogging: true }),
    // A long signed path is one wildcard parameter.
    routerOptions: { maxParamLength: 2_048 },
    // stop() must not wait for a throttled download to finish.
    forceCloseConnections: true,
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    reply.header('timing-allow-origin', '*');
    reply.header('x-oca-id', spec.id);
  });

  // CORS preflight for media only: hls.js with CMCD in headers (`useHeaders: true`) sends
  // CMCD-* headers. The admin API gets none, so a web page cannot POST a degradation.
  app.options('/t/*', async (request, reply) => {
    const asked = request.headers['access-control-request-headers'];
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header(
        'access-control-allow-headers',
        typeof asked === 'string' ? asked : 'CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session, Range',
      )
      .header('access-control-max-age', '600')
      .send();
  });

  app.setErrorHandler(async (error: unknown, _request, reply) => {
    if (isPlayloopError(error)) return reply.code(error.httpStatus).send(error.toJSON());
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send(new PlayloopError('BAD_REQUEST', errorMessage(error)).toJSON());
    }
    log.error({ err: error }, 'unexpected error');
    return reply.code(500).send(new PlayloopError('INTERNAL', 'unexpected error').toJSON());
  });

  function applyDegradationGauges(d: Degradation): void {
    metrics.degradationLatencyMs.set(d.latencyMs);
    metrics.degradationThroughputKbps.set(d.throughputKbps ?? 0);
    metrics.degradationErrorRate.set(d.errorRate);
  }
  applyDegradationGauges(degrader.current);

  function count(kind: MediaKind | 'unknown', status: number): void {
    counts.requests++;
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    metrics.requests.inc({ kind, status: String(status) });
  }

  function store(key: string, body: Buffer): void {
    if (cache === undefined) return;
    const result = cache.set(key, body);
    for (const evicted of result.evicted) {
      counts.evictions++;
      counts.evictedBytes += evicted.bytes;
      metrics.evictions.inc();
    }
    metrics.cacheBytes.set(cache.bytes);
    metrics.cacheObjects.set(cache.size);
  }

  async function fetchUpstream(
    path: string,
    expectedBytes: number,
    reason: 'miss' | 'proactive',
  ): Promise<Buffer> {
    const target = `${deps.upstreamUrl}${path}`;
    let response: Response;
    let body: Buffer;
    try {
      response = await fetch(target, {
        headers: { 'x-playloop-fill': reason, 'x-playloop-via': spec.id },
        signal: AbortSignal.timeout(upstreamTimeoutMs),
      });
      body = Buffer.from(await response.arrayBuffer());
    } catch (cause) {
      counts.upstreamErrors++;
      metrics.upstreamErrors.inc();
      throw new PlayloopError('UPSTREAM_FAILED', `fill from storage failed: ${errorMessage(cause)}`, {
        cause,
      });
    }
    if (response.status !== 200 || body.length !== expectedBytes) {
      counts.upstreamErrors++;
      metrics.upstreamErrors.inc();
      throw new PlayloopError(
        'UPSTREAM_FAILED',
        `storage answered ${response.status} with ${body.length} of ${expectedBytes} bytes`,
        { details: { upstreamStatus: response.status } },
      );
    }
    return body;
  }

  /** Edge: cache, else one shared fill from storage. */
  async function edgeBody(
    key: string,
    file: LadderFile,
    prefix: string,
  ): Promise<{ body: Buffer; hit: boolean }> {
    const cached = cache?.get(key);
    if (cached !== undefined) {
      counts.hits++;
      counts.hitBytes += cached.length;
      metrics.cacheLookups.inc({ result: 'hit' });
      return { body: cached, hit: true };
    }
    counts.misses++;
    metrics.cacheLookups.inc({ result: 'miss' });
    let pending = inflight.get(key);
    if (pending === undefined) {
      pending = fetchUpstream(`${prefix}${file.path}`, file.bytes, 'miss')
        .then((body) => {
          counts.missFillBytes += body.length;
          metrics.fillBytes.inc({ reason: 'miss' }, body.length);
          store(key, body);
          return body;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return { body: await pending, hit: false };
  }

  function masterOf(ladder: Ladder): Buffer {
    let body = masters.get(ladder.id);
    if (body === undefined) {
      // This OCA's own copy, unsteered, with URIs relative to the signed prefix. The steered
      // playlist listing every OCA as a Pathway is the control plane's.
      body = Buffer.from(renderMultivariantPlaylist(ladder.renditions, [{ baseUrl: '' }]));
      masters.set(ladder.id, body);
    }
    return body;
  }

  function recordCmcd(record: CmcdRecord): void {
    counts.cmcdRequests++;
    const ot = typeof record.cmcd['ot'] === 'string' ? record.cmcd['ot'] : 'none';
    metrics.cmcdRequests.inc({ ot });
    const bl = record.cmcd['bl'];
    if (typeof bl === 'number') metrics.cmcdBufferSeconds.observe(bl / 1000);
    const mtp = record.cmcd['mtp'];
    if (typeof mtp === 'number') metrics.cmcdMeasuredThroughputKbps.observe(mtp);
    cmcdRing.push(record);
    if (cmcdRing.length > cmcdRingSize) cmcdRing.splice(0, cmcdRing.length - cmcdRingSize);
    try {
      deps.onCmcd?.(record);
    } catch (err) {
      log.warn({ err }, 'onCmcd hook failed');
    }
  }

  async function serveMedia(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const started = performance.now();
    const verdict = verifyMediaPath(request.url, deps.nowMs(), deps.keyring);
    if (!verdict.ok) {
      counts.forbidden[verdict.reason]++;
      metrics.forbidden.inc({ reason: verdict.reason });
      count('unknown', 403);
      const error = new PlayloopError('FORBIDDEN', `signed URL ${verdict.reason}: ${verdict.detail}`, {
        details: { reason: verdict.reason },
      });
      return reply.code(403).send({ ...error.toJSON(), reason: verdict.reason });
    }
    const ladder = deps.catalog.ladderOf(verdict.titleId);
    const file = verdict.file === MASTER ? undefined : deps.catalog.fileOf(verdict.titleId, verdict.file);
    const kind: MediaKind | undefined = verdict.file === MASTER ? 'master' : file?.kind;
    const queryAt = request.url.indexOf('?');
    const query = new URLSearchParams(queryAt === -1 ? '' : request.url.slice(queryAt + 1));
    const cmcd = cmcdFromRequest(query, request.headers);
    let outcome: { status: number; bytes: number; cache: 'HIT' | 'MISS' | undefined } = {
      status: 500,
      bytes: 0,
      cache: undefined,
    };
    const finish = (status: number, bytes: number, cacheResult: 'HIT' | 'MISS' | undefined): void => {
      count(kind ?? 'unknown', status);
      outcome = { status, bytes, cache: cacheResult };
    };
    if (cmcd !== undefined) {
      // Recorded when the response is over, so the record says how long it took and whether
      // the player got all of it: what an OCA log line (and a CMCD beacon to ingest) carries.
      const headers: Record<string, string> = {};
      for (const name of CMCD_HEADERS) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      reply.raw.once('close', () => {
        recordCmcd({
          atMs: deps.nowMs(),
          ocaId: spec.id,
          titleId: verdict.titleId,
          grantSessionId: verdict.sessionId,
          file: verdict.file,
          kind: kind ?? 'unknown',
          status: outcome.status,
          bytes: outcome.bytes,
          ms: Math.round(performance.now() - started),
          completed: reply.raw.writableFinished,
          cache: outcome.cache,
          cmcd,
          raw: { query: query.get('CMCD') ?? undefined, headers },
        });
      });
    }
    if (ladder === undefined || kind === undefined) {
      finish(404, 0, undefined);
      return reply
        .code(404)
        .send(new PlayloopError('NOT_FOUND', `no ${verdict.file} in ${verdict.titleId}`).toJSON());
    }

    const degradation = degrader.current;
    if (degradation.latencyMs > 0) await sleep(degradation.latencyMs);
    if (degrader.shouldFail()) {
      counts.injectedErrors++;
      metrics.injectedErrors.inc();
      finish(503, 0, undefined);
      return reply
        .code(503)
        .header('retry-after', '1')
        .send(new PlayloopError('OVERLOADED', `${spec.id} is degraded (injected error)`).toJSON());
    }

    let body: Buffer;
    let cacheResult: 'HIT' | 'MISS' | undefined;
    if (file === undefined) {
      body = masterOf(ladder);
    } else if (cache === undefined) {
      body = await readFile(join(ladder.dir, file.path));
    } else {
      try {
        const got = await edgeBody(`${verdict.titleId}/${file.path}`, file, verdict.prefix);
        body = got.body;
        cacheResult = got.hit ? 'HIT' : 'MISS';
      } catch (err) {
        finish(502, 0, 'MISS');
        throw err;
      }
    }
    finish(200, body.length, cacheResult);
    counts.bytesServed += body.length;
    metrics.bytesServed.inc({ kind }, body.length);
    reply
      .code(200)
      .header('content-type', file?.contentType ?? 'application/vnd.apple.mpegurl')
      .header('content-length', body.length)
      // The master is per session (signed); VOD media never changes under its URL.
      .header('cache-control', kind === 'master' ? 'no-store' : 'public, max-age=86400, immutable')
      .header('server-timing', `oca;desc="${spec.id}";dur=${(performance.now() - started).toFixed(1)}`);
    if (cacheResult !== undefined) reply.header('x-cache', cacheResult);
    const observe = (): void => {
      metrics.responseSeconds.observe({ kind }, (performance.now() - started) / 1000);
    };
    reply.raw.once('finish', observe);
    if (degradation.throughputKbps !== undefined && request.method !== 'HEAD') {
      return reply.send(pacedStream(body, degradation.throughputKbps));
    }
    return reply.send(body);
  }

  app.get('/t/*', serveMedia);

  app.get('/healthz', async () => ({ ok: true, id: spec.id, tier: spec.tier }));
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/admin/stats', async () => stats());
  app.get('/admin/degrade', async () => degrader.current);
  app.post('/admin/degrade', async (request, reply) => {
    const parsed = degradationSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      return reply.code(400).send(
        new PlayloopError('BAD_REQUEST', `bad degradation: ${issues.join('; ')}`, {
          details: { issues },
        }).toJSON(),
      );
    }
    return degrade(parsed.data);
  });
  app.delete('/admin/degrade', async () => {
    restore();
    return degrader.current;
  });
  app.get<{ Querystring: { limit?: string } }>('/admin/cmcd', async (request) => {
    const limit = Number(request.query.limit ?? 100);
    return recentCmcd(Number.isFinite(limit) ? limit : 100);
  });

  function degrade(input: DegradationInput): Degradation {
    const d = degrader.set(input);
    applyDegradationGauges(d);
    log.info({ degradation: d }, 'degraded');
    return d;
  }

  function restore(): void {
    degrader.clear();
    applyDegradationGauges(degrader.current);
    log.info('restored');
  }

  function recentCmcd(limit = 100): CmcdRecord[] {
    return cmcdRing.slice(-Math.max(0, Math.floor(limit)));
  }

  function stats(): OcaStats {
    const lookups = counts.hits + counts.misses;
    return {
      id: spec.id,
      tier: spec.tier,
      region: spec.region,
      isp: spec.isp,
      url,
      requests: counts.requests,
      bytesServed: counts.bytesServed,
      byStatus: { ...counts.byStatus },
      forbidden: { ...counts.forbidden },
      injectedErrors: counts.injectedErrors,
      upstreamErrors: counts.upstreamErrors,
      cmcdRequests: counts.cmcdRequests,
      degradation: degrader.current,
      cache:
        cache === undefined
          ? undefined
          : {
              capacityBytes: cache.capacityBytes,
              bytes: cache.bytes,
              objects: cache.size,
              hits: counts.hits,
              misses: counts.misses,
              hitBytes: counts.hitBytes,
              missFillBytes: counts.missFillBytes,
              proactiveFillBytes: counts.proactiveFillBytes,
              proactiveFillObjects: counts.proactiveFillObjects,
              evictions: counts.evictions,
              evictedBytes: counts.evictedBytes,
              hitRatio: lookups === 0 ? 0 : counts.hits / lookups,
            },
    };
  }

  async function fill(
    objects: readonly FillObject[],
    options: { concurrency?: number } = {},
  ): Promise<FillResult> {
    if (cache === undefined) throw new TypeError(`${spec.id} is a storage OCA: it holds everything already`);
    // The fill is the operator's own traffic: it signs a short grant per title, like the
    // control plane does for a viewer.
    const grantFor = new Map<string, string>();
    const prefixOf = (titleId: string): string => {
      let prefix = grantFor.get(titleId);
      if (prefix === undefined) {
        const expiresAtSec = Math.floor(deps.nowMs() / 1000) + 600;
        prefix = signMediaPrefix({ titleId, sessionId: `fill-${spec.id}`, expiresAtSec }, deps.keyring);
        grantFor.set(titleId, prefix);
      }
      return prefix;
    };
    let next = 0;
    let filled = 0;
    let bytes = 0;
    let alreadyCached = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < objects.length) {
        const object = objects[next++] as FillObject;
        const key = `${object.titleId}/${object.path}`;
        if (cache.has(key)) {
          // Refresh recency so the fill order (least popular first) still holds.
          cache.get(key);
          alreadyCached++;
          continue;
        }
        try {
          const body = await fetchUpstream(
            `${prefixOf(object.titleId)}${object.path}`,
            object.bytes,
            'proactive',
          );
          store(key, body);
          filled++;
          bytes += body.length;
          counts.proactiveFillBytes += body.length;
          counts.proactiveFillObjects++;
          metrics.fillBytes.inc({ reason: 'proactive' }, body.length);
        } catch (err) {
          failed++;
          log.warn({ err, key }, 'proactive fill of one object failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    return { ocaId: spec.id, objects: filled, bytes, alreadyCached, failed };
  }

  return {
    spec,
    app,
    get url() {
      return url;
    },
    metrics,
    async listen(host: string, port: number): Promise<string> {
      await app.listen({ host, port });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new TypeError('OCA is not on a TCP port');
      url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      return url;
    },
    degrade,
    restore,
    stats,
    recentCmcd,
    fill,
    async close(): Promise<void> {
      await app.close();
    },
  };
}
