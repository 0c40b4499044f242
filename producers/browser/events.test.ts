import { describe, expect, it } from 'vitest';
import {
  bufferAheadMs,
  DisplayedRendition,
  errorEvent,
  errorTypeOf,
  kbpsOf,
  MediaPhases,
  ocaOfUrl,
  segmentEvent,
} from './events.ts';

const OCAS = [
  { id: 'oca-edge-as3320-a', baseUrl: 'http://127.0.0.1:41001/t/title-001/~s1~exp~sig/' },
  { id: 'oca-edge-as3320-b', baseUrl: 'http://127.0.0.1:41002/t/title-001/~s1~exp~sig/' },
];

describe('hls.js vocabulary to playloop events', () => {
  it('maps hls.js ErrorTypes values onto the contract enum', () => {
    expect(errorTypeOf('networkError')).toBe('NETWORK_ERROR');
    expect(errorTypeOf('mediaError')).toBe('MEDIA_ERROR');
    expect(errorTypeOf('keySystemError')).toBe('KEY_SYSTEM_ERROR');
    expect(errorTypeOf('muxError')).toBe('MUX_ERROR');
    expect(errorTypeOf('otherError')).toBe('OTHER_ERROR');
    expect(errorTypeOf('somethingNew')).toBe('OTHER_ERROR');
    expect(
      errorEvent({ type: 'networkError', details: 'fragLoadError', fatal: false, httpStatus: 503 }),
    ).toEqual({
      error: {
        type: 'NETWORK_ERROR',
        details: 'fragLoadError',
        fatal: false,
        httpStatus: 503,
        message: null,
      },
    });
    // hls.js reports code 0 for a network failure without an HTTP answer.
    expect(
      errorEvent({ type: 'networkError', details: 'x', fatal: true, httpStatus: 0 }).error.httpStatus,
    ).toBe(null);
  });

  it('converts bit/s to kbit/s and buffered ranges to ms ahead of the playhead', () => {
    expect(kbpsOf(235_400)).toBe(235);
    expect(kbpsOf(Number.NaN)).toBe(0);
    const ranges = [
      { start: 0, end: 4 },
      { start: 10, end: 16.5 },
    ];
    expect(bufferAheadMs(ranges, 1.25)).toBe(2_750);
    expect(bufferAheadMs(ranges, 9.95)).toBe(6_550); // within hls.js's 0.1 s hole tolerance
    expect(bufferAheadMs(ranges, 6)).toBe(0);
  });

  it('attributes a segment URL to the plan OCA with its origin', () => {
    expect(ocaOfUrl('http://127.0.0.1:41002/t/title-001/~s1~exp~sig/240p/seg_00003.m4s', OCAS)).toBe(
      'oca-edge-as3320-b',
    );
    expect(ocaOfUrl('http://127.0.0.1:49999/x.m4s', OCAS)).toBeUndefined();
    expect(ocaOfUrl('not a url', OCAS)).toBeUndefined();
  });

  it('builds segment_downloaded with CTA-5004 keys in their units', () => {
    const { payload, cmcd } = segmentEvent({
      url: 'http://127.0.0.1:41001/t/title-001/~s1~exp~sig/240p/seg_00003.m4s',
      ocaId: 'oca-edge-as3320-a',
      bytes: 61_234,
      requestStartMs: 1_000.4,
      loadEndMs: 1_250.9,
      bitrateBps: 400_400,
      durationSec: 2,
      level: 1,
      bufferMs: 3_999.6,
      throughputBps: 5_500_000,
      urgent: false,
    });
    expect(payload.segment).toEqual({
      ocaId: 'oca-edge-as3320-a',
      bytes: 61_234,
      downloadMs: 251,
      bitrateKbps: 400,
      durationMs: 2_000,
      level: 1,
      url: 'http://127.0.0.1:41001/t/title-001/~s1~exp~sig/240p/seg_00003.m4s',
      cacheHit: null,
    });
    expect(cmcd).toEqual({ br: 400, bl: 4_000, mtp: 5_500, ot: 'av', sf: 'h', st: 'v', d: 2_000, su: false });
  });

  it('reports a rendition switch only when the bitrate on screen changes', () => {
    const shown = new DisplayedRendition();
    expect(shown.displayed(235_400, 0, 144)).toBeUndefined();
    expect(shown.displayed(235_400, 0, 144)).toBeUndefined();
    expect(shown.displayed(400_400, 1, 240)).toEqual({
      renditionSwitch: { fromKbps: 235, toKbps: 400, level: 1, height: 240 },
    });
    expect(shown.current).toBe(400);
  });
});

describe('media element events as QoE phases', () => {
  it('turns playing/waiting/pause/seeking into first frame, stalls, pauses and seeks', () => {
    const phases = new MediaPhases();
    // Before the first frame a wait is play delay, not a stall.
    expect(phases.next({ kind: 'waiting', bufferMs: 0 }, 0)).toEqual([]);
    expect(phases.next({ kind: 'playing' }, 900)).toEqual([{ kind: 'first_frame' }]);
    expect(phases.next({ kind: 'playing' }, 950)).toEqual([]);
    expect(phases.next({ kind: 'waiting', bufferMs: 40 }, 5_000)).toEqual([
      { kind: 'stall_start', stall: { bufferMs: 40 } },
    ]);
    expect(phases.next({ kind: 'waiting', bufferMs: 0 }, 5_100)).toEqual([]);
    expect(phases.next({ kind: 'playing' }, 6_250.6)).toEqual([
      { kind: 'stall_end', stall: { durationMs: 1_251 } },
    ]);
    expect(phases.next({ kind: 'pause' }, 7_000)).toEqual([{ kind: 'pause' }]);
    expect(phases.next({ kind: 'pause' }, 7_100)).toEqual([]);
    expect(phases.next({ kind: 'playing' }, 9_000)).toEqual([{ kind: 'resume' }]);
    expect(phases.next({ kind: 'seeking', fromMs: 9_000, toMs: 30_000 }, 9_500)).toEqual([
      { kind: 'seek', seek: { fromMs: 9_000, toMs: 30_000 } },
    ]);
    expect(phases.next({ kind: 'end', reason: 'viewer_exit' }, 10_000)).toEqual([
      { kind: 'session_end', sessionEnd: { reason: 'viewer_exit' } },
    ]);
    // Nothing counts after the end.
    expect(phases.next({ kind: 'waiting', bufferMs: 0 }, 11_000)).toEqual([]);
    expect(phases.next({ kind: 'end', reason: 'completed' }, 12_000)).toEqual([]);
  });
});
