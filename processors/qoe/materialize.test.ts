import { describe, expect, it } from 'vitest';
import { coverOf, planMaterialization, sqlOf } from './materialize.ts';
import type { WindowRange } from './windows.ts';

const r = (windowSec: number, fromSec: number, toSec: number): WindowRange => ({ windowSec, fromSec, toSec });

describe('planMaterialization', () => {
  it('reads sessions for the smallest size only and rolls the larger ones up from it', () => {
    const ten = r(10, 1_700_000_000, 1_700_000_020);
    const sixty = r(60, 1_699_999_980, 1_700_000_040);
    expect(planMaterialization([sixty, ten])).toEqual([
      { table: 'qoe_windows', sourceSec: undefined, ranges: [ten] },
      { table: 'qoe_cells', sourceSec: undefined, ranges: [ten] },
      { table: 'qoe_windows', sourceSec: 10, ranges: [sixty] },
      { table: 'qoe_cells', sourceSec: 10, ranges: [sixty] },
    ]);
  });

  it('rolls up from the largest dividing size and reads sessions for a size none divides', () => {
    // 15 is not a multiple of 10: from sessions. 60 is a multiple of both: from 15, the
    // fewer source rows, which the sessions statement for 15 computes before it.
    const ranges = [r(10, 0, 10), r(15, 0, 15), r(60, 0, 60)];
    expect(
      planMaterialization(ranges).map((s) => [s.table, s.sourceSec, s.ranges.map((x) => x.windowSec)]),
    ).toEqual([
      ['qoe_windows', undefined, [10]],
      ['qoe_cells', undefined, [10]],
      ['qoe_windows', undefined, [15]],
      ['qoe_cells', undefined, [15]],
      ['qoe_windows', 15, [60]],
      ['qoe_cells', 15, [60]],
    ]);
  });

  it('leaves out the smallest windows when they are current, never their cells', () => {
    const plan = planMaterialization([r(10, 0, 10), r(60, 0, 60)], { smallestWindowsCurrent: true });
    expect(plan.map((s) => [s.table, s.sourceSec])).toEqual([
      ['qoe_cells', undefined],
      ['qoe_windows', 10],
      ['qoe_cells', 10],
    ]);
  });

  it('plans nothing for no ranges', () => {
    expect(planMaterialization([])).toEqual([]);
  });
});

describe('coverOf', () => {
  it('merges overlapping and touching ranges into disjoint sorted intervals', () => {
    expect(coverOf([r(60, 120, 180), r(10, 0, 20), r(10, 20, 30), r(60, 0, 60), r(10, 500, 510)])).toEqual([
      [0, 60],
      [120, 180],
      [500, 510],
    ]);
  });
});

describe('sqlOf', () => {
  it('writes the ranges and their union into the statement as integer literals', () => {
    const sql = sqlOf('db', {
      table: 'qoe_windows',
      sourceSec: undefined,
      ranges: [r(10, 100, 120), r(10, 110, 130)],
    });
    expect(sql).toContain('ARRAY JOIN [10, 10] AS w, [100, 110] AS range_from, [120, 130] AS range_to');
    expect(sql).toContain('(end_time >= toDateTime64(100, 3) AND end_time < toDateTime64(130, 3))');
    expect(sql).toContain('FROM db.qoe_sessions FINAL');
  });

  it('rolls up from the source size', () => {
    const sql = sqlOf('db', { table: 'qoe_cells', sourceSec: 10, ranges: [r(60, 0, 60)] });
    expect(sql).toContain('FROM db.qoe_cells FINAL');
    expect(sql).toContain(
      'window_sec = 10 AND ((window_start >= toDateTime(0) AND window_start < toDateTime(60)))',
    );
  });

  it('refuses a bound that is not a whole number of seconds', () => {
    expect(() =>
      sqlOf('db', { table: 'qoe_windows', sourceSec: undefined, ranges: [r(10, 1.5, 20)] }),
    ).toThrow(RangeError);
  });
});
