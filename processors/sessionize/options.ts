/**
 * Settings of the sessionizer. The role reads them from the `processors.sessionize` section
 * of core/config.ts (plus `topics.partitions`); tests pass them directly. Validated once:
 * a contradiction is an error, never silently fixed.
 */
import type { PlayloopConfig } from '../../core/config.ts';
import { PlayloopError } from '../../core/errors.ts';
import { DEFAULT_VIEW_GAP_MS } from '../qoe-core/summarize.ts';

export interface SessionizeOptions {
  /** How far behind a partition's newest event time the watermark trails. */
  readonly allowedLatenessMs: number;
  /**
   * A view closes (timed_out) once the watermark is this far past its last event, and an
   * event this far after the last one starts a new view: the qoe-core view gap.
   */
  readonly viewGapMs: number;
  /**
   * Partitions of the input topic. Caps are split evenly over them, so what one partition
   * keeps (and evicts) never depends on another's traffic: its output stays a function of
   * its own input, which exactly-once replay needs.
   */
  readonly partitionCount: number;
  /** Hard cap on open sessions over all partitions (each gets ceil(cap / partitionCount)). */
  readonly maxOpenSessions: number;
  /** Events one session may hold back waiting for a missing seq before giving up on it. */
  readonly maxPendingPerSession: number;
  /** Events all sessions may hold back (split over partitions like maxOpenSessions). */
  readonly maxPendingEvents: number;
  /** Closed sessions remembered for late-event and duplicate checks (split likewise). */
  readonly maxTombstones: number;
}

export const DEFAULT_SESSIONIZE_OPTIONS: SessionizeOptions = Object.freeze({
  allowedLatenessMs: 30_000,
  viewGapMs: DEFAULT_VIEW_GAP_MS,
  partitionCount: 4,
  maxOpenSessions: 1_000_000,
  maxPendingPerSession: 64,
  maxPendingEvents: 200_000,
  maxTombstones: 1_000_000,
});

const INTEGER_KEYS = [
  'allowedLatenessMs',
  'viewGapMs',
  'partitionCount',
  'maxOpenSessions',
  'maxPendingPerSession',
  'maxPendingEvents',
  'maxTombstones',
] as const satisfies ReadonlyArray<keyof SessionizeOptions>;

/** Defaults, overridden by `given`; throws CONFIG_INVALID naming every bad setting. */
export function sessionizeOptions(given: Partial<SessionizeOptions> = {}): SessionizeOptions {
  const options: SessionizeOptions = { ...DEFAULT_SESSIONIZE_OPTIONS, ...given };
  const problems: string[] = [];
  for (const key of INTEGER_KEYS) {
    const value = options[key];
    const min = key === 'allowedLatenessMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min)
      problems.push(`${key} must be an integer >= ${min}, got ${value}`);
  }
  if (problems.length === 0) {
    const pendingPerPartition = Math.ceil(options.maxPendingEvents / options.partitionCount);
    if (options.maxPendingPerSession > pendingPerPartition) {
      problems.push(
        `maxPendingPerSession (${options.maxPendingPerSession}) exceeds the per-partition share of maxPendingEvents (${pendingPerPartition}): it could never be reached`,
      );
    }
  }
  if (problems.length > 0) {
    throw new PlayloopError('CONFIG_INVALID', `invalid sessionize options:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return Object.freeze(options);
}

/** The options the `processors` role runs with: `processors.sessionize` and `topics.partitions`. */
export function sessionizeOptionsFrom(config: PlayloopConfig): SessionizeOptions {
  const s = config.processors.sessionize;
  // Only the sessionizer's own settings: checkpointing and idle advance belong to the processor.
  return sessionizeOptions({
    allowedLatenessMs: s.allowedLatenessMs,
    viewGapMs: s.viewGapMs,
    maxOpenSessions: s.maxOpenSessions,
    maxPendingPerSession: s.maxPendingPerSession,
    maxPendingEvents: s.maxPendingEvents,
    maxTombstones: s.maxTombstones,
    partitionCount: config.topics.partitions,
  });
}
