/**
 * Builders for player events in tests: a script of one session whose times are given in
 * milliseconds after T0 on the server's clock. The player's clock is `T0 + at + skew`, and
 * the event carries `clockSkewMs = skew`, so the corrected event time is `T0 + at`.
 * Used by the qoe-core and sessionize tests; not part of any runtime path.
 */
import type {
  DeviceInfo,
  EndReason,
  ErrorType,
  EventKind,
  ExperimentCell,
  PlaybackEvent,
  ServerContext,
} from '../../schemas/generated/playback-event.ts';

/** 2025-01-01T12:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

export interface ScriptOptions {
  readonly viewerId?: string;
  readonly titleId?: string;
  /** Player clock minus server clock. */
  readonly skewMs?: number;
  /** How long after the event the server receives it (for receivedAt). */
  readonly deliveryDelayMs?: number;
  readonly server?: Partial<ServerContext>;
  readonly device?: Partial<DeviceInfo>;
}

export interface EventExtras {
  readonly playheadMs?: number | null;
  readonly skewMs?: number;
  readonly receivedAt?: number;
  readonly experiments?: ExperimentCell[];
}

export class Script {
  readonly events: PlaybackEvent[] = [];
  private nextSeq = 0;

  constructor(
    readonly sessionId: string,
    private readonly options: ScriptOptions = {},
  ) {}

  /** Sets the seq of the next event (to leave holes). */
  skipTo(seq: number): this {
    this.nextSeq = seq;
    return this;
  }

  intent(
    at: number,
    o: { ocaId?: string; experiments?: ExperimentCell[] } = {},
    x: EventExtras = {},
  ): PlaybackEvent {
    return this.push('play_intent', at, x, {
      experiments: o.experiments ?? x.experiments ?? [],
      playIntent: { autoplay: false, startPositionMs: 0, planId: 'plan-1', ocaId: o.ocaId ?? null },
    });
  }

  manifest(at: number, ocaId: string | null = null, x: EventExtras = {}): PlaybackEvent {
    return this.push('manifest_loaded', at, x, { manifestLoaded: { loadMs: 80, renditions: 5, ocaId } });
  }

  firstFrame(at: number, bitrateKbps: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('first_frame', at, x, { firstFrame: { bitrateKbps } });
  }

  switchTo(at: number, fromKbps: number, toKbps: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('rendition_switch', at, x, {
      renditionSwitch: { fromKbps, toKbps, level: 0, height: null },
    });
  }

  stallStart(at: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('stall_start', at, x, { stall: { durationMs: null, bufferMs: 0 } });
  }

  stallEnd(at: number, durationMs: number | null = null, x: EventExtras = {}): PlaybackEvent {
    return this.push('stall_end', at, x, { stall: { durationMs, bufferMs: 2000 } });
  }

  segment(
    at: number,
    ocaId: string,
    bytes: number,
    downloadMs: number,
    bitrateKbps = 3000,
    x: EventExtras = {},
  ): PlaybackEvent {
    return this.push('segment_downloaded', at, x, {
      segment: {
        ocaId,
        bytes,
        downloadMs,
        bitrateKbps,
        durationMs: 2000,
        level: null,
        url: null,
        cacheHit: null,
      },
    });
  }

  heartbeat(at: number, bitrateKbps = 3000, x: EventExtras = {}): PlaybackEvent {
    return this.push('heartbeat', at, x, { heartbeat: { bufferMs: 6000, bitrateKbps, droppedFrames: 0 } });
  }

  error(at: number, fatal: boolean, type: ErrorType = 'NETWORK_ERROR', x: EventExtras = {}): PlaybackEvent {
    return this.push('error', at, x, {
      error: { type, details: 'fragLoadError', fatal, httpStatus: 503, message: null },
    });
  }

  seek(at: number, fromMs: number, toMs: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('seek', at, x, { seek: { fromMs, toMs } });
  }

  pause(at: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('pause', at, x, {});
  }

  resume(at: number, x: EventExtras = {}): PlaybackEvent {
    return this.push('resume', at, x, {});
  }

  end(at: number, reason: EndReason = 'viewer_exit', x: EventExtras = {}): PlaybackEvent {
    return this.push('session_end', at, x, { sessionEnd: { reason } });
  }

  private push(kind: EventKind, at: number, x: EventExtras, payload: Partial<PlaybackEvent>): PlaybackEvent {
    const skew = x.skewMs ?? this.options.skewMs ?? 0;
    const o = this.options;
    const event: PlaybackEvent = {
      sessionId: this.sessionId,
      seq: this.nextSeq++,
      viewerId: o.viewerId ?? 'viewer-1',
      titleId: o.titleId ?? 'title-1',
      clientTs: T0 + at + skew,
      kind,
      playheadMs: x.playheadMs ?? null,
      device: {
        deviceClass: null,
        model: null,
        os: null,
        playerName: 'playloop-fleet',
        playerVersion: null,
        userAgent: null,
        ...o.device,
      },
      experiments: x.experiments ?? [],
      cmcd: null,
      playIntent: null,
      manifestLoaded: null,
      firstFrame: null,
      renditionSwitch: null,
      stall: null,
      segment: null,
      heartbeat: null,
      error: null,
      seek: null,
      sessionEnd: null,
      server: {
        receivedAt: x.receivedAt ?? T0 + at + (o.deliveryDelayMs ?? 500),
        clockSkewMs: skew,
        deviceClass: 'tv',
        isp: 'AS3320',
        region: 'eu-central',
        country: 'DE',
        ingestKeyId: 'key-1',
        ...o.server,
      },
      ...payload,
    };
    this.events.push(event);
    return event;
  }
}
