/**
 * The experiment analysis on the real ClickHouse. Allocations and session summaries are
 * generated here (seeded), written to the outcomes processor's input tables and turned into
 * experiment tables by the processor's own recomputation; then analyzeExperiment runs.
 *
 * Every statistic is checked against experiments/stats run on sufficient statistics this
 * test computes itself from the raw generated values (never from ClickHouse), and the one
 * decision is checked for a clear win, a clear loss, a guardrail breach and a sample ratio
 * mismatch.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeExperiment } from '../experiments/analysis/analyze.ts';
import { experimentsAnalyzeCommand } from '../experiments/analysis/cli.ts';
import { definitionFromYaml } from '../experiments/analysis/definition-text.ts';
import type { ExperimentResult, MetricResult } from '../experiments/analysis/result.ts';
import { readLatestDecision, readLatestResultRows } from '../experiments/analysis/store.ts';
import type { ExperimentDefinition } from '../experiments/definitions/schema.ts';
import {
  type CovariateSums,
  createRng,
  cupedAdjust,
  type GroupSequentialState,
  groupSequentialRepeatedPValue,
  groupSequentialSequence,
  type MeanSummary,
  meansSampleSize,
  quantileConfidenceInterval,
  quantileDifference,
  type Rng,
  sampleRatioMismatch,
  summarize,
  twoProportionZTest,
  welchTTest,
} from '../experiments/stats/index.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { recomputeViewers } from '../processors/outcomes/recompute.ts';
import type { AllocationEventRow, ViewerSessionRow } from '../processors/outcomes/rows.ts';
import { testConfig } from './support/stack.ts';

const config = testConfig('analysis');
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 26, 12);
const START = NOW - 20 * DAY;
const VIEWERS_PER_CELL = 1_200;

let ch: ClickHouse;

function close(actual: number | null | undefined, expected: number, relative = 1e-7): void {
  expect(actual).not.toBeNull();
  expect(actual).not.toBeUndefined();
  const a = actual as number;
  expect(Math.abs(a - expected)).toBeLessThanOrEqual(relative * Math.max(Math.abs(expected), 1e-300));
}

function row(r: ExperimentResult, metric: string, cell: string, method?: string): MetricResult {
  const m = r.metrics.find(
    (x) => x.metric === metric && x.cell === cell && (method === undefined || x.method === method),
  );
  if (m === undefined) throw new Error(`no result row ${metric} / ${cell} / ${method ?? 'any'}`);
  return m;
}

// --------------------------------------------------------------------------- generation

interface GeneratedSession {
  readonly start: number;
  readonly ebvs: boolean;
  readonly startupMs: number | null;
  readonly playMs: number;
  readonly stallMs: number;
  readonly bitrate: number | null;
}

interface GeneratedUnit {
  readonly id: string;
  readonly cell: string;
  readonly allocatedAt: number;
  readonly sessions: readonly GeneratedSession[];
  readonly pre: readonly GeneratedSession[];
}

interface Effect {
  readonly rebuffer: number;
  readonly bitrate: number;
}

function viewerSession(rng: Rng, start: number, propensity: number, effect: Effect): GeneratedSession {
  if (rng.uniform() < 0.03) {
    return { start, ebvs: true, startupMs: null, playMs: 0, stallMs: 0, bitrate: null };
  }
  const playMs = Math.round(300_000 + 1_500_000 * rng.uniform());
  const ratio = Math.min(0.5, propensity * effect.rebuffer * Math.exp(0.3 * rng.normal()));
  return {
    start,
    ebvs: false,
    startupMs: Math.round(Math.exp(6.9 + 0.3 * rng.normal())),
    playMs,
    stallMs: Math.round((playMs * ratio) / (1 - ratio)),
    bitrate: Math.round(3_000 * effect.bitrate * (1 + 0.1 * rng.normal())),
  };
}

/** Viewer units: cells alternate; 1-3 exposed sessions; a pre-period session for 3 in 4 viewers. */
function viewerUnits(seed: number, key: string, effect: Effect): GeneratedUnit[] {
  const rng = createRng(seed);
  const units: GeneratedUnit[] = [];
  for (let i = 0; i < 2 * VIEWERS_PER_CELL; i++) {
    const treated = i % 2 === 1;
    const cell = treated ? 'treatment' : 'control';
    const allocatedAt = START + (i % 14) * DAY + Math.floor(rng.uniform() * 3_600_000);
    const propensity = 0.02 * Math.exp(0.4 * rng.normal());
    const count = i % 50 === 0 ? 0 : 1 + Math.floor(3 * rng.uniform());
    const sessions: GeneratedSession[] = [];
    for (let j = 0; j < count; j++) {
      sessions.push(
        viewerSession(
          rng,
          allocatedAt + 60_000 + j * 3_600_000,
          propensity,
          treated ? effect : { rebuffer: 1, bitrate: 1 },
        ),
      );
    }
    const pre =
      i % 4 === 3 ? [] : [viewerSession(rng, allocatedAt - 3 * DAY, propensity, { rebuffer: 1, bitrate: 1 })];
    units.push({ id: `${key}-v${i}`, cell, allocatedAt, sessions, pre });
  }
  return units;
}

function allocationRow(
  key: string,
  unitType: 'viewer' | 'session',
  u: GeneratedUnit,
  viewer: string,
): AllocationEventRow {
  return {
    viewer_id: viewer,
    experiment_key: key,
    unit_id: u.id,
    allocated_at: u.allocatedAt,
    cell: u.cell,
    source: 'fleet',
    session_id: unitType === 'session' ? u.id : '',
    unit_type: unitType,
    control: u.cell === 'control' ? 1 : 0,
    bucket: u.cell === 'control' ? 1_000 : 6_000,
    namespace: key,
    hash_version: 1,
    seed: `${key}-1`,
    definition_digest: '0000000000000000',
    device_class: 'tv',
    country: 'DE',
    isp: 'AS3320',
    source_partition: 0,
    source_offset: 0,
  };
}

function sessionRow(viewer: string, sessionId: string, s: GeneratedSession): ViewerSessionRow {
  return {
    viewer_id: viewer,
    summary_id: `${sessionId}:0`,
    session_id: sessionId,
    title_id: 'title-001',
    start_time: s.start,
    end_time: s.start + s.playMs + s.stallMs + 1_000,
    device_class: 'tv',
    isp: 'AS3320',
    country: 'DE',
    experiment_keys: [],
    play_attempt: 1,
    started: s.ebvs ? 0 : 1,
    ebvs: s.ebvs ? 1 : 0,
    vsf: 0,
    vpf: 0,
    startup_ms: s.startupMs,
    play_ms: s.playMs,
    stall_ms: s.stallMs,
    stall_count: s.stallMs > 0 ? 1 : 0,
    avg_bitrate_kbps: s.bitrate,
    switches_up: 0,
    switches_down: 0,
    score: s.ebvs ? null : 80,
    source_offset_last: 1,
  };
}

function viewerDefinitionText(key: string): string {
  return `
key: ${key}
hypothesis: A lower abrBandWidthFactor leaves headroom and reduces the rebuffer ratio.
owner: test@playloop.dev
unit: viewer
status: running
namespace: { name: ${key}, range: { start: 0, end: 10000 } }
seed: ${key}-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { abrBandWidthFactor: 0.95 } } }
  - { name: treatment, weight: 5000, config: { abr: { abrBandWidthFactor: 0.8 } } }
metrics:
  primary: { metric: rebufferRatio, better: lower, mde: { relative: 0.1 } }
  secondary:
    - { metric: startupMs, better: lower }
  guardrails:
    - { metric: avgBitrateKbps, better: higher, margin: { relative: 0.05 } }
    - { metric: ebvs, better: lower, margin: { absolute: 0.05 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 14 }
`;
}

function viewerDefinition(key: string): ExperimentDefinition {
  return definitionFromYaml(viewerDefinitionText(key), `${key}.yaml`);
}

const SRM_DEFINITION = definitionFromYaml(
  `
key: srm-case
hypothesis: Starting at the lowest level reduces exits before video start on every device.
owner: test@playloop.dev
unit: session
status: running
namespace: { name: srm-case, range: { start: 0, end: 10000 } }
seed: srm-case-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { startLevel: -1 } } }
  - { name: treatment, weight: 5000, config: { abr: { startLevel: 0 } } }
metrics:
  primary: { metric: ebvs, better: lower, mde: { absolute: 0.01 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 7 }
`,
  'srm-case.yaml',
);

/** Session units, 60% of them in the control although the weights say 50%: an SRM. */
function srmUnits(): GeneratedUnit[] {
  const rng = createRng(99);
  const units: GeneratedUnit[] = [];
  for (let i = 0; i < 2_000; i++) {
    const cell = i % 5 < 3 ? 'control' : 'treatment';
    const allocatedAt = START + (i % 10) * DAY;
    const ebvs = rng.uniform() < (cell === 'control' ? 0.05 : 0.03);
    const s: GeneratedSession = ebvs
      ? { start: allocatedAt + 1_000, ebvs, startupMs: null, playMs: 0, stallMs: 0, bitrate: null }
      : {
          start: allocatedAt + 1_000,
          ebvs,
          startupMs: 1_000 + i,
          playMs: 600_000,
          stallMs: 0,
          bitrate: 3_000,
        };
    units.push({ id: `srm-s${i}`, cell, allocatedAt, sessions: [s], pre: [] });
  }
  return units;
}

const SCENARIOS = {
  win: { seed: 1, effect: { rebuffer: 0.7, bitrate: 0.995 } },
  loss: { seed: 2, effect: { rebuffer: 1.3, bitrate: 1 } },
  breach: { seed: 3, effect: { rebuffer: 0.7, bitrate: 0.85 } },
} as const;

const generated = new Map<string, GeneratedUnit[]>();

async function seed(): Promise<void> {
  const allocations: AllocationEventRow[] = [];
  const sessions: ViewerSessionRow[] = [];
  const viewers: string[] = [];
  for (const [name, s] of Object.entries(SCENARIOS)) {
    const units = viewerUnits(s.seed, name, s.effect);
    generated.set(name, units);
    for (const u of units) {
      viewers.push(u.id);
      allocations.push(allocationRow(name, 'viewer', u, u.id));
      sessions.push(...u.sessions.map((x, j) => sessionRow(u.id, `${u.id}-s${j}`, x)));
      sessions.push(...u.pre.map((x, j) => sessionRow(u.id, `${u.id}-pre${j}`, x)));
    }
  }
  const srm = srmUnits();
  generated.set('srm-case', srm);
  srm.forEach((u, i) => {
    const viewer = `srm-v${i}`;
    viewers.push(viewer);
    allocations.push(allocationRow('srm-case', 'session', u, viewer));
    sessions.push(sessionRow(viewer, u.id, u.sessions[0] as GeneratedSession));
  });
  await ch.client.insert({
    table: `${ch.database}.experiment_allocation_events`,
    values: allocations,
    format: 'JSONEachRow',
  });
  await ch.client.insert({
    table: `${ch.database}.experiment_viewer_sessions`,
    values: sessions,
    format: 'JSONEachRow',
  });
  await recomputeViewers(ch.client, ch.database, viewers, {
    exposureGraceMs: 60_000,
    prePeriodMs: 14 * DAY,
    batchViewers: 5_000,
  });
}

beforeAll(async () => {
  ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
  await seed();
});

afterAll(async () => {
  await ch?.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
  await ch?.close();
});

// ---------------------------------------------------------- independent sufficient statistics

const sumOf = (xs: readonly GeneratedSession[], f: (s: GeneratedSession) => number): number =>
  xs.reduce((acc, s) => acc + f(s), 0);

/** A unit's rebuffer ratio, stall / (play + stall) over the sessions; null without playback. */
function rebuffer(sessions: readonly GeneratedSession[]): number | null {
  const den = sumOf(sessions, (s) => s.playMs + s.stallMs);
  return den > 0 ? sumOf(sessions, (s) => s.stallMs) / den : null;
}

function unitValues(units: readonly GeneratedUnit[], f: (u: GeneratedUnit) => number | null): number[] {
  return units.map(f).filter((v): v is number => v !== null);
}

const perCell = (name: string, cell: string): GeneratedUnit[] =>
  (generated.get(name) ?? []).filter((u) => u.cell === cell);

const bitrate = (u: GeneratedUnit): number | null => {
  const withRate = u.sessions.filter((s) => s.bitrate !== null);
  const play = sumOf(withRate, (s) => s.playMs);
  return play > 0 ? sumOf(withRate, (s) => (s.bitrate as number) * s.playMs) / play : null;
};
const meanStartup = (u: GeneratedUnit): number | null => {
  const started = u.sessions.filter((s) => s.startupMs !== null);
  return started.length > 0 ? sumOf(started, (s) => s.startupMs as number) / started.length : null;
};

/** CUPED inputs from the raw units: units without a pre-period get the pooled covariate mean. */
function cupedOf(name: string): ReturnType<typeof cupedAdjust> {
  const cells = ['control', 'treatment'].map((cell) =>
    perCell(name, cell)
      .map((u) => ({ y: rebuffer(u.sessions), x: rebuffer(u.pre) }))
      .filter((v) => v.y !== null),
  );
  const xs = cells.flat().filter((v) => v.x !== null);
  const fill = xs.reduce((s, v) => s + (v.x as number), 0) / xs.length;
  const sums = cells.map((units): CovariateSums => {
    const pairs = units.map((v) => ({ y: v.y as number, x: v.x ?? fill }));
    return {
      n: pairs.length,
      sumY: pairs.reduce((s, p) => s + p.y, 0),
      sumX: pairs.reduce((s, p) => s + p.x, 0),
      sumY2: pairs.reduce((s, p) => s + p.y * p.y, 0),
      sumX2: pairs.reduce((s, p) => s + p.x * p.x, 0),
      sumXY: pairs.reduce((s, p) => s + p.x * p.y, 0),
    };
  });
  return cupedAdjust(sums);
}

const results = new Map<string, ExperimentResult>();

async function analysed(name: string, def: ExperimentDefinition): Promise<ExperimentResult> {
  const known = results.get(name);
  if (known !== undefined) return known;
  const r = await analyzeExperiment(ch, def, { now: NOW });
  results.set(name, r);
  return r;
}

describe('analyzeExperiment (real ClickHouse)', () => {
  it('gives the statistics experiments/stats gives on independently computed sufficient statistics', async () => {
    const r = await analysed('win', viewerDefinition('win'));
    const control = perCell('win', 'control');
    const treatment = perCell('win', 'treatment');

    // Units and the sample ratio.
    expect(r.cells.map((c) => c.units)).toEqual([VIEWERS_PER_CELL, VIEWERS_PER_CELL]);
    const srm = sampleRatioMismatch([
      { cell: 'control', observed: VIEWERS_PER_CELL, weight: 5_000 },
      { cell: 'treatment', observed: VIEWERS_PER_CELL, weight: 5_000 },
    ]);
    close(r.srm?.pValue, srm.pValue);

    // Welch on per-viewer rebuffer ratios.
    const welch = welchTTest(
      summarize(unitValues(control, (u) => rebuffer(u.sessions))),
      summarize(unitValues(treatment, (u) => rebuffer(u.sessions))),
    );
    const plain = row(r, 'rebufferRatio', 'treatment', 'welch');
    expect(plain.n).toBe(welch.treatment.n);
    close(plain.comparison?.difference, welch.difference, 1e-9);
    close(plain.comparison?.ci.lower, welch.ci.lower, 1e-9);
    close(plain.comparison?.ci.upper, welch.ci.upper, 1e-9);
    close(plain.comparison?.pValue, welch.pValue, 1e-6);
    close(plain.comparison?.lift?.estimate, welch.relativeLift?.estimate as number, 1e-9);

    // CUPED on the primary, with the pre-period sessions as covariate.
    const cuped = cupedOf('win');
    close(r.cuped?.theta, cuped.theta, 1e-8);
    const adjusted = welchTTest(
      (cuped.cells[0] as { adjusted: MeanSummary }).adjusted,
      (cuped.cells[1] as { adjusted: MeanSummary }).adjusted,
    );
    const deciding = row(r, 'rebufferRatio', 'treatment', 'cuped-welch');
    expect(deciding.decides).toBe(true);
    close(deciding.comparison?.difference, adjusted.difference, 1e-8);
    close(deciding.comparison?.ci.lower, adjusted.ci.lower, 1e-8);
    close(deciding.comparison?.pValue, adjusted.pValue, 1e-5);
    expect(r.cuped?.varianceReduction['control']).toBeGreaterThan(0.1);

    // The sample-size plan on the adjusted spread.
    const plan = meansSampleSize({
      baselineMean: summarize(unitValues(control, (u) => rebuffer(u.sessions))).mean,
      standardDeviation: Math.sqrt((cuped.cells[0] as { adjusted: MeanSummary }).adjusted.variance),
      mde: { relative: -0.1 },
      weights: { control: 0.5, treatment: 0.5 },
    });
    expect(r.power?.plannedSamplePerCell).toBe(Math.max(plan.control, plan.treatment));

    // The guardrail, Welch on per-viewer time-weighted bitrate.
    const br = welchTTest(summarize(unitValues(control, bitrate)), summarize(unitValues(treatment, bitrate)));
    close(row(r, 'avgBitrateKbps', 'treatment').comparison?.pValue, br.pValue, 1e-6);
    close(row(r, 'avgBitrateKbps', 'treatment').comparison?.difference, br.difference, 1e-9);

    // The secondary's group-sequential test: this run is the experiment's first recorded run,
    // so its one look, at information fraction n_h / planned n (harmonic mean of the cells' n).
    const c = summarize(unitValues(control, meanStartup));
    const t = summarize(unitValues(treatment, meanStartup));
    const planned = r.power?.plannedSamplePerCell as number;
    const gs = groupSequentialSequence({ alpha: 0.05, spending: 'obrien-fleming' }, [
      { control: c, treatment: t, informationFraction: 2 / (planned * (1 / c.n + 1 / t.n)) },
    ]).at(-1) as GroupSequentialState;
    const startup = row(r, 'startupMs', 'treatment');
    expect(startup.comparison?.sequential?.method).toBe('group-sequential');
    close(startup.comparison?.sequential?.pValue, groupSequentialRepeatedPValue(gs), 1e-6);
    close(startup.comparison?.sequential?.ci.lower, gs.ci.lower, 1e-6);
    close(startup.comparison?.sequential?.ci.upper, gs.ci.upper, 1e-6);
    expect(startup.comparison?.sequential?.looks).toBe(1);
    expect(r.looks).toBe(1);

    // Play-delay quantiles over session views, from the raw startups.
    const delays = (units: readonly GeneratedUnit[]): number[] =>
      units.flatMap((u) => u.sessions.filter((s) => s.startupMs !== null).map((s) => s.startupMs as number));
    const p90 = quantileConfidenceInterval(delays(control), 0.9);
    const c90 = row(r, 'startupMs:p90', 'control');
    expect([c90.n, c90.estimate, c90.ci?.lower, c90.ci?.upper]).toEqual([
      p90.n,
      p90.estimate,
      p90.ci.lower,
      p90.ci.upper,
    ]);
    const d50 = quantileDifference(delays(control), delays(treatment), 0.5);
    const t50 = row(r, 'startupMs:p50', 'treatment');
    expect(t50.comparison?.difference).toBe(d50.difference);
    close(t50.comparison?.pValue, d50.pValue, 1e-9);
  });

  it('ships a clear win', async () => {
    const r = await analysed('win', viewerDefinition('win'));
    expect(r.decision).toMatchObject({ kind: 'ship', cell: 'treatment' });
    expect(row(r, 'rebufferRatio', 'treatment', 'cuped-welch').status).toBe('better');
    expect(row(r, 'avgBitrateKbps', 'treatment').status).toBe('pass');
    expect(row(r, 'ebvs', 'treatment').status).toBe('pass');
    // The decision is stored, every row carrying it.
    const stored = await readLatestDecision(ch, 'win');
    expect(stored).toMatchObject({ decision: 'ship', cell: 'treatment', analyzedAt: NOW });
    expect(stored?.reasons).toEqual(r.decision.reasons);
    const rows = await readLatestResultRows(ch, 'win');
    expect(rows).toHaveLength(r.metrics.length + r.cells.length);
    expect(new Set(rows.map((x) => x.decision))).toEqual(new Set(['ship']));
  });

  it('reads its recorded looks back: a re-run on the same data takes no new look', async () => {
    const first = await analysed('win', viewerDefinition('win'));
    const again = await analyzeExperiment(ch, viewerDefinition('win'), { now: NOW + DAY, store: false });
    const before = row(first, 'startupMs', 'treatment').comparison?.sequential;
    const after = row(again, 'startupMs', 'treatment').comparison?.sequential;
    expect(before?.look).not.toBeNull();
    expect(after).toMatchObject({ method: 'group-sequential', looks: 1, look: null });
    expect(after?.pValue).toBe(before?.pValue);
    expect(after?.ci).toEqual(before?.ci);
  });

  it('keeps the control on a clear loss', async () => {
    const r = await analysed('loss', viewerDefinition('loss'));
    expect(r.decision).toMatchObject({ kind: 'keep-control', cell: null });
    expect(row(r, 'rebufferRatio', 'treatment', 'cuped-welch').status).toBe('worse');
  });

  it('keeps the control when a guardrail is breached', async () => {
    const r = await analysed('breach', viewerDefinition('breach'));
    expect(r.decision.kind).toBe('keep-control');
    expect(row(r, 'rebufferRatio', 'treatment', 'cuped-welch').status).toBe('better');
    expect(row(r, 'avgBitrateKbps', 'treatment').status).toBe('breach');
  });

  it('keeps the control on a sample ratio mismatch, and tests session-unit rates with the z-test', async () => {
    const r = await analysed('srm-case', SRM_DEFINITION);
    const units = generated.get('srm-case') ?? [];
    const count = (cell: string, f: (u: GeneratedUnit) => boolean): number =>
      units.filter((u) => u.cell === cell && f(u)).length;
    const srm = sampleRatioMismatch([
      { cell: 'control', observed: count('control', () => true), weight: 5_000 },
      { cell: 'treatment', observed: count('treatment', () => true), weight: 5_000 },
    ]);
    expect(srm.mismatch).toBe(true);
    close(r.srm?.chiSquare, srm.chiSquare, 1e-12);
    close(r.srm?.pValue, srm.pValue, 1e-6);
    expect(r.decision.kind).toBe('keep-control');
    expect(r.decision.reasons[0]).toMatch(/Sample ratio mismatch/);

    const ebvs = (u: GeneratedUnit): boolean => u.sessions.some((s) => s.ebvs);
    const z = twoProportionZTest(
      { n: count('control', () => true), successes: count('control', ebvs) },
      { n: count('treatment', () => true), successes: count('treatment', ebvs) },
    );
    const ebvsRow = row(r, 'ebvs', 'treatment');
    expect(ebvsRow.method).toBe('two-proportion-z');
    close(ebvsRow.comparison?.pValue, z.pValue, 1e-9);
    close(ebvsRow.comparison?.ci.lower, z.ci.lower, 1e-9);
    close(ebvsRow.comparison?.ci.upper, z.ci.upper, 1e-9);

    const stored = await queryRows<{ status: string; n: number }>(
      ch.client,
      `SELECT status, n FROM ${ch.database}.experiment_results FINAL
       WHERE experiment_key = 'srm-case' AND metric = 'units' ORDER BY cell`,
    );
    expect(stored).toEqual([
      { status: 'mismatch', n: count('control', () => true) },
      { status: 'mismatch', n: count('treatment', () => true) },
    ]);
  });
  it('prints the analysis as a table through the CLI handler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'playloop-analyze-'));
    writeFileSync(join(dir, 'win.yaml'), viewerDefinitionText('win'));
    const configFile = join(dir, 'playloop.json');
    writeFileSync(
      configFile,
      JSON.stringify({ dataDir: config.dataDir, clickhouse: { database: ch.database } }),
    );
    const logs: string[] = [];
    const errors: string[] = [];
    const code = await experimentsAnalyzeCommand(
      ['win', '--dir', dir, '--config', configFile, '--at', new Date(NOW).toISOString(), '--no-store'],
      { log: (l) => logs.push(l), error: (l) => errors.push(l) },
    );
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const text = logs.join('\n');
    expect(text).toMatch(/^Experiment win \(unit viewer, superiority, sequential, alpha 0.05/);
    expect(text).toMatch(/Decision: SHIP treatment/);
    expect(text).toMatch(/\nrebufferRatio +primary +cuped-welch +treatment /);
    expect(text).toMatch(/\nstartupMs:p99 +secondary +quantile +control\* /);
  });
});
