import { describe, expect, it } from 'vitest';
import { FleetTally } from './progress.ts';

describe('FleetTally', () => {
  it('counts events, stalls and session outcomes as the players report them', () => {
    const t = new FleetTally();
    for (const kind of ['play_intent', 'stall_start', 'stall_end', 'stall_start', 'session_end'])
      t.emitted({ kind });
    t.ended({ ebvs: true, vsf: false, vpf: false });
    t.ended({ ebvs: false, vsf: true, vpf: true });
    t.sessionsStarted += 3;
    t.eventsSent += 4;
    const p = t.snapshot([], { mode: 'timing', pacing: 'afap', simulatedMs: 5, wallMs: 6, lagMs: 7 });
    expect(p).toEqual({
      mode: 'timing',
      pacing: 'afap',
      simulatedMs: 5,
      wallMs: 6,
      players: 0,
      active: 0,
      playing: 0,
      stalledNow: 0,
      sessionsStarted: 3,
      sessionsDone: 2,
      eventsEmitted: 5,
      eventsSent: 4,
      stalls: 2,
      meanBitrateKbps: 0,
      ebvs: 1,
      vsf: 1,
      vpf: 1,
      lagMs: 7,
    });
  });

  it('takes the mean bit rate over the players playing now, a negative (unknown) one as 0', () => {
    const player = (inSession: boolean, isPlaying: boolean, stalledNow: boolean, displayedKbps: number) => ({
      inSession,
      isPlaying,
      stalledNow,
      displayedKbps,
    });
    const p = new FleetTally().snapshot(
      [
        player(true, true, false, 3_000),
        player(true, true, false, -1),
        player(true, false, true, 5_000),
        player(false, false, false, 0),
      ],
      { mode: 'http', pacing: 'wall clock', simulatedMs: 0, wallMs: 0, lagMs: 0 },
    );
    expect(p).toMatchObject({ players: 4, active: 3, playing: 2, stalledNow: 1, meanBitrateKbps: 1_500 });
  });
});
