/** A readable text rendering of an experiment result, for the CLI. Pure. */
import type { Interval } from '../stats/index.ts';
import type { ExperimentResult, MetricResult } from './result.ts';

function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(4)).toString();
}

function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
}

function interval(i: Interval | null | undefined, f: (x: number) => string = num): string {
  if (i === null || i === undefined) return '-';
  return `[${f(i.lower)}, ${f(i.upper)}]`;
}

function p(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (x === 0) return '0';
  return x < 1e-4 ? x.toExponential(1) : Number(x.toPrecision(3)).toString();
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function metricRow(m: MetricResult): string[] {
  const c = m.comparison;
  return [
    m.metric,
    m.role,
    m.method,
    `${m.cell}${m.control ? '*' : ''}`,
    String(m.n),
    num(m.estimate),
    interval(m.ci),
    c === null ? '-' : num(c.difference),
    c === null ? '-' : interval(c.ci),
    c?.lift ? `${pct(c.lift.estimate)} ${interval(c.lift.ci, pct)}` : '-',
    p(c?.pValue),
    p(c?.pAdjusted),
    p(c?.sequential?.pValue),
    m.status ?? (m.note === null ? '' : `(${m.note})`),
  ];
}

export function formatResult(r: ExperimentResult): string[] {
  const level = `${Number(((1 - r.alpha) * 100).toPrecision(4))}%`;
  const out: string[] = [];
  out.push(
    `Experiment ${r.experimentKey} (unit ${r.unit}, ${r.decisionRule}, ${r.mode}, alpha ${r.alpha}; digest ${r.definitionDigest})`,
  );
  out.push(
    `Analysed at ${new Date(r.analyzedAt).toISOString()}; runtime ${r.runtimeDays.toFixed(1)} days; ${r.looks} look(s) of the ${r.sequentialMethod === 'group-sequential' ? 'group-sequential test (one per recorded run)' : 'mSPRT (daily cohorts; no sample-size plan)'}`,
  );
  const verdict =
    r.decision.kind === 'ship'
      ? `SHIP ${r.decision.cell}`
      : r.decision.kind === 'keep-control'
        ? `KEEP CONTROL (${r.controlCell})`
        : 'CONTINUE';
  out.push('', `Decision: ${verdict}`);
  for (const reason of r.decision.reasons) out.push(`  - ${reason}`);

  out.push('');
  const srmByCell = new Map((r.srm?.cells ?? []).map((c) => [c.cell, c]));
  out.push(
    ...table(
      ['cell', 'units', 'share', 'expected', 'session views', 'in several cells'],
      r.cells.map((c) => {
        const s = srmByCell.get(c.cell);
        return [
          `${c.cell}${c.control ? '*' : ''}`,
          String(c.units),
          s ? `${(100 * s.observedShare).toFixed(2)}%` : '-',
          `${(c.weight / 100).toFixed(2)}%`,
          String(c.sessionViews),
          String(c.unitsInSeveralCells),
        ];
      }),
    ),
  );
  if (r.srm !== null) {
    out.push(
      `Sample ratio: chi-square ${num(r.srm.chiSquare)} on ${r.srm.degreesOfFreedom} df, p=${p(r.srm.pValue)}: ${
        r.srm.mismatch ? `MISMATCH (p < ${r.srm.threshold})` : 'ok'
      }`,
    );
  }
  if (r.power !== null) {
    const pw = r.power;
    out.push(
      `Sample size: ${pw.metric} (${pw.method}), MDE ${num(pw.effect)} at baseline ${num(pw.baseline)}, alpha ${num(pw.alpha)}, power ${pw.power}: ` +
        `${pw.plannedSamplePerCell} units per cell (${pw.plannedTotalUnits} in all); power at the current size ${(100 * pw.currentPower).toFixed(1)}%`,
    );
  }
  if (r.cuped !== null) {
    const reductions = Object.entries(r.cuped.varianceReduction)
      .map(([cell, v]) => `${cell} ${(100 * v).toFixed(1)}%`)
      .join(', ');
    out.push(
      `CUPED on ${r.cuped.metric}: theta ${num(r.cuped.theta)}, correlation ${num(r.cuped.correlation)}, ` +
        `${r.cuped.unitsWithCovariate} unit(s) with a pre-period value, ${r.cuped.unitsWithoutCovariate} without; variance reduction ${reductions}`,
    );
  }
  out.push('');
  out.push(
    ...table(
      [
        'metric',
        'role',
        'method',
        'cell',
        'n',
        'estimate',
        `${level} CI`,
        'difference',
        `${level} CI`,
        `lift ${level} CI`,
        'p',
        'p adj',
        'p seq',
        'status',
      ],
      r.metrics.map(metricRow),
    ),
  );
  out.push(
    '',
    `* control. p: fixed-horizon two-sided; p adj: Holm (primary) or Benjamini-Hochberg (secondary); p seq: ${r.sequentialMethod === 'group-sequential' ? "group-sequential repeated p-value (Lan-DeMets O'Brien-Fleming spending)" : 'mSPRT always-valid'}.`,
  );
  return out;
}
