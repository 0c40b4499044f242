import { describe, expect, it } from 'vitest';
import { PlaybackSession } from './session.ts';
import type { WireEvent } from './wire.ts';

describe('PlaybackSession', () => {
  it('numbers events from 0, stamps them, and sends experiments on play_intent only', () => {
    const tracked: WireEvent[] = [];
    let t = 1_000;
    const session = new PlaybackSession(
      { track: (e) => tracked.push(e) },
      {
        sessionId: 's',
        viewerId: 'v',
        titleId: 't',
        device: { playerName: 'hls.js' },
        experiments: [{ key: 'x', cell: 'b' }],
      },
      () => t++,
    );
    session.track('play_intent', { playIntent: { autoplay: true } });
    session.track('pause', {});
    session.track(
      'segment_downloaded',
      {
        segment: { ocaId: 'o', bytes: 1, downloadMs: 1, bitrateKbps: 1, durationMs: 1 },
      },
      { playheadMs: 2_000, cmcd: { bl: 100 } },
    );
    expect(tracked).toEqual([
      {
        sessionId: 's',
        seq: 0,
        viewerId: 'v',
        titleId: 't',
        clientTs: 1_000,
        kind: 'play_intent',
        device: { playerName: 'hls.js' },
        experiments: [{ key: 'x', cell: 'b' }],
        playIntent: { autoplay: true },
      },
      {
        sessionId: 's',
        seq: 1,
        viewerId: 'v',
        titleId: 't',
        clientTs: 1_001,
        kind: 'pause',
        device: { playerName: 'hls.js' },
      },
      {
        sessionId: 's',
        seq: 2,
        viewerId: 'v',
        titleId: 't',
        clientTs: 1_002,
        kind: 'segment_downloaded',
        device: { playerName: 'hls.js' },
        playheadMs: 2_000,
        cmcd: { bl: 100 },
        segment: { ocaId: 'o', bytes: 1, downloadMs: 1, bitrateKbps: 1, durationMs: 1 },
      },
    ]);
    expect(session.nextSeq).toBe(3);
  });
});
