/**
 * Shared benchmark reporting: a table on stdout and a JSON file in bench/results/ that keeps
 * the numbers with the command, the machine and the date that produced them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline this row is compared with, measured in the same run. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** Whether a larger value is better (throughput) or worse (latency, memory). */
  readonly higherIsBetter: boolean;
  readonly target?: { readonly value: number; readonly met: boolean };
  readonly note?: string;
}

export function ratio(row: BenchRow): number | undefined {
  if (!row.baseline || row.baseline.value === 0) return undefined;
  return row.value / row.baseline.value;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

export function printTable(title: string, rows: readonly BenchRow[]): void {
  const header = ['measure', 'value', 'unit', 'baseline', 'ratio', 'target'];
  const body = rows.map((r) => {
    const x = ratio(r);
    return [
      r.name,
      fmt(r.value),
      r.unit,
      r.baseline ? `${r.baseline.name} ${fmt(r.baseline.value)}` : '-',
      x === undefined ? '-' : `${x.toFixed(2)}x`,
      r.target
        ? `${r.higherIsBetter ? '>=' : '<='} ${fmt(r.target.value)} ${r.target.met ? 'met' : 'MISSED'}`
        : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const b of body) console.log(line(b));
  for (const r of rows) if (r.note) console.log(`  ${r.name}: ${r.note}`);
}

export function writeResults(
  name: string,
  rows: readonly BenchRow[],
  extra: Record<string, unknown> = {},
): string {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const doc = {
    benchmark: name,
    command: process.env['PLAYLOOP_BENCH_COMMAND'] ?? `npm run bench -- ${name}`,
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      node: process.version,
    },
    rows: rows.map((r) => ({ ...r, ratio: ratio(r) ?? null })),
    ...extra,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}
