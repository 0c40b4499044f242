/**
 * The QoE state machine of one view, as a fold: events go in one at a time in `seq` order,
 * a compact accumulator comes out, and `finishView` turns it into a SessionSummary. The
 * batch function (summarize.ts) and the streaming sessionizer (processors/sessionize) both
 * drive this one fold, so they cannot disagree on a definition.
 *
 * The state is plain data (numbers, strings, the first OCA inline and a small array for any
 * other), never the events: about 400 bytes per open view, and it can be snapshotted as JSON.
 *
 * Time attribution. Between two consecutive events the elapsed time (in monotone corrected
 * event time, see event-time.ts) belongs to the phase the view was in after the first of
 * them:
 *
 *   idle        before anything happened (no play_intent yet): not counted
 *   startup     play_intent seen, no first frame yet: play delay, not play time
 *   playing     play time; weighted by the current rendition bitrate for avgBitrateKbps
 *   paused      pausedMs
 *   stalled     stallMs (rebuffering)
 *   seekStalled seekStallMs: a stall caused by a seek, excluded from play and stall time
 *   failed      after a fatal error: not counted
 *   ended       after session_end: later events are not folded
 *
 * Seeks. A seek opens a seek window; a stall that starts inside it is a seek stall. The
 * window closes when playback is shown to have resumed: a stall_end, or any event whose
 * playhead is past the seek target while playing. A seek during a stall turns the rest of
 * that stall into a seek stall.
 *
 * A view that begins without play_intent (the part of a session after a long gap, or one
 * whose play_intent was lost) is a continuation: it starts playing at its first playback
 * event (heartbeat, resume, stall, switch, seek) or paused at a pause, and has no startup.
 */
import type {
  EndReason,
  ExperimentCell,
  PlaybackError,
  PlaybackEvent,
} from '../../schemas/generated/playback-event.ts';
import type {
  OcaDelivery,
  SessionEndReason,
  SessionSummary,
  StartupOutcome,
} from '../../schemas/generated/playback-session.ts';
import { type Dimensions, type Interner, noInterning } from './interner.ts';
import { SCORE_VERSION, sessionScore } from './score.ts';

/** Version of the QoE definitions of this folder; equals the score version while they move together. */
export const SUMMARY_VERSION = SCORE_VERSION;

export const Phase = Object.freeze({
  idle: 0,
  startup: 1,
  playing: 2,
  paused: 3,
  stalled: 4,
  seekStalled: 5,
  failed: 6,
  ended: 7,
});

/** How video started in this view: not yet, by a first_frame, or already playing (continuation). */
export const StartKind = Object.freeze({ none: 0, firstFrame: 1, continued: 2 });

export interface OcaAccumulator {
  readonly ocaId: string;
  bytes: number;
  downloadMs: number;
  segments: number;
}

/**
 * The accumulator. Times are kept relative to `startTime` (small integers, which V8 stores
 * unboxed); -1 means "not seen". Field order is fixed by `createView` so every view shares
 * one hidden class.
 */
export interface ViewState {
  sessionId: string;
  viewerId: string;
  titleId: string;
  /** Server context and player of the first event, shared between views by the interner. */
  dims: Dimensions;
  experiments: readonly ExperimentCell[];
  firstSeq: number;
  lastSeq: number;
  eventCount: number;
  /** Corrected event time of the first event, epoch ms. */
  startTime: number;
  /** Monotone time of the last folded event, ms after startTime. */
  lastAt: number;
  phase: number;
  startKind: number;
  attempt: boolean;
  intentAt: number;
  firstFrameAt: number;
  endReason: EndReason | null;
  seekOpen: boolean;
  seekTargetMs: number;
  playMs: number;
  pausedMs: number;
  stallMs: number;
  seekStallMs: number;
  stallCount: number;
  seekStallCount: number;
  seekCount: number;
  pauseCount: number;
  errorCount: number;
  switchesUp: number;
  switchesDown: number;
  bitrateKbps: number;
  firstBitrateKbps: number;
  /** Sum of bitrate (kbps) x play ms at a known bitrate. */
  bitrateMsSum: number;
  bitrateKnownMs: number;
  /**
   * Delivery per OCA in order of first use: the first OCA inline (most views use one), the
   * others in `moreOcas`, an array exactly as long as needed.
   */
  firstOcaId: string | null;
  firstOcaBytes: number;
  firstOcaDownloadMs: number;
  firstOcaSegments: number;
  moreOcas: OcaAccumulator[] | null;
  manifestOcaId: string | null;
  planOcaId: string | null;
  vsf: boolean;
  vpf: boolean;
  exitDuringStall: boolean;
  fatalError: PlaybackError | null;
  sourcePartition: number;
  sourceOffsetFirst: number;
  sourceOffsetLast: number;
}

const EMPTY_CELLS: readonly ExperimentCell[] = Object.freeze([]);

/** Starts a view with its first event (already deduplicated and in seq order). */
export function createView(first: PlaybackEvent, time: number, intern: Interner = noInterning): ViewState {
  const view: ViewState = {
    sessionId: first.sessionId,
    viewerId: first.viewerId,
    titleId: intern.string(first.titleId),
    dims: intern.dimensions({
      deviceClass: first.server.deviceClass,
      isp: first.server.isp,
      region: first.server.region,
      country: first.server.country,
      playerName: first.device.playerName,
    }),
    experiments: EMPTY_CELLS,
    firstSeq: first.seq,
    lastSeq: first.seq,
    eventCount: 1,
    startTime: time,
    lastAt: 0,
    phase: Phase.idle,
    startKind: StartKind.none,
    attempt: false,
    intentAt: -1,
    firstFrameAt: -1,
    endReason: null,
    seekOpen: false,
    seekTargetMs: 0,
    playMs: 0,
    pausedMs: 0,
    stallMs: 0,
    seekStallMs: 0,
    stallCount: 0,
    seekStallCount: 0,
    seekCount: 0,
    pauseCount: 0,
    errorCount: 0,
    switchesUp: 0,
    switchesDown: 0,
    bitrateKbps: -1,
    firstBitrateKbps: -1,
    bitrateMsSum: 0,
    bitrateKnownMs: 0,
    firstOcaId: null,
    firstOcaBytes: 0,
    firstOcaDownloadMs: 0,
    firstOcaSegments: 0,
    moreOcas: null,
    manifestOcaId: null,
    planOcaId: null,
    vsf: false,
    vpf: false,
    exitDuringStall: false,
    fatalError: null,
    sourcePartition: -1,
    sourceOffsetFirst: -1,
    sourceOffsetLast: -1,
  };
  apply(view, first, 0, intern);
  return view;
}

/** Corrected time of the view's last folded event, epoch ms. */
export function viewLastTime(view: ViewState): number {
  return view.startTime + view.lastAt;
}

export function viewEnded(view: ViewState): boolean {
  return view.phase === Phase.ended;
}

/**
 * Whether an event at `time` starts a new view: more than `viewGapMs` after the view's last
 * folded event. Checked by the caller before `foldEvent`.
 */
export function opensNewView(view: ViewState, time: number, viewGapMs: number): boolean {
  return time - viewLastTime(view) > viewGapMs;
}

/**
 * Folds the next event (higher seq than any folded before). Returns false, folding
 * nothing, once the view has ended: events after session_end belong to no metric.
 */
export function foldEvent(
  view: ViewState,
  event: PlaybackEvent,
  time: number,
  intern: Interner = noInterning,
): boolean {
  if (view.phase === Phase.ended) return false;
  const rel = relativeMs(time - view.startTime);
  const at = Math.max(rel, view.lastAt);
  const dt = at - view.lastAt;
  if (dt > 0) attribute(view, dt);
  view.lastAt = at;
  view.lastSeq = event.seq;
  view.eventCount++;
  apply(view, event, at, intern);
  return true;
}

/** Longest view span kept exactly: 2^31 - 1 ms (24.8 days); longer spans saturate. */
const MAX_RELATIVE_MS = 0x7fff_ffff;

/**
 * Times relative to the view's start as int32, so V8 keeps them (and the durations summed
 * from them) as small integers inside the object instead of boxing each in a heap number.
 */
function relativeMs(diff: number): number {
  return diff < MAX_RELATIVE_MS ? diff | 0 : MAX_RELATIVE_MS;
}

/** Records where a folded event came from, for the summary's offset range. */
export function recordSource(view: ViewState, partition: number, offset: number): void {
  if (view.sourcePartition < 0) view.sourcePartition = partition;
  if (partition !== view.sourcePartition) return;
  if (view.sourceOffsetFirst < 0 || offset < view.sourceOffsetFirst) view.sourceOffsetFirst = offset;
  if (offset > view.sourceOffsetLast) view.sourceOffsetLast = offset;
}

function attribute(view: ViewState, dt: number): void {
  switch (view.phase) {
    case Phase.playing:
      view.playMs += dt;
      if (view.bitrateKbps >= 0) {
        view.bitrateMsSum += view.bitrateKbps * dt;
        view.bitrateKnownMs += dt;
      }
      return;
    case Phase.paused:
      view.pausedMs += dt;
      return;
    case Phase.stalled:
      view.stallMs += dt;
      return;
    case Phase.seekStalled:
      view.seekStallMs += dt;
      return;
    default:
      return;
  }
}

function started(view: ViewState): boolean {
  return view.startKind !== StartKind.none;
}

/** A continuation view starts playing at its first playback event. */
function continueIfIdle(view: ViewState): void {
  if (view.phase === Phase.idle) {
    view.phase = Phase.playing;
    view.startKind = StartKind.continued;
  }
}

/** Phases in which the viewer has video (started, not failed, not ended). */
function live(view: ViewState): boolean {
  return (
    view.phase === Phase.playing ||
    view.phase === Phase.paused ||
    view.phase === Phase.stalled ||
    view.phase === Phase.seekStalled
  );
}

function apply(view: ViewState, e: PlaybackEvent, at: number, intern: Interner): void {
  // Cells come with play_intent; before it (or without one) the first event carrying any.
  if (!view.attempt && view.experiments.length === 0 && e.experiments.length > 0) {
    view.experiments = intern.cells(e.experiments);
  }
  switch (e.kind) {
    case 'play_intent':
      if (view.phase === Phase.idle && !started(view)) {
        view.phase = Phase.startup;
        view.attempt = true;
        view.intentAt = at;
        view.experiments = intern.cells(e.experiments);
        const oca = e.playIntent?.ocaId ?? null;
        view.planOcaId = oca === null ? null : intern.string(oca);
      }
      break;
    case 'manifest_loaded': {
      const oca = e.manifestLoaded?.ocaId ?? null;
      if (view.manifestOcaId === null && oca !== null) view.manifestOcaId = intern.string(oca);
      break;
    }
    case 'first_frame':
      if (!started(view) && (view.phase === Phase.idle || view.phase === Phase.startup)) {
        view.startKind = StartKind.firstFrame;
        view.firstFrameAt = at;
        view.phase = Phase.playing;
        const kbps = e.firstFrame?.bitrateKbps ?? -1;
        view.bitrateKbps = kbps;
        view.firstBitrateKbps = kbps;
      }
      break;
    case 'rendition_switch': {
      continueIfIdle(view);
      const sw = e.renditionSwitch;
      if (sw !== null && live(view)) {
        // hls.js may switch levels before the first frame; those the viewer never sees.
        if (sw.toKbps > sw.fromKbps) view.switchesUp++;
        else if (sw.toKbps < sw.fromKbps) view.switchesDown++;
        view.bitrateKbps = sw.toKbps;
      }
      break;
    }
    case 'stall_start':
      continueIfIdle(view);
      // Stalls before the first frame are play delay; while paused there is nothing to stall.
      if (view.phase === Phase.playing) {
        if (view.seekOpen) {
          view.phase = Phase.seekStalled;
          view.seekStallCount++;
        } else {
          view.phase = Phase.stalled;
          view.stallCount++;
        }
      }
      break;
    case 'stall_end':
      continueIfIdle(view);
      if (view.phase === Phase.stalled || view.phase === Phase.seekStalled) view.phase = Phase.playing;
      if (view.phase === Phase.playing) view.seekOpen = false;
      break;
    case 'seek':
      continueIfIdle(view);
      if (live(view)) {
        view.seekCount++;
        view.seekOpen = true;
        view.seekTargetMs = e.seek?.toMs ?? e.playheadMs ?? 0;
        if (view.phase === Phase.stalled) view.phase = Phase.seekStalled;
      }
      break;
    case 'pause':
      if (view.phase === Phase.idle) {
        view.phase = Phase.paused;
        view.startKind = StartKind.continued;
        view.pauseCount++;
      } else if (
        view.phase === Phase.playing ||
        view.phase === Phase.stalled ||
        view.phase === Phase.seekStalled
      ) {
        // Pausing ends a stall: from here on the viewer, not the network, holds playback.
        view.phase = Phase.paused;
        view.pauseCount++;
      }
      break;
    case 'resume':
      continueIfIdle(view);
      if (view.phase === Phase.paused) view.phase = Phase.playing;
      break;
    case 'heartbeat':
      continueIfIdle(view);
      if (view.bitrateKbps < 0 && started(view) && e.heartbeat !== null)
        view.bitrateKbps = e.heartbeat.bitrateKbps;
      break;
    case 'segment_downloaded':
      if (e.segment !== null)
        addSegment(view, e.segment.ocaId, e.segment.bytes, e.segment.downloadMs, intern);
      break;
    case 'error':
      view.errorCount++;
      if (e.error?.fatal && view.phase !== Phase.failed) {
        if (started(view)) view.vpf = true;
        else view.vsf = true;
        view.fatalError = e.error;
        view.phase = Phase.failed;
      }
      break;
    case 'session_end':
      view.endReason = e.sessionEnd?.reason ?? 'viewer_exit';
      view.exitDuringStall = view.phase === Phase.stalled;
      view.phase = Phase.ended;
      break;
  }
  // Playback has resumed after a seek once the playhead is past the seek target.
  if (
    view.seekOpen &&
    view.phase === Phase.playing &&
    e.kind !== 'seek' &&
    e.playheadMs !== null &&
    e.playheadMs > view.seekTargetMs
  ) {
    view.seekOpen = false;
  }
}

function addSegment(
  view: ViewState,
  ocaId: string,
  bytes: number,
  downloadMs: number,
  intern: Interner,
): void {
  if (view.firstOcaId === null || view.firstOcaId === ocaId) {
    if (view.firstOcaId === null) view.firstOcaId = intern.string(ocaId);
    view.firstOcaBytes += bytes;
    view.firstOcaDownloadMs += downloadMs;
    view.firstOcaSegments++;
    return;
  }
  const more = view.moreOcas;
  if (more !== null) {
    for (const acc of more) {
      if (acc.ocaId === ocaId) {
        acc.bytes += bytes;
        acc.downloadMs += downloadMs;
        acc.segments++;
        return;
      }
    }
  }
  // A new array of exactly the right length: push() would reserve room for 16 more entries.
  const acc: OcaAccumulator = { ocaId: intern.string(ocaId), bytes, downloadMs, segments: 1 };
  view.moreOcas = more === null ? [acc] : [...more, acc];
}

/**
 * A copy of the view that later folds leave alone, made for a checkpoint's cut. Shallow, and
 * that is enough: the only part of a view that folding changes in place is its extra OCA
 * accumulators (`moreOcas`); every other field is a primitive or is replaced whole when it
 * changes (`experiments`, `fatalError`), and `dims` is interned, shared and never written.
 * Several times cheaper than structuredClone, which also copied the shared parts.
 */
export function copyView(view: ViewState): ViewState {
  const more = view.moreOcas;
  return { ...view, moreOcas: more === null ? null : more.map((acc) => ({ ...acc })) };
}

/** Every OCA's delivery, in order of first use. */
export function viewOcas(view: ViewState): OcaAccumulator[] {
  if (view.firstOcaId === null) return [];
  const first: OcaAccumulator = {
    ocaId: view.firstOcaId,
    bytes: view.firstOcaBytes,
    downloadMs: view.firstOcaDownloadMs,
    segments: view.firstOcaSegments,
  };
  return view.moreOcas === null ? [first] : [first, ...view.moreOcas];
}

/** Why a view that has no session_end closed. */
export type CloseReason = 'timed_out' | 'evicted' | 'open';

function startupOutcome(view: ViewState, close: CloseReason): StartupOutcome {
  if (view.startKind === StartKind.firstFrame) return 'started';
  if (view.startKind === StartKind.continued) return 'continued';
  if (view.vsf) return 'vsf';
  if (view.endReason !== null) return view.endReason === 'error' ? 'vsf' : 'ebvs';
  // A play attempt that went silent without a frame or an error ended before video start
  // with no failure reported: an exit before video start (the viewer closed the player
  // without it sending session_end, or the player hung).
  if (close === 'timed_out' && view.attempt) return 'ebvs';
  return 'unknown';
}

function throughput(bytes: number, downloadMs: number): number | null {
  // bytes * 8 bits / ms = kbit/s.
  return downloadMs > 0 ? (bytes * 8) / downloadMs : null;
}

/** The summary of a view. `close` applies only when the player sent no session_end. */
export function finishView(view: ViewState, close: CloseReason): SessionSummary {
  const outcome = startupOutcome(view, close);
  const endReason: SessionEndReason = view.endReason ?? close;
  const isStarted = view.startKind !== StartKind.none;
  const watched = view.playMs + view.stallMs;
  const rebufferRatio = isStarted ? (watched > 0 ? view.stallMs / watched : 0) : null;
  const stallsPerHour = isStarted && watched > 0 ? (view.stallCount * 3_600_000) / watched : null;
  const avgBitrateKbps = view.bitrateKnownMs > 0 ? view.bitrateMsSum / view.bitrateKnownMs : null;
  const startupMs =
    view.startKind === StartKind.firstFrame && view.intentAt >= 0 ? view.firstFrameAt - view.intentAt : null;
  const firstBitrateKbps = view.firstBitrateKbps >= 0 ? view.firstBitrateKbps : null;
  const ocas: OcaDelivery[] = viewOcas(view).map((o) => ({
    ocaId: o.ocaId,
    bytes: o.bytes,
    downloadMs: o.downloadMs,
    segments: o.segments,
    throughputKbps: throughput(o.bytes, o.downloadMs),
  }));
  let dominant: OcaDelivery | null = null;
  let bytes = 0;
  let downloadMs = 0;
  let segments = 0;
  for (const o of ocas) {
    bytes += o.bytes;
    downloadMs += o.downloadMs;
    segments += o.segments;
    if (
      dominant === null ||
      o.bytes > dominant.bytes ||
      (o.bytes === dominant.bytes && o.ocaId < dominant.ocaId)
    ) {
      dominant = o;
    }
  }
  const firstOcaId = ocas[0]?.ocaId ?? view.manifestOcaId ?? view.planOcaId;
  const vpf = view.vpf;
  const score = sessionScore({
    startupOutcome: outcome,
    startupMs,
    vpf,
    stallCount: view.stallCount,
    rebufferRatio,
    avgBitrateKbps,
    firstBitrateKbps,
    switchesUp: view.switchesUp,
    switchesDown: view.switchesDown,
    playMs: view.playMs,
  });
  const hasSource = view.sourcePartition >= 0;
  return {
    summaryId: `${view.sessionId}:${view.firstSeq}`,
    summaryVersion: SUMMARY_VERSION,
    sessionId: view.sessionId,
    viewerId: view.viewerId,
    titleId: view.titleId,
    firstSeq: view.firstSeq,
    lastSeq: view.lastSeq,
    playAttempt: view.attempt,
    startTime: view.startTime,
    endTime: view.startTime + view.lastAt,
    durationMs: view.lastAt,
    endReason,
    startupOutcome: outcome,
    ebvs: outcome === 'ebvs',
    vsf: outcome === 'vsf',
    vpf,
    startupMs,
    playMs: view.playMs,
    pausedMs: view.pausedMs,
    stallMs: view.stallMs,
    seekStallMs: view.seekStallMs,
    stallCount: view.stallCount,
    seekStallCount: view.seekStallCount,
    rebufferRatio,
    stallsPerHour,
    exitDuringStall: view.exitDuringStall,
    avgBitrateKbps,
    firstBitrateKbps,
    switchesUp: view.switchesUp,
    switchesDown: view.switchesDown,
    bytes,
    downloadMs,
    segments,
    throughputKbps: throughput(bytes, downloadMs),
    ocaId: dominant?.ocaId ?? firstOcaId,
    firstOcaId,
    planOcaId: view.planOcaId,
    ocas,
    deviceClass: view.dims.deviceClass,
    isp: view.dims.isp,
    region: view.dims.region,
    country: view.dims.country,
    playerName: view.dims.playerName,
    experiments: view.experiments.map((c) => ({ key: c.key, cell: c.cell })),
    eventCount: view.eventCount,
    missingSeqCount: view.lastSeq - view.firstSeq + 1 - view.eventCount,
    seekCount: view.seekCount,
    pauseCount: view.pauseCount,
    errorCount: view.errorCount,
    fatalErrorType: view.fatalError?.type ?? null,
    fatalErrorDetails: view.fatalError?.details ?? null,
    score: score.score,
    scoreStartup: score.startup,
    scoreSmoothness: score.smoothness,
    scoreQuality: score.quality,
    sourcePartition: hasSource ? view.sourcePartition : null,
    sourceOffsetFirst: hasSource ? view.sourceOffsetFirst : null,
    sourceOffsetLast: hasSource ? view.sourceOffsetLast : null,
  };
}
