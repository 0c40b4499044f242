/**
 * The one clock every QoE metric is measured on: corrected event time.
 *
 *   eventTimeMs(e) = min(e.clientTs - e.server.clockSkewMs, e.server.receivedAt)
 *
 * - `clientTs` is the player's clock. Ingest estimates the player's skew once per batch as
 *   the batch's `sentAt` minus the server's receive time (producers/ingest/clock-skew.ts, the
 *   way Segment's `sentAt` and Snowplow's `dvce_sent_tstamp` do), so `clientTs - clockSkewMs`
 *   is the event's time on the server's clock. Events of one batch share one skew, so their
 *   differences are exactly the player's own; across batches the estimate moves by the
 *   network delay's jitter (tens of ms).
 * - Capped at `receivedAt`: an event cannot happen after the server received it. For an
 *   honest batch the cap never binds (the batch's last event is at most its `sentAt`, which
 *   corrects to `receivedAt`); it binds only for players that send no `sentAt` (skew 0) and
 *   whose clock runs ahead, and it stops such a player from dragging the watermark into the
 *   future and closing everyone else's sessions early.
 *
 * Within a view, times are also made monotone in `seq` order (a running maximum, see
 * view-fold.ts), so a skew estimate that moves backwards between two batches cannot make a
 * negative duration.
 */
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';

export function eventTimeMs(event: PlaybackEvent): number {
  const corrected = event.clientTs - event.server.clockSkewMs;
  return Math.min(corrected, event.server.receivedAt);
}
