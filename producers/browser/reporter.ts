/**
 * The page-side reporter: listens to an hls.js instance and its media element and sends
 * playloop events (schemas/playback-event.avsc, without `server`) to ingest through the
 * browser-safe client library (producers/client). Bundled for the page (server.ts) with
 * the page script; hls.js itself is a type-only import here (the page loads hls.min.js).
 *
 *   play_intent         when attached (before loadSource: the viewer asked to play)
 *   manifest_loaded     MANIFEST_LOADED (load time, renditions of the initial Pathway)
 *   first_frame         the media element's first `playing`
 *   rendition_switch    FRAG_CHANGED to a fragment of another bitrate (what is on screen)
 *   stall_start/_end    `waiting` while playing / the next `playing`
 *   segment_downloaded  FRAG_LOADED of a main-playlist media segment, with CMCD keys
 *   heartbeat           every `heartbeatIntervalMs` while the session lasts
 *   error               ERROR (every one, fatal or not, with hls.js type and details)
 *   seek, pause, resume the media element's `seeking`, `pause`, `playing` after a pause
 *   session_end         `end(reason)`, or `ended` of the media element (completed)
 */
import type Hls from 'hls.js';
import type { ErrorData, FragChangedData, FragLoadedData, ManifestLoadedData } from 'hls.js';
import type {
  DeviceInfo,
  EndReason,
  EventKind,
  ExperimentCell,
} from '../../schemas/generated/playback-event.ts';
import {
  type ClientStats,
  type FlushResult,
  IngestClient,
  type PayloadOf,
  PlaybackSession,
  type TrackExtras,
} from '../client/index.ts';
import type { WireEvent } from '../client/wire.ts';
import {
  bufferAheadMs,
  DisplayedRendition,
  errorEvent,
  kbpsOf,
  type MediaEvent,
  MediaPhases,
  type MediaSignal,
  ocaOfUrl,
  type PlanOca,
  segmentEvent,
  type TimeRange,
} from './events.ts';

export interface ReporterOptions {
  /** Ingest base URL and key (the page's own key: a public, low-privilege one in production). */
  readonly ingest: {
    readonly endpoint: string;
    readonly key: string;
    readonly flushIntervalMs?: number;
  };
  /** The playback plan's identity: its sessionId is also the CMCD `sid`. */
  readonly session: {
    readonly sessionId: string;
    readonly viewerId: string;
    readonly titleId: string;
    readonly planId?: string;
    readonly experiments?: readonly ExperimentCell[];
  };
  /** The plan's OCAs: segment URLs are attributed to them by origin. */
  readonly ocas: readonly PlanOca[];
  /** The Pathway the player starts on (EXT-X-CONTENT-STEERING PATHWAY-ID). */
  readonly initialPathway?: string;
  readonly heartbeatIntervalMs?: number;
  readonly device?: Partial<DeviceInfo>;
  /** Told about every event as it is queued (the page's own log and status line). */
  readonly onEvent?: (event: WireEvent) => void;
}

export interface Reporter {
  /** Sends session_end and everything still queued; later calls return the same promise. */
  end(reason: EndReason): Promise<FlushResult>;
  readonly stats: ClientStats;
}

/** The hls.js class: its static Events and version (the page passes the global `Hls`). */
export type HlsClass = typeof Hls;

function rangesOf(media: HTMLMediaElement): TimeRange[] {
  const out: TimeRange[] = [];
  for (let i = 0; i < media.buffered.length; i++) {
    out.push({ start: media.buffered.start(i), end: media.buffered.end(i) });
  }
  return out;
}

/** A Pathway ID from hls.js level attributes (AttrList values are untyped). */
function pathwayOf(attrs: Readonly<Record<string, unknown>>): string {
  const value = attrs['PATHWAY-ID'];
  return typeof value === 'string' && value !== '' ? value : '.';
}

export function attachReporter(
  HlsCtor: HlsClass,
  hls: Hls,
  media: HTMLMediaElement,
  options: ReporterOptions,
): Reporter {
  const Events = HlsCtor.Events;
  const client = new IngestClient({
    endpoint: options.ingest.endpoint,
    key: options.ingest.key,
    flushIntervalMs: options.ingest.flushIntervalMs ?? 1_000,
  });
  const session = new PlaybackSession(client, {
    sessionId: options.session.sessionId,
    viewerId: options.session.viewerId,
    titleId: options.session.titleId,
    device: {
      deviceClass: 'desktop',
      playerName: 'hls.js',
      playerVersion: HlsCtor.version,
      userAgent: navigator.userAgent.slice(0, 1_024),
      ...options.device,
    },
    ...(options.session.experiments === undefined ? {} : { experiments: [...options.session.experiments] }),
  });
  const phases = new MediaPhases();
  const displayed = new DisplayedRendition();
  let ended: Promise<FlushResult> | undefined;
  let lastPlayheadMs = 0;
  // A segment is urgent (CMCD su) while playback waits for it: before the first frame, and
  // from a stall or seek until playback resumes.
  let urgent = true;

  const playhead = (): number => Math.round(media.currentTime * 1_000);
  const bufferMs = (): number => bufferAheadMs(rangesOf(media), media.currentTime);

  function emit<K extends EventKind>(kind: K, payload: PayloadOf<K>, extras: TrackExtras = {}): void {
    if (ended !== undefined) return;
    const queued = session.track(kind, payload, { playheadMs: playhead(), ...extras });
    options.onEvent?.(queued);
  }

  function emitMedia(event: MediaEvent): void {
    switch (event.kind) {
      case 'first_frame': {
        const level = hls.levels[hls.currentLevel] ?? hls.levels[hls.loadLevel];
        emit('first_frame', {
          firstFrame: { bitrateKbps: displayed.current ?? kbpsOf(level?.bitrate ?? 0) },
        });
        urgent = false;
        return;
      }
      case 'stall_start':
        emit('stall_start', { stall: event.stall });
        urgent = true;
        return;
      case 'stall_end':
        emit('stall_end', { stall: event.stall });
        urgent = false;
        return;
      case 'pause':
        emit('pause', {});
        return;
      case 'resume':
        emit('resume', {});
        urgent = false;
        return;
      case 'seek':
        emit('seek', { seek: event.seek });
        urgent = true;
        return;
      case 'session_end':
        emit('session_end', { sessionEnd: event.sessionEnd });
        return;
    }
  }

  function onMedia(signal: MediaSignal): void {
    if (ended !== undefined) return;
    for (const event of phases.next(signal, performance.now())) emitMedia(event);
  }

  emit('play_intent', {
    playIntent: {
      autoplay: media.autoplay,
      startPositionMs: 0,
      planId: options.session.planId ?? options.session.sessionId,
      ocaId: options.initialPathway ?? options.ocas[0]?.id ?? null,
    },
  });

  const onManifestLoaded = (_e: string, data: ManifestLoadedData): void => {
    const pathway = options.initialPathway ?? '.';
    const own = data.levels.filter((l) => pathwayOf(l.attrs) === pathway).length;
    emit('manifest_loaded', {
      manifestLoaded: {
        loadMs: Math.max(0, Math.round(data.stats.loading.end - data.stats.loading.start)),
        renditions: own > 0 ? own : data.levels.length,
        ocaId: options.initialPathway ?? null,
      },
    });
  };

  const onFragLoaded = (_e: string, data: FragLoadedData): void => {
    const frag = data.frag;
    if (frag.type !== 'main' || frag.sn === 'initSegment') return;
    const ocaId = ocaOfUrl(frag.url, options.ocas);
    if (ocaId === undefined) return;
    const level = hls.levels[frag.level];
    const { payload, cmcd } = segmentEvent({
      url: frag.url,
      ocaId,
      bytes: frag.stats.loaded,
      requestStartMs: frag.stats.loading.start,
      loadEndMs: frag.stats.loading.end,
      bitrateBps: level?.bitrate ?? 0,
      durationSec: frag.duration,
      level: frag.level,
      bufferMs: bufferMs(),
      throughputBps: hls.bandwidthEstimate,
      urgent,
    });
    emit('segment_downloaded', payload, { cmcd });
  };

  const onFragChanged = (_e: string, data: FragChangedData): void => {
    const level = hls.levels[data.frag.level];
    if (level === undefined) return;
    const change = displayed.displayed(level.bitrate, data.frag.level, level.height);
    if (change !== undefined && phases.started) emit('rendition_switch', change);
  };

  const onError = (_e: string, data: ErrorData): void => {
    emit(
      'error',
      errorEvent({
        type: data.type,
        details: data.details,
        fatal: data.fatal,
        httpStatus: data.response?.code,
        message: data.error?.message,
      }),
    );
  };

  hls.on(Events.MANIFEST_LOADED, onManifestLoaded);
  hls.on(Events.FRAG_LOADED, onFragLoaded);
  hls.on(Events.FRAG_CHANGED, onFragChanged);
  hls.on(Events.ERROR, onError);

  const listeners: Array<[keyof HTMLMediaElementEventMap, () => void]> = [
    ['playing', () => onMedia({ kind: 'playing' })],
    ['waiting', () => onMedia({ kind: 'waiting', bufferMs: bufferMs() })],
    [
      'pause',
      () => {
        // The element pauses itself at the end of the media: that is `ended`, not a pause.
        if (!media.ended) onMedia({ kind: 'pause' });
      },
    ],
    ['seeking', () => onMedia({ kind: 'seeking', fromMs: lastPlayheadMs, toMs: playhead() })],
    [
      'timeupdate',
      () => {
        // Where a seek starts from: the last position played, not the target.
        if (!media.seeking) lastPlayheadMs = playhead();
      },
    ],
    ['ended', () => void end('completed')],
  ];
  for (const [name, listener] of listeners) media.addEventListener(name, listener);

  const heartbeat = setInterval(() => {
    if (!phases.started) return;
    const quality = media instanceof HTMLVideoElement ? media.getVideoPlaybackQuality() : undefined;
    emit('heartbeat', {
      heartbeat: {
        bufferMs: bufferMs(),
        bitrateKbps: displayed.current ?? 0,
        droppedFrames: quality?.droppedVideoFrames ?? 0,
      },
    });
  }, options.heartbeatIntervalMs ?? 10_000);

  function end(reason: EndReason): Promise<FlushResult> {
    if (ended !== undefined) return ended;
    for (const event of phases.next({ kind: 'end', reason }, performance.now())) emitMedia(event);
    clearInterval(heartbeat);
    hls.off(Events.MANIFEST_LOADED, onManifestLoaded);
    hls.off(Events.FRAG_LOADED, onFragLoaded);
    hls.off(Events.FRAG_CHANGED, onFragChanged);
    hls.off(Events.ERROR, onError);
    for (const [name, listener] of listeners) media.removeEventListener(name, listener);
    ended = client.close();
    return ended;
  }

  return { end, stats: client.stats };
}
