/**
 * One playback session's event stream: fills in the session's identity, the per-session
 * sequence number (from 0, so (sessionId, seq) identifies each event and consumers can drop
 * duplicates of a retried batch) and the client timestamp.
 */
import type { IngestClient } from './client.ts';
import type { EventKind, PAYLOAD_FIELD_OF_KIND, WireEvent } from './wire.ts';

type PayloadField = NonNullable<(typeof PAYLOAD_FIELD_OF_KIND)[EventKind]>;
type FieldOf<K extends EventKind> = (typeof PAYLOAD_FIELD_OF_KIND)[K];

/** The payload a kind carries, e.g. `{ segment: {...} }` for segment_downloaded; `{}` for pause. */
export type PayloadOf<K extends EventKind> =
  FieldOf<K> extends PayloadField ? { [F in FieldOf<K>]: NonNullable<WireEvent[F]> } : Record<string, never>;

/** What every event of the session shares. */
export type SessionIdentity = Pick<WireEvent, 'sessionId' | 'viewerId' | 'titleId'> &
  Partial<Pick<WireEvent, 'device' | 'experiments'>>;

export interface TrackExtras {
  playheadMs?: number | null;
  cmcd?: WireEvent['cmcd'];
}

export class PlaybackSession {
  private seq = 0;

  constructor(
    private readonly client: Pick<IngestClient, 'track'>,
    private readonly identity: SessionIdentity,
    private readonly now: () => number = Date.now,
  ) {}

  /** Tracks one event of `kind` with its payload; returns the event as queued. */
  track<K extends EventKind>(kind: K, payload: PayloadOf<K>, extras: TrackExtras = {}): WireEvent {
    const event: WireEvent = {
      sessionId: this.identity.sessionId,
      seq: this.seq++,
      viewerId: this.identity.viewerId,
      titleId: this.identity.titleId,
      clientTs: this.now(),
      kind,
      ...(this.identity.device === undefined ? {} : { device: this.identity.device }),
      // Experiment cells travel once, on play_intent, as the contract says.
      ...(kind === 'play_intent' && this.identity.experiments !== undefined
        ? { experiments: this.identity.experiments }
        : {}),
      ...extras,
      ...payload,
    };
    this.client.track(event);
    return event;
  }

  /** The seq the next event will get. */
  get nextSeq(): number {
    return this.seq;
  }
}
