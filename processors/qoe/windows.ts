/**
 * Which windows a batch of sessions touched. Pure: the qoe processor recomputes exactly
 * these windows from ClickHouse, as contiguous ranges so one INSERT ... SELECT covers many.
 */

export interface WindowRange {
  readonly windowSec: number;
  /** Inclusive start of the first window, epoch seconds. */
  readonly fromSec: number;
  /** Exclusive end of the last window, epoch seconds. */
  readonly toSec: number;
}

export function windowStartSec(endTimeMs: number, windowSec: number): number {
  const s = Math.floor(endTimeMs / 1000);
  return s - (((s % windowSec) + windowSec) % windowSec);
}

export class DirtyWindows {
  private readonly dirty = new Map<number, Set<number>>();

  constructor(private readonly windowSizesSec: readonly number[]) {
    for (const w of windowSizesSec) this.dirty.set(w, new Set());
  }

  touch(endTimeMs: number): void {
    for (const w of this.windowSizesSec) this.dirty.get(w)?.add(windowStartSec(endTimeMs, w));
  }

  get size(): number {
    let n = 0;
    for (const set of this.dirty.values()) n += set.size;
    return n;
  }

  /**
   * Takes the dirty windows as ranges, merging windows that are adjacent or at most
   * `maxGapWindows` apart (recomputing a clean window between two dirty ones is harmless:
   * the result is the same rows again).
   */
  drain(maxGapWindows = 2): WindowRange[] {
    const ranges: WindowRange[] = [];
    for (const [w, set] of this.dirty) {
      const starts = [...set].sort((a, b) => a - b);
      set.clear();
      let from: number | undefined;
      let last = 0;
      for (const s of starts) {
        if (from === undefined) {
          from = s;
        } else if (s - last > w * (maxGapWindows + 1)) {
          ranges.push({ windowSec: w, fromSec: from, toSec: last + w });
          from = s;
        }
        last = s;
      }
      if (from !== undefined) ranges.push({ windowSec: w, fromSec: from, toSec: last + w });
    }
    return ranges;
  }

  /** Puts ranges back (their materialisation failed and will be retried). */
  restore(ranges: readonly WindowRange[]): void {
    for (const r of ranges) {
      for (let s = r.fromSec; s < r.toSec; s += r.windowSec) this.dirty.get(r.windowSec)?.add(s);
    }
  }
}
