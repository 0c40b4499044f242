import { describe, expect, it } from 'vitest';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import { eventTimeMs } from './event-time.ts';
import { summarizeEvents } from './summarize.ts';
import { Script, T0 } from './testing.ts';
import { SUMMARY_VERSION } from './view-fold.ts';

const MIN = 60_000;

function only(events: readonly PlaybackEvent[], options = {}): SessionSummary {
  const out = summarizeEvents(events, options);
  expect(out).toHaveLength(1);
  return out[0]!;
}

/**
 * The reference session. Times in ms after T0 (corrected event time):
 *
 *   0       play_intent (plan OCA oca-a, experiment abr-1 = b)
 *   300     manifest_loaded from oca-a
 *   800     segment 1,000,000 B in 400 ms from oca-a
 *   1500    first_frame at 3000 kbps                     -> startupMs = 1500
 *   11500   heartbeat
 *   21500   switch 3000 -> 4500 (up)
 *   22000   segment 2,000,000 B in 1000 ms from oca-b
 *   31500   stall_start
 *   33500   stall_end                                    -> stall 2000
 *   41500   pause
 *   61500   resume                                       -> paused 20000
 *   71500   switch 4500 -> 1500 (down)
 *   81500   session_end viewer_exit
 *
 * Play time: 1500-21500 at 3000 (20000) + 21500-31500 at 4500 (10000) + 33500-41500 at 4500
 * (8000) + 61500-71500 at 4500 (10000) + 71500-81500 at 1500 (10000) = 58000 ms.
 * Bitrate x time: 3000*20000 + 4500*28000 + 1500*10000 = 60e6 + 126e6 + 15e6 = 201e6
 * -> avg 201e6 / 58000 = 3465.5172413793 kbps.
 * rebufferRatio = 2000 / (58000 + 2000) = 1/30; stallsPerHour = 1 * 3.6e6 / 60000 = 60.
 * Throughput: 3e6 B * 8 / 1400 ms = 17142.857 kbps; oca-a 8e6/400 = 20000, oca-b 16e6/1000 = 16000.
 * Score (SCORE.md; Python): S = 8/9.5 = 0.842105, M = 0.805479, Q = u(3465.52) - 2*rung/14.5
 * = 0.873168 - 0.012101 = 0.861067 -> 100*S*M*Q = 58.41.
 */
function referenceSession(id = 's-ref'): Script {
  const s = new Script(id);
  s.intent(0, { ocaId: 'oca-a', experiments: [{ key: 'abr-1', cell: 'b' }] });
  s.manifest(300, 'oca-a');
  s.segment(800, 'oca-a', 1_000_000, 400);
  s.firstFrame(1_500, 3_000);
  s.heartbeat(11_500, 3_000, { playheadMs: 10_000 });
  s.switchTo(21_500, 3_000, 4_500);
  s.segment(22_000, 'oca-b', 2_000_000, 1_000, 4_500);
  s.stallStart(31_500);
  s.stallEnd(33_500, 2_000);
  s.pause(41_500);
  s.resume(61_500);
  s.switchTo(71_500, 4_500, 1_500);
  s.end(81_500, 'viewer_exit');
  return s;
}

describe('event time', () => {
  it('is clientTs minus the batch skew, capped at the receive time', () => {
    const s = new Script('skew', { skewMs: 3_600_000 });
    const e = s.heartbeat(1_000);
    expect(e.clientTs).toBe(T0 + 1_000 + 3_600_000);
    expect(eventTimeMs(e)).toBe(T0 + 1_000);
    // A player clock one hour ahead that sent no sentAt (skew 0): capped at receivedAt.
    const fast = s.heartbeat(2_000, 3_000, { skewMs: 0 });
    expect(fast.clientTs).toBe(T0 + 2_000);
    const ahead = { ...fast, clientTs: T0 + 2_000 + 3_600_000 };
    expect(eventTimeMs(ahead)).toBe(ahead.server.receivedAt);
  });
});

describe('summarizeEvents: a full session', () => {
  it('computes every metric of the reference session', () => {
    const v = only(referenceSession().events);
    expect(v.summaryId).toBe('s-ref:0');
    expect(v.summaryVersion).toBe(SUMMARY_VERSION);
    expect(v.endReason).toBe('viewer_exit');
    expect(v.startupOutcome).toBe('started');
    expect([v.ebvs, v.vsf, v.vpf]).toEqual([false, false, false]);
    expect(v.playAttempt).toBe(true);
    expect(v.startTime).toBe(T0);
    expect(v.endTime).toBe(T0 + 81_500);
    expect(v.durationMs).toBe(81_500);
    expect(v.startupMs).toBe(1_500);
    expect(v.playMs).toBe(58_000);
    expect(v.pausedMs).toBe(20_000);
    expect(v.stallMs).toBe(2_000);
    expect(v.seekStallMs).toBe(0);
    expect(v.stallCount).toBe(1);
    expect(v.rebufferRatio).toBeCloseTo(1 / 30, 12);
    expect(v.stallsPerHour).toBeCloseTo(60, 9);
    expect(v.exitDuringStall).toBe(false);
    expect(v.avgBitrateKbps).toBeCloseTo(3_465.5172413793102, 9);
    expect(v.firstBitrateKbps).toBe(3_000);
    expect([v.switchesUp, v.switchesDown]).toEqual([1, 1]);
    expect(v.bytes).toBe(3_000_000);
    expect(v.downloadMs).toBe(1_400);
    expect(v.segments).toBe(2);
    expect(v.throughputKbps).toBeCloseTo(17_142.857142857, 6);
    expect(v.ocas).toEqual([
      { ocaId: 'oca-a', bytes: 1_000_000, downloadMs: 400, segments: 1, throughputKbps: 20_000 },
      { ocaId: 'oca-b', bytes: 2_000_000, downloadMs: 1_000, segments: 1, throughputKbps: 16_000 },
    ]);
    expect(v.ocaId).toBe('oca-b');
    expect(v.firstOcaId).toBe('oca-a');
    expect(v.planOcaId).toBe('oca-a');
    expect(v.experiments).toEqual([{ key: 'abr-1', cell: 'b' }]);
    expect([v.deviceClass, v.isp, v.region, v.country]).toEqual(['tv', 'AS3320', 'eu-central', 'DE']);
    expect(v.playerName).toBe('playloop-fleet');
    expect([v.viewerId, v.titleId]).toEqual(['viewer-1', 'title-1']);
    expect([v.firstSeq, v.lastSeq, v.eventCount, v.missingSeqCount]).toEqual([0, 12, 13, 0]);
    expect([v.pauseCount, v.seekCount, v.errorCount]).toEqual([1, 0, 0]);
    expect(v.scoreStartup).toBeCloseTo(0.8421052631578947, 12);
    expect(v.scoreSmoothness).toBeCloseTo(0.8054792507868526, 12);
    expect(v.scoreQuality).toBeCloseTo(0.861066749996855, 12);
    expect(v.score).toBe(58.41);
    expect([v.sourcePartition, v.sourceOffsetFirst, v.sourceOffsetLast]).toEqual([null, null, null]);
  });

  it('gives the same summary for events out of order and repeated', () => {
    const inOrder = only(referenceSession().events);
    const events = referenceSession().events;
    // A fixed shuffle (reverse, then interleave halves) plus three duplicates.
    const reversed = [...events].reverse();
    const mixed = reversed
      .flatMap((e, i) => (i % 2 === 0 ? [e] : []))
      .concat(reversed.filter((_, i) => i % 2 === 1));
    mixed.splice(3, 0, events[5]!, events[0]!, events[12]!);
    expect(mixed).toHaveLength(events.length + 3);
    expect(only(mixed)).toEqual(inOrder);
  });

  it('keeps the first occurrence of a repeated seq', () => {
    const s = new Script('dup');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.end(11_000);
    // A second event claiming seq 1 with different content is ignored.
    const impostor: PlaybackEvent = { ...s.events[1]!, firstFrame: { bitrateKbps: 100 } };
    const v = only([...s.events, impostor]);
    expect(v.firstBitrateKbps).toBe(3_000);
    expect(v.eventCount).toBe(3);
  });
});

describe('summarizeEvents: no first frame', () => {
  it('exit before video start: ended by the viewer, no error', () => {
    const s = new Script('ebvs');
    s.intent(0);
    s.manifest(500);
    s.error(2_000, false); // a non-fatal error does not make it a failure
    s.end(4_000, 'viewer_exit');
    const v = only(s.events);
    expect(v.startupOutcome).toBe('ebvs');
    expect([v.ebvs, v.vsf, v.vpf]).toEqual([true, false, false]);
    expect(v.startupMs).toBeNull();
    expect(v.playMs).toBe(0);
    expect(v.rebufferRatio).toBeNull();
    expect(v.stallsPerHour).toBeNull();
    expect(v.avgBitrateKbps).toBeNull();
    expect(v.durationMs).toBe(4_000);
    expect(v.errorCount).toBe(1);
    expect(v.score).toBeNull();
  });

  it('video start failure: a fatal error before the first frame', () => {
    const s = new Script('vsf');
    s.intent(0);
    s.error(3_000, true, 'NETWORK_ERROR');
    s.end(3_100, 'error');
    const v = only(s.events);
    expect(v.startupOutcome).toBe('vsf');
    expect([v.ebvs, v.vsf, v.vpf]).toEqual([false, true, false]);
    expect(v.fatalErrorType).toBe('NETWORK_ERROR');
    expect(v.fatalErrorDetails).toBe('fragLoadError');
    expect(v.endReason).toBe('error');
    expect(v.score).toBe(0);
  });

  it('video start failure: session_end with reason error and no error event', () => {
    const s = new Script('vsf2');
    s.intent(0);
    s.end(5_000, 'error');
    expect(only(s.events).startupOutcome).toBe('vsf');
  });

  it('still open: no first frame, no end, no error', () => {
    const s = new Script('open');
    s.intent(0);
    s.manifest(500);
    const v = only(s.events);
    expect(v.endReason).toBe('open');
    expect(v.startupOutcome).toBe('unknown');
    expect([v.ebvs, v.vsf]).toEqual([false, false]);
    expect(v.score).toBeNull();
    // Known to be complete (the sessionizer's idle timeout): the attempt went silent -> EBVS.
    const closed = only(s.events, { unended: 'timed_out' });
    expect(closed.endReason).toBe('timed_out');
    expect(closed.startupOutcome).toBe('ebvs');
  });

  it('stalls and switches before the first frame are play delay, not rebuffering', () => {
    const s = new Script('prestart');
    s.intent(0);
    s.stallStart(200);
    s.switchTo(300, 3_000, 1_500);
    s.stallEnd(900);
    s.firstFrame(2_000, 1_500);
    s.end(12_000);
    const v = only(s.events);
    expect(v.startupMs).toBe(2_000);
    expect([v.stallCount, v.stallMs, v.switchesDown]).toEqual([0, 0, 0]);
    expect(v.playMs).toBe(10_000);
    expect(v.rebufferRatio).toBe(0);
  });
});

describe('summarizeEvents: failures and stalls', () => {
  it('playback failure after the first frame', () => {
    // Play 1000-11000 at 3000 kbps = 10000 ms; nothing counts after the fatal error.
    // Score: 0.5 * 8/9 * 1 * u(3000) = 0.5 * 0.888889 * 0.837642 -> 37.23.
    const s = new Script('vpf');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.error(11_000, true, 'MEDIA_ERROR');
    s.heartbeat(11_500);
    s.end(12_000, 'error');
    const v = only(s.events);
    expect([v.ebvs, v.vsf, v.vpf]).toEqual([false, false, true]);
    expect(v.startupOutcome).toBe('started');
    expect(v.playMs).toBe(10_000);
    expect(v.fatalErrorType).toBe('MEDIA_ERROR');
    expect(v.score).toBe(37.23);
  });

  it('a stall open at session end counts up to the end', () => {
    // Play 1000-11000 = 10000 at 2000 kbps; stall 11000-15000 = 4000, still open at exit.
    // rebufferRatio = 4000/14000; score: 8/9 * M(1, 2/7) * u(2000) = 0.888889*0.475930*0.737785 -> 31.21.
    const s = new Script('endstall');
    s.intent(0);
    s.firstFrame(1_000, 2_000);
    s.stallStart(11_000);
    s.end(15_000, 'viewer_exit');
    const v = only(s.events);
    expect(v.stallMs).toBe(4_000);
    expect(v.stallCount).toBe(1);
    expect(v.playMs).toBe(10_000);
    expect(v.rebufferRatio).toBeCloseTo(4_000 / 14_000, 12);
    expect(v.exitDuringStall).toBe(true);
    expect(v.score).toBe(31.21);
  });

  it('a stall open when the view times out counts up to its last event', () => {
    const s = new Script('timeoutstall');
    s.intent(0);
    s.firstFrame(1_000, 2_000);
    s.stallStart(11_000);
    s.heartbeat(14_000);
    const v = only(s.events, { unended: 'timed_out' });
    expect(v.stallMs).toBe(3_000);
    expect(v.exitDuringStall).toBe(false);
    expect(v.endReason).toBe('timed_out');
  });

  it('excludes stalls caused by seeks', () => {
    //   1000 first frame; 11000 seek 10000 -> 60000 (window opens)
    //   11100-12600 seek stall (1500, excluded); stall_end closes the window
    //   22600 heartbeat, playhead 70000; 30000-31000 real stall; 41000 end
    // Play: 10000 + 100 + 17400 + 10000 = 37500; stall 1000; seek stall 1500.
    const s = new Script('seek');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.seek(11_000, 10_000, 60_000);
    s.stallStart(11_100);
    s.stallEnd(12_600);
    s.heartbeat(22_600, 3_000, { playheadMs: 70_000 });
    s.stallStart(30_000);
    s.stallEnd(31_000);
    s.end(41_000);
    const v = only(s.events);
    expect(v.playMs).toBe(37_500);
    expect(v.stallMs).toBe(1_000);
    expect(v.seekStallMs).toBe(1_500);
    expect([v.stallCount, v.seekStallCount, v.seekCount]).toEqual([1, 1, 1]);
    expect(v.rebufferRatio).toBeCloseTo(1_000 / 38_500, 12);
  });

  it('a seek window stays open until the playhead passes the target', () => {
    // Seek at 11000 to 60000 with no stall; a heartbeat at 15000 still at playhead 60000 (not
    // resumed), so the stall at 16000 is the seek's. After it, a heartbeat at 20000 shows
    // playhead 63000 > 60000: resumed, and the stall at 25000 is rebuffering.
    const s = new Script('seek2');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.seek(11_000, 10_000, 60_000);
    s.heartbeat(15_000, 3_000, { playheadMs: 60_000 });
    s.stallStart(16_000);
    s.stallEnd(17_000);
    s.seek(18_000, 62_000, 61_000); // backward seek, window opens at 61000
    s.heartbeat(20_000, 3_000, { playheadMs: 63_000 });
    s.stallStart(25_000);
    s.stallEnd(27_000);
    s.end(30_000);
    const v = only(s.events);
    expect([v.seekStallCount, v.seekStallMs]).toEqual([1, 1_000]);
    expect([v.stallCount, v.stallMs]).toEqual([1, 2_000]);
    expect(v.seekCount).toBe(2);
    // Play: 1000-16000 (15000) + 17000-25000 (8000) + 27000-30000 (3000) = 26000.
    expect(v.playMs).toBe(26_000);
  });

  it('a seek during a stall turns the rest of it into a seek stall', () => {
    const s = new Script('seek3');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.stallStart(11_000);
    s.seek(13_000, 10_000, 100_000);
    s.stallEnd(14_000);
    s.end(24_000);
    const v = only(s.events);
    expect([v.stallCount, v.stallMs]).toEqual([1, 2_000]);
    expect(v.seekStallMs).toBe(1_000);
    expect(v.playMs).toBe(20_000);
  });

  it('pauses are not play time, and a pause ends a stall', () => {
    const s = new Script('pause');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.stallStart(5_000);
    s.pause(6_000);
    s.resume(60_000);
    s.end(64_000);
    const v = only(s.events);
    expect(v.playMs).toBe(4_000 + 4_000);
    expect(v.stallMs).toBe(1_000);
    expect(v.pausedMs).toBe(54_000);
    expect(v.pauseCount).toBe(1);
  });
});

describe('summarizeEvents: views, clock skew, continuations', () => {
  function pausedForFortyMinutes(): Script {
    const s = new Script('split');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.pause(11_000);
    s.resume(11_000 + 40 * MIN);
    s.heartbeat(21_000 + 40 * MIN, 3_000);
    s.end(31_000 + 40 * MIN, 'completed');
    return s;
  }

  it('splits a session at a gap of more than 30 minutes into views', () => {
    const [first, second] = summarizeEvents(pausedForFortyMinutes().events);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    // View 1: seq 0-2, play 1000-11000, then silence. Closed by the gap: timed_out.
    expect(first!.summaryId).toBe('split:0');
    expect([first!.firstSeq, first!.lastSeq]).toEqual([0, 2]);
    expect(first!.endReason).toBe('timed_out');
    expect(first!.playMs).toBe(10_000);
    expect(first!.pausedMs).toBe(0);
    expect(first!.endTime).toBe(T0 + 11_000);
    expect(first!.startupOutcome).toBe('started');
    // View 2: a continuation from the resume; no startup, bitrate from the heartbeat.
    expect(second!.summaryId).toBe('split:3');
    expect(second!.playAttempt).toBe(false);
    expect(second!.startupOutcome).toBe('continued');
    expect(second!.startupMs).toBeNull();
    expect(second!.startTime).toBe(T0 + 11_000 + 40 * MIN);
    expect(second!.playMs).toBe(20_000);
    // Bitrate unknown until the heartbeat at +10000: only the last 10000 ms are weighted.
    expect(second!.avgBitrateKbps).toBe(3_000);
    expect(second!.endReason).toBe('completed');
    expect(second!.scoreStartup).toBe(1);
  });

  it('does not split at a gap of exactly the limit', () => {
    const s = new Script('nosplit');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.pause(11_000);
    s.resume(11_000 + 30 * MIN);
    s.end(21_000 + 30 * MIN);
    const v = only(s.events);
    expect(v.pausedMs).toBe(30 * MIN);
    expect(v.playMs).toBe(20_000);
  });

  it('takes the gap from the options', () => {
    expect(summarizeEvents(pausedForFortyMinutes().events, { viewGapMs: 60 * MIN })).toHaveLength(1);
  });

  it('continuation bitrate: from a heartbeat, then switches', () => {
    // No play_intent: heartbeat at 0 (2000 kbps) starts playback; switch to 4000 at 20000.
    // avg = (2000*20000 + 4000*10000)/30000 = 2666.67; Q = u(2666.67) - rung*1/7.5 -> 79.69.
    const s = new Script('cont').skipTo(40);
    s.heartbeat(0, 2_000);
    s.heartbeat(10_000, 2_000);
    s.switchTo(20_000, 2_000, 4_000);
    s.end(30_000);
    const v = only(s.events);
    expect(v.summaryId).toBe('cont:40');
    expect(v.startupOutcome).toBe('continued');
    expect(v.playMs).toBe(30_000);
    expect(v.avgBitrateKbps).toBeCloseTo(2_666.6666666666665, 9);
    expect(v.switchesUp).toBe(1);
    expect(v.score).toBe(79.69);
  });

  it('corrects a player clock one hour ahead', () => {
    const skewed = referenceSession('s-skew');
    const plain = only(referenceSession('s-skew').events);
    const shifted = skewed.events.map((e) => ({
      ...e,
      clientTs: e.clientTs + 3_600_000,
      server: { ...e.server, clockSkewMs: 3_600_000 },
    }));
    expect(only(shifted)).toEqual(plain);
  });

  it('never makes a negative duration when the skew estimate moves between batches', () => {
    // Batch 2's skew estimate is 40 ms higher, so its corrected times are 40 ms earlier: the
    // stall_end lands at 4980, before the stall_start at 5000. Time is monotone in seq order,
    // so the stall lasts 0 ms and the next interval starts at 5000.
    const s = new Script('jitter');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.stallStart(5_000);
    const end = s.stallEnd(5_020);
    const last = s.end(15_040);
    for (const e of [end, last]) e.server.clockSkewMs += 40;
    const v = only(s.events);
    expect(v.stallMs).toBe(0);
    expect(v.stallCount).toBe(1);
    expect(v.playMs).toBe(4_000 + 10_000);
    expect(v.durationMs).toBe(15_000);
  });

  it('groups events by session and orders summaries by sessionId', () => {
    const a = referenceSession('b-session').events;
    const b = referenceSession('a-session').events;
    const out = summarizeEvents([...a, ...b]);
    expect(out.map((v) => v.summaryId)).toEqual(['a-session:0', 'b-session:0']);
  });
});
