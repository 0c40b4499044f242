/**
 * The benchmark's event source: sessions shaped by tests/support/workload.ts (the known-truth
 * generator: startup, stalls, switches, pauses, seeks, errors, 1% duplicates), re-stamped
 * with a fresh session id and start time each time one is played, and merged into one
 * stream in event-time order.
 *
 * Why templates instead of calling generateWorkload for every session: the freshness
 * producer must emit 20,000 events/s paced by the wall clock, and at that rate about 650,000
 * future events are in flight (1,600 sessions start per second and each lasts ~40 s). Built
 * eagerly that is a gigabyte of event objects and tens of seconds of generation; played
 * from a pool, a session costs one cursor until its events are due, and an event one object
 * spread when it is sent.
 */
import { eventTimeMs } from '../../processors/qoe-core/event-time.ts';
import { DeadlineHeap } from '../../processors/sessionize/deadline-heap.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { generateWorkload } from '../../tests/support/workload.ts';

/** Sessions in the template pool the benchmark plays (10,000 distinct shapes). */
export const TEMPLATE_SESSIONS = 10_000;

export interface SessionTemplate {
  /** The session's events in delivery order (a duplicate right after its original's time). */
  readonly events: readonly PlaybackEvent[];
  /** When each event is delivered, ms after the first: non-decreasing. */
  readonly offsetsMs: readonly number[];
  /** Corrected event time of the first event, epoch ms (what a shift is measured from). */
  readonly firstTimeMs: number;
  readonly started: boolean;
}

/**
 * `count` sessions from generateWorkload, each as its own template. Deterministic in `seed`.
 * No reordering jitter (the order within a session is its time order), 1% duplicates.
 */
export function sessionTemplates(count: number, seed: number): SessionTemplate[] {
  const workload = generateWorkload({
    sessions: count,
    seed,
    startMs: Date.UTC(2026, 0, 1),
    spreadMs: 60_000,
    duplicateShare: 0.01,
  });
  const bySession = new Map<string, PlaybackEvent[]>();
  for (const e of workload.events) {
    let list = bySession.get(e.sessionId);
    if (list === undefined) {
      list = [];
      bySession.set(e.sessionId, list);
    }
    list.push(e);
  }
  const templates: SessionTemplate[] = [];
  for (const events of bySession.values()) {
    const first = eventTimeMs(events[0]!);
    const offsetsMs: number[] = [];
    let last = 0;
    for (const e of events) {
      // A duplicate carries its original's (older) time but is delivered after it.
      last = Math.max(last, eventTimeMs(e) - first);
      offsetsMs.push(last);
    }
    templates.push({
      events,
      offsetsMs,
      firstTimeMs: first,
      started: events.some((e) => e.kind === 'first_frame'),
    });
  }
  return templates;
}

/** Mean events per session over the pool (to turn an event rate into a session rate). */
export function meanEventsPerSession(templates: readonly SessionTemplate[]): number {
  let n = 0;
  for (const t of templates) n += t.events.length;
  return n / templates.length;
}

/** `template`'s i-th event, moved by `shiftMs` and renamed to `sessionId`. */
export function restamp(e: PlaybackEvent, sessionId: string, shiftMs: number): PlaybackEvent {
  return {
    ...e,
    sessionId,
    clientTs: e.clientTs + shiftMs,
    server: { ...e.server, receivedAt: e.server.receivedAt + shiftMs },
  };
}

/**
 * FNV-1a of the key, mod partitions. The benchmark sets partitions explicitly (still keyed
 * by sessionId) so the in-memory fold can replay each record with the partition and offset
 * it has in Kafka.
 */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

interface Playing {
  readonly sessionId: string;
  readonly template: SessionTemplate;
  readonly startMs: number;
  readonly ordinal: number;
  next: number;
}

export interface StreamedEvent {
  readonly sessionId: string;
  /** When the event is due (delivery time), epoch ms. */
  readonly dueMs: number;
  readonly index: number;
  readonly template: SessionTemplate;
  readonly shiftMs: number;
  /** The session's first session_end (duplicates of it are not flagged). */
  readonly isFirstEnd: boolean;
}

export interface SessionStreamOptions {
  readonly templates: readonly SessionTemplate[];
  /** Play intent of the first session, epoch ms. */
  readonly startMs: number;
  /** Sessions start evenly spaced at this rate (event time). */
  readonly sessionsPerSecond: number;
  /** Session ids are `<idPrefix>-<n>`. */
  readonly idPrefix: string;
  /** Stop starting sessions after this many (the stream ends when the last one has played). */
  readonly maxSessions?: number;
}

/**
 * Sessions started at a steady rate, their events merged in due-time order (a heap of the
 * sessions in play, keyed by their next event's due time; ties by start order).
 */
export class SessionStream {
  private readonly heap = new DeadlineHeap<Playing>();
  private readonly intervalMs: number;
  private started = 0;

  constructor(private readonly o: SessionStreamOptions) {
    this.intervalMs = 1_000 / o.sessionsPerSecond;
  }

  /** Sessions started so far. */
  get sessionsStarted(): number {
    return this.started;
  }

  private nextStartMs(): number {
    if (this.o.maxSessions !== undefined && this.started >= this.o.maxSessions) {
      return Number.POSITIVE_INFINITY;
    }
    // Whole milliseconds: event times are Avro longs.
    return Math.floor(this.o.startMs + this.started * this.intervalMs);
  }

  /** Due time of the next event; +Infinity when the stream has ended. */
  peekDueMs(): number {
    return Math.min(this.nextStartMs(), this.heap.peekKey());
  }

  next(): StreamedEvent | undefined {
    // Start every session whose play intent is due no later than the earliest pending event.
    for (;;) {
      const startMs = this.nextStartMs();
      if (startMs === Number.POSITIVE_INFINITY || startMs > this.heap.peekKey()) break;
      const n = this.started++;
      const template = this.o.templates[n % this.o.templates.length]!;
      const playing = { sessionId: `${this.o.idPrefix}-${n}`, template, startMs, ordinal: n, next: 0 };
      this.heap.push(startMs, n, playing);
    }
    const dueMs = this.heap.peekKey();
    const playing = this.heap.pop();
    if (playing === undefined) return undefined;
    const { template } = playing;
    const index = playing.next++;
    const event = template.events[index]!;
    let isFirstEnd = false;
    if (event.kind === 'session_end') {
      isFirstEnd = true;
      for (let i = 0; i < index; i++) if (template.events[i]!.kind === 'session_end') isFirstEnd = false;
    }
    if (playing.next < template.events.length) {
      // Ties break by start order, so equal due times keep a deterministic order.
      this.heap.push(playing.startMs + template.offsetsMs[playing.next]!, playing.ordinal, playing);
    }
    return {
      sessionId: playing.sessionId,
      dueMs,
      index,
      template,
      shiftMs: playing.startMs - template.firstTimeMs,
      isFirstEnd,
    };
  }
}

/** The event itself (allocated only for events that are sent). */
export function materialise(s: StreamedEvent): PlaybackEvent {
  return restamp(s.template.events[s.index]!, s.sessionId, s.shiftMs);
}
