/**
 * Pure pieces of the page-side reporter (reporter.ts): how what hls.js and the media element
 * say becomes playloop's event vocabulary (schemas/playback-event.avsc). No DOM, no hls.js
 * at run time, so the mapping is unit-tested in Node (events.test.ts).
 *
 * Units: playloop events carry integer milliseconds and kbit/s (CMCD, CTA-5004: `br`, `mtp`
 * in kbps, `bl`, `d` in ms); hls.js reports bit/s and seconds.
 */
import type { EndReason, ErrorType } from '../../schemas/generated/playback-event.ts';
import type { PayloadOf } from '../client/session.ts';
import type { WireEvent } from '../client/wire.ts';

/**
 * hls.js ErrorTypes values (src/errors.ts: `NETWORK_ERROR = 'networkError'`, ...) to the
 * contract's enum, which uses the hls.js key names.
 */
const ERROR_TYPES: Readonly<Record<string, ErrorType>> = Object.freeze({
  networkError: 'NETWORK_ERROR',
  mediaError: 'MEDIA_ERROR',
  keySystemError: 'KEY_SYSTEM_ERROR',
  muxError: 'MUX_ERROR',
  otherError: 'OTHER_ERROR',
});

/** The contract's error type of an hls.js ErrorTypes value; OTHER_ERROR for one it does not know. */
export function errorTypeOf(hlsType: string): ErrorType {
  return ERROR_TYPES[hlsType] ?? 'OTHER_ERROR';
}

/** bit/s to whole kbit/s (CMCD `br`, `mtp`: kbps, rounded). Non-finite or negative: 0. */
export function kbpsOf(bitsPerSecond: number): number {
  return Number.isFinite(bitsPerSecond) && bitsPerSecond > 0 ? Math.round(bitsPerSecond / 1_000) : 0;
}

/** Seconds to whole, non-negative milliseconds. */
export function msOf(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1_000) : 0;
}

export interface TimeRange {
  readonly start: number;
  readonly end: number;
}

/** Media buffered ahead of `position` (seconds), in ms: the buffered range holding it. */
export function bufferAheadMs(ranges: readonly TimeRange[], position: number): number {
  // A small tolerance: hls.js treats a gap under maxBufferHole (0.1 s) as contiguous.
  const hole = 0.1;
  for (const r of ranges) {
    if (position >= r.start - hole && position < r.end) return msOf(r.end - position);
  }
  return 0;
}

/** An OCA of the playback plan: its id (the Pathway ID) and its signed base URL. */
export interface PlanOca {
  readonly id: string;
  readonly baseUrl: string;
}

/**
 * Which OCA served `url`: the plan OCA whose origin it has (each OCA has its own origin, and
 * the signed path differs per session, so the origin is the stable part). Undefined for a
 * URL no plan OCA serves.
 */
export function ocaOfUrl(url: string, ocas: readonly PlanOca[]): string | undefined {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return undefined;
  }
  for (const oca of ocas) {
    try {
      if (new URL(oca.baseUrl).origin === origin) return oca.id;
    } catch {
      // A malformed plan entry matches nothing.
    }
  }
  return undefined;
}

/** What the reporter knows about one loaded media segment (hls.js FRAG_LOADED). */
export interface LoadedSegment {
  readonly url: string;
  readonly ocaId: string;
  /** Bytes received (hls.js `stats.loaded`). */
  readonly bytes: number;
  /** performance.now() at request and at the last byte (hls.js `stats.loading`). */
  readonly requestStartMs: number;
  readonly loadEndMs: number;
  /** BANDWIDTH of the segment's variant, bit/s. */
  readonly bitrateBps: number;
  readonly durationSec: number;
  readonly level: number;
  /** Media buffered ahead of the playhead when it arrived, ms. */
  readonly bufferMs: number;
  /** The player's throughput estimate, bit/s (hls.js `bandwidthEstimate`). */
  readonly throughputBps: number;
  /** Whether playback waits for it (startup, after a seek or a stall): CMCD `su`. */
  readonly urgent: boolean;
}

/** The payload and CMCD keys of a `segment_downloaded` event. */
export function segmentEvent(s: LoadedSegment): {
  payload: PayloadOf<'segment_downloaded'>;
  cmcd: NonNullable<WireEvent['cmcd']>;
} {
  const bitrateKbps = kbpsOf(s.bitrateBps);
  const durationMs = msOf(s.durationSec);
  return {
    payload: {
      segment: {
        ocaId: s.ocaId,
        bytes: Math.max(0, Math.round(s.bytes)),
        downloadMs: Math.max(0, Math.round(s.loadEndMs - s.requestStartMs)),
        bitrateKbps,
        durationMs,
        level: Math.max(0, s.level),
        // Signed URLs are bounded by the contract at 2048 characters; longer ones go without.
        url: s.url.length <= 2_048 ? s.url : null,
        cacheHit: null,
      },
    },
    // CTA-5004: ot `av` (muxed audio and video), sf `h` (HLS), st `v` (VOD).
    cmcd: {
      br: bitrateKbps,
      bl: Math.max(0, Math.round(s.bufferMs)),
      mtp: kbpsOf(s.throughputBps),
      ot: 'av',
      sf: 'h',
      st: 'v',
      d: durationMs,
      su: s.urgent,
    },
  };
}

/** hls.js ERROR data, reduced to what the contract keeps. */
export interface PlayerError {
  readonly type: string;
  readonly details: string;
  readonly fatal: boolean;
  readonly httpStatus?: number | undefined;
  readonly message?: string | undefined;
}

export function errorEvent(e: PlayerError): PayloadOf<'error'> {
  const status = e.httpStatus;
  return {
    error: {
      type: errorTypeOf(e.type),
      details: e.details.slice(0, 128),
      fatal: e.fatal,
      httpStatus: status !== undefined && Number.isInteger(status) && status > 0 ? status : null,
      message: e.message === undefined ? null : e.message.slice(0, 1_024),
    },
  };
}

/**
 * The rendition on screen (hls.js FRAG_CHANGED: the fragment now playing), so a switch is
 * reported when the viewer sees it, as the QoE definitions count switches (DESIGN.md); a
 * level hls.js loads but never shows is no switch.
 */
export class DisplayedRendition {
  private kbps: number | undefined;

  /** The bitrate on screen, if any fragment played yet. */
  get current(): number | undefined {
    return this.kbps;
  }

  /** A fragment of `bitrateBps` started playing: a switch payload when the bitrate changed. */
  displayed(
    bitrateBps: number,
    level: number,
    height: number | undefined,
  ): PayloadOf<'rendition_switch'> | undefined {
    const kbps = kbpsOf(bitrateBps);
    const previous = this.kbps;
    this.kbps = kbps;
    if (previous === undefined || previous === kbps) return undefined;
    return {
      renditionSwitch: {
        fromKbps: previous,
        toKbps: kbps,
        level: Math.max(0, level),
        height: height === undefined || !(height > 0) ? null : Math.round(height),
      },
    };
  }
}

/** What the media element did, as the reporter feeds it (HTML media element events). */
export type MediaSignal =
  | { readonly kind: 'playing' }
  | { readonly kind: 'waiting'; readonly bufferMs: number }
  | { readonly kind: 'pause' }
  | { readonly kind: 'seeking'; readonly fromMs: number; readonly toMs: number }
  | { readonly kind: 'end'; readonly reason: EndReason };

/** A playloop event the media element's signals imply, without the session's common fields. */
export type MediaEvent =
  | { readonly kind: 'first_frame' }
  | { readonly kind: 'stall_start'; readonly stall: { readonly bufferMs: number } }
  | { readonly kind: 'stall_end'; readonly stall: { readonly durationMs: number } }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'seek'; readonly seek: { readonly fromMs: number; readonly toMs: number } }
  | { readonly kind: 'session_end'; readonly sessionEnd: { readonly reason: EndReason } };

type Phase = 'startup' | 'playing' | 'stalled' | 'paused' | 'ended';

/**
 * The media element's events as a state machine over the QoE phases (processors/qoe-core
 * view-fold.ts). `playing` the first time is the first frame; `waiting` while playing is a
 * stall (a stall right after a seek too: the QoE fold files it as a seek stall, since the
 * seek event came first); `playing` after it ends the stall, after a pause it is a resume.
 * Before the first frame nothing is a stall (that is play delay), and after the end nothing
 * counts.
 */
export class MediaPhases {
  private phase: Phase = 'startup';
  private stalledAtMs = 0;

  get current(): Phase {
    return this.phase;
  }

  get started(): boolean {
    return this.phase !== 'startup';
  }

  /** The events `signal` implies at `nowMs` (a monotonic clock, e.g. performance.now()). */
  next(signal: MediaSignal, nowMs: number): MediaEvent[] {
    if (this.phase === 'ended') return [];
    switch (signal.kind) {
      case 'playing':
        if (this.phase === 'startup') {
          this.phase = 'playing';
          return [{ kind: 'first_frame' }];
        }
        if (this.phase === 'stalled') {
          this.phase = 'playing';
          return [
            { kind: 'stall_end', stall: { durationMs: Math.max(0, Math.round(nowMs - this.stalledAtMs)) } },
          ];
        }
        if (this.phase === 'paused') {
          this.phase = 'playing';
          return [{ kind: 'resume' }];
        }
        return [];
      case 'waiting':
        if (this.phase !== 'playing') return [];
        this.phase = 'stalled';
        this.stalledAtMs = nowMs;
        return [{ kind: 'stall_start', stall: { bufferMs: Math.max(0, Math.round(signal.bufferMs)) } }];
      case 'pause':
        if (this.phase !== 'playing' && this.phase !== 'stalled') return [];
        this.phase = 'paused';
        return [{ kind: 'pause' }];
      case 'seeking':
        if (this.phase === 'startup') return [];
        return [
          {
            kind: 'seek',
            seek: {
              fromMs: Math.max(0, Math.round(signal.fromMs)),
              toMs: Math.max(0, Math.round(signal.toMs)),
            },
          },
        ];
      case 'end':
        this.phase = 'ended';
        return [{ kind: 'session_end', sessionEnd: { reason: signal.reason } }];
    }
  }
}
