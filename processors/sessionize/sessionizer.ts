/**
 * The per-session state machine of the sessionize processor, free of Kafka: feed it player
 * events with their partition and offset, and it emits one SessionSummary per view when the
 * view is final. Pure and deterministic: the same events in the same order give the same
 * summaries in the same order. Rules (the README in this folder says why):
 *
 * Watermark. Per partition: the newest event time seen (qoe-core event time) minus
 *   `allowedLatenessMs`, never moving back. Sessions are keyed by sessionId, so all of a
 *   session's events come through one partition, and a session is closed by its own
 *   partition's watermark: a partition's output depends only on its own input, whatever
 *   the interleaving with other partitions. The processor watermark (min over partitions)
 *   is exposed for downstream windows.
 *
 * Order and duplicates. Events fold in seq order. An event ahead of the next expected seq
 *   waits (bounded); the gap is given up once the watermark passes the waiting event's time
 *   (the missing one would be late by then) or a buffer cap is hit. A seq already folded is
 *   a duplicate; a seq that was given up on is late.
 *
 * Unsequenced events (seq -1: CMCD beacons, which an OCA mirrors to ingest for each
 *   segment it served) are not part of any view and change no state, not even the
 *   watermark; they are counted and passed over. A view is built from the player's own
 *   event stream, ordered and deduplicated by seq; a beacon has no place in that order and
 *   cannot be told from its own redelivery (the schema says it must not be deduplicated by
 *   seq), and a mirrored download is one the player reports itself, so folding beacons
 *   would make a summary depend on arrival interleaving and count downloads twice. They
 *   serve the consumers that take each beacon alone (steering's per-OCA segment evidence).
 *
 * Closing. A view is emitted when (a) session_end was folded in seq order: at once, since
 *   the view can no longer change (the session stays open, summary already out, until the
 *   watermark passes its end, to classify stragglers as before), (b) the watermark is more than `viewGapMs` past its last event (timed_out), (c) an
 *   event arrives more than `viewGapMs` after its last event (timed_out, and that event
 *   starts the next view), or (d) the open-session cap evicts it (its session_end reason
 *   if it had one, else evicted).
 *
 * Late events. Summaries are final: never re-emitted, never corrected. An event for a view
 *   already emitted is counted and returned as `late` (the driver sends it to the DLQ), as
 *   is an event of an unknown session older than `viewGapMs` behind the watermark. Closed
 *   sessions leave a tombstone (last seq, last time) until the watermark is two gaps past
 *   their last event; after that the age rule alone recognises their stragglers.
 *
 * Memory. Per open session: a folded accumulator (qoe-core ViewState), never the events,
 *   except events waiting for a missing seq (capped per session and per partition). Open
 *   sessions are capped per partition; over the cap the session whose close deadline is
 *   nearest is emitted early. Tombstones are capped; over the cap the oldest goes first.
 */
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import { eventTimeMs } from '../qoe-core/event-time.ts';
import { createInterner, type Interner } from '../qoe-core/interner.ts';
import {
  type CloseReason,
  copyView,
  createView,
  finishView,
  foldEvent,
  opensNewView,
  recordSource,
  type ViewState,
  viewEnded,
  viewLastTime,
} from '../qoe-core/view-fold.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { type SessionizeOptions, sessionizeOptions } from './options.ts';
import { EntryKind } from './state-codec.ts';

export interface SourcePosition {
  readonly partition: number;
  /** Kafka offset (int64 as a number: exact below 2^53). */
  readonly offset: number;
}

/**
 * What happened to an event: folded into its view, buffered until a missing seq arrives,
 * dropped as a duplicate, dropped as late (its view was already emitted: DLQ it), or passed
 * over as unsequenced (seq -1: no view takes it, see the header).
 */
export type Disposition = 'folded' | 'buffered' | 'duplicate' | 'late' | 'unsequenced';

interface Pending {
  readonly event: PlaybackEvent;
  readonly time: number;
  readonly offset: number;
}

interface OpenSession {
  readonly sessionId: string;
  /** Creation order within the partition: breaks ties between equal deadlines. */
  readonly ordinal: number;
  view: ViewState | null;
  nextSeq: number;
  /** Events waiting for a missing seq, sorted by seq. */
  pending: Pending[] | null;
  /** What only some sessions need: null for most, to keep open sessions small. */
  history: SessionHistory | null;
  /** Key of this session's live deadline-heap entry (+Infinity: none). */
  heapKey: number;
  closed: boolean;
  /**
   * The current view ended (session_end folded in seq order) and its summary is already out:
   * nothing can change it any more, so it was emitted at once; the session stays open only
   * so that stragglers within the lateness are recognised (after-end, duplicate) as before.
   */
  emitted: boolean;
}

interface SessionHistory {
  /** Last time of this session's previous, already emitted view (NaN: none). */
  prevLastTime: number;
  /** Seq ranges given up on, flat [from, to, from, to, ...]. */
  skipped: number[] | null;
}

interface Tombstone {
  readonly lastSeq: number;
  readonly lastTime: number;
  readonly skipped: number[] | null;
  readonly expireAt: number;
  readonly tie: number;
}

class PartitionState {
  maxTime = Number.NEGATIVE_INFINITY;
  floor = Number.NEGATIVE_INFINITY;
  watermark = Number.NEGATIVE_INFINITY;
  nextOffset = 0;
  nextOrdinal = 0;
  nextTombstoneTie = 0;
  pendingEvents = 0;
  readonly sessions = new Map<string, OpenSession>();
  readonly deadlines = new DeadlineHeap<OpenSession>();
  readonly tombstones = new Map<string, Tombstone>();
  readonly expiries = new DeadlineHeap<string>();
  /**
   * Session ids whose open session or tombstone changed (or went) since the last checkpoint
   * took them: an incremental checkpoint writes only these.
   */
  dirty = new Set<string>();

  constructor(readonly partition: number) {}
}

export interface SessionizerStats {
  events: number;
  folded: number;
  buffered: number;
  duplicates: number;
  late: number;
  /** Unsequenced events (seq -1, CMCD beacons): passed over, no view takes them. */
  unsequenced: number;
  /** Buffered events dropped at fold time because their view had been emitted meanwhile. */
  lateBuffered: number;
  /** Events after session_end (within the view gap): not folded. */
  afterEnd: number;
  /** Missing-seq gaps given up on. */
  gapsSkipped: number;
  sessionsOpened: number;
  summaries: number;
  summariesByReason: Record<string, number>;
  evictions: number;
  tombstonesEvicted: number;
  openSessions: number;
  pendingEvents: number;
  tombstones: number;
}

/** JSON-safe state of one partition (for checkpoints; ±Infinity and NaN are null). */
export interface PartitionSnapshot {
  readonly version: 1;
  readonly partition: number;
  readonly maxTime: number | null;
  readonly floor: number | null;
  readonly watermark: number | null;
  readonly nextOffset: number;
  readonly nextOrdinal: number;
  readonly nextTombstoneTie: number;
  readonly sessions: ReadonlyArray<{
    readonly sessionId: string;
    readonly ordinal: number;
    readonly view: ViewState | null;
    /** The view's summary is already out (ended views are emitted when session_end folds). */
    readonly emitted?: boolean;
    readonly prevLastTime: number | null;
    readonly nextSeq: number;
    readonly pending: ReadonlyArray<Pending> | null;
    readonly skipped: readonly number[] | null;
  }>;
  readonly tombstones: ReadonlyArray<{
    readonly sessionId: string;
    readonly lastSeq: number;
    readonly lastTime: number;
    readonly skipped: readonly number[] | null;
    readonly expireAt: number;
    readonly tie: number;
  }>;
}

export type SessionEntry = PartitionSnapshot['sessions'][number];
export type TombstoneEntry = PartitionSnapshot['tombstones'][number];

/** The scalar state of a partition in an incremental checkpoint (JSON-safe). */
export interface PartitionMeta {
  readonly version: 2;
  readonly partition: number;
  readonly maxTime: number | null;
  readonly floor: number | null;
  readonly watermark: number | null;
  readonly nextOffset: number;
  readonly nextOrdinal: number;
  readonly nextTombstoneTie: number;
  readonly openSessions: number;
  readonly tombstones: number;
}

export type CheckpointEntry =
  | { readonly kind: typeof EntryKind.Session; readonly value: SessionEntry }
  | { readonly kind: typeof EntryKind.Tombstone; readonly value: TombstoneEntry }
  | { readonly kind: typeof EntryKind.Gone; readonly value: string };

function sessionEntry(s: OpenSession, copy: boolean): SessionEntry {
  const skipped = skippedOf(s);
  return {
    sessionId: s.sessionId,
    ordinal: s.ordinal,
    view: s.view === null || !copy ? s.view : copyView(s.view),
    emitted: s.emitted,
    prevLastTime: finiteOrNull(prevLastTime(s)),
    nextSeq: s.nextSeq,
    pending: s.pending === null || !copy ? s.pending : s.pending.map((p) => ({ ...p })),
    skipped: skipped === null || !copy ? skipped : [...skipped],
  };
}

function tombstoneEntry(sessionId: string, t: Tombstone, copy: boolean): TombstoneEntry {
  return {
    sessionId,
    lastSeq: t.lastSeq,
    lastTime: t.lastTime,
    skipped: t.skipped === null || !copy ? t.skipped : [...t.skipped],
    expireAt: t.expireAt,
    tie: t.tie,
  };
}

/**
 * The partition snapshot a chain of incremental checkpoints describes: the entries of every
 * checkpoint from the last full one on, oldest first (a later entry for a session id
 * replaces an earlier one), and the newest checkpoint's meta.
 */
export function snapshotFromEntries(
  meta: PartitionMeta,
  entries: Iterable<CheckpointEntry>,
): PartitionSnapshot {
  const latest = new Map<string, CheckpointEntry>();
  for (const e of entries) {
    const id = e.kind === EntryKind.Gone ? e.value : e.value.sessionId;
    // Delete first so the map's order is the order of the last change (not needed for
    // correctness: sessions and tombstones are sorted below).
    latest.delete(id);
    if (e.kind !== EntryKind.Gone) latest.set(id, e);
  }
  const sessions: SessionEntry[] = [];
  const tombstones: TombstoneEntry[] = [];
  for (const e of latest.values()) {
    if (e.kind === EntryKind.Session) sessions.push(e.value);
    else if (e.kind === EntryKind.Tombstone) tombstones.push(e.value);
  }
  sessions.sort((a, b) => a.ordinal - b.ordinal);
  tombstones.sort((a, b) => a.tie - b.tie);
  return {
    version: 1,
    partition: meta.partition,
    maxTime: meta.maxTime,
    floor: meta.floor,
    watermark: meta.watermark,
    nextOffset: meta.nextOffset,
    nextOrdinal: meta.nextOrdinal,
    nextTombstoneTie: meta.nextTombstoneTie,
    sessions,
    tombstones,
  };
}

function* concatKeys(a: Map<string, unknown>, b: Map<string, unknown>): Generator<string> {
  yield* a.keys();
  yield* b.keys();
}

const MAX_SKIPPED_RANGES = 8;

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function prevLastTime(s: OpenSession): number {
  return s.history?.prevLastTime ?? Number.NaN;
}

function skippedOf(s: OpenSession): number[] | null {
  return s.history?.skipped ?? null;
}

function historyOf(s: OpenSession): SessionHistory {
  if (s.history === null) s.history = { prevLastTime: Number.NaN, skipped: null };
  return s.history;
}

function inSkipped(skipped: readonly number[] | null, seq: number): boolean {
  if (skipped === null) return false;
  for (let i = 0; i < skipped.length; i += 2) {
    if (seq >= skipped[i]! && seq <= skipped[i + 1]!) return true;
  }
  return false;
}

export class Sessionizer {
  readonly options: SessionizeOptions;
  private readonly parts = new Map<number, PartitionState>();
  private readonly outbox: SessionSummary[] = [];
  private readonly intern: Interner = createInterner();
  private readonly capSessions: number;
  private readonly capPending: number;
  private readonly capTombstones: number;
  private readonly counters: SessionizerStats = {
    events: 0,
    folded: 0,
    buffered: 0,
    duplicates: 0,
    unsequenced: 0,
    late: 0,
    lateBuffered: 0,
    afterEnd: 0,
    gapsSkipped: 0,
    sessionsOpened: 0,
    summaries: 0,
    summariesByReason: {},
    evictions: 0,
    tombstonesEvicted: 0,
    openSessions: 0,
    pendingEvents: 0,
    tombstones: 0,
  };

  constructor(options: Partial<SessionizeOptions> = {}) {
    this.options = sessionizeOptions(options);
    const n = this.options.partitionCount;
    this.capSessions = Math.ceil(this.options.maxOpenSessions / n);
    this.capPending = Math.ceil(this.options.maxPendingEvents / n);
    this.capTombstones = Math.ceil(this.options.maxTombstones / n);
  }

  /** Feeds one event. Summaries that became final are queued for `drain()`. */
  add(event: PlaybackEvent, position: SourcePosition): Disposition {
    const part = this.partition(position.partition);
    if (position.offset >= part.nextOffset) part.nextOffset = position.offset + 1;
    this.counters.events++;
    if (event.seq < 0) {
      this.counters.unsequenced++;
      return 'unsequenced';
    }
    const time = eventTimeMs(event);
    const disposition = this.accept(part, event, time, position.offset);
    if (time > part.maxTime) {
      part.maxTime = time;
      this.advance(part);
    }
    return disposition;
  }

  /**
   * Raises every partition's watermark to at least `eventTimeMs`: for the end of a bounded
   * input (`Infinity` closes everything) or a driver that knows a quiet partition has no
   * older events coming. The only input that is not an event: a driver that calls it from a
   * wall clock makes its output depend on timing.
   */
  advanceWatermarkTo(eventTimeMs: number): void {
    for (const partition of [...this.parts.keys()].sort((a, b) => a - b)) {
      const part = this.parts.get(partition)!;
      if (eventTimeMs > part.floor) part.floor = eventTimeMs;
      this.advance(part);
    }
  }

  /** Summaries emitted since the last call, in emission order. */
  drain(): SessionSummary[] {
    return this.outbox.splice(0, this.outbox.length);
  }

  /**
   * The processor watermark: min over partitions of their watermarks (-Infinity before any
   * event). A view still open has had an event within `viewGapMs` of its partition's
   * watermark, so views emitted from now on end after `watermark() - viewGapMs` (the one
   * exception: a view formed from events that waited for a missing seq across a closed
   * view of the same session). Downstream windows over endTime may close there.
   */
  watermark(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const part of this.parts.values()) if (part.watermark < min) min = part.watermark;
    return this.parts.size === 0 ? Number.NEGATIVE_INFINITY : min;
  }

  partitionWatermark(partition: number): number {
    return this.parts.get(partition)?.watermark ?? Number.NEGATIVE_INFINITY;
  }

  /** Per partition, the offset of the next event to read (last offset seen + 1). */
  positions(): Map<number, number> {
    const out = new Map<number, number>();
    for (const partition of [...this.parts.keys()].sort((a, b) => a - b)) {
      out.set(partition, this.parts.get(partition)!.nextOffset);
    }
    return out;
  }

  /**
   * Forgets partitions this instance no longer owns (a consumer-group rebalance): their open
   * sessions are dropped unemitted, for the new owner replays them. Drain first.
   */
  revokePartitions(partitions: readonly number[]): void {
    for (const partition of partitions) {
      const part = this.parts.get(partition);
      if (part === undefined) continue;
      this.counters.openSessions -= part.sessions.size;
      this.counters.pendingEvents -= part.pendingEvents;
      this.counters.tombstones -= part.tombstones.size;
      this.parts.delete(partition);
    }
  }

  stats(): SessionizerStats {
    return { ...this.counters, summariesByReason: { ...this.counters.summariesByReason } };
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints

  /**
   * The partition's whole state as JSON-safe data; with `positions()` it is a checkpoint.
   * `copy: false` shares the open views with the live state instead of cloning them, for a
   * caller that serialises the snapshot at once (the checkpoint writer): cloning every view
   * cost more than the JSON itself. Such a snapshot must not be kept past the next `add()`.
   */
  snapshot(partition: number, options: { readonly copy?: boolean } = {}): PartitionSnapshot {
    const copy = options.copy ?? true;
    const part = this.partition(partition);
    const sessions = [...part.sessions.values()]
      .sort((a, b) => a.ordinal - b.ordinal)
      .map((s) => sessionEntry(s, copy));
    const tombstones = [...part.tombstones.entries()]
      .sort((a, b) => a[1].tie - b[1].tie)
      .map(([sessionId, t]) => tombstoneEntry(sessionId, t, copy));
    return {
      version: 1,
      partition,
      maxTime: finiteOrNull(part.maxTime),
      floor: finiteOrNull(part.floor),
      watermark: finiteOrNull(part.watermark),
      nextOffset: part.nextOffset,
      nextOrdinal: part.nextOrdinal,
      nextTombstoneTie: part.nextTombstoneTie,
      sessions,
      tombstones,
    };
  }

  /** Open sessions plus tombstones of a partition, and how many of them changed since the last checkpoint. */
  partitionSize(partition: number): { readonly entries: number; readonly changed: number } {
    const part = this.parts.get(partition);
    if (part === undefined) return { entries: 0, changed: 0 };
    return { entries: part.sessions.size + part.tombstones.size, changed: part.dirty.size };
  }

  /**
   * An incremental checkpoint of a partition: its scalar state (`meta`) and one entry per
   * session id whose open session or tombstone changed since the previous call (every one if
   * `full`): the session, the tombstone, or Gone. Applied in order over the previous
   * checkpoint's state (`snapshotFromEntries`) they give this state.
   *
   * Two ways to read them, both lazily, so both must be read to the end before the next
   * `add()`. `entries()` shares the live views (a writer that encodes at once). `copies()`
   * gives copies (copyView, a few times cheaper than encoding): kept, they stay the state at
   * this cut while events go on being added, and their encoding can wait.
   */
  checkpointChanges(
    partition: number,
    full: boolean,
  ): {
    readonly meta: PartitionMeta;
    readonly count: number;
    readonly entries: () => Generator<CheckpointEntry>;
    readonly copies: () => Generator<CheckpointEntry>;
  } {
    const part = this.partition(partition);
    const dirty = part.dirty;
    part.dirty = new Set();
    // A full checkpoint walks the live maps (no id set the size of the state is built).
    const ids: Iterable<string> = full ? concatKeys(part.sessions, part.tombstones) : dirty;
    const count = full ? part.sessions.size + part.tombstones.size : dirty.size;
    const meta: PartitionMeta = {
      version: 2,
      partition,
      maxTime: finiteOrNull(part.maxTime),
      floor: finiteOrNull(part.floor),
      watermark: finiteOrNull(part.watermark),
      nextOffset: part.nextOffset,
      nextOrdinal: part.nextOrdinal,
      nextTombstoneTie: part.nextTombstoneTie,
      openSessions: part.sessions.size,
      tombstones: part.tombstones.size,
    };
    function* read(copy: boolean): Generator<CheckpointEntry> {
      for (const id of ids) {
        const s = part.sessions.get(id);
        if (s !== undefined) {
          yield { kind: EntryKind.Session, value: sessionEntry(s, copy) };
          continue;
        }
        const t = part.tombstones.get(id);
        if (t !== undefined) yield { kind: EntryKind.Tombstone, value: tombstoneEntry(id, t, copy) };
        else yield { kind: EntryKind.Gone, value: id };
      }
    }
    return { meta, count, entries: () => read(false), copies: () => read(true) };
  }

  /** Replaces a partition's state with a snapshot; continue from its `nextOffset`. */
  restore(snapshot: PartitionSnapshot): void {
    this.revokePartitions([snapshot.partition]);
    const part = this.partition(snapshot.partition);
    part.maxTime = snapshot.maxTime ?? Number.NEGATIVE_INFINITY;
    part.floor = snapshot.floor ?? Number.NEGATIVE_INFINITY;
    part.watermark = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    part.nextOffset = snapshot.nextOffset;
    part.nextOrdinal = snapshot.nextOrdinal;
    part.nextTombstoneTie = snapshot.nextTombstoneTie;
    for (const s of snapshot.sessions) {
      // An entry with nothing in it is what an unsequenced event (CMCD beacon) used to leave
      // for an unknown session, before they were passed over (see the header): it never had a
      // deadline, so it would never close. Checkpoints written then still hold some.
      if (s.view === null && s.pending === null && s.prevLastTime === null && s.skipped === null) continue;
      const session: OpenSession = {
        sessionId: s.sessionId,
        ordinal: s.ordinal,
        view: s.view === null ? null : this.reintern(structuredClone(s.view)),
        nextSeq: s.nextSeq,
        pending: s.pending === null ? null : s.pending.map((p) => ({ ...p })),
        history:
          s.prevLastTime === null && s.skipped === null
            ? null
            : {
                prevLastTime: s.prevLastTime ?? Number.NaN,
                skipped: s.skipped === null ? null : [...s.skipped],
              },
        heapKey: Number.POSITIVE_INFINITY,
        closed: false,
        emitted: s.emitted ?? false,
      };
      part.sessions.set(session.sessionId, session);
      part.pendingEvents += session.pending?.length ?? 0;
      this.schedule(part, session);
    }
    for (const t of snapshot.tombstones) {
      part.tombstones.set(t.sessionId, {
        lastSeq: t.lastSeq,
        lastTime: t.lastTime,
        skipped: t.skipped === null ? null : [...t.skipped],
        expireAt: t.expireAt,
        tie: t.tie,
      });
      part.expiries.push(t.expireAt, t.tie, t.sessionId);
    }
    this.counters.openSessions += part.sessions.size;
    this.counters.pendingEvents += part.pendingEvents;
    this.counters.tombstones += part.tombstones.size;
  }

  /** Restored views share dimension values again, as views built from events do. */
  private reintern(view: ViewState): ViewState {
    view.titleId = this.intern.string(view.titleId);
    view.dims = this.intern.dimensions(view.dims);
    view.experiments = this.intern.cells(view.experiments);
    view.manifestOcaId = view.manifestOcaId === null ? null : this.intern.string(view.manifestOcaId);
    view.planOcaId = view.planOcaId === null ? null : this.intern.string(view.planOcaId);
    view.firstOcaId = view.firstOcaId === null ? null : this.intern.string(view.firstOcaId);
    view.moreOcas =
      view.moreOcas === null
        ? null
        : view.moreOcas.map((o) => ({ ...o, ocaId: this.intern.string(o.ocaId) }));
    return view;
  }

  // ---------------------------------------------------------------------------------------
  // Accepting events

  private partition(partition: number): PartitionState {
    let part = this.parts.get(partition);
    if (part === undefined) {
      part = new PartitionState(partition);
      this.parts.set(partition, part);
    }
    return part;
  }

  private accept(part: PartitionState, event: PlaybackEvent, time: number, offset: number): Disposition {
    const gap = this.options.viewGapMs;
    part.dirty.add(event.sessionId);
    let s = part.sessions.get(event.sessionId);
    if (s === undefined) {
      const tomb = part.tombstones.get(event.sessionId);
      if (tomb !== undefined) {
        if (event.seq <= tomb.lastSeq) return this.dropOld(inSkipped(tomb.skipped, event.seq));
        // Within the gap it belongs to the emitted view: late. Beyond it, a new view, unless
        // it is older than any view still open could be (the rule for unknown sessions).
        if (time - tomb.lastTime <= gap || time + gap < part.watermark) {
          // Its seq is spent: a continuation after it need not wait for it.
          part.tombstones.set(event.sessionId, { ...tomb, lastSeq: event.seq });
          return this.dropOld(true);
        }
        part.tombstones.delete(event.sessionId);
        this.counters.tombstones--;
        s = this.open(part, event.sessionId, tomb.lastSeq + 1, tomb.skipped, tomb.lastTime);
      } else {
        // Older than any view that could still be open: its view was emitted and forgotten.
        if (time + gap < part.watermark) return this.dropOld(true);
        s = this.open(part, event.sessionId, 0, null, Number.NaN);
      }
    }
    if (event.seq < s.nextSeq) return this.dropOld(inSkipped(skippedOf(s), event.seq));
    if (event.seq === s.nextSeq) {
      this.fold(part, s, event, time, offset);
      s.nextSeq++;
      this.drainContiguous(part, s);
      this.schedule(part, s);
      this.counters.folded++;
      return 'folded';
    }
    if (!this.buffer(part, s, { event, time, offset })) return this.dropOld(false);
    this.counters.buffered++;
    this.schedule(part, s);
    return 'buffered';
  }

  private dropOld(late: boolean): Disposition {
    if (late) {
      this.counters.late++;
      return 'late';
    }
    this.counters.duplicates++;
    return 'duplicate';
  }

  private open(
    part: PartitionState,
    sessionId: string,
    nextSeq: number,
    skipped: number[] | null,
    prevLastTime: number,
  ): OpenSession {
    if (part.sessions.size >= this.capSessions) this.evictOne(part);
    const s: OpenSession = {
      sessionId,
      ordinal: part.nextOrdinal++,
      view: null,
      nextSeq,
      pending: null,
      history: skipped === null && Number.isNaN(prevLastTime) ? null : { prevLastTime, skipped },
      heapKey: Number.POSITIVE_INFINITY,
      closed: false,
      emitted: false,
    };
    part.sessions.set(sessionId, s);
    this.counters.sessionsOpened++;
    this.counters.openSessions++;
    return s;
  }

  /** Inserts by seq; false if that seq is already waiting (a duplicate). */
  private buffer(part: PartitionState, s: OpenSession, p: Pending): boolean {
    let pending = s.pending;
    if (pending === null) {
      pending = [];
      s.pending = pending;
    }
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pending[mid]!.event.seq < p.event.seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo < pending.length && pending[lo]!.event.seq === p.event.seq) return false;
    pending.splice(lo, 0, p);
    part.pendingEvents++;
    this.counters.pendingEvents++;
    // Bounded waiting: over either cap, give up on this session's first gap now.
    while (
      s.pending !== null &&
      (s.pending.length > this.options.maxPendingPerSession || part.pendingEvents > this.capPending)
    ) {
      this.skipGap(part, s);
    }
    return true;
  }

  private drainContiguous(part: PartitionState, s: OpenSession): void {
    const pending = s.pending;
    if (pending === null) return;
    let taken = 0;
    while (taken < pending.length && pending[taken]!.event.seq === s.nextSeq) {
      const p = pending[taken]!;
      this.fold(part, s, p.event, p.time, p.offset);
      s.nextSeq++;
      taken++;
    }
    if (taken > 0) {
      pending.splice(0, taken);
      part.pendingEvents -= taken;
      this.counters.pendingEvents -= taken;
    }
    if (pending.length === 0) s.pending = null;
  }

  /** Gives up on the seqs missing before the first waiting event, and folds on from it. */
  private skipGap(part: PartitionState, s: OpenSession): void {
    const head = s.pending![0]!;
    this.addSkipped(s, s.nextSeq, head.event.seq - 1);
    s.nextSeq = head.event.seq;
    this.counters.gapsSkipped++;
    this.drainContiguous(part, s);
  }

  private addSkipped(s: OpenSession, from: number, to: number): void {
    const history = historyOf(s);
    let skipped = history.skipped;
    if (skipped === null) {
      skipped = [];
      history.skipped = skipped;
    }
    skipped.push(from, to);
    // Bounded: merge the two oldest ranges (a duplicate between them then counts as late).
    if (skipped.length > 2 * MAX_SKIPPED_RANGES) skipped.splice(1, 2);
  }

  private fold(
    part: PartitionState,
    s: OpenSession,
    event: PlaybackEvent,
    time: number,
    offset: number,
  ): void {
    const gap = this.options.viewGapMs;
    const view = s.view;
    if (view === null) {
      const prev = prevLastTime(s);
      if (!Number.isNaN(prev) && time - prev <= gap) {
        // It belongs to the view already emitted (after its end, or arrived too late).
        this.counters.lateBuffered++;
        return;
      }
      this.startView(part, s, event, time, offset);
      return;
    }
    if (opensNewView(view, time, gap)) {
      if (!s.emitted) this.emit(view, 'timed_out');
      this.startView(part, s, event, time, offset);
      return;
    }
    if (foldEvent(view, event, time, this.intern)) {
      recordSource(view, part.partition, offset);
      // Early firing: session_end folded in seq order means every earlier seq is folded or
      // given up on, and later seqs are not folded (after-end), so the view can no longer
      // change: its summary is the one the watermark would emit, only out now instead of
      // allowedLatenessMs later (the lateness bounds waiting for missing seqs, not this).
      if (viewEnded(view)) {
        this.emit(view, 'timed_out');
        s.emitted = true;
      }
    } else this.counters.afterEnd++;
  }

  private startView(
    part: PartitionState,
    s: OpenSession,
    event: PlaybackEvent,
    time: number,
    offset: number,
  ): void {
    const view = createView(event, time, this.intern);
    recordSource(view, part.partition, offset);
    s.view = view;
    s.emitted = false;
    if (viewEnded(view)) {
      // A view whose first event is its session_end: final at once (see fold).
      this.emit(view, 'timed_out');
      s.emitted = true;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Time

  /** Earliest watermark at which something happens to the session (due when watermark > it). */
  private deadline(s: OpenSession): number {
    let d = s.pending === null ? Number.POSITIVE_INFINITY : s.pending[0]!.time;
    const view = s.view;
    if (view !== null) {
      const last = viewLastTime(view);
      const close = viewEnded(view) ? last : last + this.options.viewGapMs;
      if (close < d) d = close;
    }
    return d;
  }

  private schedule(part: PartitionState, s: OpenSession): void {
    const d = this.deadline(s);
    if (d < s.heapKey) {
      s.heapKey = d;
      part.deadlines.push(d, s.ordinal, s);
    }
  }

  private advance(part: PartitionState): void {
    const lagged = part.maxTime - this.options.allowedLatenessMs;
    const w = Math.max(lagged, part.floor);
    if (!(w > part.watermark)) return;
    part.watermark = w;
    const heap = part.deadlines;
    while (heap.peekKey() < w) {
      const key = heap.peekKey();
      const s = heap.pop()!;
      if (s.closed || key !== s.heapKey) continue;
      // Entries are lower bounds: if the session moved on since, requeue at its real deadline
      // so sessions are always handled in (deadline, ordinal) order.
      const d = this.deadline(s);
      if (d > key) {
        s.heapKey = d;
        heap.push(d, s.ordinal, s);
        continue;
      }
      s.heapKey = Number.POSITIVE_INFINITY;
      this.handleDue(part, s);
    }
    const expiries = part.expiries;
    while (expiries.peekKey() < w) {
      const key = expiries.peekKey();
      const sessionId = expiries.pop()!;
      const tomb = part.tombstones.get(sessionId);
      if (tomb !== undefined && tomb.expireAt === key) {
        part.tombstones.delete(sessionId);
        part.dirty.add(sessionId);
        this.counters.tombstones--;
      }
    }
  }

  private handleDue(part: PartitionState, s: OpenSession): void {
    part.dirty.add(s.sessionId);
    const w = part.watermark;
    const gap = this.options.viewGapMs;
    // 1. Missing seqs the watermark has passed will not come in time: stop waiting.
    while (s.pending !== null && s.pending[0]!.time < w) this.skipGap(part, s);
    // 2. An ended view is final once the watermark passed its end; an idle one once the
    //    watermark is a gap past its last event.
    const view = s.view;
    if (view !== null) {
      const last = viewLastTime(view);
      if (viewEnded(view) ? last < w : last + gap < w) {
        if (!s.emitted) this.emit(view, 'timed_out');
        s.view = null;
        s.emitted = false;
        historyOf(s).prevLastTime = last;
      }
    }
    if (s.view === null && s.pending === null) {
      this.close(part, s);
      return;
    }
    this.schedule(part, s);
  }

  // ---------------------------------------------------------------------------------------
  // Closing

  private emit(view: ViewState, close: CloseReason): void {
    const summary = finishView(view, close);
    this.outbox.push(summary);
    this.counters.summaries++;
    const byReason = this.counters.summariesByReason;
    byReason[summary.endReason] = (byReason[summary.endReason] ?? 0) + 1;
  }

  /** Emits the open session with the nearest deadline, early, to make room. */
  private evictOne(part: PartitionState): void {
    const heap = part.deadlines;
    for (;;) {
      const key = heap.peekKey();
      const s = heap.peekValue();
      if (s === undefined) return;
      if (s.closed || key !== s.heapKey) {
        heap.pop();
        continue;
      }
      const d = this.deadline(s);
      if (d > key) {
        heap.pop();
        s.heapKey = d;
        heap.push(d, s.ordinal, s);
        continue;
      }
      heap.pop();
      s.heapKey = Number.POSITIVE_INFINITY;
      this.counters.evictions++;
      while (s.pending !== null) this.skipGap(part, s);
      if (s.view !== null) {
        if (!s.emitted) this.emit(s.view, 'evicted');
        historyOf(s).prevLastTime = viewLastTime(s.view);
        s.view = null;
        s.emitted = false;
      }
      this.close(part, s);
      return;
    }
  }

  private close(part: PartitionState, s: OpenSession): void {
    part.dirty.add(s.sessionId);
    s.closed = true;
    part.sessions.delete(s.sessionId);
    this.counters.openSessions--;
    const lastTime = prevLastTime(s);
    if (Number.isNaN(lastTime)) return;
    if (part.tombstones.size >= this.capTombstones) this.evictTombstone(part);
    const expireAt = lastTime + 2 * this.options.viewGapMs;
    const tie = part.nextTombstoneTie++;
    part.tombstones.set(s.sessionId, {
      lastSeq: s.nextSeq - 1,
      lastTime,
      skipped: skippedOf(s),
      expireAt,
      tie,
    });
    part.expiries.push(expireAt, tie, s.sessionId);
    this.counters.tombstones++;
  }

  private evictTombstone(part: PartitionState): void {
    const expiries = part.expiries;
    while (expiries.size > 0) {
      const key = expiries.peekKey();
      const sessionId = expiries.pop()!;
      const tomb = part.tombstones.get(sessionId);
      if (tomb !== undefined && tomb.expireAt === key) {
        part.tombstones.delete(sessionId);
        part.dirty.add(sessionId);
        this.counters.tombstones--;
        this.counters.tombstonesEvicted++;
        return;
      }
    }
  }
}
