import { describe, expect, it } from 'vitest';
import { DirtyWindows, windowStartSec } from './windows.ts';

describe('windowStartSec', () => {
  it('floors to the window boundary in epoch seconds', () => {
    // 1_700_000_007_500 ms = 1_700_000_007.5 s; 10 s windows start at ...000.
    expect(windowStartSec(1_700_000_007_500, 10)).toBe(1_700_000_000);
    expect(windowStartSec(1_700_000_010_000, 10)).toBe(1_700_000_010);
    // 60 s windows: 1_700_000_007 mod 60 = 27 (60 * 28_333_333 = 1_699_999_980), so the
    // window starts at 1_700_000_007 - 27 = 1_699_999_980.
    expect(windowStartSec(1_700_000_007_500, 60)).toBe(1_699_999_980);
  });
});

describe('DirtyWindows', () => {
  it('merges nearby windows into ranges per window size and empties on drain', () => {
    const d = new DirtyWindows([10, 60]);
    for (const t of [1_700_000_001_000, 1_700_000_012_000, 1_700_000_019_000, 1_700_000_200_000]) d.touch(t);
    expect(d.drain(1)).toEqual([
      // 10 s windows at ...000 and ...010 are adjacent; ...200 is 19 windows away.
      { windowSec: 10, fromSec: 1_700_000_000, toSec: 1_700_000_020 },
      { windowSec: 10, fromSec: 1_700_000_200, toSec: 1_700_000_210 },
      // 60 s windows at 1_699_999_980 and 1_700_000_160 (200 - 200 mod 60... = 160) are
      // 3 windows apart, more than the 1-window gap allowed.
      { windowSec: 60, fromSec: 1_699_999_980, toSec: 1_700_000_040 },
      { windowSec: 60, fromSec: 1_700_000_160, toSec: 1_700_000_220 },
    ]);
    expect(d.size).toBe(0);
  });

  it('restores ranges whose materialisation failed', () => {
    const d = new DirtyWindows([10]);
    d.touch(1_700_000_001_000);
    d.touch(1_700_000_011_000);
    const ranges = d.drain();
    d.restore(ranges);
    expect(d.size).toBe(2);
    expect(d.drain()).toEqual(ranges);
  });
});
