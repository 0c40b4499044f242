/**
 * QoE of whole sessions from their events, in one call: the batch form of the fold that the
 * streaming sessionizer runs event by event. Given every event of a session, both give the
 * same summaries.
 *
 * Rules, in order:
 * 1. Events are grouped by sessionId; (sessionId, seq) identifies an event, so a repeated
 *    seq is a duplicate and only its first occurrence counts.
 * 2. Within a session, events are folded in seq order (the player's own order), whatever
 *    order they arrived in; times are corrected event times (event-time.ts).
 * 3. A gap of more than `viewGapMs` (default 30 min) between an event and the last folded
 *    one starts a new view: a long pause splits a session into views, each summarised on
 *    its own, with summaryId `<sessionId>:<firstSeq>`.
 * 4. Events after session_end and within the gap are not folded.
 * 5. A view without session_end closes as `unended` says: `open` (default: the session may
 *    still be going) or `timed_out` (its events are known to be complete).
 */
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import { eventTimeMs } from './event-time.ts';
import {
  type CloseReason,
  createView,
  finishView,
  foldEvent,
  opensNewView,
  type ViewState,
} from './view-fold.ts';

/** Default gap that splits a session into views, and the sessionizer's idle timeout. */
export const DEFAULT_VIEW_GAP_MS = 30 * 60_000;

export interface SummarizeOptions {
  readonly viewGapMs?: number;
  /** How the last view of a session closes when it has no session_end. Default `open`. */
  readonly unended?: Extract<CloseReason, 'open' | 'timed_out'>;
}

/** Summaries of every view of every session in `events`, by sessionId then firstSeq. */
export function summarizeEvents(
  events: readonly PlaybackEvent[],
  options: SummarizeOptions = {},
): SessionSummary[] {
  const bySession = new Map<string, Map<number, PlaybackEvent>>();
  for (const event of events) {
    let seqs = bySession.get(event.sessionId);
    if (seqs === undefined) {
      seqs = new Map();
      bySession.set(event.sessionId, seqs);
    }
    if (!seqs.has(event.seq)) seqs.set(event.seq, event);
  }
  const out: SessionSummary[] = [];
  for (const sessionId of [...bySession.keys()].sort()) {
    const seqs = bySession.get(sessionId)!;
    const ordered = [...seqs.values()].sort((a, b) => a.seq - b.seq);
    out.push(...summarizeOrdered(ordered, options));
  }
  return out;
}

function summarizeOrdered(ordered: readonly PlaybackEvent[], options: SummarizeOptions): SessionSummary[] {
  const viewGapMs = options.viewGapMs ?? DEFAULT_VIEW_GAP_MS;
  const out: SessionSummary[] = [];
  let view: ViewState | null = null;
  for (const event of ordered) {
    const time = eventTimeMs(event);
    if (view === null) {
      view = createView(event, time);
      continue;
    }
    if (opensNewView(view, time, viewGapMs)) {
      out.push(finishView(view, 'timed_out'));
      view = createView(event, time);
      continue;
    }
    foldEvent(view, event, time);
  }
  if (view !== null) out.push(finishView(view, options.unended ?? 'open'));
  return out;
}
