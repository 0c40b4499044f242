/**
 * playloop's player-side telemetry client. Browser-safe: fetch, no Node-only API.
 *
 *   const client = new IngestClient({ endpoint: 'http://127.0.0.1:7070', key });
 *   const session = new PlaybackSession(client, { sessionId, viewerId, titleId });
 *   session.track('play_intent', { playIntent: { autoplay: true } });
 *   await client.close(); // flushes
 */
export {
  type ClientStats,
  DEFAULT_CLIENT_RETRY,
  type FlushResult,
  type GiveUpReason,
  IngestClient,
  type IngestClientOptions,
  IngestGiveUpError,
} from './client.ts';
export { type PayloadOf, PlaybackSession, type SessionIdentity, type TrackExtras } from './session.ts';
export {
  type EventKind,
  PAYLOAD_FIELD_OF_KIND,
  type WireAccepted,
  type WireBatch,
  type WireError,
  type WireEvent,
  type WireRejection,
} from './wire.ts';
