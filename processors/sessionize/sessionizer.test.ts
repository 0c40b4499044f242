import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { PlayloopError } from '../../core/errors.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { type SessionSummary, schema as sessionSchema } from '../../schemas/generated/playback-session.ts';
import { eventTimeMs } from '../qoe-core/event-time.ts';
import { summarizeEvents } from '../qoe-core/summarize.ts';
import { Script, T0 } from '../qoe-core/testing.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { DEFAULT_SESSIONIZE_OPTIONS, sessionizeOptions, sessionizeOptionsFrom } from './options.ts';
import {
  type CheckpointEntry,
  type Disposition,
  type PartitionMeta,
  type PartitionSnapshot,
  Sessionizer,
  snapshotFromEntries,
} from './sessionizer.ts';
import { EntryKind, encodeChunks, readChunk } from './state-codec.ts';

const SEC = 1_000;
const MIN = 60 * SEC;
const LATENESS = 30 * SEC;
const GAP = 30 * MIN;

/** Feeds events with consecutive offsets per partition. */
class Feed {
  private readonly offsets = new Map<number, number>();
  readonly out: SessionSummary[] = [];

  constructor(readonly sz: Sessionizer) {}

  push(event: PlaybackEvent, partition = 0): Disposition {
    const offset = this.offsets.get(partition) ?? 0;
    this.offsets.set(partition, offset + 1);
    const d = this.sz.add(event, { partition, offset });
    this.out.push(...this.sz.drain());
    return d;
  }

  pushAll(events: readonly PlaybackEvent[], partition = 0): Disposition[] {
    return events.map((e) => this.push(e, partition));
  }

  finish(): SessionSummary[] {
    this.sz.advanceWatermarkTo(Number.POSITIVE_INFINITY);
    this.out.push(...this.sz.drain());
    return this.out;
  }

  of(sessionId: string): SessionSummary[] {
    return this.out.filter((v) => v.sessionId === sessionId);
  }
}

function sessionizer(options: ConstructorParameters<typeof Sessionizer>[0] = {}): Sessionizer {
  return new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 1, ...options });
}

/** A heartbeat-only session whose only job is to move a partition's event time forward. */
class Ticker {
  private readonly script: Script;
  constructor(
    readonly feed: Feed,
    readonly partition = 0,
  ) {
    this.script = new Script(`ticker-${partition}`);
  }
  at(at: number): void {
    this.feed.push(this.script.heartbeat(at), this.partition);
  }
}

function withoutSource(v: SessionSummary): SessionSummary {
  return { ...v, sourcePartition: null, sourceOffsetFirst: null, sourceOffsetLast: null };
}

/** The reference session of qoe-core's tests (81.5 s, one stall, one pause, two OCAs). */
function referenceSession(id = 's-ref', offsetMs = 0): Script {
  const s = new Script(id);
  const t = (ms: number): number => offsetMs + ms;
  s.intent(t(0), { ocaId: 'oca-a', experiments: [{ key: 'abr-1', cell: 'b' }] });
  s.manifest(t(300), 'oca-a');
  s.segment(t(800), 'oca-a', 1_000_000, 400);
  s.firstFrame(t(1_500), 3_000);
  s.heartbeat(t(11_500), 3_000, { playheadMs: 10_000 });
  s.switchTo(t(21_500), 3_000, 4_500);
  s.segment(t(22_000), 'oca-b', 2_000_000, 1_000, 4_500);
  s.stallStart(t(31_500));
  s.stallEnd(t(33_500), 2_000);
  s.pause(t(41_500));
  s.resume(t(61_500));
  s.switchTo(t(71_500), 4_500, 1_500);
  s.end(t(81_500), 'viewer_exit');
  return s;
}

/** mulberry32: a small deterministic PRNG for reproducible workloads. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('Sessionizer: closing', () => {
  it('emits a session as soon as its session_end folds in seq order, as the batch summary says', () => {
    const feed = new Feed(sessionizer());
    const ref = referenceSession();
    const dispositions = feed.pushAll(ref.events);
    expect(dispositions).toEqual(Array(13).fill('folded'));
    // Nothing before session_end (the last event) ...
    const [v] = feed.of('s-ref');
    expect(feed.of('s-ref')).toHaveLength(1);
    expect(v).toEqual({
      ...summarizeEvents(ref.events)[0]!,
      sourcePartition: 0,
      sourceOffsetFirst: 0,
      sourceOffsetLast: 12,
    });
    // ... and the session stays open (for stragglers) until the watermark passes its end,
    // then closes without emitting again.
    const ticker = new Ticker(feed);
    ticker.at(111_500);
    expect(feed.sz.stats().openSessions).toBe(2);
    ticker.at(111_501);
    expect(feed.of('s-ref')).toHaveLength(1);
    expect(feed.sz.stats().openSessions).toBe(1); // the ticker
  });

  it('waits for a missing seq before session_end, then emits once', () => {
    const feed = new Feed(sessionizer());
    const s = new Script('gappy');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    const missing = s.heartbeat(5_000);
    s.end(10_000);
    const events = s.events.filter((e) => e !== missing);
    expect(feed.pushAll(events)).toEqual(['folded', 'folded', 'buffered']);
    expect(feed.of('gappy')).toHaveLength(0);
    expect(feed.push(missing)).toBe('folded');
    expect(feed.of('gappy')).toHaveLength(1);
    expect(withoutSource(feed.of('gappy')[0]!)).toEqual(withoutSource(summarizeEvents(s.events)[0]!));
    feed.finish();
    expect(feed.of('gappy')).toHaveLength(1);
  });

  it('times out an idle session a gap after its last event', () => {
    const feed = new Feed(sessionizer());
    const s = new Script('idle');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    feed.pushAll([...s.events, s.heartbeat(10_000)]);
    const ticker = new Ticker(feed);
    // Due once watermark > 10 s + 30 min, i.e. newest time > 10 s + 30 min + 30 s.
    ticker.at(10_000 + GAP + LATENESS);
    expect(feed.of('idle')).toHaveLength(0);
    expect(feed.sz.stats().openSessions).toBe(2);
    ticker.at(10_000 + GAP + LATENESS + 1);
    const [v] = feed.of('idle');
    expect(v?.endReason).toBe('timed_out');
    expect(v?.endTime).toBe(T0 + 10_000);
    expect(v?.playMs).toBe(9_000);
    expect(feed.sz.stats().openSessions).toBe(1);
  });

  it('splits at a long gap as soon as the next event arrives', () => {
    const feed = new Feed(sessionizer());
    const s = new Script('split');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.pause(11_000);
    feed.pushAll(s.events);
    expect(feed.push(s.resume(11_000 + 40 * MIN))).toBe('folded');
    expect(feed.out.map((v) => [v.summaryId, v.endReason])).toEqual([['split:0', 'timed_out']]);
    feed.push(s.end(21_000 + 40 * MIN, 'completed'));
    const out = feed.finish();
    expect(out.map((v) => [v.summaryId, v.endReason, v.startupOutcome])).toEqual([
      ['split:0', 'timed_out', 'started'],
      ['split:3', 'completed', 'continued'],
    ]);
    expect(out.map(withoutSource)).toEqual(summarizeEvents(s.events));
    expect(out[1]?.sourceOffsetFirst).toBe(3);
  });
});

describe('Sessionizer: order, duplicates, lateness', () => {
  it('passes over unsequenced events (CMCD beacons): same summaries, no session or state of their own', () => {
    /** What an OCA mirrors for a segment it served: a segment_downloaded with seq -1. */
    const beacon = (sessionId: string, at: number): PlaybackEvent => ({
      ...new Script(sessionId).segment(at, 'oca-a', 1_000_000, 400),
      seq: -1,
    });
    const ref = referenceSession();
    const plain = new Feed(sessionizer());
    plain.pushAll(ref.events);
    const expected = plain.finish().map(withoutSource);

    const mixed = new Feed(sessionizer());
    const dispositions: Disposition[] = [];
    // A beacon before the session's first event, one beside every event, one after its end,
    // and a session that only ever sends beacons.
    dispositions.push(mixed.push(beacon('s-ref', -500)));
    for (const event of ref.events) {
      dispositions.push(mixed.push(event));
      dispositions.push(mixed.push(beacon('s-ref', eventTimeMs(event) + 10)));
      dispositions.push(mixed.push(beacon('s-cmcd-only', eventTimeMs(event) + 20)));
    }
    dispositions.push(mixed.push(beacon('s-ref', 90_000)));
    const beacons = 2 + 2 * ref.events.length;
    expect(dispositions.filter((d) => d === 'unsequenced')).toHaveLength(beacons);
    expect(dispositions.filter((d) => d === 'folded')).toHaveLength(ref.events.length);

    expect(mixed.finish().map(withoutSource)).toEqual(expected);
    const stats = mixed.sz.stats();
    expect(stats).toMatchObject({ unsequenced: beacons, duplicates: 0, late: 0, sessionsOpened: 1 });
    // Nothing left behind: a beacon-only session used to stay open for good.
    expect(stats.openSessions).toBe(0);
  });

  it('drops, on restore, the empty sessions unsequenced events used to leave behind', () => {
    const feed = new Feed(sessionizer());
    const ref = referenceSession();
    feed.pushAll(ref.events.slice(0, 4));
    const snap = feed.sz.snapshot(0);
    // What a checkpoint written before held for a session known only from a beacon.
    const empty = {
      sessionId: 's-beacon',
      ordinal: 99,
      view: null,
      emitted: false,
      prevLastTime: null,
      nextSeq: 0,
      pending: null,
      skipped: null,
    };
    const restored = sessionizer();
    restored.restore({ ...snap, sessions: [...snap.sessions, empty] });
    expect(restored.stats().openSessions).toBe(1);
    expect(restored.snapshot(0).sessions.map((s) => s.sessionId)).toEqual(['s-ref']);
  });

  it('does not let an unsequenced event move the watermark', () => {
    const ref = referenceSession();
    const feed = new Feed(sessionizer());
    feed.pushAll(ref.events.slice(0, -1)); // everything but session_end
    // A beacon two hours ahead would close the view as timed out if it moved the watermark.
    feed.push({ ...new Script('s-ref').heartbeat(2 * 60 * MIN), seq: -1 });
    expect(feed.out).toHaveLength(0);
    expect(feed.sz.stats().openSessions).toBe(1);
    expect(feed.sz.watermark()).toBe(eventTimeMs(ref.events.at(-2) as PlaybackEvent) - LATENESS);
  });

  it('gives the same summary for events out of order within the allowed lateness', () => {
    const inOrder = new Feed(sessionizer());
    const ref = referenceSession();
    inOrder.pushAll(ref.events);
    const expected = inOrder.finish().map(withoutSource);

    // Each event arrives 0-25 s late (lateness 30 s), interleaved with a ticker every 2 s.
    const rng = prng(7);
    const arrivals = ref.events.map((event) => ({
      event,
      at: eventTimeMs(event) + Math.floor(rng() * 25_000),
    }));
    const ticks = new Script('ticker');
    for (let at = 0; at <= 120_000; at += 2_000) {
      const event = ticks.heartbeat(at);
      arrivals.push({ event, at: eventTimeMs(event) });
    }
    arrivals.sort((a, b) => a.at - b.at);
    const shuffled = new Feed(sessionizer());
    const dispositions = arrivals.map(({ event }) => shuffled.push(event));
    expect(dispositions).not.toContain('late');
    expect(dispositions).toContain('buffered');
    shuffled.finish();
    expect(shuffled.of('s-ref').map(withoutSource)).toEqual(expected);
    // The offsets range covers exactly where s-ref's events sat in the interleaved stream.
    const offsets = arrivals.flatMap((a, i) => (a.event.sessionId === 's-ref' ? [i] : []));
    const [v] = shuffled.of('s-ref');
    expect([v?.sourceOffsetFirst, v?.sourceOffsetLast]).toEqual([offsets[0], offsets[offsets.length - 1]]);
  });

  it('ignores duplicates, folded or still waiting', () => {
    const feed = new Feed(sessionizer());
    const ref = referenceSession();
    const e = ref.events;
    expect(feed.push(e[0]!)).toBe('folded');
    expect(feed.push(e[0]!)).toBe('duplicate');
    expect(feed.push(e[2]!)).toBe('buffered');
    expect(feed.push(e[2]!)).toBe('duplicate');
    expect(feed.push(e[1]!)).toBe('folded');
    feed.pushAll(e.slice(3));
    feed.pushAll(e.slice(5, 9)); // again, later
    const [v] = feed.finish();
    expect(withoutSource(v!)).toEqual(summarizeEvents(e)[0]);
    expect(feed.sz.stats().duplicates).toBe(6);
  });

  it('drops an event for an emitted view as late and never re-emits', () => {
    const feed = new Feed(sessionizer());
    const s = new Script('late');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.end(11_000);
    feed.pushAll(s.events);
    const ticker = new Ticker(feed);
    ticker.at(60_000);
    expect(feed.of('late')).toHaveLength(1);
    // A re-sent event of the emitted view is a duplicate; a straggler after its end is late.
    expect(feed.push(s.events[1]!)).toBe('duplicate');
    expect(feed.push(s.heartbeat(12_000))).toBe('late');
    ticker.at(5 * MIN);
    expect(feed.of('late')).toHaveLength(1);
    expect(feed.sz.stats().late).toBe(1);
    // More than a gap after the view's last event, the session starts a new view.
    expect(feed.push(s.resume(11_000 + GAP + MIN))).toBe('folded');
    feed.push(s.end(11_000 + GAP + 2 * MIN));
    ticker.at(11_000 + GAP + 3 * MIN);
    expect(feed.of('late').map((v) => [v.summaryId, v.startupOutcome])).toEqual([
      ['late:0', 'started'],
      ['late:4', 'continued'],
    ]);
  });

  it('drops an event of an unknown session older than a gap behind the watermark', () => {
    const feed = new Feed(sessionizer());
    new Ticker(feed).at(2 * GAP);
    // Watermark: 2 gaps - 30 s. One ms more than a gap behind it is late; exactly a gap is not.
    expect(feed.push(new Script('ancient').heartbeat(2 * GAP - LATENESS - GAP - 1))).toBe('late');
    expect(feed.push(new Script('old-enough').heartbeat(2 * GAP - LATENESS - GAP))).toBe('folded');
  });

  it('gives up on a missing seq once the watermark passes, and then calls it late', () => {
    const feed = new Feed(sessionizer());
    const s = new Script('hole');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    s.heartbeat(11_000);
    const lost = s.heartbeat(21_000);
    s.heartbeat(31_000);
    s.end(41_000);
    const sent = s.events.filter((e) => e !== lost);
    expect(feed.pushAll(sent)).toEqual(['folded', 'folded', 'folded', 'buffered', 'buffered']);
    const ticker = new Ticker(feed);
    ticker.at(31_000 + LATENESS); // watermark 31 s: not past the waiting event yet
    expect(feed.sz.stats().pendingEvents).toBe(2);
    ticker.at(41_000 + LATENESS + 1); // past 31 s (gap skipped) and past the end (emitted)
    const [v] = feed.of('hole');
    expect(v?.missingSeqCount).toBe(1);
    expect(v?.eventCount).toBe(5);
    expect(withoutSource(v!)).toEqual(summarizeEvents(sent)[0]);
    expect(feed.push(lost)).toBe('late');
    expect(feed.sz.stats().gapsSkipped).toBe(1);
  });

  it('bounds the events waiting for a missing seq', () => {
    const feed = new Feed(sessionizer({ maxPendingPerSession: 2 }));
    const s = new Script('bounded');
    s.intent(0);
    s.firstFrame(1_000, 3_000);
    for (let i = 0; i < 4; i++) s.heartbeat(2_000 + i * 1_000);
    const [intent, , h1, h2, h3] = s.events;
    expect(feed.pushAll([intent!, h1!, h2!])).toEqual(['folded', 'buffered', 'buffered']);
    // A third waiting event is over the cap: the gap (seq 1) is given up and all three fold.
    expect(feed.push(h3!)).toBe('buffered');
    expect(feed.sz.stats().pendingEvents).toBe(0);
    expect(feed.sz.stats().gapsSkipped).toBe(1);
    expect(feed.push(s.events[1]!)).toBe('late');
  });
});

describe('Sessionizer: watermark and partitions', () => {
  it('closes a session by its own partition watermark; the processor watermark is the min', () => {
    const feed = new Feed(sessionizer({ partitionCount: 2 }));
    const a = new Script('on-p0');
    a.intent(0);
    a.firstFrame(1_000, 3_000);
    a.heartbeat(5_000);
    a.end(10_000);
    // seq 2 (a heartbeat) never comes: session_end waits for it until the watermark passes.
    feed.pushAll([a.events[0]!, a.events[1]!, a.events[3]!], 0);
    const far = new Ticker(feed, 1);
    far.at(60 * MIN);
    // Partition 1 is an hour ahead; partition 0 has not moved past the wait: nothing emitted.
    expect(feed.of('on-p0')).toHaveLength(0);
    expect(feed.sz.partitionWatermark(0)).toBe(T0 + 10_000 - LATENESS);
    expect(feed.sz.partitionWatermark(1)).toBe(T0 + 60 * MIN - LATENESS);
    expect(feed.sz.watermark()).toBe(T0 + 10_000 - LATENESS);
    new Ticker(feed, 0).at(10_000 + LATENESS + 1);
    expect(feed.of('on-p0')).toHaveLength(1);
    expect(feed.sz.watermark()).toBe(T0 + 10_001);
    expect(feed.sz.positions()).toEqual(
      new Map([
        [0, 4],
        [1, 1],
      ]),
    );
  });

  it('forgets revoked partitions without emitting', () => {
    const feed = new Feed(sessionizer({ partitionCount: 2 }));
    feed.pushAll(referenceSession('a').events, 0);
    // Without its session_end, b is still open (an ended one is out already).
    feed.pushAll(referenceSession('b').events.slice(0, -1), 1);
    expect(feed.sz.stats().openSessions).toBe(2);
    feed.sz.revokePartitions([1]);
    expect(feed.sz.stats().openSessions).toBe(1);
    expect([...feed.sz.positions().keys()]).toEqual([0]);
    expect(feed.finish().map((v) => v.sessionId)).toEqual(['a']);
  });

  it("a partition's output does not depend on how partitions interleave", () => {
    const build = (p: number): PlaybackEvent[] => {
      const events: PlaybackEvent[] = [];
      for (let i = 0; i < 6; i++)
        events.push(...referenceSession(`p${p}-s${i}`, i * 40_000 + p * 7_000).events);
      return events.sort((x, y) => eventTimeMs(x) - eventTimeMs(y));
    };
    const p0 = build(0);
    const p1 = build(1);
    const run = (order: Array<[PlaybackEvent, number]>): SessionSummary[] => {
      const feed = new Feed(sessionizer({ partitionCount: 2 }));
      for (const [e, p] of order) feed.push(e, p);
      return feed.out;
    };
    const alternating = run(p0.flatMap((e, i) => [[e, 0] as [PlaybackEvent, number], [p1[i]!, 1]]));
    const blocks = run([
      ...p1.map((e) => [e, 1] as [PlaybackEvent, number]),
      ...p0.map((e) => [e, 0] as [PlaybackEvent, number]),
    ]);
    const onPartition = (out: SessionSummary[], p: number): SessionSummary[] =>
      out.filter((v) => v.sourcePartition === p);
    expect(onPartition(alternating, 0).length).toBeGreaterThan(0);
    expect(onPartition(blocks, 0)).toEqual(onPartition(alternating, 0));
    expect(onPartition(blocks, 1)).toEqual(onPartition(alternating, 1));
  });
});

describe('Sessionizer: memory bounds', () => {
  it('never holds more open sessions than the cap; evicts the nearest deadline first', () => {
    const feed = new Feed(sessionizer({ maxOpenSessions: 3 }));
    // s0 ends (deadline: its end, 11 s); s1..s4 are idle (deadline: last event + 30 min).
    const scripts = [0, 1, 2, 3, 4].map((i) => new Script(`s${i}`));
    scripts[0]!.intent(0);
    scripts[0]!.firstFrame(1_000, 3_000);
    scripts[0]!.end(11_000);
    for (let i = 1; i <= 4; i++) {
      scripts[i]!.intent(i * 1_000);
      scripts[i]!.firstFrame(i * 1_000 + 500, 3_000);
    }
    let maxOpen = 0;
    for (const s of scripts) {
      for (const e of s.events) {
        feed.push(e);
        maxOpen = Math.max(maxOpen, feed.sz.stats().openSessions);
      }
    }
    expect(maxOpen).toBe(3);
    // s3 evicts s0 (ended: keeps its own reason, emitted early); s4 evicts s1 (oldest idle).
    expect(feed.out.map((v) => [v.sessionId, v.endReason])).toEqual([
      ['s0', 'viewer_exit'],
      ['s1', 'evicted'],
    ]);
    expect(feed.out[1]?.startupOutcome).toBe('started');
    expect(feed.sz.stats().evictions).toBe(2);
    // The evicted view is final: more of it is late, not a second summary.
    expect(feed.push(scripts[1]!.heartbeat(5_000))).toBe('late');
  });

  it('caps the tombstones, oldest first', () => {
    const feed = new Feed(sessionizer({ maxTombstones: 2 }));
    for (let i = 0; i < 4; i++) {
      const s = new Script(`t${i}`);
      s.intent(i * 1_000);
      s.end(i * 1_000 + 500);
      feed.pushAll(s.events);
    }
    new Ticker(feed).at(10 * MIN);
    expect(feed.of('t0')).toHaveLength(1);
    const stats = feed.sz.stats();
    expect(stats.tombstones).toBe(2);
    expect(stats.tombstonesEvicted).toBe(2);
  });

  it('rejects contradictory options', () => {
    expect(() =>
      sessionizeOptions({ maxPendingPerSession: 100, maxPendingEvents: 50, partitionCount: 1 }),
    ).toThrow(PlayloopError);
    expect(() => sessionizeOptions({ viewGapMs: 0 })).toThrow(/viewGapMs/);
    expect(() => sessionizeOptions({ allowedLatenessMs: -1 })).toThrow(/allowedLatenessMs/);
  });

  it('reads its options from the config', () => {
    const config = loadConfig({ env: {}, overrides: { topics: { partitions: 8 } } });
    expect(sessionizeOptionsFrom(config)).toEqual({ ...DEFAULT_SESSIONIZE_OPTIONS, partitionCount: 8 });
  });
});

/** A random but plausible fleet: starts, failures, stalls, seeks, pauses (some long), ends. */
function workload(seed: number, sessions: number): { events: PlaybackEvent[]; arrivals: PlaybackEvent[] } {
  const rng = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const ladder = [235, 750, 1_750, 3_000, 5_800];
  const all: PlaybackEvent[] = [];
  for (let i = 0; i < sessions; i++) {
    const s = new Script(`w${i}`, {
      server: { isp: pick(['AS3320', 'AS6805']), country: pick(['DE', 'FR']) },
    });
    let t = Math.floor(rng() * 20 * MIN);
    s.intent(t, { ocaId: 'oca-1', experiments: [{ key: 'exp-1', cell: pick(['a', 'b']) }] });
    t += 100 + Math.floor(rng() * 300);
    s.manifest(t, 'oca-1');
    const kind = rng();
    if (kind < 0.08) {
      s.end(t + 500 + Math.floor(rng() * 8_000), 'viewer_exit');
    } else if (kind < 0.12) {
      t += 2_000;
      s.error(t, true);
      s.end(t + 100, 'error');
    } else {
      t += 200 + Math.floor(rng() * 1_500);
      s.segment(
        t,
        pick(['oca-1', 'oca-2']),
        500_000 + Math.floor(rng() * 1_000_000),
        100 + Math.floor(rng() * 900),
      );
      t += 100 + Math.floor(rng() * 2_000);
      let bitrate = pick(ladder);
      s.firstFrame(t, bitrate);
      let playhead = 0;
      const steps = 5 + Math.floor(rng() * 25);
      for (let k = 0; k < steps; k++) {
        const dt = 1_000 + Math.floor(rng() * 15_000);
        t += dt;
        playhead += dt;
        const r = rng();
        if (r < 0.35) s.heartbeat(t, bitrate, { playheadMs: playhead });
        else if (r < 0.5)
          s.segment(
            t,
            pick(['oca-1', 'oca-2']),
            200_000 + Math.floor(rng() * 2_000_000),
            50 + Math.floor(rng() * 2_000),
          );
        else if (r < 0.62) {
          const to = pick(ladder);
          s.switchTo(t, bitrate, to);
          bitrate = to;
        } else if (r < 0.72) {
          s.stallStart(t);
          t += 200 + Math.floor(rng() * 5_000);
          s.stallEnd(t);
        } else if (r < 0.8) {
          const to = Math.floor(rng() * 3_600_000);
          s.seek(t, playhead, to);
          playhead = to;
          if (rng() < 0.5) {
            s.stallStart(t + 50);
            t += 1_050;
            s.stallEnd(t);
          }
        } else if (r < 0.9) {
          s.pause(t);
          t += rng() < 0.15 ? 40 * MIN : 5_000 + Math.floor(rng() * 60_000);
          s.resume(t);
        } else if (r < 0.93) {
          s.error(t, rng() < 0.3);
        } else {
          s.heartbeat(t, bitrate);
        }
      }
      if (rng() < 0.75) s.end(t + 1_000, pick(['viewer_exit', 'completed', 'navigated_away'] as const));
    }
    all.push(...s.events);
  }
  // Delivery: 3% of events never arrive, 5% arrive twice; each copy 0-20 s late.
  const deliveries: Array<{ event: PlaybackEvent; at: number }> = [];
  const delivered: PlaybackEvent[] = [];
  for (const event of all) {
    if (rng() < 0.03) continue;
    delivered.push(event);
    const copies = rng() < 0.05 ? 2 : 1;
    for (let c = 0; c < copies; c++)
      deliveries.push({ event, at: eventTimeMs(event) + Math.floor(rng() * 20_000) });
  }
  deliveries.sort((a, b) => a.at - b.at);
  return { events: delivered, arrivals: deliveries.map((d) => d.event) };
}

function partitionOf(sessionId: string): number {
  return Number(sessionId.slice(1)) % 2;
}

describe('Sessionizer: a random fleet', () => {
  const { events, arrivals } = workload(42, 150);

  function runAll(sz: Sessionizer, input: readonly PlaybackEvent[]): { out: SessionSummary[]; late: number } {
    const feed = new Feed(sz);
    let late = 0;
    for (const e of input) if (feed.push(e, partitionOf(e.sessionId)) === 'late') late++;
    return { out: feed.finish(), late };
  }

  it('matches the batch summaries when everything arrives within the lateness', () => {
    const { out, late } = runAll(sessionizer({ partitionCount: 2 }), arrivals);
    expect(late).toBe(0);
    const batch = summarizeEvents(events, { unended: 'timed_out' });
    const streamed = out.map(withoutSource).sort((a, b) => (a.summaryId < b.summaryId ? -1 : 1));
    const expected = [...batch].sort((a, b) => (a.summaryId < b.summaryId ? -1 : 1));
    expect(streamed.length).toBeGreaterThan(150); // some sessions split into views
    expect(streamed).toEqual(expected);
    const reasons = new Set(out.map((v) => v.endReason));
    expect(reasons).toEqual(new Set(['viewer_exit', 'completed', 'navigated_away', 'error', 'timed_out']));
    expect(new Set(out.map((v) => v.startupOutcome))).toEqual(
      new Set(['started', 'continued', 'ebvs', 'vsf']),
    );
  });

  it('emits summaries that fit the Avro contract and survive a round trip', () => {
    const type = avro.Type.forSchema(sessionSchema as unknown as avro.Schema);
    const { out } = runAll(sessionizer({ partitionCount: 2 }), arrivals);
    for (const v of out) {
      const paths: string[] = [];
      type.isValid(v, { errorHook: (path) => paths.push(path.join('.')) });
      expect(paths, v.summaryId).toEqual([]);
      expect(type.fromBuffer(type.toBuffer(v))).toEqual(v);
    }
  });

  it('is deterministic, and a checkpoint restored mid-stream changes nothing', () => {
    const once = runAll(sessionizer({ partitionCount: 2 }), arrivals).out;
    expect(runAll(sessionizer({ partitionCount: 2 }), arrivals).out).toEqual(once);

    const half = Math.floor(arrivals.length / 2);
    const first = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    const feed = new Feed(first);
    for (const e of arrivals.slice(0, half)) feed.push(e, partitionOf(e.sessionId));
    const before = feed.out.slice();
    const saved = JSON.stringify([first.snapshot(0), first.snapshot(1)]);
    const positions = first.positions();

    const second = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    for (const snap of JSON.parse(saved) as PartitionSnapshot[]) second.restore(snap);
    expect(second.positions()).toEqual(positions);
    const resumed = new Feed(second);
    // Offsets continue where the snapshot left off.
    for (const e of arrivals.slice(half)) {
      const p = partitionOf(e.sessionId);
      const offset = second.positions().get(p) ?? 0;
      second.add(e, { partition: p, offset });
      resumed.out.push(...second.drain());
    }
    expect([...before, ...resumed.finish()]).toEqual(once);
  });

  it('incremental checkpoints (full, then only changes) restore the same state and output', () => {
    const once = runAll(sessionizer({ partitionCount: 2 }), arrivals).out;
    const first = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    const feed = new Feed(first);
    const chains = new Map<number, CheckpointEntry[]>([
      [0, []],
      [1, []],
    ]);
    const metas = new Map<number, PartitionMeta>();
    const checkpoint = (full: boolean): void => {
      for (const p of [0, 1]) {
        const changes = first.checkpointChanges(p, full);
        // Through the binary codec, as the processor writes and reads them.
        const decoded: unknown[] = [];
        for (const c of encodeChunks(changes.entries())) decoded.push(...readChunk(c.bytes));
        expect(decoded).toHaveLength(changes.count);
        if (full) chains.set(p, []);
        chains.get(p)!.push(...(decoded as CheckpointEntry[]));
        metas.set(p, changes.meta);
      }
    };
    const cuts = [0.2, 0.35, 0.5, 0.7].map((f) => Math.floor(arrivals.length * f));
    let at = 0;
    cuts.forEach((cut, i) => {
      for (const e of arrivals.slice(at, cut)) feed.push(e, partitionOf(e.sessionId));
      at = cut;
      checkpoint(i === 0 || i === 2);
      // After the first, a delta holds fewer entries than the whole state.
    });
    const before = feed.out.slice();
    const second = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    for (const p of [0, 1]) {
      const snap = snapshotFromEntries(metas.get(p)!, chains.get(p)!);
      expect(snap).toEqual(JSON.parse(JSON.stringify(first.snapshot(p))));
      second.restore(snap);
    }
    expect(second.positions()).toEqual(first.positions());
    const resumed = new Feed(second);
    for (const e of arrivals.slice(at)) {
      const p = partitionOf(e.sessionId);
      second.add(e, { partition: p, offset: second.positions().get(p) ?? 0 });
      resumed.out.push(...second.drain());
    }
    expect([...before, ...resumed.finish()]).toEqual(once);
  });

  it('a copied cut stays the state at the cut while events keep coming', () => {
    const s = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    const feed = new Feed(s);
    const cut = Math.floor(arrivals.length * 0.4);
    for (const e of arrivals.slice(0, cut)) feed.push(e, partitionOf(e.sessionId));
    const copies = [0, 1].map((p) => [...s.checkpointChanges(p, true).copies()]);
    const atCut = JSON.parse(JSON.stringify(copies)) as unknown;
    // Views with several OCAs: the part of a view that folding changes in place.
    const views = copies.flat().flatMap((e) => (e.kind === EntryKind.Session ? [e.value.view] : []));
    expect(views.some((v) => v !== null && v.moreOcas !== null)).toBe(true);
    for (const e of arrivals.slice(cut)) feed.push(e, partitionOf(e.sessionId));
    feed.finish();
    expect(s.stats().openSessions).toBe(0);
    expect(JSON.parse(JSON.stringify(copies))).toEqual(atCut);
  });

  it('a checkpoint after no change holds no entry', () => {
    const s = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 1 });
    const feed = new Feed(s);
    feed.pushAll(referenceSession('a').events.slice(0, 4));
    expect(s.checkpointChanges(0, false).count).toBe(1);
    expect(s.checkpointChanges(0, false).count).toBe(0);
    expect(s.checkpointChanges(0, true).count).toBe(1);
  });

  it('serialises a snapshot without copies exactly like a copied one', () => {
    const s = new Sessionizer({ allowedLatenessMs: LATENESS, viewGapMs: GAP, partitionCount: 2 });
    const feed = new Feed(s);
    for (const e of arrivals.slice(0, Math.floor(arrivals.length / 2)))
      feed.push(e, partitionOf(e.sessionId));
    for (const p of [0, 1]) {
      const copied = s.snapshot(p);
      expect(copied.sessions.length).toBeGreaterThan(0);
      expect(JSON.stringify(s.snapshot(p, { copy: false }))).toBe(JSON.stringify(copied));
    }
  });
});

describe('DeadlineHeap', () => {
  it('pops by key, then by tie', () => {
    const heap = new DeadlineHeap<string>();
    const rng = prng(3);
    const entries: Array<[number, number, string]> = [];
    for (let i = 0; i < 200; i++) entries.push([Math.floor(rng() * 20), i, `v${i}`]);
    for (const [k, t, v] of entries) heap.push(k, t, v);
    const popped: string[] = [];
    while (heap.size > 0) popped.push(heap.pop()!);
    const sorted = [...entries].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((e) => e[2]);
    expect(popped).toEqual(sorted);
    expect(heap.peekKey()).toBe(Number.POSITIVE_INFINITY);
  });
});
