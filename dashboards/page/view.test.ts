/** The page's pure parts: unit formatting and the long-to-wide pivot of time series results. */
import { describe, expect, it } from 'vitest';
import type { PanelDefinition } from '../panels/types.ts';
import { formatValue, toSeries } from './view.ts';

const panel: PanelDefinition = {
  id: 'p',
  title: 'P',
  description: '',
  kind: 'timeseries',
  sql: '',
  unit: 'ms',
  fields: {
    time: 'time',
    labels: [{ name: 'oca', displayName: 'OCA' }],
    values: [{ name: 'p90', displayName: 'p90' }],
  },
  width: 12,
  height: 8,
};

describe('formatValue', () => {
  it('formats the Grafana units the panels use', () => {
    expect(formatValue('ms', 800)).toBe('800 ms');
    expect(formatValue('ms', 3_200)).toBe('3.20 s');
    expect(formatValue('percentunit', 0.0647)).toBe('6.47%');
    expect(formatValue('percentunit', 0.5)).toBe('50.0%');
    expect(formatValue('Kbits', 2_884.6)).toBe('2.88 Mb/s');
    expect(formatValue('Kbits', 800)).toBe('800 kb/s');
    expect(formatValue('short', 0.4)).toBe('0.4');
    expect(formatValue('short', 123_456)).toBe('123k');
    expect(formatValue('suffix: ev/s', 24.5)).toBe('24.5 ev/s');
    expect(formatValue('decbytes', 18_000_000)).toBe('18.0MB');
    expect(formatValue('none', 0.0004)).toBe('4.00e-4');
    expect(formatValue('ms', null)).toBe('–');
  });
});

describe('toSeries', () => {
  it('pivots long rows into one line per label value, aligned on the union of times', () => {
    const set = toSeries(panel, {
      id: 'p',
      intervalMs: 10_000,
      columns: [
        { name: 'time', type: "DateTime('UTC')", kind: 'time' },
        { name: 'oca', type: 'String', kind: 'string' },
        { name: 'p90', type: 'Float32', kind: 'number' },
      ],
      rows: [
        [10_000, 'a', 1],
        [10_000, 'b', 2],
        [20_000, 'a', 3],
        [30_000, 'b', null],
      ],
    });
    expect(set.labels).toEqual(['a', 'b']);
    expect(set.xs).toEqual([10, 20, 30]);
    expect(set.lines).toEqual([
      [1, 3, null],
      [2, null, null],
    ]);
  });

  it('names lines by value column when there are no labels, and by both when there are several values', () => {
    const plain = toSeries(
      {
        ...panel,
        fields: {
          time: 'time',
          labels: [],
          values: [
            { name: 'p50', displayName: 'p50' },
            { name: 'p90', displayName: 'p90' },
          ],
        },
      },
      {
        id: 'p',
        intervalMs: 1,
        columns: [
          { name: 'time', type: 'DateTime', kind: 'time' },
          { name: 'p50', type: 'Float64', kind: 'number' },
          { name: 'p90', type: 'Float64', kind: 'number' },
        ],
        rows: [[1_000, 5, 9]],
      },
    );
    expect(plain.labels).toEqual(['p50', 'p90']);
    expect(plain.lines).toEqual([[5], [9]]);
  });
});
