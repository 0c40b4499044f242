/**
 * What a player sends to `POST /v1/events`: the PlaybackEvent contract without the
 * `server` part (ingest sets it, a player never does), with nullable fields optional.
 * Types and one constant table, no run-time imports: browser bundles can import it.
 */
import type {
  Cmcd,
  DeviceInfo,
  EventKind,
  ExperimentCell,
  FirstFrame,
  Heartbeat,
  ManifestLoaded,
  PlaybackError,
  PlaybackEvent,
  PlayIntent,
  RenditionSwitch,
  Seek,
  SegmentDownloaded,
  SessionEnd,
  Stall,
} from '../../schemas/generated/playback-event.ts';

export type { EventKind };

/** Nullable fields may be left out; a field with an Avro default may be left out too. */
type Loose<T> = { [K in keyof T as null extends T[K] ? K : never]?: T[K] } & {
  [K in keyof T as null extends T[K] ? never : K]: T[K];
};

export interface WireEvent {
  sessionId: string;
  seq: number;
  viewerId: string;
  titleId: string;
  /** Player clock, epoch ms. */
  clientTs: number;
  kind: EventKind;
  playheadMs?: number | null;
  device?: Partial<DeviceInfo>;
  experiments?: ExperimentCell[];
  cmcd?: Partial<Cmcd> | null;
  playIntent?: Partial<PlayIntent> | null;
  manifestLoaded?: Loose<ManifestLoaded> | null;
  firstFrame?: FirstFrame | null;
  renditionSwitch?: Loose<RenditionSwitch> | null;
  stall?: Partial<Stall> | null;
  segment?: Loose<SegmentDownloaded> | null;
  heartbeat?: Omit<Heartbeat, 'droppedFrames'> & { droppedFrames?: number };
  error?: Loose<PlaybackError> | null;
  seek?: Seek | null;
  sessionEnd?: SessionEnd | null;
}

/** The body of `POST /v1/events`. */
export interface WireBatch {
  events: WireEvent[];
  /**
   * The player's clock when it sent the batch, epoch ms. Ingest estimates the client's
   * clock skew from it (sentAt - receive time), as Segment (`sentAt`) and Snowplow
   * (`dvce_sent_tstamp`) do.
   */
  sentAt?: number;
}

/** One refused event in a 202 answer. */
export interface WireRejection {
  index: number;
  path: string;
  reason: string;
  code: string;
}

/** The 202 answer: every event is either accepted (acked by Kafka) or rejected (dead-lettered). */
export interface WireAccepted {
  accepted: number;
  rejected: WireRejection[];
}

/** Every non-202 answer. */
export interface WireError {
  error: { code: string; message: string; retriable: boolean };
}

/** Which payload field each kind carries; pause and resume carry none. */
export const PAYLOAD_FIELD_OF_KIND = {
  play_intent: 'playIntent',
  manifest_loaded: 'manifestLoaded',
  first_frame: 'firstFrame',
  rendition_switch: 'renditionSwitch',
  stall_start: 'stall',
  stall_end: 'stall',
  segment_downloaded: 'segment',
  heartbeat: 'heartbeat',
  error: 'error',
  seek: 'seek',
  pause: null,
  resume: null,
  session_end: 'sessionEnd',
} as const satisfies Record<EventKind, keyof PlaybackEvent | null>;
