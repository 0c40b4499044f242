import { describe, expect, it } from 'vitest';
import { toSegmentRow } from './segment-rows.ts';
import { fragErrorPayload, playbackEvent, segmentPayload } from './testing.ts';

const at = { sessionId: 's1', seq: 4, atMs: 1_764_158_400_000, isp: 'AS3320', region: 'eu-central' };
const src = { partition: 3, offset: '1234' };

describe('toSegmentRow', () => {
  it('keeps a segment download with its OCA, bytes and time, keyed by its Kafka position', () => {
    expect(toSegmentRow(playbackEvent(at, segmentPayload('oca-a', 750_000, 1_500)), src)).toEqual({
      event_time: at.atMs,
      source_partition: 3,
      source_offset: 1234,
      kind: 'segment',
      session_id: 's1',
      seq: 4,
      oca_id: 'oca-a',
      isp: 'AS3320',
      region: 'eu-central',
      bytes: 750_000,
      download_ms: 1_500,
      error_details: '',
      fatal: 0,
      http_status: 0,
    });
  });

  it('uses the corrected event time (clientTs - skew, capped at receipt)', () => {
    const e = playbackEvent(at, segmentPayload('oca-a', 1, 1));
    const skewed = {
      ...e,
      clientTs: at.atMs + 5_000,
      server: { ...e.server, clockSkewMs: 4_000, receivedAt: at.atMs + 2_000 },
    };
    expect(toSegmentRow(skewed, src)?.event_time).toBe(at.atMs + 1_000);
  });

  it('keeps segment load errors without an OCA, and only requests that were made', () => {
    const row = toSegmentRow(playbackEvent(at, fragErrorPayload(503)), src);
    expect([row?.kind, row?.oca_id, row?.error_details, row?.http_status, row?.fatal]).toEqual([
      'error',
      '',
      'fragLoadError',
      503,
      0,
    ]);
    const timeout = fragErrorPayload(null);
    expect(toSegmentRow(playbackEvent(at, timeout), src)?.kind).toBe('error');
    // Fatal without a status: "no OCA left to try", not a failed request.
    const gaveUp = {
      ...timeout,
      error: { ...(timeout.error as NonNullable<typeof timeout.error>), fatal: true },
    };
    expect(toSegmentRow(playbackEvent(at, gaveUp), src)).toBeNull();
    const stalled = {
      kind: 'error' as const,
      error: {
        type: 'MEDIA_ERROR' as const,
        details: 'bufferStalledError',
        fatal: false,
        httpStatus: null,
        message: null,
      },
    };
    expect(toSegmentRow(playbackEvent(at, stalled), src)).toBeNull();
  });

  it('keeps the OCA a play intent or manifest names, and drops everything else', () => {
    const intent = toSegmentRow(
      playbackEvent(at, {
        kind: 'play_intent',
        playIntent: { autoplay: true, startPositionMs: 0, planId: 'p', ocaId: 'oca-b' },
      }),
      src,
    );
    expect([intent?.kind, intent?.oca_id]).toEqual(['oca', 'oca-b']);
    const manifest = toSegmentRow(
      playbackEvent(at, {
        kind: 'manifest_loaded',
        manifestLoaded: { loadMs: 80, renditions: 4, ocaId: 'oca-c' },
      }),
      src,
    );
    expect([manifest?.kind, manifest?.oca_id]).toEqual(['oca', 'oca-c']);
    expect(toSegmentRow(playbackEvent(at, { kind: 'heartbeat' }), src)).toBeNull();
    expect(toSegmentRow(playbackEvent(at, { kind: 'play_intent' }), src)).toBeNull();
  });
});
