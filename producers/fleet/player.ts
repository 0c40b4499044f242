/**
 * One simulated player: a state machine with no I/O of its own ("sans-I/O"). A driver feeds
 * it time and the outcomes of its requests; it tells the driver what to fetch and when it
 * next needs attention (`nextWakeAt`), and emits playloop's events exactly as
 * schemas/playback-event.avsc defines them. The timing mode (timing.ts) drives thousands of
 * these from one event queue with modelled downloads; the HTTP mode (http-mode.ts) drives
 * tens of them against real OCAs on the wall clock. Same player, same ABR, same events.
 *
 * A player slot plays sessions back to back: think time, play intent, plan, manifest,
 * startup, playback with stalls, seeks and pauses, and a session end; then the next one.
 *
 * Playback is modelled, not decoded: the buffer is the media time downloaded ahead of the
 * playhead. While playing, the playhead advances in real time and the buffer drains; when it
 * reaches the end of the buffer the player stalls, and a segment's arrival resumes it. The
 * displayed rendition changes when the playhead crosses into a segment of another level,
 * which is when `rendition_switch` is emitted (what the viewer sees, as a QoE beacon wants
 * it). Times are integer milliseconds, so the ground truth this player keeps equals what the
 * QoE core recomputes from its events to the millisecond.
 *
 * Failover: a failed request is retried on the same OCA (`retry.maxNumRetry` times, backoff
 * doubling from retryDelayMs to maxRetryDelayMs, as hls.js errorRetry does), then that OCA
 * (pathway) is penalised for 300 s (hls.js PATHWAY_PENALTY_DURATION_MS) and the next one in
 * the order is used; with every OCA penalised the error is fatal. The order is the plan's
 * ranking, or the Content Steering PATHWAY-PRIORITY once a steering manifest arrived
 * (pathways it does not list follow, as fallbacks). The steering server is polled every TTL,
 * with `_HLS_pathway` and `_HLS_throughput`; TTLs under `minSteeringTtlMs` are raised to it
 * (hls.js honours any TTL and a TTL of 0 makes a request storm).
 */
import type { Cmcd, DeviceInfo, EndReason, ErrorType } from '../../schemas/generated/playback-event.ts';
import type { WireEvent } from '../client/wire.ts';
import { createAbr } from './abr/index.ts';
import { type AbrKnobs, resolveAbrKnobs } from './abr/knobs.ts';
import type { Abr, AbrKind } from './abr/types.ts';
import { type ContentInfo, contentFromPlan, segmentDurationMs } from './content.ts';
import type { RequestTimeouts } from './network.ts';
import type {
  PlanOca,
  PlanRequest,
  PlanResult,
  PlaybackPlan,
  SteeringRequest,
  SteeringResult,
} from './plan.ts';
import type { PlayerTraits, PopulationSampler, ViewerModel } from './population.ts';
import { Rng, streamSeed } from './random.ts';

export const FLEET_MODES = ['timing', 'http'] as const;
/** timing: the discrete-event timing model; http: real downloads from the OCAs. */
export type FleetMode = (typeof FLEET_MODES)[number];

export interface RetryPolicy {
  /** Retries on one OCA before moving to the next. */
  readonly maxNumRetry: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

/** Shared by every player of a run. */
export interface PlayerConfig {
  readonly mode: FleetMode;
  readonly seed: number;
  /** Short tag of the run in session ids. */
  readonly runTag: string;
  /** Epoch ms of simulated time 0: clientTs = epochMs + t. */
  readonly epochMs: number;
  readonly heartbeatIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly timeouts: RequestTimeouts;
  readonly minSteeringTtlMs: number;
  readonly pathwayPenaltyMs: number;
  readonly viewer: ViewerModel;
  readonly sampler: PopulationSampler;
  readonly playerVersion: string;
}

/** A manifest or segment request the driver performs. */
export interface MediaRequest {
  readonly kind: 'manifest' | 'segment';
  readonly oca: PlanOca;
  /** Position of `oca` in the plan. */
  readonly ocaIndex: number;
  /** Level and segment index (segment requests). */
  readonly level: number;
  readonly index: number;
  /** CMCD for the request (segments). */
  readonly cmcd: Cmcd | null;
}

export interface MediaOutcome {
  readonly ok: boolean;
  readonly bytes: number;
  /** Request to last byte (or to the failure). */
  readonly downloadMs: number;
  readonly ttfbMs: number;
  readonly httpStatus: number | null;
  /** On failure: timeout or error answer. */
  readonly timedOut: boolean;
  /** Manifests in the HTTP mode: what the playlists said. */
  readonly content?: ContentInfo;
  readonly url?: string;
  readonly cacheHit?: boolean | null;
}

/** What the player needs from its driver. */
export interface PlayerIo {
  requestPlan(player: Player, request: PlanRequest): void;
  requestMedia(player: Player, request: MediaRequest): void;
  /** The media request in flight is no longer wanted (a seek flushed the buffer). */
  cancelMedia(player: Player): void;
  requestSteering(player: Player, request: SteeringRequest): void;
  emit(player: Player, event: WireEvent): void;
  sessionEnded(player: Player, truth: SessionTruth): void;
}

/**
 * A request in flight. `dueAt` is when its outcome applies; `result` is null until the
 * outcome is known. The timing mode knows `dueAt` up front (modelled) and, for plans and
 * steering, may learn the result later; the HTTP mode sets both when the response is in.
 */
export class Pending<T> {
  active = false;
  gen = 0;
  dueAt = Number.POSITIVE_INFINITY;
  result: T | null = null;
  /** Resolves when `result` is set (for drivers that must wait for it). */
  wait: Promise<void> | null = null;

  start(): number {
    this.active = true;
    this.gen++;
    this.dueAt = Number.POSITIVE_INFINITY;
    this.result = null;
    this.wait = null;
    return this.gen;
  }

  /** Sets the outcome of request `gen`; ignored when that request was cancelled or replaced. */
  settle(gen: number, dueAt: number, result: T): boolean {
    if (!this.active || gen !== this.gen) return false;
    this.dueAt = dueAt;
    this.result = result;
    return true;
  }

  clear(): void {
    this.active = false;
    this.result = null;
    this.wait = null;
    this.dueAt = Number.POSITIVE_INFINITY;
  }

  /** Due with its result known. */
  readyBy(t: number): boolean {
    return this.active && this.result !== null && this.dueAt <= t;
  }
}

/**
 * The session as the simulator lived it, in the QoE core's definitions
 * (processors/qoe-core/view-fold.ts): field names follow playback-session.avsc.
 */
export interface SessionTruth {
  readonly mode: FleetMode;
  readonly sessionId: string;
  readonly viewerId: string;
  readonly titleId: string;
  readonly deviceClass: string;
  readonly isp: string;
  readonly region: string;
  readonly access: string;
  readonly abr: AbrKind;
  readonly planId: string | null;
  readonly startTime: number;
  readonly endTime: number;
  readonly endReason: EndReason;
  readonly startupMs: number | null;
  readonly ebvs: boolean;
  readonly vsf: boolean;
  readonly vpf: boolean;
  readonly playMs: number;
  readonly pausedMs: number;
  readonly stallMs: number;
  readonly seekStallMs: number;
  readonly stallCount: number;
  readonly seekStallCount: number;
  readonly rebufferRatio: number | null;
  readonly avgBitrateKbps: number | null;
  readonly firstBitrateKbps: number | null;
  readonly switchesUp: number;
  readonly switchesDown: number;
  readonly seekCount: number;
  readonly pauseCount: number;
  readonly errorCount: number;
  readonly exitDuringStall: boolean;
  readonly bytes: number;
  readonly segments: number;
  readonly eventCount: number;
}

const Phase = Object.freeze({
  /** Between sessions. */
  idle: 0,
  awaitingPlan: 1,
  loadingManifest: 2,
  /** Manifest in, no first frame yet. */
  startup: 3,
  playing: 4,
  stalled: 5,
  paused: 6,
  /** The run is over for this slot. */
  done: 7,
});

/** Time buckets of the ground truth, as the QoE core attributes time. */
const Bucket = Object.freeze({ none: 0, playing: 1, paused: 2, stalled: 3, seekStalled: 4 });

/** dash.js CMCD rtpSafetyFactor: rtp = encoded bit rate * 5. */
const RTP_SAFETY_FACTOR = 5;
const PLAYER_NAME = 'playloop-fleet';

const roundTo = (value: number, step: number): number => Math.round(value / step) * step;

// Purposes of a player's random streams.
const STREAM_TRAITS = 0;
const STREAM_VIEWER = 1;
const STREAM_ERRORS = 2;
export const STREAM_TRACE = 3;

export class Player {
  readonly slot: number;
  readonly viewerId: string;
  readonly traits: PlayerTraits;
  readonly device: Partial<DeviceInfo>;
  /** Random stream for OCA error draws (used by the timing mode's request model). */
  readonly errorRng: Rng;
  private readonly viewerRng: Rng;
  private readonly config: PlayerConfig;
  private readonly io: PlayerIo;

  // Requests in flight.
  readonly planOp = new Pending<PlanResult>();
  readonly mediaOp = new Pending<MediaOutcome>();
  readonly steeringOp = new Pending<SteeringResult>();

  private phase: number = Phase.idle;
  private nextSessionAt: number;
  private sessionIndex = -1;

  // Session identity and plan.
  sessionId = '';
  titleId = '';
  plan: PlaybackPlan | null = null;
  content: ContentInfo | null = null;
  private knobs: AbrKnobs | null = null;
  private abr: Abr | null = null;
  private seq = 0;
  private intentAt = 0;
  private intentEmitted = false;
  private startPositionMs = 0;
  private resumeFraction = -1;

  // OCA order and penalties (indices into plan.ocas).
  private ocaOrder: number[] = [];
  private penalizedAt: number[] = [];
  private steeringUri: string | null = null;
  private steeringTtlMs = 0;
  private nextSteeringAt = Number.POSITIVE_INFINITY;

  // Playback.
  private playheadMs = 0;
  private bufferEndMs = 0;
  private nextSegIndex = 0;
  private lastLoadedLevel = -1;
  private lastAppendedLevel = -1;
  private displayLevel = -1;
  private switchPos: number[] = [];
  private switchLevel: number[] = [];
  private switchHead = 0;
  private decidedLevel = -1;
  private starvedSinceRequest = false;

  // The request being worked on (retries keep it).
  private reqKind: 'manifest' | 'segment' = 'manifest';
  private reqLevel = 0;
  private reqIndex = 0;
  private reqOca = 0;
  private reqStartAt = 0;
  private reqCmcd: Cmcd | null = null;
  private retries = 0;
  private retryAt = Number.POSITIVE_INFINITY;
  private requestAt = Number.POSITIVE_INFINITY;

  // Viewer.
  private watchPlayMs = 0;
  private nextSeekPlayMs = Number.POSITIVE_INFINITY;
  private nextPausePlayMs = Number.POSITIVE_INFINITY;
  private mediaErrorPlayMs = Number.POSITIVE_INFINITY;
  private abandonAt = Number.POSITIVE_INFINITY;
  private stallAbandonAt = Number.POSITIVE_INFINITY;
  private resumeAt = Number.POSITIVE_INFINITY;
  private nextHeartbeatAt = Number.POSITIVE_INFINITY;
  private manifestStartAt = 0;
  /** When the first frame shows: the first segment's arrival plus the device's start-up overhead. */
  private firstFrameDueAt = Number.POSITIVE_INFINITY;

  // Ground truth, in the QoE core's terms.
  private lastSettleAt = 0;
  private bucket: number = Bucket.none;
  private stallStartAt = 0;
  private seekOpen = false;
  private seekTargetMs = 0;
  private firstFrameAt = -1;
  private t = {
    playMs: 0,
    pausedMs: 0,
    stallMs: 0,
    seekStallMs: 0,
    stallCount: 0,
    seekStallCount: 0,
    bitrateMsSum: 0,
    firstBitrateKbps: -1,
    switchesUp: 0,
    switchesDown: 0,
    seekCount: 0,
    pauseCount: 0,
    errorCount: 0,
    bytes: 0,
    segments: 0,
    events: 0,
    vsf: false,
    vpf: false,
  };

  // Counters the driver reads for progress.
  stalledNow = false;

  constructor(slot: number, config: PlayerConfig, io: PlayerIo, startAt: number) {
    this.slot = slot;
    this.config = config;
    this.io = io;
    this.traits = config.sampler.drawTraits(new Rng(streamSeed(config.seed, slot, STREAM_TRAITS)));
    this.viewerRng = new Rng(streamSeed(config.seed, slot, STREAM_VIEWER));
    this.errorRng = new Rng(streamSeed(config.seed, slot, STREAM_ERRORS));
    this.viewerId = `v-${config.runTag}-${slot}`;
    const d = this.traits.device;
    this.device = Object.freeze({
      deviceClass: d.deviceClass,
      model: d.model,
      os: d.os,
      playerName: PLAYER_NAME,
      playerVersion: `${config.playerVersion} (${config.mode}; abr=${this.traits.abr}; ${this.traits.access})`,
    });
    this.nextSessionAt = startAt;
  }

  get mode(): FleetMode {
    return this.config.mode;
  }

  get isPlaying(): boolean {
    return this.phase === Phase.playing;
  }

  /** Kbps of the rendition on screen, or -1. */
  get displayedKbps(): number {
    return this.displayLevel >= 0 ? this.levelKbps(this.displayLevel) : -1;
  }

  get inSession(): boolean {
    return this.phase !== Phase.idle && this.phase !== Phase.done;
  }

  /** The OCA the player uses now. */
  currentOca(): PlanOca | null {
    const plan = this.plan;
    const i = this.ocaOrder[0];
    return plan === null || i === undefined ? null : (plan.ocas[i] ?? null);
  }

  // ---------------------------------------------------------------- scheduling

  /** The earliest time this player needs attention (requests whose result is unknown excluded). */
  nextWakeAt(): number {
    let t = Number.POSITIVE_INFINITY;
    const ph = this.phase;
    if (ph === Phase.done) return t;
    if (ph === Phase.idle) return this.nextSessionAt;
    if (this.planOp.active && this.planOp.result !== null) t = Math.min(t, this.planOp.dueAt);
    if (this.mediaOp.active && this.mediaOp.result !== null) t = Math.min(t, this.mediaOp.dueAt);
    if (this.steeringOp.active) {
      if (this.steeringOp.result !== null) t = Math.min(t, this.steeringOp.dueAt);
    } else t = Math.min(t, this.nextSteeringAt);
    if (!this.mediaOp.active) t = Math.min(t, this.retryAt, this.requestAt);
    if (ph === Phase.awaitingPlan || ph === Phase.loadingManifest || ph === Phase.startup) {
      t = Math.min(t, this.abandonAt, this.firstFrameDueAt);
    } else if (ph === Phase.playing) {
      const since = this.lastSettleAt;
      t = Math.min(t, since + (this.bufferEndMs - this.playheadMs));
      if (this.switchHead < this.switchPos.length) {
        t = Math.min(t, since + Math.max(0, (this.switchPos[this.switchHead] as number) - this.playheadMs));
      }
      const played = this.t.playMs;
      t = Math.min(
        t,
        since + Math.max(0, this.watchPlayMs - played),
        since + Math.max(0, this.mediaErrorPlayMs - played),
        since + Math.max(0, this.nextSeekPlayMs - played),
        since + Math.max(0, this.nextPausePlayMs - played),
      );
    } else if (ph === Phase.stalled) {
      t = Math.min(t, this.stallAbandonAt);
    } else if (ph === Phase.paused) {
      t = Math.min(t, this.resumeAt);
    }
    if (this.firstFrameAt >= 0) t = Math.min(t, this.nextHeartbeatAt);
    return t;
  }

  /** Earliest due time of a request whose outcome is not known yet (the driver must wait for it). */
  unresolvedDueAt(): number {
    let t = Number.POSITIVE_INFINITY;
    if (this.planOp.active && this.planOp.result === null) t = Math.min(t, this.planOp.dueAt);
    if (this.mediaOp.active && this.mediaOp.result === null) t = Math.min(t, this.mediaOp.dueAt);
    if (this.steeringOp.active && this.steeringOp.result === null) t = Math.min(t, this.steeringOp.dueAt);
    return t;
  }

  /** Everything due at or before `now`, in time order. */
  advance(now: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const t = this.nextWakeAt();
      if (t > now) return;
      this.step(t);
    }
    throw new Error(`player ${this.slot} made no progress at ${now}`);
  }

  /** Handles the highest-priority item due at time t. */
  private step(t: number): void {
    const ph = this.phase;
    if (ph === Phase.idle) {
      this.startSession(t);
      return;
    }
    this.settle(t);
    if (this.mediaOp.readyBy(t)) {
      this.onMedia(t);
      return;
    }
    if (this.planOp.readyBy(t)) {
      this.onPlan(t);
      return;
    }
    if (this.steeringOp.readyBy(t)) {
      this.onSteering(t);
      return;
    }
    if (ph === Phase.playing) {
      if (
        this.switchHead < this.switchPos.length &&
        (this.switchPos[this.switchHead] as number) <= this.playheadMs
      ) {
        this.applyDueSwitches(t, true);
        return;
      }
      if (this.playheadMs >= this.bufferEndMs) {
        this.onBufferEmpty(t);
        return;
      }
      const played = this.t.playMs;
      if (played >= this.watchPlayMs) {
        this.endSession(t, 'viewer_exit');
        return;
      }
      if (played >= this.mediaErrorPlayMs) {
        this.fatal(t, 'MEDIA_ERROR', 'bufferAppendError', null);
        return;
      }
      if (played >= this.nextSeekPlayMs) {
        this.seek(t);
        return;
      }
      if (played >= this.nextPausePlayMs) {
        this.pause(t);
        return;
      }
    } else if (ph === Phase.paused) {
      if (this.resumeAt <= t) {
        this.resume(t);
        return;
      }
    } else if (ph === Phase.stalled) {
      if (this.stallAbandonAt <= t) {
        this.endSession(t, 'viewer_exit');
        return;
      }
    } else if (ph === Phase.awaitingPlan || ph === Phase.loadingManifest || ph === Phase.startup) {
      if (this.firstFrameDueAt <= t) {
        this.firstFrame(t);
        return;
      }
      if (this.abandonAt <= t) {
        this.endSession(t, 'viewer_exit');
        return;
      }
    }
    if (this.firstFrameAt >= 0 && this.nextHeartbeatAt <= t) {
      this.heartbeat(t);
      return;
    }
    if (!this.steeringOp.active && this.nextSteeringAt <= t) {
      this.pollSteering();
      return;
    }
    if (!this.mediaOp.active && (this.retryAt <= t || this.requestAt <= t)) {
      const retrying = this.retryAt <= t;
      this.retryAt = Number.POSITIVE_INFINITY;
      this.requestAt = Number.POSITIVE_INFINITY;
      if (retrying) this.sendRequest(t);
      else this.schedule(t);
      return;
    }
    throw new Error(`player ${this.slot}: woken at ${t} with nothing due`);
  }

  /**
   * Brings the playhead and the ground truth up to t. Time since the last settle belongs to
   * the bucket the player was in (the QoE core's attribution between consecutive events).
   */
  private settle(t: number): void {
    const dt = t - this.lastSettleAt;
    if (dt > 0) {
      switch (this.bucket) {
        case Bucket.playing:
          this.t.playMs += dt;
          this.t.bitrateMsSum += this.levelKbps(this.displayLevel) * dt;
          this.playheadMs += dt;
          break;
        case Bucket.paused:
          this.t.pausedMs += dt;
          break;
        case Bucket.stalled:
          this.t.stallMs += dt;
          break;
        case Bucket.seekStalled:
          this.t.seekStallMs += dt;
          break;
      }
    }
    this.lastSettleAt = t;
  }

  private setPhase(phase: number): void {
    this.phase = phase;
    this.stalledNow = phase === Phase.stalled;
    if (phase === Phase.playing) this.bucket = Bucket.playing;
    else if (phase === Phase.paused) this.bucket = Bucket.paused;
    else if (phase === Phase.stalled) this.bucket = this.seekOpen ? Bucket.seekStalled : Bucket.stalled;
    else this.bucket = Bucket.none;
  }

  private levelKbps(level: number): number {
    return this.content?.renditions[level]?.kbps ?? 0;
  }

  // ---------------------------------------------------------------- sessions

  private startSession(t: number): void {
    const cfg = this.config;
    const v = cfg.viewer;
    const rng = this.viewerRng;
    this.sessionIndex++;
    this.sessionId = `${cfg.runTag}-${this.slot}-${this.sessionIndex}`;
    this.titleId = cfg.sampler.drawTitle(rng);
    this.seq = 0;
    this.intentAt = t;
    this.intentEmitted = false;
    this.plan = null;
    this.content = null;
    this.knobs = null;
    this.abr = null;
    this.playheadMs = 0;
    this.bufferEndMs = 0;
    this.nextSegIndex = 0;
    this.lastSettleAt = t;
    this.resetTruth();
    this.watchPlayMs = Math.max(
      1_000,
      Math.round(rng.logNormal(this.traits.device.watchMedianMs, v.watchSigma)),
    );
    // A resume point as a share of the title (first 80 %); made a position once the plan
    // says how long the title is. Negative: start at the beginning.
    this.resumeFraction = rng.chance(v.resumeShare) ? rng.uniform() * 0.8 : -1;
    this.startPositionMs = 0;
    this.abandonAt =
      t +
      Math.round(
        v.startupPatienceFloorMs +
          (v.startupAbandonPerSecond > 0
            ? rng.exponential(1000 / v.startupAbandonPerSecond)
            : Number.POSITIVE_INFINITY),
      );
    this.nextSeekPlayMs = this.drawPoisson(v.seeksPerHour, 0);
    this.nextPausePlayMs = this.drawPoisson(v.pausesPerHour, 0);
    this.mediaErrorPlayMs = this.drawPoisson(v.fatalMediaErrorsPerHour, 0);
    this.resumeAt = Number.POSITIVE_INFINITY;
    this.stallAbandonAt = Number.POSITIVE_INFINITY;
    this.nextHeartbeatAt = Number.POSITIVE_INFINITY;
    this.nextSteeringAt = Number.POSITIVE_INFINITY;
    this.steeringUri = null;
    this.retryAt = Number.POSITIVE_INFINITY;
    this.requestAt = Number.POSITIVE_INFINITY;
    this.setPhase(Phase.awaitingPlan);
    this.planOp.start();
    const isp = this.traits.isp;
    this.io.requestPlan(this, {
      titleId: this.titleId,
      sessionId: this.sessionId,
      viewerId: this.viewerId,
      deviceClass: this.traits.device.deviceClass,
      isp: isp.isp,
      region: isp.region,
      country: isp.country,
      clientAddress: isp.clientAddress,
    });
  }

  /** Next event of a Poisson process in play time, `perHour` per hour of play. */
  private drawPoisson(perHour: number, fromPlayMs: number): number {
    if (!(perHour > 0)) return Number.POSITIVE_INFINITY;
    return fromPlayMs + Math.max(1, Math.round(this.viewerRng.exponential(3_600_000 / perHour)));
  }

  private resetTruth(): void {
    const t = this.t;
    t.playMs = 0;
    t.pausedMs = 0;
    t.stallMs = 0;
    t.seekStallMs = 0;
    t.stallCount = 0;
    t.seekStallCount = 0;
    t.bitrateMsSum = 0;
    t.firstBitrateKbps = -1;
    t.switchesUp = 0;
    t.switchesDown = 0;
    t.seekCount = 0;
    t.pauseCount = 0;
    t.errorCount = 0;
    t.bytes = 0;
    t.segments = 0;
    t.events = 0;
    t.vsf = false;
    t.vpf = false;
    this.firstFrameAt = -1;
    this.seekOpen = false;
    this.seekTargetMs = 0;
    this.bucket = Bucket.none;
    this.displayLevel = -1;
    this.lastLoadedLevel = -1;
    this.lastAppendedLevel = -1;
    this.decidedLevel = -1;
    this.switchPos.length = 0;
    this.switchLevel.length = 0;
    this.switchHead = 0;
    this.starvedSinceRequest = false;
  }

  private emitIntent(): void {
    if (this.intentEmitted) return;
    this.intentEmitted = true;
    const plan = this.plan;
    this.emit('play_intent', this.intentAt, null, {
      experiments: plan === null ? [] : [...plan.experiments],
      playIntent: {
        autoplay: true,
        startPositionMs: this.startPositionMs,
        planId: plan?.planId ?? null,
        ocaId: this.currentOca()?.id ?? null,
      },
    });
  }

  private onPlan(t: number): void {
    const result = this.planOp.result as PlanResult;
    this.planOp.clear();
    if (!result.ok) {
      this.emitIntent();
      this.fatal(t, 'NETWORK_ERROR', 'manifestLoadError', result.failure.httpStatus, result.failure.message);
      return;
    }
    const plan = result.plan;
    this.plan = plan;
    // No event of this session has been sent yet (the intent waits for the plan), so the
    // control plane's id can still become the one every event carries.
    if (plan.sessionId !== undefined) this.sessionId = plan.sessionId;
    this.ocaOrder = plan.ocas.map((_, i) => i);
    this.penalizedAt = plan.ocas.map(() => Number.NEGATIVE_INFINITY);
    const initial = plan.steering?.pathwayId;
    if (initial !== undefined) this.prefer([initial]);
    if (this.resumeFraction >= 0 && plan.durationMs !== undefined && plan.segmentDurationMs !== undefined) {
      const segment = plan.segmentDurationMs;
      this.startPositionMs = Math.floor((plan.durationMs * this.resumeFraction) / segment) * segment;
    }
    this.emitIntent();
    try {
      this.knobs = resolveAbrKnobs(plan.abr);
    } catch (err) {
      this.fatal(t, 'NETWORK_ERROR', 'manifestParsingError', null, err instanceof Error ? err.message : null);
      return;
    }
    if (plan.steering !== null) {
      this.steeringUri = plan.steering.uri;
      this.nextSteeringAt = t;
    }
    this.setPhase(Phase.loadingManifest);
    this.manifestStartAt = t;
    this.reqKind = 'manifest';
    this.retries = 0;
    this.sendRequest(t);
  }

  /** Reorders the OCAs: the listed pathways first, in that order; the others after, by plan rank. */
  private prefer(pathways: readonly string[]): void {
    const plan = this.plan;
    if (plan === null) return;
    const order: number[] = [];
    for (const id of pathways) {
      const i = plan.ocas.findIndex((o) => o.id === id);
      if (i >= 0 && !order.includes(i)) order.push(i);
    }
    for (let i = 0; i < plan.ocas.length; i++) if (!order.includes(i)) order.push(i);
    this.ocaOrder = order;
  }

  /** First OCA in the order that is not penalised at t, or -1. */
  private pickOca(t: number): number {
    for (const i of this.ocaOrder) {
      if (t - (this.penalizedAt[i] as number) >= this.config.pathwayPenaltyMs) return i;
    }
    return -1;
  }

  // ---------------------------------------------------------------- requests

  /** Decides whether and what to request next (segments), or when to look again. */
  private schedule(t: number): void {
    const content = this.content;
    const abr = this.abr;
    if (content === null || abr === null || this.mediaOp.active) return;
    if (this.phase === Phase.idle || this.phase === Phase.done) return;
    if (this.retryAt !== Number.POSITIVE_INFINITY) return;
    if (this.nextSegIndex >= content.segmentCount) return;
    const ahead = this.bufferEndMs - this.playheadMs;
    const target = abr.bufferTargetMs(Math.max(0, this.decidedLevel));
    if (ahead >= target) {
      // hls.js loads while the buffer is under its target: look again just below it.
      this.requestAt =
        this.phase === Phase.playing ? t + Math.floor(ahead - target) + 1 : Number.POSITIVE_INFINITY;
      return;
    }
    const decision = abr.decide({
      nowMs: t,
      bufferMs: ahead,
      lastLevel: this.lastLoadedLevel,
      segmentDurationMs: content.segmentDurationMs,
    });
    if (decision.delayMs > 0) {
      this.requestAt = t + Math.ceil(decision.delayMs);
      return;
    }
    this.decidedLevel = decision.level;
    this.reqKind = 'segment';
    this.reqLevel = decision.level;
    this.reqIndex = this.nextSegIndex;
    this.retries = 0;
    this.sendRequest(t);
  }

  /** Sends (or re-sends) the current request to the OCA the order picks. */
  private sendRequest(t: number): void {
    const plan = this.plan;
    if (plan === null) return;
    const oca = this.pickOca(t);
    if (oca < 0) {
      const details = this.reqKind === 'manifest' ? 'manifestLoadError' : 'fragLoadError';
      this.fatal(t, 'NETWORK_ERROR', details, null, 'every OCA of the plan failed');
      return;
    }
    this.reqOca = oca;
    this.reqStartAt = t;
    let cmcd: Cmcd | null = null;
    if (this.reqKind === 'segment') {
      const content = this.content as ContentInfo;
      const ahead = Math.max(0, this.bufferEndMs - this.playheadMs);
      const kbps = this.levelKbps(this.reqLevel);
      const top = content.renditions[content.renditions.length - 1]?.kbps ?? kbps;
      const urgent = this.phase !== Phase.playing && this.phase !== Phase.paused;
      cmcd = {
        br: kbps,
        bl: roundTo(ahead, 100),
        mtp: roundTo((this.abr as Abr).estimateBps() / 1000, 100),
        ot: 'av',
        st: 'v',
        sf: 'h',
        su: urgent,
        d: segmentDurationMs(content, this.reqIndex),
        rtp: roundTo(kbps * RTP_SAFETY_FACTOR, 100),
        tb: top,
        bs: this.starvedSinceRequest,
        // Deadline until the buffer runs dry: the buffer while playing, nothing when it
        // already has, and none while paused (CTA-5004 dl, rounded to 100 ms).
        dl: this.phase === Phase.playing ? roundTo(ahead, 100) : this.phase === Phase.paused ? null : 0,
      };
      this.starvedSinceRequest = false;
    }
    this.reqCmcd = cmcd;
    this.mediaOp.start();
    this.io.requestMedia(this, {
      kind: this.reqKind,
      oca: plan.ocas[oca] as PlanOca,
      ocaIndex: oca,
      level: this.reqLevel,
      index: this.reqIndex,
      cmcd,
    });
  }

  private onMedia(t: number): void {
    const outcome = this.mediaOp.result as MediaOutcome;
    this.mediaOp.clear();
    if (!outcome.ok) {
      this.onMediaError(t, outcome);
      return;
    }
    if (this.reqKind === 'manifest') {
      this.onManifest(t, outcome);
      return;
    }
    this.onSegment(t, outcome);
    return;
  }

  private onMediaError(t: number, outcome: MediaOutcome): void {
    const manifest = this.reqKind === 'manifest';
    const details = manifest
      ? outcome.timedOut
        ? 'manifestLoadTimeOut'
        : 'manifestLoadError'
      : outcome.timedOut
        ? 'fragLoadTimeOut'
        : 'fragLoadError';
    this.emit('error', t, null, {
      error: { type: 'NETWORK_ERROR', details, fatal: false, httpStatus: outcome.httpStatus, message: null },
    });
    this.t.errorCount++;
    const r = this.config.retry;
    if (this.retries < r.maxNumRetry) {
      this.retries++;
      this.retryAt = t + Math.min(r.retryDelayMs * 2 ** (this.retries - 1), r.maxRetryDelayMs);
      return;
    }
    // This OCA is out for a while; try the next one at once.
    this.penalizedAt[this.reqOca] = t;
    this.retries = 0;
    this.retryAt = t;
  }

  private onManifest(t: number, outcome: MediaOutcome): void {
    const plan = this.plan as PlaybackPlan;
    const content = outcome.content ?? contentFromPlan(plan);
    if (content === undefined || content.renditions.length === 0) {
      this.fatal(t, 'NETWORK_ERROR', 'manifestParsingError', null, 'no duration or renditions for the title');
      return;
    }
    this.content = content;
    this.abr = createAbr(this.traits.abr, content.renditions, this.knobs as AbrKnobs, content.durationMs);
    this.playheadMs = Math.min(this.startPositionMs, Math.max(0, content.durationMs - 1));
    this.bufferEndMs = this.playheadMs;
    this.nextSegIndex = Math.floor(this.playheadMs / content.segmentDurationMs);
    this.emit('manifest_loaded', t, null, {
      manifestLoaded: {
        loadMs: t - this.manifestStartAt,
        renditions: content.renditions.length,
        ocaId: (plan.ocas[this.reqOca] as PlanOca).id,
      },
    });
    this.setPhase(Phase.startup);
    this.schedule(t);
  }

  private onSegment(t: number, outcome: MediaOutcome): void {
    const content = this.content as ContentInfo;
    const abr = this.abr as Abr;
    const level = this.reqLevel;
    const index = this.reqIndex;
    const duration = segmentDurationMs(content, index);
    const ahead = Math.max(0, this.bufferEndMs - this.playheadMs);
    const oca = (this.plan as PlaybackPlan).ocas[this.reqOca] as PlanOca;
    abr.onSegmentLoaded({
      nowMs: t,
      requestedAtMs: this.reqStartAt,
      bytes: outcome.bytes,
      downloadMs: outcome.downloadMs,
      ttfbMs: outcome.ttfbMs,
      level,
      durationMs: duration,
      bufferMs: ahead,
    });
    this.t.bytes += outcome.bytes;
    this.t.segments++;
    // Append: the segment covers [start, start + duration); after a seek the playhead may
    // sit inside it, and only the part ahead of the playhead is new.
    const start = index * content.segmentDurationMs;
    if (level !== this.lastAppendedLevel) {
      this.switchPos.push(Math.max(start, this.playheadMs));
      this.switchLevel.push(level);
    }
    this.lastAppendedLevel = level;
    this.lastLoadedLevel = level;
    this.bufferEndMs = start + duration;
    this.nextSegIndex = index + 1;
    this.retries = 0;
    this.emit('segment_downloaded', t, this.reqCmcd, {
      segment: {
        ocaId: oca.id,
        bytes: outcome.bytes,
        downloadMs: outcome.downloadMs,
        bitrateKbps: this.levelKbps(level),
        durationMs: duration,
        level,
        url: outcome.url ?? null,
        cacheHit: outcome.cacheHit ?? null,
      },
    });
    if (this.phase === Phase.startup) {
      if (this.firstFrameDueAt === Number.POSITIVE_INFINITY) {
        this.firstFrameDueAt = t + this.traits.device.startupOverheadMs;
      }
    } else if (this.phase === Phase.stalled) this.endStall(t);
    this.schedule(t);
  }

  // ---------------------------------------------------------------- playback

  private firstFrame(t: number): void {
    this.firstFrameDueAt = Number.POSITIVE_INFINITY;
    this.applyDueSwitches(t, false);
    this.firstFrameAt = t;
    this.abandonAt = Number.POSITIVE_INFINITY;
    this.setPhase(Phase.playing);
    const kbps = this.levelKbps(this.displayLevel);
    this.t.firstBitrateKbps = kbps;
    this.emit('first_frame', t, null, { firstFrame: { bitrateKbps: kbps } });
    this.nextHeartbeatAt = t + this.config.heartbeatIntervalMs;
  }

  /** Shows the level of every switch point the playhead has reached. */
  private applyDueSwitches(t: number, emitSwitch: boolean): void {
    let level = -1;
    while (
      this.switchHead < this.switchPos.length &&
      (this.switchPos[this.switchHead] as number) <= this.playheadMs
    ) {
      level = this.switchLevel[this.switchHead] as number;
      this.switchHead++;
    }
    if (this.switchHead > 32 && this.switchHead * 2 > this.switchPos.length) {
      this.switchPos.splice(0, this.switchHead);
      this.switchLevel.splice(0, this.switchHead);
      this.switchHead = 0;
    }
    if (level < 0 || level === this.displayLevel) return;
    const from = this.displayLevel;
    this.displayLevel = level;
    if (!emitSwitch || from < 0) return;
    const fromKbps = this.levelKbps(from);
    const toKbps = this.levelKbps(level);
    if (toKbps > fromKbps) this.t.switchesUp++;
    else if (toKbps < fromKbps) this.t.switchesDown++;
    this.emit('rendition_switch', t, null, {
      renditionSwitch: { fromKbps, toKbps, level, height: this.content?.renditions[level]?.height ?? null },
    });
  }

  private onBufferEmpty(t: number): void {
    const content = this.content as ContentInfo;
    if (this.bufferEndMs >= content.durationMs) {
      this.endSession(t, 'completed');
      return;
    }
    this.startStall(t);
    (this.abr as Abr).onBufferEmpty();
  }

  private startStall(t: number): void {
    this.stallStartAt = t;
    this.starvedSinceRequest = true;
    if (this.seekOpen) this.t.seekStallCount++;
    else this.t.stallCount++;
    this.setPhase(Phase.stalled);
    const v = this.config.viewer;
    this.stallAbandonAt =
      t + Math.round(v.stallPatienceFloorMs + this.viewerRng.exponential(v.stallPatienceMeanMs));
    this.emit('stall_start', t, null, { stall: { durationMs: null, bufferMs: 0 } });
  }

  private endStall(t: number): void {
    this.stallAbandonAt = Number.POSITIVE_INFINITY;
    this.setPhase(Phase.playing);
    this.emit('stall_end', t, null, {
      stall: { durationMs: t - this.stallStartAt, bufferMs: Math.max(0, this.bufferEndMs - this.playheadMs) },
    });
  }

  private seek(t: number): void {
    const content = this.content as ContentInfo;
    const v = this.config.viewer;
    const rng = this.viewerRng;
    const from = this.playheadMs;
    const offset = Math.round(rng.logNormal(v.seekMedianMs, v.seekSigma));
    const forward = rng.chance(v.seekForwardShare);
    const last = Math.max(0, content.durationMs - content.segmentDurationMs - 1);
    const to = Math.max(0, Math.min(last, forward ? from + offset : from - offset));
    this.nextSeekPlayMs = this.drawPoisson(v.seeksPerHour, this.t.playMs);
    this.t.seekCount++;
    this.seekOpen = true;
    this.seekTargetMs = to;
    this.emit('seek', t, null, { seek: { fromMs: from, toMs: to } });
    if (to >= from && to < this.bufferEndMs) {
      // Inside the buffer: the playhead jumps, nothing is fetched again.
      this.playheadMs = to;
      this.applyDueSwitches(t, true);
      return;
    }
    // Outside: flush the buffer, drop the request in flight, fetch from the target.
    if (this.mediaOp.active) {
      this.mediaOp.clear();
      this.io.cancelMedia(this);
    }
    this.retryAt = Number.POSITIVE_INFINITY;
    this.requestAt = Number.POSITIVE_INFINITY;
    this.retries = 0;
    this.playheadMs = to;
    this.bufferEndMs = to;
    this.nextSegIndex = Math.floor(to / content.segmentDurationMs);
    this.switchPos.length = 0;
    this.switchLevel.length = 0;
    this.switchHead = 0;
    this.lastAppendedLevel = -1;
    (this.abr as Abr).onSeek();
    this.startStall(t);
    this.schedule(t);
  }

  private pause(t: number): void {
    const v = this.config.viewer;
    this.nextPausePlayMs = this.drawPoisson(v.pausesPerHour, this.t.playMs);
    this.t.pauseCount++;
    this.resumeAt =
      t +
      Math.min(
        v.pauseMaxMs,
        Math.max(1, Math.round(this.viewerRng.logNormal(v.pauseMedianMs, v.pauseSigma))),
      );
    this.setPhase(Phase.paused);
    this.requestAt = Number.POSITIVE_INFINITY;
    this.emit('pause', t, null, {});
    this.schedule(t);
  }

  private resume(t: number): void {
    this.resumeAt = Number.POSITIVE_INFINITY;
    this.setPhase(Phase.playing);
    this.emit('resume', t, null, {});
    if (this.playheadMs >= this.bufferEndMs) {
      const content = this.content as ContentInfo;
      if (this.bufferEndMs >= content.durationMs) {
        this.endSession(t, 'completed');
        return;
      }
      this.startStall(t);
    }
    if (!this.mediaOp.active && this.retryAt === Number.POSITIVE_INFINITY) this.schedule(t);
  }

  private heartbeat(t: number): void {
    this.nextHeartbeatAt = t + this.config.heartbeatIntervalMs;
    this.emit('heartbeat', t, null, {
      heartbeat: {
        bufferMs: Math.max(0, this.bufferEndMs - this.playheadMs),
        bitrateKbps: Math.max(0, this.levelKbps(this.displayLevel)),
        droppedFrames: 0,
      },
    });
  }

  // ---------------------------------------------------------------- steering

  private pollSteering(): void {
    const uri = this.steeringUri;
    this.nextSteeringAt = Number.POSITIVE_INFINITY;
    if (uri === null) return;
    this.steeringOp.start();
    this.io.requestSteering(this, {
      uri,
      pathway: this.currentOca()?.id ?? '.',
      throughputBps: this.abr?.estimateBps() ?? this.knobs?.abrEwmaDefaultEstimate ?? 0,
    });
  }

  private onSteering(t: number): void {
    const result = this.steeringOp.result as SteeringResult;
    this.steeringOp.clear();
    if (result.ok) {
      const m = result.manifest;
      this.steeringTtlMs = Math.max(this.config.minSteeringTtlMs, Math.round(m.ttlSec * 1000));
      if (m.reloadUri !== null) this.steeringUri = m.reloadUri;
      this.prefer(m.pathwayPriority);
    } else if (this.steeringTtlMs === 0) {
      this.steeringTtlMs = Math.max(this.config.minSteeringTtlMs, 10_000);
    }
    this.nextSteeringAt = t + this.steeringTtlMs;
  }

  // ---------------------------------------------------------------- endings

  private fatal(
    t: number,
    type: ErrorType,
    details: string,
    httpStatus: number | null,
    message: string | null = null,
  ): void {
    this.emitIntent();
    this.emit('error', t, null, { error: { type, details, fatal: true, httpStatus, message } });
    this.t.errorCount++;
    if (this.firstFrameAt >= 0) this.t.vpf = true;
    else this.t.vsf = true;
    // After a fatal error the QoE core counts no more time.
    this.bucket = Bucket.none;
    this.endSession(t, 'error');
  }

  private endSession(t: number, reason: EndReason): void {
    this.emitIntent();
    const exitDuringStall = this.phase === Phase.stalled && this.bucket === Bucket.stalled;
    this.emit('session_end', t, null, { sessionEnd: { reason } });
    const tr = this.t;
    const started = this.firstFrameAt >= 0;
    const watched = tr.playMs + tr.stallMs;
    const truth: SessionTruth = {
      mode: this.config.mode,
      sessionId: this.sessionId,
      viewerId: this.viewerId,
      titleId: this.titleId,
      deviceClass: this.traits.device.deviceClass,
      isp: this.traits.isp.isp,
      region: this.traits.isp.region,
      access: this.traits.access,
      abr: this.traits.abr,
      planId: this.plan?.planId ?? null,
      startTime: this.config.epochMs + this.intentAt,
      endTime: this.config.epochMs + t,
      endReason: reason,
      startupMs: started ? this.firstFrameAt - this.intentAt : null,
      ebvs: !started && !tr.vsf && reason !== 'error',
      vsf: tr.vsf || (!started && reason === 'error'),
      vpf: tr.vpf,
      playMs: tr.playMs,
      pausedMs: tr.pausedMs,
      stallMs: tr.stallMs,
      seekStallMs: tr.seekStallMs,
      stallCount: tr.stallCount,
      seekStallCount: tr.seekStallCount,
      rebufferRatio: started ? (watched > 0 ? tr.stallMs / watched : 0) : null,
      avgBitrateKbps: tr.playMs > 0 ? tr.bitrateMsSum / tr.playMs : null,
      firstBitrateKbps: tr.firstBitrateKbps >= 0 ? tr.firstBitrateKbps : null,
      switchesUp: tr.switchesUp,
      switchesDown: tr.switchesDown,
      seekCount: tr.seekCount,
      pauseCount: tr.pauseCount,
      errorCount: tr.errorCount,
      exitDuringStall,
      bytes: tr.bytes,
      segments: tr.segments,
      eventCount: tr.events,
    };
    this.closeSession();
    this.nextSessionAt =
      t + Math.max(1, Math.round(this.viewerRng.exponential(this.config.viewer.thinkTimeMeanMs)));
    this.io.sessionEnded(this, truth);
  }

  private closeSession(): void {
    if (this.mediaOp.active) {
      this.mediaOp.clear();
      this.io.cancelMedia(this);
    }
    this.planOp.clear();
    this.steeringOp.clear();
    this.retryAt = Number.POSITIVE_INFINITY;
    this.requestAt = Number.POSITIVE_INFINITY;
    this.nextHeartbeatAt = Number.POSITIVE_INFINITY;
    this.nextSteeringAt = Number.POSITIVE_INFINITY;
    this.abandonAt = Number.POSITIVE_INFINITY;
    this.stallAbandonAt = Number.POSITIVE_INFINITY;
    this.resumeAt = Number.POSITIVE_INFINITY;
    this.firstFrameDueAt = Number.POSITIVE_INFINITY;
    this.firstFrameAt = -1;
    this.setPhase(Phase.idle);
  }

  /**
   * The run is over: a session with events so far ends as `navigated_away` (the viewer was
   * taken away mid-session); one still waiting for its plan has sent nothing and just stops.
   */
  shutdown(t: number): void {
    if (this.phase === Phase.done) return;
    if (this.phase !== Phase.idle) {
      this.settle(t);
      if (this.intentEmitted) this.endSession(t, 'navigated_away');
      else this.closeSession();
    }
    this.setPhase(Phase.done);
  }

  // ---------------------------------------------------------------- events

  private emit(kind: WireEvent['kind'], t: number, cmcd: Cmcd | null, payload: Partial<WireEvent>): void {
    const event: WireEvent = {
      sessionId: this.sessionId,
      seq: this.seq++,
      viewerId: this.viewerId,
      titleId: this.titleId,
      clientTs: this.config.epochMs + t,
      kind,
      playheadMs: this.content === null ? null : Math.max(0, Math.round(this.playheadMs)),
      device: this.device,
      ...(cmcd === null ? {} : { cmcd }),
      ...payload,
    };
    this.t.events++;
    // The QoE core closes a seek window when playback shows it resumed: stall_end, or any
    // event past the seek target while playing (view-fold.ts). Mirror it for the truth.
    if (this.seekOpen && kind !== 'seek' && this.phase === Phase.playing) {
      if (
        kind === 'stall_end' ||
        (event.playheadMs !== null && event.playheadMs !== undefined && event.playheadMs > this.seekTargetMs)
      ) {
        this.seekOpen = false;
      }
    }
    this.io.emit(this, event);
  }
}
