/**
 * `npm run bench -- analysis [--sessions N] [--reuse] [--keep]`: the experiment analysis
 * at scale. Generates N (default 10,000,000) session-unit sessions in 4 cells inside
 * ClickHouse (INSERT ... SELECT FROM numbers(N), metrics from seeded hashes: deterministic),
 * with their experiment_units rows as the outcomes processor would write them, into a
 * database of its own; then times the full analysis (analyzeExperiment: the aggregate
 * queries inside ClickHouse, the statistics in Node, the stored results) against the naive
 * way, pulling the rows into Node and aggregating there. Twice: on the parts as the bulk
 * insert left them (10 parts with interleaved keys: the analysis cannot use the projections
 * and pays the exact FINAL scan, which merge-sorts every row), and once they are merged (one
 * part per table: the sums come from the aggregate projections; experiments/analysis/
 * queries.ts). Each row's note names the read path each run took.
 *
 * Pulling 10M rows through JSON into Node takes minutes and gigabytes, so the naive way is
 * measured on a 10% subset and extrapolated linearly, and labelled as such.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs, stringOption } from '../cli/args.ts';
import { loadConfig } from '../core/config.ts';
import { pollUntil } from '../core/retry.ts';
import { analyzeExperiment } from '../experiments/analysis/analyze.ts';
import { definitionFromYaml } from '../experiments/analysis/definition-text.ts';
import { evaluateExperiment, PLAY_DELAY_QUANTILES } from '../experiments/analysis/evaluate.ts';
import { METRIC_MEASURES, metricTest } from '../experiments/analysis/metrics.ts';
import {
  analysedMetrics,
  type CohortStatistics,
  fetchSufficientStatistics,
  type Histogram,
  type SufficientStatistics,
} from '../experiments/analysis/queries.ts';
import type { ExperimentResult } from '../experiments/analysis/result.ts';
import type { ExperimentDefinition } from '../experiments/definitions/schema.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { type BenchRow, printTable, writeResults } from './report.ts';

const KEY = 'bench-analysis';
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 9, 1);

const DEFINITION = `
key: ${KEY}
hypothesis: Benchmark experiment with four cells, generated inside ClickHouse for timing the analysis.
owner: bench@playloop.dev
unit: session
status: running
namespace: { name: bench, range: { start: 0, end: 10000 } }
seed: bench-analysis-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 2500, config: { abr: { abrBandWidthFactor: 0.95 } } }
  - { name: b, weight: 2500, config: { abr: { abrBandWidthFactor: 0.9 } } }
  - { name: c, weight: 2500, config: { abr: { abrBandWidthFactor: 0.85 } } }
  - { name: d, weight: 2500, config: { abr: { abrBandWidthFactor: 0.8 } } }
metrics:
  primary: { metric: startupMs, better: lower, mde: { relative: 0.01 } }
  secondary:
    - { metric: rebufferRatio, better: lower }
    - { metric: avgBitrateKbps, better: higher }
    - { metric: stallsPerHour, better: lower }
  guardrails:
    - { metric: ebvs, better: lower, margin: { absolute: 0.005 } }
    - { metric: vsf, better: lower, margin: { absolute: 0.002 } }
    - { metric: vpf, better: lower, margin: { absolute: 0.002 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 7 }
`;

/** A uniform in [0, 1) from a seeded hash of `of` (deterministic across runs and machines). */
const U = (salt: number, of = 'number'): string => `(cityHash64(${of}, ${salt}) / 18446744073709551616.)`;
/** A standard normal by Box-Muller from two seeded uniforms. */
const Z = (a: number, b: number, of = 'number'): string =>
  `(sqrt(-2 * log(1 - ${U(a, of)})) * cos(2 * pi() * ${U(b, of)}))`;

function generateSessionsSql(db: string, n: number): string {
  const viewer = 'intDiv(number, 4)';
  return `
INSERT INTO ${db}.experiment_sessions
    (experiment_key, unit_id, summary_id, unit_type, cell, viewer_id, session_id, title_id,
     first_allocated_at, start_time, end_time, device_class, isp, country, play_attempt, started,
     ebvs, vsf, vpf, startup_ms, play_ms, stall_ms, stall_count, avg_bitrate_kbps, switches_up,
     switches_down, score, computed_at)
SELECT
    '${KEY}' AS experiment_key,
    concat('s', toString(number)) AS unit_id,
    concat('s', toString(number), ':0') AS summary_id,
    'session' AS unit_type,
    ['control', 'b', 'c', 'd'][1 + cityHash64(number, 0) % 4] AS cell,
    concat('v', toString(${viewer})) AS viewer_id,
    unit_id AS session_id,
    'title-001' AS title_id,
    fromUnixTimestamp64Milli(toInt64(${T0} + cityHash64(number, 1) % ${14 * DAY_MS})) AS first_allocated_at,
    first_allocated_at + toIntervalSecond(1) AS start_time,
    start_time + toIntervalSecond(900) AS end_time,
    'tv', 'AS3320', 'DE',
    1 AS play_attempt,
    toUInt8(${U(3)} >= 0.03) AS started,
    toUInt8(started = 0 AND ${U(4)} < 0.8) AS ebvs,
    toUInt8(started = 0 AND ebvs = 0) AS vsf,
    toUInt8(started = 1 AND ${U(5)} < 0.004) AS vpf,
    -- Play delay: log-normal around 1 s, a viewer component (shared with the pre-period) and
    -- a session component; cell b is 3% faster, d 1% slower.
    if(started = 1,
       toInt64(round(exp(6.9 + 0.35 * ${Z(11, 12, viewer)} + 0.35 * ${Z(13, 14)})
                     * [1., 0.97, 1., 1.01][1 + cityHash64(number, 0) % 4])),
       NULL) AS startup_ms,
    if(started = 1, toInt64(60000 + 1800000 * ${U(6)}), 0) AS play_ms,
    if(started = 1 AND ${U(7)} < 0.3, toInt64(20000 * ${U(8)}), 0) AS stall_ms,
    if(stall_ms > 0, toUInt32(1 + 3 * ${U(9)}), 0) AS stall_count,
    if(started = 1, 2500 + 1500 * ${U(10)}, NULL) AS avg_bitrate_kbps,
    toUInt32(3 * ${U(15)}) AS switches_up,
    toUInt32(2 * ${U(16)}) AS switches_down,
    if(started = 1, 60 + 40 * ${U(17)}, NULL) AS score,
    now64(6) AS computed_at
FROM numbers(${n})`;
}

/** experiment_units from the sessions, one unit per session, with a pre-period for 80% of units. */
function generateUnitsSql(db: string): string {
  const of = 'cityHash64(unit_id)';
  return `
INSERT INTO ${db}.experiment_units
    (experiment_key, unit_id, unit_type, cell, viewer_id, first_allocated_at, cells_seen,
     sessions, attempts, plays, ebvs, vsf, vpf, startups, startup_ms, play_ms, stall_ms, stall_count,
     bitrate_kbps_ms, bitrate_play_ms, switches, score_sum, scored,
     pre_sessions, pre_attempts, pre_plays, pre_startups, pre_startup_ms, pre_play_ms, pre_stall_ms,
     computed_at)
SELECT
    experiment_key, unit_id, unit_type, cell, viewer_id, first_allocated_at, 1,
    1, play_attempt, started, ebvs, vsf, vpf, toUInt64(startup_ms IS NOT NULL), ifNull(startup_ms, 0),
    play_ms, stall_ms, stall_count,
    ifNull(avg_bitrate_kbps, 0) * play_ms, if(avg_bitrate_kbps IS NULL, 0, play_ms),
    switches_up + switches_down, ifNull(score, 0), toUInt64(score IS NOT NULL),
    toUInt64(has_pre), toUInt64(has_pre), toUInt64(has_pre), toUInt64(has_pre),
    -- The same viewer component as the play delay: the covariate CUPED feeds on.
    if(has_pre, toInt64(round(exp(6.9 + 0.35 * ${Z(11, 12, 'cityHash64(viewer_id)')} + 0.35 * ${Z(21, 22, of)}))), 0),
    if(has_pre, 600000, 0), 0,
    now64(6)
FROM (SELECT *, ${U(20, of)} < 0.8 AS has_pre FROM ${db}.experiment_sessions WHERE experiment_key = '${KEY}')`;
}

/**
 * Wall time and CPU time of `fn`. CPU time is the whole process's (user + system, every
 * thread): embedded ClickHouse runs in this process, so it counts the queries' work too, and
 * it does not grow when other programs load the machine, as wall time does.
 */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - start, cpuMs: (used.user + used.system) / 1_000 };
}

async function count(ch: ClickHouse, table: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    ch.client,
    `SELECT count() AS n FROM ${ch.database}.${table} WHERE experiment_key = {key:String}`,
    { key: KEY },
  );
  return Number(rows[0]?.n ?? 0);
}

async function parts(ch: ClickHouse): Promise<string> {
  const rows = await queryRows<{ table: string; parts: number }>(
    ch.client,
    `SELECT table, count() AS parts FROM system.parts WHERE database = {db:String} AND active
       AND table IN ('experiment_units', 'experiment_sessions') GROUP BY table ORDER BY table`,
    { db: ch.database },
  );
  return rows.map((r) => `${r.table} ${r.parts} part(s)`).join(', ');
}

interface NaiveUnit {
  cell: string;
  alloc_ms: number;
  [column: string]: number | string;
}

/**
 * The naive analysis: every unit row and every play delay pulled into Node as JSON, the same
 * sufficient statistics summed in JavaScript, the same statistics run on them.
 */
async function naiveAnalysis(
  ch: ClickHouse,
  def: ExperimentDefinition,
  sampleModulo: number,
): Promise<{
  result: ExperimentResult;
  pullMs: number;
  aggregateMs: number;
  statsMs: number;
  cpuMs: number;
  rows: number;
  heapMb: number;
}> {
  const metrics = analysedMetrics(def);
  const columns = new Set<string>();
  for (const m of metrics) {
    for (const p of ['', 'pre_'] as const) {
      for (const expr of [METRIC_MEASURES[m].num(p), METRIC_MEASURES[m].den(p)]) {
        for (const token of expr.match(/[a-z_]+/g) ?? []) columns.add(token);
      }
    }
  }
  const sample = sampleModulo > 1 ? `AND cityHash64(unit_id) % ${sampleModulo} = 0` : '';
  const heapBefore = process.memoryUsage().heapUsed;
  const pull = await timed(async () => {
    const units = await queryRows<NaiveUnit>(
      ch.client,
      `SELECT cell, toUnixTimestamp64Milli(first_allocated_at) AS alloc_ms, cells_seen, sessions, ${[...columns].join(', ')}
       FROM ${ch.database}.experiment_units FINAL WHERE experiment_key = {key:String} ${sample}`,
      { key: KEY },
    );
    const delays = await queryRows<{ cell: string; startup_ms: number }>(
      ch.client,
      `SELECT cell, startup_ms FROM ${ch.database}.experiment_sessions FINAL
       WHERE experiment_key = {key:String} AND startup_ms IS NOT NULL ${sample}`,
      { key: KEY },
    );
    return { units, delays };
  });
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1_048_576;
  const aggregate = await timed(async () => {
    // The value expressions of metrics.ts (column names, +, *, parentheses) as JavaScript.
    const compile = (expr: string): ((u: NaiveUnit) => number) =>
      new Function('u', `return ${expr.replace(/[a-z_]+/g, (c) => `Number(u.${c})`)};`) as (
        u: NaiveUnit,
      ) => number;
    const byKey = new Map<string, CohortStatistics>();
    const compiled = metrics.map((m) => ({
      test: metricTest(m, def.unit),
      num: compile(METRIC_MEASURES[m].num('')),
      den: compile(METRIC_MEASURES[m].den('')),
      preNum: compile(METRIC_MEASURES[m].num('pre_')),
      preDen: compile(METRIC_MEASURES[m].den('pre_')),
    }));
    const sums = new Map<string, number[]>();
    const add = (into: number[], i: number, v: number): void => {
      into[i] = (into[i] as number) + v;
    };
    const meta = new Map<
      string,
      { cell: string; day: number; units: number; views: number; several: number; first: number }
    >();
    const width = metrics.length * 3 + 9;
    for (const u of pull.value.units) {
      const day = Math.floor(Number(u.alloc_ms) / DAY_MS);
      const key = `${u.cell}\u0000${day}`;
      let s = sums.get(key);
      if (s === undefined) {
        s = new Array<number>(width).fill(0);
        sums.set(key, s);
        meta.set(key, { cell: u.cell, day, units: 0, views: 0, several: 0, first: Number.POSITIVE_INFINITY });
      }
      const m = meta.get(key) as { units: number; views: number; several: number; first: number };
      m.units += 1;
      m.views += Number(u['sessions']);
      if (Number(u['cells_seen']) > 1) m.several += 1;
      m.first = Math.min(m.first, Number(u.alloc_ms));
      compiled.forEach((c, i) => {
        const den = c.den(u);
        if (den <= 0) return;
        const num = c.num(u);
        const y = c.test === 'two-proportion-z' ? (num > 0 ? 1 : 0) : num / den;
        add(s, 3 * i, 1);
        add(s, 3 * i + 1, y);
        add(s, 3 * i + 2, y * y);
        if (i === 0) {
          const base = metrics.length * 3;
          const preDen = c.preDen(u);
          if (preDen > 0) {
            const x = c.preNum(u) / preDen;
            add(s, base, 1);
            add(s, base + 1, y);
            add(s, base + 2, y * y);
            add(s, base + 3, x);
            add(s, base + 4, x * x);
            add(s, base + 5, x * y);
          } else {
            add(s, base + 6, 1);
            add(s, base + 7, y);
            add(s, base + 8, y * y);
          }
        }
      });
    }
    for (const [key, s] of sums) {
      const m = meta.get(key) as {
        cell: string;
        day: number;
        units: number;
        views: number;
        several: number;
        first: number;
      };
      const base = metrics.length * 3;
      byKey.set(key, {
        cell: m.cell,
        cohortDay: m.day,
        units: m.units,
        sessionViews: m.views,
        unitsInSeveralCells: m.several,
        firstAllocationMs: m.first,
        metrics: metrics.map((_, i) => ({
          n: s[3 * i] as number,
          sum: s[3 * i + 1] as number,
          sumSquares: s[3 * i + 2] as number,
        })),
        cuped: {
          withCovariate: {
            n: s[base] as number,
            sumY: s[base + 1] as number,
            sumY2: s[base + 2] as number,
            sumX: s[base + 3] as number,
            sumX2: s[base + 4] as number,
            sumXY: s[base + 5] as number,
          },
          withoutCovariate: {
            n: s[base + 6] as number,
            sumY: s[base + 7] as number,
            sumY2: s[base + 8] as number,
          },
        },
      });
    }
    // Quantiles the naive way: sort every play delay of each cell.
    const byCell = new Map<string, number[]>();
    for (const d of pull.value.delays) {
      const list = byCell.get(d.cell) ?? [];
      list.push(Number(d.startup_ms));
      byCell.set(d.cell, list);
    }
    const playDelay = new Map<string, Histogram>();
    for (const [cell, list] of byCell) {
      const sorted = Float64Array.from(list).sort();
      const values: number[] = [];
      const counts: number[] = [];
      for (const v of sorted) {
        if (values[values.length - 1] === v)
          counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
        else {
          values.push(v);
          counts.push(1);
        }
      }
      playDelay.set(cell, { values, counts });
    }
    const stats: SufficientStatistics = {
      experimentKey: KEY,
      unit: def.unit,
      metrics,
      cohorts: [...byKey.values()],
      playDelay,
    };
    return stats;
  });
  const evaluated = await timed(async () =>
    evaluateExperiment(def, aggregate.value, {
      now: T0 + 21 * DAY_MS,
      mode: 'sequential',
      quantiles: PLAY_DELAY_QUANTILES,
    }),
  );
  return {
    result: evaluated.value,
    pullMs: pull.ms,
    aggregateMs: aggregate.ms,
    statsMs: evaluated.ms,
    cpuMs: pull.cpuMs + aggregate.cpuMs + evaluated.cpuMs,
    rows: pull.value.units.length + pull.value.delays.length,
    heapMb,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { values: ['sessions', 'runs'], flags: ['reuse', 'keep'] });
  const sessions = Number(stringOption(args, 'sessions') ?? 10_000_000);
  const runs = Number(stringOption(args, 'runs') ?? 3);
  const reuse = args.options.get('reuse') === true;
  const keep = args.options.get('keep') === true || reuse;
  const config = loadConfig();
  const { ch } = await openAndMigrate({
    ...config.clickhouse,
    database: 'bench_analysis',
    dataDir: join(config.dataDir, 'bench-analysis'),
  });
  const def = definitionFromYaml(DEFINITION, `${KEY}.yaml`);
  const rows: BenchRow[] = [];
  try {
    let generateMs: number | null = null;
    if (!(reuse && (await count(ch, 'experiment_units')) === sessions)) {
      for (const t of ['experiment_sessions', 'experiment_units', 'experiment_results']) {
        await ch.client.command({ query: `TRUNCATE TABLE ${ch.database}.${t}` });
      }
      for (const t of ['experiment_units', 'experiment_sessions']) {
        await ch.client.command({ query: `SYSTEM STOP MERGES ${ch.database}.${t}` });
      }
      console.log(`generating ${sessions.toLocaleString('en-US')} sessions and units in ClickHouse ...`);
      const g = await timed(async () => {
        await ch.client.command({ query: generateSessionsSql(ch.database, sessions) });
        await ch.client.command({ query: generateUnitsSql(ch.database) });
      });
      generateMs = g.ms;
    }
    // The full analysis (both queries, the statistics, the stored result), first on the parts
    // as inserted, then once background merging is done (OPTIMIZE FINAL: the steady state of
    // a table that is not being bulk-loaded this minute, where FINAL has little left to merge).
    let result: ExperimentResult | undefined;
    const measure = async (state: string): Promise<number> => {
      const layout = await parts(ch);
      console.log(`timing the analysis (${state}: ${layout}) ...`);
      const loadBefore = loadavg()[0] ?? 0;
      const fetchOnly: number[] = [];
      const paths = new Set<string>();
      const full: number[] = [];
      const fullCpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const f = await timed(() => fetchSufficientStatistics(ch, def));
        fetchOnly.push(f.ms);
        paths.add(`units ${f.value.readPaths.units}, sessions ${f.value.readPaths.sessions}`);
        const a = await timed(() => analyzeExperiment(ch, def, { now: T0 + 21 * DAY_MS + i }));
        full.push(a.ms);
        fullCpu.push(a.cpuMs);
        result = a.value;
      }
      const fetched = await fetchSufficientStatistics(ch, def);
      const statsOnly = await timed(async () =>
        evaluateExperiment(def, fetched, {
          now: T0 + 21 * DAY_MS,
          mode: 'sequential',
          quantiles: PLAY_DELAY_QUANTILES,
        }),
      );
      const load = `load average ${loadBefore.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} cores`;
      const fullMedian = median(full);
      rows.push({
        name: `analysis inside ClickHouse, ${sessions.toLocaleString('en-US')} sessions, 4 cells, ${state} (wall)`,
        value: fullMedian,
        unit: 'ms',
        higherIsBetter: false,
        target: { value: 5_000, met: fullMedian <= 5_000 },
        note: `median of ${runs} runs of analyzeExperiment (both queries + statistics + stored rows) on ${layout}; read path: ${[...paths].join(' / ')}; runs: ${full.map((x) => Math.round(x)).join(', ')} ms; ${load}`,
      });
      rows.push({
        name: `  ${state}: CPU time of the process (ClickHouse threads + Node)`,
        value: median(fullCpu),
        unit: 'ms',
        higherIsBetter: false,
        note: 'not inflated by other load on the machine, as wall time is; on an idle machine wall time is about this divided by the cores ClickHouse uses',
      });
      rows.push({
        name: `  ${state}: of which the ClickHouse aggregate queries (wall)`,
        value: median(fetchOnly),
        unit: 'ms',
        higherIsBetter: false,
      });
      rows.push({
        name: `  ${state}: of which the statistics in Node (wall)`,
        value: statsOnly.ms,
        unit: 'ms',
        higherIsBetter: false,
      });
      return fullMedian;
    };
    // Background merges are held while the first measurement runs, so it neither races a
    // merge for the CPU nor changes the parts under it.
    const merges = async (verb: 'STOP' | 'START'): Promise<void> => {
      for (const t of ['experiment_units', 'experiment_sessions']) {
        await ch.client.command({ query: `SYSTEM ${verb} MERGES ${ch.database}.${t}` });
      }
    };
    await merges('STOP');
    const asInserted = await measure('parts as inserted');
    await merges('START');
    const optimize = await timed(async () => {
      for (const t of ['experiment_units', 'experiment_sessions']) {
        await ch.client.command({ query: `OPTIMIZE TABLE ${ch.database}.${t} FINAL` });
      }
      // OPTIMIZE can return while a merge it scheduled is still running: wait (bounded) until
      // each table is one part, so the "merged" measurement measures merged parts.
      await pollUntil(
        async () =>
          (await parts(ch)).includes(' 1 part(s), ') && (await parts(ch)).endsWith(' 1 part(s)')
            ? true
            : undefined,
        { timeoutMs: 600_000, intervalMs: 1_000, what: 'both experiment tables merged into one part each' },
      );
    });
    await measure('parts merged');
    const layout = await parts(ch);

    // The naive way on a 10% subset, extrapolated.
    const modulo = sessions >= 2_000_000 ? 10 : 1;
    console.log(`naive: pulling ${modulo > 1 ? `a 1/${modulo} subset` : 'every row'} into Node ...`);
    const naive = await naiveAnalysis(ch, def, modulo);
    const naiveMs = naive.pullMs + naive.aggregateMs + naive.statsMs;
    const naiveCpu = naive.cpuMs;
    const subset = `${(sessions / modulo).toLocaleString('en-US')}`;
    rows.push({
      name: `naive: rows pulled into Node, ${subset} sessions (measured)`,
      value: naiveMs,
      unit: 'ms',
      higherIsBetter: false,
      note: `pull ${Math.round(naive.pullMs)} ms (${naive.rows.toLocaleString('en-US')} rows as JSON, ~${Math.round(naive.heapMb)} MB heap), aggregate in JS ${Math.round(naive.aggregateMs)} ms, statistics ${Math.round(naive.statsMs)} ms; CPU ${Math.round(naiveCpu)} ms`,
    });
    if (modulo > 1) {
      rows.push({
        name: `naive: ${sessions.toLocaleString('en-US')} sessions (EXTRAPOLATED x${modulo} from the subset)`,
        value: naiveMs * modulo,
        unit: 'ms',
        higherIsBetter: false,
        baseline: { name: 'in ClickHouse, as inserted', value: asInserted },
        note: `linear extrapolation, not measured; heap would be ~${Math.round(naive.heapMb * modulo)} MB, CPU ~${Math.round(naiveCpu * modulo)} ms`,
      });
    } else {
      rows[rows.length - 1] = {
        ...(rows[rows.length - 1] as BenchRow),
        baseline: { name: 'in ClickHouse, as inserted', value: asInserted },
      };
    }
    rows.push({
      name: 'OPTIMIZE TABLE ... FINAL of both tables (not part of the analysis)',
      value: optimize.ms,
      unit: 'ms',
      higherIsBetter: false,
    });
    if (generateMs !== null) {
      rows.push({
        name: 'data generation (INSERT ... SELECT FROM numbers)',
        value: generateMs,
        unit: 'ms',
        higherIsBetter: false,
      });
    }
    printTable(`Experiment analysis (${sessions.toLocaleString('en-US')} sessions, 4 cells)`, rows);
    if (result !== undefined) {
      console.log(
        `\ndecision: ${result.decision.kind}${result.decision.cell ? ` ${result.decision.cell}` : ''}`,
      );
      console.log(`  ${result.decision.reasons[0] ?? ''}`);
    }
    const file = writeResults('analysis', rows, {
      sessions,
      cells: 4,
      runs,
      layout,
      cpus: cpus().length,
      decision: result?.decision ?? null,
      naiveSubsetSessions: sessions / modulo,
      naiveExtrapolated: modulo > 1,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    if (!keep) await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
    await ch.close();
  }
}

await main();
