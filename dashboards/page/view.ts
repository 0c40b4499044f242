/**
 * What the dashboard page computes without a browser: value formatting in the panels' Grafana
 * units, and the long-to-wide pivot that turns a time series result into chart lines (what
 * sqlds' LongToWide does for Grafana). Bundled into the page script; tested in Node.
 */
import type { PanelDefinition, Unit } from '../panels/types.ts';
import type { Cell, Column } from '../query/run.ts';

export interface PanelData {
  readonly id: string;
  readonly intervalMs: number;
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
}

/** A compact number: up to 3 significant digits, k/M/G from 10 000 up. */
function short(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (Number.isInteger(v)) return String(v);
  // toPrecision keeps 3 significant digits; Number() drops the trailing zeros it pads with.
  return abs >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/** A value in one of the Grafana unit ids the panels use, as the page shows it. */
export function formatValue(unit: Unit, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'ms':
      return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
    case 's':
      return `${v.toFixed(1)} s`;
    case 'percentunit':
      return `${(v * 100).toFixed(Math.abs(v) < 0.1 ? 2 : 1)}%`;
    case 'Kbits':
      return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} Mb/s` : `${v.toFixed(0)} kb/s`;
    case 'decbytes':
      return `${short(v)}B`;
    case 'suffix: ev/s':
      return `${short(v)} ev/s`;
    case 'suffix: rec/s':
      return `${short(v)} rec/s`;
    case 'none':
      return Math.abs(v) > 0 && Math.abs(v) < 0.01 ? v.toExponential(2) : short(v);
    default:
      return short(v);
  }
}

export interface SeriesSet {
  readonly keys: string;
  readonly labels: readonly string[];
  /** Seconds, as uPlot's time scale wants. */
  readonly xs: number[];
  readonly lines: (number | null)[][];
}

/** Long format (time, label columns, value columns) to one line per label values x value column. */
export function toSeries(panel: PanelDefinition, data: PanelData): SeriesSet {
  const col = (name: string): number => data.columns.findIndex((c) => c.name === name);
  const timeIndex = col(panel.fields.time ?? 'time');
  const labelIndexes = panel.fields.labels.map((f) => col(f.name));
  const valueFields = panel.fields.values.map((f) => ({ field: f, index: col(f.name) }));
  const xs = [...new Set(data.rows.map((r) => Number(r[timeIndex]) / 1000))].sort((a, b) => a - b);
  const position = new Map(xs.map((x, i) => [x, i]));
  const lines = new Map<string, (number | null)[]>();
  for (const row of data.rows) {
    const labelText = labelIndexes.map((i) => String(row[i] ?? '')).join(' · ');
    for (const { field, index } of valueFields) {
      const name =
        labelText === ''
          ? field.displayName
          : valueFields.length > 1
            ? `${labelText} ${field.displayName}`
            : labelText;
      let values = lines.get(name);
      if (!values) {
        values = xs.map(() => null);
        lines.set(name, values);
      }
      const cell = row[index];
      values[position.get(Number(row[timeIndex]) / 1000) as number] = typeof cell === 'number' ? cell : null;
    }
  }
  const labels = [...lines.keys()];
  return { keys: labels.join('\u0000'), labels, xs, lines: labels.map((l) => lines.get(l) ?? []) };
}
