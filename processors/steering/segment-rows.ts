/**
 * Playback events -> rows of `steering_segments` (infra/migrations/0410_steering_segments.sql).
 * Pure: one event in, one row or nothing out.
 *
 * What is kept, and why:
 * - `segment_downloaded`: the download itself, attributed to the OCA that served it
 *   (`segment.ocaId`), at the time it completed: the evidence exists from that moment.
 * - segment load errors (hls.js `fragLoadError`, `fragLoadTimeOut`): a failed request. The
 *   error event names no OCA; the reader attributes it to the OCA of the session's latest
 *   earlier row (segments-source.ts). A fatal error without an HTTP status is not counted:
 *   it reports that no OCA was left to try (the fleet's "every OCA of the plan failed"),
 *   not a request that failed; every real failed attempt was reported non-fatal before it.
 * - `play_intent` and `manifest_loaded` naming an OCA: where a session's first segment
 *   requests go, so an error before any download is attributed too.
 */

import { columnsOf } from '../../infra/clickhouse-columns.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { eventTimeMs } from '../qoe-core/event-time.ts';

export type SegmentRowKind = 'segment' | 'error' | 'oca';

/** A row of `steering_segments`. */
export interface SegmentRow {
  /** Epoch ms on the server clock (qoe-core/event-time.ts). */
  event_time: number;
  source_partition: number;
  source_offset: number;
  kind: SegmentRowKind;
  session_id: string;
  seq: number;
  oca_id: string;
  isp: string;
  region: string;
  bytes: number;
  download_ms: number;
  error_details: string;
  fatal: number;
  http_status: number;
}

/** hls.js ErrorDetails of a failed media segment request. */
export const SEGMENT_LOAD_ERRORS: ReadonlySet<string> = new Set(['fragLoadError', 'fragLoadTimeOut']);

export function toSegmentRow(
  event: PlaybackEvent,
  source: { readonly partition: number; readonly offset: string },
): SegmentRow | null {
  // The kind decides first: most events make no row, and those that do are built in one
  // object literal of one shape (no spread of a shared base), which the steering consumer,
  // reading every event of playback.events, does thousands of times a second.
  switch (event.kind) {
    case 'segment_downloaded': {
      const s = event.segment;
      if (s === null || s.ocaId === '') return null;
      return row(
        event,
        source,
        'segment',
        s.ocaId,
        Math.max(0, s.bytes),
        Math.max(0, s.downloadMs),
        '',
        0,
        0,
      );
    }
    case 'error': {
      const e = event.error;
      if (e === null || !SEGMENT_LOAD_ERRORS.has(e.details)) return null;
      if (e.fatal && e.httpStatus === null) return null;
      return row(event, source, 'error', '', 0, 0, e.details, e.fatal ? 1 : 0, e.httpStatus ?? 0);
    }
    case 'play_intent': {
      const oca = event.playIntent?.ocaId ?? null;
      return oca === null || oca === '' ? null : row(event, source, 'oca', oca, 0, 0, '', 0, 0);
    }
    case 'manifest_loaded': {
      const oca = event.manifestLoaded?.ocaId ?? null;
      return oca === null || oca === '' ? null : row(event, source, 'oca', oca, 0, 0, '', 0, 0);
    }
    default:
      return null;
  }
}

function row(
  event: PlaybackEvent,
  source: { readonly partition: number; readonly offset: string },
  kind: SegmentRowKind,
  ocaId: string,
  bytes: number,
  downloadMs: number,
  errorDetails: string,
  fatal: number,
  httpStatus: number,
): SegmentRow {
  return {
    event_time: eventTimeMs(event),
    source_partition: source.partition,
    source_offset: Number(source.offset),
    kind,
    session_id: event.sessionId,
    seq: event.seq,
    oca_id: ocaId,
    isp: event.server.isp,
    region: event.server.region,
    bytes,
    download_ms: downloadMs,
    error_details: errorDetails,
    fatal,
    http_status: httpStatus,
  };
}

/** Every column of a SegmentRow, for insertColumns (see SESSION_ROW_COLUMNS). */
export const SEGMENT_ROW_COLUMNS = columnsOf<SegmentRow>()([
  'event_time',
  'source_partition',
  'source_offset',
  'kind',
  'session_id',
  'seq',
  'oca_id',
  'isp',
  'region',
  'bytes',
  'download_ms',
  'error_details',
  'fatal',
  'http_status',
]);
