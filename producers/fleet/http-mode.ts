/**
 * The real-HTTP mode: tens of players that really fetch the multivariant playlist, media
 * playlists, init segments and media segments from the OCAs by their signed URLs (Node's
 * fetch), measure real download times, and run the same player state machine and ABR as the
 * timing mode, on the wall clock.
 *
 * - Each player keeps one timer, for its next wake-up; each response settles the request
 *   it answers and wakes the player. A seek aborts the segment in flight (AbortController).
 * - Segment requests carry CMCD in the `CMCD` query parameter (cmcd.ts), as hls.js sends it
 *   by default, so the OCA sees each player's buffer, throughput and bit rate.
 * - Access emulation (on by default): the OCAs run on loopback, so each player's access link
 *   is applied on the client side: the request waits one access + path RTT before it goes
 *   out, and the body is read no faster than the player's trace allows (network.ts). The OCA
 *   applies its own degradation (latency, cap, 503s) for real, so the effective rate is
 *   min(trace, OCA cap), as in the timing model.
 * - Media playlists are loaded once per rendition (relative segment URIs resolve against
 *   the playlist URL, RFC 3986 §5.2, so one list serves every OCA) and init segments once per
 *   (OCA, rendition), as hls.js does on a pathway switch.
 */

import { parseMediaPlaylist } from '../../control-plane/media/hls.ts';
import { errorMessage } from '../../core/errors.ts';
import type { WireEvent } from '../client/wire.ts';
import { cmcdQueryValue } from './cmcd.ts';
import { type ContentInfo, type ContentRendition, makeContent, renditionsFromPlan } from './content.ts';
import { httpSteeringSource } from './http-sources.ts';
import { ACCESS_PROFILES, NetworkTrace, pathExtraRttMs } from './network.ts';
import type {
  PlanOca,
  PlanRequest,
  PlanSource,
  PlaybackPlan,
  SteeringRequest,
  SteeringSource,
} from './plan.ts';
import {
  type MediaOutcome,
  type MediaRequest,
  Player,
  type PlayerConfig,
  type PlayerIo,
  type SessionTruth,
  STREAM_TRACE,
} from './player.ts';
import { type FleetProgress, FleetTally, type ProgressDisplay } from './progress.ts';
import { Rng, streamSeed } from './random.ts';
import type { EventSink, SinkOrigin } from './sink.ts';

export interface HttpModeOptions {
  readonly players: number;
  readonly config: PlayerConfig;
  readonly planSource: PlanSource;
  /** Defaults to fetching the plan's steering URI over HTTP. */
  readonly steeringSource?: SteeringSource;
  readonly sink: EventSink;
  /** Wall time to run; sessions still open then end as `navigated_away`. */
  readonly durationMs: number;
  /** Apply each player's access trace on the client side (default true). */
  readonly emulateAccess?: boolean;
  readonly rampUpMs?: number;
  readonly fetch?: typeof fetch;
  /** How often the outbox goes to the sink, ms. */
  readonly flushIntervalMs?: number;
  readonly onSessionEnd?: (truth: SessionTruth) => void;
  readonly progress?: ProgressDisplay;
  readonly signal?: AbortSignal;
}

export interface HttpModeResult {
  readonly mode: 'http';
  readonly players: number;
  readonly wallMs: number;
  readonly progress: FleetProgress;
}

/** What a player has learnt from the playlists it loaded. */
interface PlaylistCache {
  /** Segment URIs and the init URI per rendition id, from its media playlist. */
  readonly segments: Map<string, { readonly uris: readonly string[]; readonly init: string | undefined }>;
  /** `${ocaId} ${renditionId}` whose init segment was loaded. */
  readonly inits: Set<string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number | null,
    readonly timedOut: boolean,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class HttpFleet implements PlayerIo {
  private readonly players: Player[] = [];
  private readonly traces: NetworkTrace[] = [];
  private readonly timers: (ReturnType<typeof setTimeout> | undefined)[] = [];
  private readonly aborts: (AbortController | undefined)[] = [];
  private readonly caches: PlaylistCache[] = [];
  private readonly outboxes: WireEvent[][];
  private readonly origins: SinkOrigin[];
  private readonly fetchFn: typeof fetch;
  private readonly steering: SteeringSource;
  private readonly emulate: boolean;
  private readonly runAbort = new AbortController();
  private wallStart = 0;
  private stopped = false;
  private readonly tally = new FleetTally();
  private failure: unknown;

  constructor(private readonly options: HttpModeOptions) {
    if (options.config.mode !== 'http') throw new TypeError('the HTTP fleet runs players in http mode');
    this.fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
    this.steering = options.steeringSource ?? httpSteeringSource({ fetch: this.fetchFn });
    this.emulate = options.emulateAccess ?? true;
    const isps = options.config.sampler.population.isps;
    this.origins = isps.map((i) => ({ isp: i.isp, clientAddress: i.clientAddress }));
    this.outboxes = isps.map(() => []);
    const rampUp = options.rampUpMs ?? Math.min(5_000, options.durationMs / 4);
    for (let slot = 0; slot < options.players; slot++) {
      const player = new Player(slot, options.config, this, Math.floor((slot * rampUp) / options.players));
      this.players.push(player);
      this.traces.push(
        new NetworkTrace(
          ACCESS_PROFILES[player.traits.access],
          new Rng(streamSeed(options.config.seed, slot, STREAM_TRACE)),
          0,
        ),
      );
      this.timers.push(undefined);
      this.aborts.push(undefined);
      this.caches.push({ segments: new Map(), inits: new Set() });
    }
  }

  /** Wall milliseconds since the run started (integer, like simulated time). */
  private now(): number {
    return Math.floor(performance.now() - this.wallStart);
  }

  async run(): Promise<HttpModeResult> {
    this.wallStart = performance.now();
    const flushEvery = this.options.flushIntervalMs ?? 250;
    const flusher = setInterval(() => {
      this.flushOutbox();
      this.options.progress?.update(() => this.snapshot(), performance.now());
    }, flushEvery);
    for (const p of this.players) this.arm(p);
    try {
      await new Promise<void>((resolve) => {
        const end = setTimeout(resolve, this.options.durationMs);
        this.options.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(end);
            resolve();
          },
          { once: true },
        );
        this.runAbort.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(end);
            resolve();
          },
          { once: true },
        );
      });
    } finally {
      clearInterval(flusher);
      this.stopped = true;
      const at = this.now();
      for (const p of this.players) {
        const timer = this.timers[p.slot];
        if (timer !== undefined) clearTimeout(timer);
        this.aborts[p.slot]?.abort();
        p.shutdown(Math.max(at, 0));
      }
      this.flushOutbox();
      await this.options.sink.flush();
    }
    if (this.failure !== undefined) throw this.failure;
    const progress = this.snapshot();
    this.options.progress?.done(progress);
    return {
      mode: 'http',
      players: this.players.length,
      wallMs: performance.now() - this.wallStart,
      progress,
    };
  }

  /** Runs the player up to now and sets its one timer for the next wake-up. */
  private wake(p: Player): void {
    if (this.stopped) return;
    try {
      p.advance(this.now());
    } catch (err) {
      // A player that throws is a bug: stop the run and report it, not hang.
      this.failure = err;
      this.runAbort.abort();
      return;
    }
    this.arm(p);
  }

  private arm(p: Player): void {
    const existing = this.timers[p.slot];
    if (existing !== undefined) clearTimeout(existing);
    const next = p.nextWakeAt();
    if (next === Number.POSITIVE_INFINITY) {
      this.timers[p.slot] = undefined;
      return;
    }
    this.timers[p.slot] = setTimeout(() => this.wake(p), Math.max(0, next - this.now()));
  }

  private flushOutbox(): void {
    for (let i = 0; i < this.outboxes.length; i++) {
      const box = this.outboxes[i] as WireEvent[];
      if (box.length === 0) continue;
      this.outboxes[i] = [];
      this.tally.eventsSent += box.length;
      const wait = this.options.sink.send(this.origins[i] as SinkOrigin, box);
      // A sink that fails (rather than reporting give-ups) ends the run with its error.
      wait?.catch((err: unknown) => {
        this.failure ??= err;
        this.runAbort.abort();
      });
    }
  }

  // ---------------------------------------------------------------- PlayerIo

  requestPlan(player: Player, request: PlanRequest): void {
    this.tally.sessionsStarted++;
    const gen = player.planOp.gen;
    void this.options.planSource
      .getPlan(request)
      .catch((err: unknown) => ({
        ok: false as const,
        failure: { httpStatus: null, message: errorMessage(err) },
      }))
      .then((result) => {
        if (player.planOp.settle(gen, this.now(), result)) this.wake(player);
      });
  }

  requestSteering(player: Player, request: SteeringRequest): void {
    const gen = player.steeringOp.gen;
    void this.steering
      .fetch(request)
      .catch((err: unknown) => ({ ok: false as const, httpStatus: null, message: errorMessage(err) }))
      .then((result) => {
        if (player.steeringOp.settle(gen, this.now(), result)) this.wake(player);
      });
  }

  requestMedia(player: Player, request: MediaRequest): void {
    const gen = player.mediaOp.gen;
    const abort = new AbortController();
    this.aborts[player.slot] = abort;
    const started = this.now();
    const work =
      request.kind === 'manifest'
        ? this.loadManifest(player, request, abort.signal)
        : this.loadSegment(player, request, abort.signal);
    void work
      .catch((err: unknown): MediaOutcome => {
        const e = err instanceof HttpError ? err : new HttpError(null, false, errorMessage(err));
        return {
          ok: false,
          bytes: 0,
          downloadMs: this.now() - started,
          ttfbMs: this.now() - started,
          httpStatus: e.status,
          timedOut: e.timedOut,
        };
      })
      .then((outcome) => {
        // Ignored when a seek cancelled this request or a newer one replaced it.
        if (player.mediaOp.settle(gen, this.now(), outcome)) this.wake(player);
      });
  }

  cancelMedia(player: Player): void {
    this.aborts[player.slot]?.abort();
    this.aborts[player.slot] = undefined;
  }

  emit(player: Player, event: WireEvent): void {
    (this.outboxes[player.traits.ispIndex] as WireEvent[]).push(event);
    this.tally.emitted(event);
  }

  sessionEnded(player: Player, truth: SessionTruth): void {
    this.tally.ended(truth);
    this.caches[player.slot] = { segments: new Map(), inits: new Set() };
    this.options.onSessionEnd?.(truth);
  }

  // ---------------------------------------------------------------- fetching

  /**
   * One GET with the player's access link applied: one RTT before the request leaves, the
   * body read no faster than the trace. Resolves with the body size and timings.
   */
  private async get(
    player: Player,
    oca: PlanOca,
    url: string,
    signal: AbortSignal,
    wantText: boolean,
  ): Promise<{ bytes: number; ttfbMs: number; downloadMs: number; text: string; cacheHit: boolean | null }> {
    const t0 = performance.now();
    const trace = this.traces[player.slot] as NetworkTrace;
    const isp = player.traits.isp;
    const timeout = AbortSignal.timeout(this.options.config.timeouts.loadTimeoutMs);
    const both = AbortSignal.any([signal, timeout, this.runAbort.signal]);
    try {
      if (this.emulate) {
        const now = this.now();
        trace.release(now);
        await sleep(
          Math.round(trace.rttMsAt(now) + pathExtraRttMs({ region: isp.region, isp: isp.isp }, oca)),
          both,
        );
      }
      const res = await this.fetchFn(url, { signal: both });
      const ttfbMs = performance.now() - t0;
      if (!res.ok || res.body === null) {
        await res.body?.cancel();
        throw new HttpError(res.status, false, `HTTP ${res.status}`);
      }
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      const firstByteAt = this.now();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (wantText) chunks.push(value);
        if (this.emulate) {
          // The trace allows `bytes` by firstByteAt + transferMs: wait until then.
          const due = firstByteAt + trace.transferMs(firstByteAt, bytes);
          const wait = due - this.now();
          if (wait > 1) await sleep(wait, both);
        }
      }
      const text = wantText ? Buffer.concat(chunks).toString('utf8') : '';
      const cache = res.headers.get('x-cache');
      return {
        bytes,
        ttfbMs: Math.round(ttfbMs),
        downloadMs: Math.max(1, Math.round(performance.now() - t0)),
        text,
        cacheHit: cache === null ? null : cache.toUpperCase() === 'HIT',
      };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (timeout.aborted) throw new HttpError(null, true, 'timed out');
      throw new HttpError(null, false, errorMessage(err));
    }
  }

  private async loadManifest(
    player: Player,
    request: MediaRequest,
    signal: AbortSignal,
  ): Promise<MediaOutcome> {
    const plan = player.plan as PlaybackPlan;
    const oca = request.oca;
    const t0 = performance.now();
    let bytes = 0;
    let ttfbMs = -1;
    if (plan.multivariant !== undefined) {
      const master = await this.get(
        player,
        oca,
        new URL(plan.multivariant, oca.baseUrl).toString(),
        signal,
        false,
      );
      bytes += master.bytes;
      ttfbMs = master.ttfbMs;
    }
    const renditions = renditionsFromPlan(plan);
    const first = renditions[0] as ContentRendition;
    const media = await this.loadPlaylist(player, oca, first, signal);
    bytes += media.bytes;
    if (ttfbMs < 0) ttfbMs = media.ttfbMs;
    const content: ContentInfo = makeContent(
      plan.titleId,
      renditions,
      media.durationMs,
      media.segmentDurationMs,
    );
    return {
      ok: true,
      bytes,
      ttfbMs,
      downloadMs: Math.max(1, Math.round(performance.now() - t0)),
      httpStatus: 200,
      timedOut: false,
      content,
    };
  }

  private async loadPlaylist(
    player: Player,
    oca: PlanOca,
    rendition: ContentRendition,
    signal: AbortSignal,
  ): Promise<{ bytes: number; ttfbMs: number; durationMs: number; segmentDurationMs: number }> {
    const url = new URL(rendition.playlist, oca.baseUrl);
    const got = await this.get(player, oca, url.toString(), signal, true);
    let playlist: ReturnType<typeof parseMediaPlaylist>;
    try {
      playlist = parseMediaPlaylist(got.text);
    } catch (err) {
      throw new HttpError(200, false, `media playlist ${rendition.id}: ${errorMessage(err)}`);
    }
    if (playlist.segments.length === 0)
      throw new HttpError(200, false, `media playlist ${rendition.id} is empty`);
    const cache = this.caches[player.slot] as PlaylistCache;
    cache.segments.set(rendition.id, { uris: playlist.segments.map((s) => s.uri), init: playlist.mapUri });
    const total = playlist.segments.reduce((a, s) => a + s.durationSec, 0);
    return {
      bytes: got.bytes,
      ttfbMs: got.ttfbMs,
      durationMs: Math.round(total * 1000),
      segmentDurationMs: Math.round((playlist.segments[0]?.durationSec ?? playlist.targetDurationSec) * 1000),
    };
  }

  private async loadSegment(
    player: Player,
    request: MediaRequest,
    signal: AbortSignal,
  ): Promise<MediaOutcome> {
    const content = player.content as ContentInfo;
    const rendition = content.renditions[request.level] as ContentRendition;
    const oca = request.oca;
    const cache = this.caches[player.slot] as PlaylistCache;
    // hls.js loads a level's playlist before its first segment, and the init segment when
    // the level or the pathway changes.
    if (!cache.segments.has(rendition.id)) await this.loadPlaylist(player, oca, rendition, signal);
    const list = cache.segments.get(rendition.id)!;
    const playlistUrl = new URL(rendition.playlist, oca.baseUrl);
    const initKey = `${oca.id} ${rendition.id}`;
    if (list.init !== undefined && !cache.inits.has(initKey)) {
      await this.get(player, oca, new URL(list.init, playlistUrl).toString(), signal, false);
      cache.inits.add(initKey);
    }
    const uri = list.uris[request.index];
    if (uri === undefined) throw new HttpError(404, false, `no segment ${request.index} in ${rendition.id}`);
    const url = new URL(uri, playlistUrl);
    if (request.cmcd !== null)
      url.searchParams.set('CMCD', cmcdQueryValue(request.cmcd, player.sessionId, player.titleId));
    const got = await this.get(player, oca, url.toString(), signal, false);
    url.search = '';
    return {
      ok: true,
      bytes: got.bytes,
      ttfbMs: got.ttfbMs,
      downloadMs: got.downloadMs,
      httpStatus: 200,
      timedOut: false,
      url: url.toString(),
      cacheHit: got.cacheHit,
    };
  }

  snapshot(): FleetProgress {
    const wall = this.now();
    return this.tally.snapshot(this.players, {
      mode: 'http',
      pacing: 'wall clock',
      simulatedMs: wall,
      wallMs: wall,
      lagMs: 0,
    });
  }
}
