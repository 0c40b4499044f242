/**
 * Every dashboard panel, run as Grafana would run it: its SQL expanded by the plugin's rules
 * (dashboards/query/macros.ts) for a fixed time range, then executed on ClickHouse holding
 * known data (dashboards/testing/seed.ts: session rows turned into qoe_windows/qoe_cells by
 * the qoe processor's own materialisation, Prometheus snapshots from real prom-client
 * registries, steering changes, experiment analyses). Each result is checked for its shape
 * (columns, kinds, order) and its values, which the test computes from the seed rows with
 * plain arithmetic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPanels, findPanel } from '../dashboards/panels/index.ts';
import type { PanelDefinition } from '../dashboards/panels/types.ts';
import { expandPanel, type Selections } from '../dashboards/query/context.ts';
import { type Cell, type QueryResult, runQuery } from '../dashboards/query/run.ts';
import {
  ABR,
  experimentResults,
  type Profile,
  SEED_RUNS,
  type SeededSession,
  SNAPSHOT,
  STEERING,
  seedAll,
  snapshotTs,
  steeringChanges,
  WINDOW_MS,
  WINDOWS,
} from '../dashboards/testing/seed.ts';
import { type ClickHouse, openAndMigrate } from '../infra/clickhouse.ts';
import { testConfig } from './support/stack.ts';

const config = testConfig('dashpanels');
// Minute aligned, ten minutes back: every seeded window is complete and far from any TTL.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const RANGE = { fromMs: T0, toMs: T0 + WINDOWS * WINDOW_MS };

let ch: ClickHouse;
let sessions: SeededSession[];

beforeAll(async () => {
  ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
  sessions = await seedAll(ch.client, ch.database, T0);
});

afterAll(async () => {
  await ch?.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
  await ch?.close();
});

// ---------------------------------------------------------------------------------------
// Running panels
// ---------------------------------------------------------------------------------------

type Row = Record<string, Cell>;

interface RunOptions {
  readonly selections?: Selections;
  /** 1000 points over three minutes: the panels' 10 s minimum interval. */
  readonly maxDataPoints?: number;
  readonly range?: { fromMs: number; toMs: number };
}

const results = new Map<string, QueryResult>();

async function run(id: string, options: RunOptions = {}): Promise<Row[]> {
  const located = findPanel(id);
  if (!located) throw new Error(`no panel ${id}`);
  const { sql } = expandPanel(located.dashboard, located.panel, {
    ...(options.range ?? RANGE),
    maxDataPoints: options.maxDataPoints ?? 1_000,
    selections: options.selections ?? {},
    database: ch.database,
  });
  const result = await runQuery(ch.client, sql);
  checkShape(located.panel, result);
  if (
    options.selections === undefined &&
    options.maxDataPoints === undefined &&
    options.range === undefined
  ) {
    results.set(id, result);
  }
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c.name, r[i] ?? null])));
}

/** Columns are the declared fields, with the declared kinds; a time series starts with time, in order. */
function checkShape(panel: PanelDefinition, result: QueryResult): void {
  const { time, labels, values } = panel.fields;
  const declared = [
    ...(time === undefined ? [] : [time]),
    ...labels.map((l) => l.name),
    ...values.map((v) => v.name),
  ];
  expect(result.columns.map((c) => c.name).sort(), `${panel.id} columns`).toEqual([...declared].sort());
  for (const c of result.columns) {
    const expected = c.name === time ? 'time' : labels.some((l) => l.name === c.name) ? 'string' : 'number';
    expect(c.kind, `${panel.id}.${c.name} (${c.type})`).toBe(expected);
  }
  if (panel.kind === 'timeseries') {
    expect(result.columns[0]?.name, panel.id).toBe(time);
    const times = result.rows.map((r) => Number(r[0]));
    expect(times, `${panel.id} sorted by time`).toEqual([...times].sort((a, b) => a - b));
  }
  if (panel.kind === 'stat') expect(result.rows.length, panel.id).toBe(1);
}

// ---------------------------------------------------------------------------------------
// Expected values, from the seed rows
// ---------------------------------------------------------------------------------------

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

interface Expected {
  sessions: number;
  rebuffer: number | null;
  vsf: number | null;
  ebvs: number | null;
  bitrate: number | null;
  score: number | null;
  bytes: number;
  startups: number[];
}

function expected(ss: readonly SeededSession[]): Expected {
  const p = ss.map((s) => s.profile);
  const withBitrate = p.filter((x) => x.bitrateKbps !== null);
  const scored = p.filter((x) => x.score !== null);
  return {
    sessions: p.length,
    rebuffer: ratio(sum(p.map((x) => x.stallMs)), sum(p.map((x) => x.playMs + x.stallMs))),
    vsf: ratio(p.filter((x) => x.outcome === 'vsf').length, p.length),
    ebvs: ratio(p.filter((x) => x.outcome === 'ebvs').length, p.length),
    bitrate: ratio(
      sum(withBitrate.map((x) => (x.bitrateKbps ?? 0) * x.playMs)),
      sum(withBitrate.map((x) => x.playMs)),
    ),
    score: ratio(sum(scored.map((x) => x.score ?? 0)), scored.length),
    bytes: sum(p.map((x) => x.bytes)),
    startups: p.flatMap((x) => (x.startupMs === null ? [] : [x.startupMs])),
  };
}

const where = (f: (s: SeededSession) => boolean): SeededSession[] => sessions.filter(f);
const inWindow = (k: number) => (s: SeededSession) => s.window === k;
const byProfile = (f: (p: Profile) => boolean) => (s: SeededSession) => f(s.profile);
const windowOf = (row: Row): number => (Number(row['time']) - T0) / WINDOW_MS;

function close(actual: Cell | undefined, value: number | null, what: string): void {
  if (value === null) {
    expect(actual ?? null, what).toBeNull();
    return;
  }
  expect(typeof actual, what).toBe('number');
  expect(actual as number, what).toBeCloseTo(value, 9);
}

/**
 * Startup quantiles from merged t-digests: exact when every startup in the slice is the same
 * (each OCA has one startup time); otherwise ordered and inside the slice's range.
 */
function quantiles(
  row: Row,
  names: readonly [string, string, string],
  startups: readonly number[],
  what: string,
): void {
  const [p50, p90, p99] = names.map((n) => row[n]) as [Cell, Cell, Cell];
  if (startups.length === 0) {
    for (const q of [p50, p90, p99]) expect(q, what).toBeNull();
    return;
  }
  const min = Math.min(...startups);
  const max = Math.max(...startups);
  if (min === max) {
    for (const q of [p50, p90, p99]) close(q, min, what);
    return;
  }
  const qs = [p50, p90, p99].map(Number);
  expect(qs, what).toEqual([...qs].sort((a, b) => a - b));
  for (const q of qs) {
    expect(q, what).toBeGreaterThanOrEqual(min);
    expect(q, what).toBeLessThanOrEqual(max);
  }
}

/** One quantile read as all three, to check a lone p90 with the same rules. */
const triple = (q: Cell | undefined): Row => ({ a: q ?? null, b: q ?? null, c: q ?? null });

const windows = Array.from({ length: WINDOWS }, (_, k) => k);

// ---------------------------------------------------------------------------------------
// QoE overview
// ---------------------------------------------------------------------------------------

describe('QoE overview', () => {
  it('stats over the range', async () => {
    const all = expected(sessions);
    close((await run('qoe-sessions'))[0]?.['value'], all.sessions, 'sessions');
    close((await run('qoe-rebuffer'))[0]?.['value'], all.rebuffer, 'rebuffer');
    close((await run('qoe-vsf'))[0]?.['value'], all.vsf, 'vsf');
    close((await run('qoe-ebvs'))[0]?.['value'], all.ebvs, 'ebvs');
    close((await run('qoe-bitrate'))[0]?.['value'], all.bitrate, 'bitrate');
    const [p90] = await run('qoe-startup-p90');
    expect(Number(p90?.['value'])).toBeGreaterThanOrEqual(800);
    expect(Number(p90?.['value'])).toBeLessThanOrEqual(3_200);
    // One OCA: one startup time, so the quantile is exact.
    const [b] = await run('qoe-startup-p90', { selections: { oca: ['oca-b'] } });
    close(b?.['value'], 1_600, 'p90 on oca-b');
    const [ab] = await run('qoe-sessions', { selections: { oca: ['oca-a', 'oca-b'], device: ['tv'] } });
    close(
      ab?.['value'],
      where(byProfile((p) => (p.oca === 'oca-a' || p.oca === 'oca-b') && p.device === 'tv')).length,
      'sessions on oca-a and oca-b, tv',
    );
  });

  it('over time, one row per 10 s window', async () => {
    const rebuffer = await run('qoe-rebuffer-over-time');
    const failures = await run('qoe-start-failures-over-time');
    const bitrate = await run('qoe-bitrate-over-time');
    const startup = await run('qoe-startup-over-time');
    for (const rows of [rebuffer, failures, bitrate, startup]) expect(rows.map(windowOf)).toEqual(windows);
    for (const k of windows) {
      const e = expected(where(inWindow(k)));
      close(rebuffer[k]?.['rebuffer_ratio'], e.rebuffer, `rebuffer ${k}`);
      close(failures[k]?.['vsf_rate'], e.vsf, `vsf ${k}`);
      close(failures[k]?.['ebvs_rate'], e.ebvs, `ebvs ${k}`);
      close(bitrate[k]?.['avg_bitrate_kbps'], e.bitrate, `bitrate ${k}`);
      quantiles(startup[k] ?? {}, ['p50', 'p90', 'p99'], e.startups, `startup ${k}`);
    }
    const onA = await run('qoe-startup-over-time', { selections: { oca: ['oca-a'] } });
    for (const row of onA) quantiles(row, ['p50', 'p90', 'p99'], [800], 'startup on oca-a');
  });

  it('over time with a 1 m interval reads the 60 s windows, never both sizes', async () => {
    const rows = await run('qoe-rebuffer-over-time', { maxDataPoints: 3 });
    expect(rows.map(windowOf)).toEqual([0, 6, 12]);
    rows.forEach((row, i) => {
      close(
        row['rebuffer_ratio'],
        expected(where((s) => Math.floor(s.window / 6) === i)).rebuffer,
        `minute ${i}`,
      );
    });
  });

  it('over time by the chosen breakdown', async () => {
    const checks: Array<[string, string, (e: Expected) => number | null]> = [
      ['qoe-rebuffer-by', 'rebuffer_ratio', (e) => e.rebuffer],
      ['qoe-vsf-by', 'vsf_rate', (e) => e.vsf],
      ['qoe-ebvs-by', 'ebvs_rate', (e) => e.ebvs],
      ['qoe-bitrate-by', 'avg_bitrate_kbps', (e) => e.bitrate],
    ];
    for (const [id, column, value] of checks) {
      const rows = await run(id);
      expect(rows.length, id).toBe(new Set(sessions.map((s) => `${s.window}/${s.profile.oca}`)).size);
      for (const row of rows) {
        const slice = where((s) => s.window === windowOf(row) && s.profile.oca === row['series']);
        close(row[column], value(expected(slice)), `${id} ${row['series']} ${windowOf(row)}`);
      }
    }
    for (const row of await run('qoe-startup-p90-by')) {
      const oca = String(row['series']);
      close(row['p90'], { 'oca-a': 800, 'oca-b': 1_600, 'oca-c': 3_200 }[oca] ?? Number.NaN, `p90 ${oca}`);
    }
    const byDevice = await run('qoe-rebuffer-by', { selections: { breakdown: ['device_class'] } });
    expect(new Set(byDevice.map((r) => r['series']))).toEqual(new Set(['tv', 'mobile']));
    for (const row of byDevice) {
      const slice = where((s) => s.window === windowOf(row) && s.profile.device === row['series']);
      close(row['rebuffer_ratio'], expected(slice).rebuffer, `device ${row['series']} ${windowOf(row)}`);
    }
  });

  it('breakdown tables by OCA, ISP, device and title', async () => {
    const tables: Array<[string, string, (p: Profile) => string]> = [
      ['qoe-by-oca', 'oca', (p) => p.oca],
      ['qoe-by-isp', 'network', (p) => p.isp],
      ['qoe-by-device', 'device', (p) => p.device],
      ['qoe-by-title', 'title', (p) => p.title],
    ];
    for (const [id, column, key] of tables) {
      const rows = await run(id);
      const groups = [...new Set(sessions.map((s) => key(s.profile)))];
      expect(rows.map((r) => r[column]).sort(), id).toEqual(groups.sort());
      // Most sessions first.
      const counts = rows.map((r) => Number(r['session_count']));
      expect(counts, id).toEqual([...counts].sort((a, b) => b - a));
      for (const row of rows) {
        const e = expected(where((s) => key(s.profile) === row[column]));
        const what = `${id} ${row[column]}`;
        close(row['session_count'], e.sessions, what);
        close(row['attempt_count'], e.sessions, what);
        close(row['rebuffer_ratio'], e.rebuffer, what);
        close(row['vsf_rate'], e.vsf, what);
        close(row['ebvs_rate'], e.ebvs, what);
        close(row['avg_bitrate_kbps'], e.bitrate, what);
        quantiles(row, ['startup_p50', 'startup_p90', 'startup_p99'], e.startups, what);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------
// CDN & steering
// ---------------------------------------------------------------------------------------

describe('CDN & steering', () => {
  it('OCA health and traffic share per interval', async () => {
    for (const row of await run('cdn-oca-health')) {
      const e = expected(where((s) => s.window === windowOf(row) && s.profile.oca === row['oca']));
      close(row['health_score'], e.score, `health ${row['oca']} ${windowOf(row)}`);
    }
    const share = await run('cdn-traffic-share');
    for (const k of windows) {
      const rows = share.filter((r) => windowOf(r) === k);
      const total = expected(where(inWindow(k))).bytes;
      const delivering = new Set(
        where((s) => s.window === k && s.profile.bytes > 0).map((s) => s.profile.oca),
      );
      expect(new Set(rows.map((r) => r['oca'])), `window ${k}`).toEqual(delivering);
      for (const row of rows) {
        const bytes = expected(where((s) => s.window === k && s.profile.oca === row['oca'])).bytes;
        close(row['traffic_share'], bytes / total, `share ${row['oca']} ${k}`);
      }
      close(sum(rows.map((r) => Number(r['traffic_share']))), 1, `shares add up in ${k}`);
    }
    // The OCA filter keeps the shares of the whole fleet.
    const onlyA = await run('cdn-traffic-share', { selections: { oca: ['oca-a'] } });
    expect(new Set(onlyA.map((r) => r['oca']))).toEqual(new Set(['oca-a']));
    expect(onlyA.map((r) => r['traffic_share'])).toEqual(
      share.filter((r) => r['oca'] === 'oca-a').map((r) => r['traffic_share']),
    );
  });

  it('OCA table', async () => {
    const rows = await run('cdn-oca-table');
    const all = expected(sessions);
    expect(rows.map((r) => r['oca'])).toEqual(['oca-a', 'oca-b', 'oca-c']);
    for (const row of rows) {
      const e = expected(where((s) => s.profile.oca === row['oca']));
      const what = String(row['oca']);
      close(row['session_count'], e.sessions, what);
      close(row['session_share'], e.sessions / all.sessions, what);
      close(row['traffic_share'], e.bytes / all.bytes, what);
      close(row['health_score'], e.score, what);
      close(row['startup_p90'], e.startups[0] ?? null, what);
      close(row['rebuffer_ratio'], e.rebuffer, what);
      close(row['vsf_rate'], e.vsf, what);
    }
    // The OCA filter keeps the shares of the whole fleet.
    const onlyB = await run('cdn-oca-table', { selections: { oca: ['oca-b'] } });
    expect(onlyB).toEqual(rows.filter((r) => r['oca'] === 'oca-b'));
  });

  it('cache hit ratio per tier, and per OCA', async () => {
    const edges = Object.values(SNAPSHOT.oca).filter((o) => o.tier === 'edge');
    const edgeRatio = sum(edges.map((o) => o.hits)) / sum(edges.map((o) => o.hits + o.misses));
    const perTier = await run('cdn-cache-hit-ratio');
    expect(perTier.map(windowOf)).toEqual(windows);
    for (const row of perTier) {
      expect(row['tier']).toBe('edge'); // storage OCAs hold everything and look nothing up
      close(row['hit_ratio'], edgeRatio, `window ${windowOf(row)}`);
    }
    const perOca = await run('cdn-cache-table');
    expect(perOca.map((r) => `${r['tier']}/${r['oca']}`)).toEqual([
      'edge/oca-a',
      'edge/oca-b',
      'storage/oca-c',
    ]);
    for (const row of perOca) {
      const spec = SNAPSHOT.oca[row['oca'] as keyof typeof SNAPSHOT.oca];
      const what = String(row['oca']);
      close(row['hits'], spec.hits * WINDOWS, what);
      close(row['misses'], spec.misses * WINDOWS, what);
      close(row['hit_ratio'], ratio(spec.hits, spec.hits + spec.misses), what);
      close(row['served_bytes'], spec.served * WINDOWS, what);
      close(row['miss_fill_bytes'], spec.missFill * WINDOWS, what);
      close(row['byte_hit_ratio'], 1 - spec.missFill / spec.served, what);
    }
  });

  it('steering changes, newest first', async () => {
    const rows = await run('cdn-steering-changes');
    const seeded = steeringChanges(T0).reverse();
    expect(
      rows.map((r) => [r['time'], r['scope'], r['version'], r['change'], r['oca'], r['priority']]),
    ).toEqual(
      seeded.map((c) => [c.changed_at, c.scope, c.version, c.kind, c.oca_id, c.pathway_priority.join(' > ')]),
    );
    expect(rows[0]?.['transition']).toBe('healthy → degraded');
    expect(rows[0]?.['health_score']).toBe(40);
    expect(rows[1]?.['transition']).toBe('');
  });
});

// ---------------------------------------------------------------------------------------
// Experiments
// ---------------------------------------------------------------------------------------

describe('Experiments', () => {
  const inCell = (key: string, cell: string) => (s: SeededSession) =>
    s.profile.experiments.some((e) => e.key === key && e.cell === cell);
  const cells = [
    [ABR, 'control'],
    [ABR, 'treatment'],
    [STEERING, 'health-weighted'],
    [STEERING, 'proximity-only'],
  ] as const;

  it('cells and sample sizes', async () => {
    const rows = await run('exp-cells');
    expect(rows.map((r) => [r['experiment'], r['cell']])).toEqual(cells.map(([k, c]) => [k, c]));
    for (const row of rows) {
      const key = String(row['experiment']);
      const e = expected(where(inCell(key, String(row['cell']))));
      const total = sum(cells.filter(([k]) => k === key).map(([k, c]) => where(inCell(k, c)).length));
      const what = `${key}/${row['cell']}`;
      close(row['session_count'], e.sessions, what);
      close(row['attempt_count'], e.sessions, what);
      close(row['session_share'], e.sessions / total, what);
      close(row['rebuffer_ratio'], e.rebuffer, what);
      quantiles(triple(row['startup_p90']), ['a', 'b', 'c'], e.startups, what);
    }
    const steeringOnly = await run('exp-cells', { selections: { experiment: [STEERING] } });
    expect(steeringOnly.map((r) => r['cell'])).toEqual(['health-weighted', 'proximity-only']);
  });

  it('cells over time', async () => {
    const bySeries = (rows: Row[]) => rows.map((r) => ({ row: r, key: String(r['series']).split(' · ') }));
    for (const { row, key } of bySeries(await run('exp-sessions-by-cell'))) {
      const slice = where((s) => s.window === windowOf(row) && inCell(key[0] as string, key[1] as string)(s));
      close(row['session_count'], slice.length, `${key.join('/')} ${windowOf(row)}`);
    }
    for (const { row, key } of bySeries(await run('exp-rebuffer-by-cell'))) {
      const slice = where((s) => s.window === windowOf(row) && inCell(key[0] as string, key[1] as string)(s));
      close(row['rebuffer_ratio'], expected(slice).rebuffer, `${key.join('/')} ${windowOf(row)}`);
    }
    for (const { row, key } of bySeries(await run('exp-startup-by-cell'))) {
      const slice = where((s) => s.window === windowOf(row) && inCell(key[0] as string, key[1] as string)(s));
      const startups = expected(slice).startups;
      quantiles(triple(row['startup_p90']), ['a', 'b', 'c'], startups, key.join('/'));
    }
  });

  it('units and SRM from the latest analysis at the end of the range', async () => {
    const latest = SEED_RUNS.filter((r) => T0 + r.at <= RANGE.toMs).at(-1);
    const rows = await run('exp-srm');
    expect(
      rows.map((r) => [r['experiment'], r['cell'], r['units'], r['planned'], r['srm_p'], r['srm_status']]),
    ).toEqual([
      [ABR, 'control', latest?.n, 500, latest?.srmP, 'ok'],
      [ABR, 'treatment', (latest?.n ?? 0) + 3, 500, latest?.srmP, 'ok'],
    ]);
    close(rows[0]?.['expected_share'], 0.5, 'expected share');
    close(rows[0]?.['observed_share'], (latest?.n ?? 0) / (2 * (latest?.n ?? 0) + 3), 'observed share');
    // A later range sees the later run, whose SRM p-value is below 0.001.
    const later = await run('exp-srm', { range: { fromMs: T0, toMs: T0 + 300_000 } });
    expect(later.map((r) => r['srm_status'])).toEqual(['MISMATCH', 'MISMATCH']);
    expect(await run('exp-srm', { selections: { experiment: [STEERING] } })).toEqual([]);
  });

  it('metric lifts with intervals from the latest analysis', async () => {
    const latestAt = T0 + (SEED_RUNS.filter((r) => T0 + r.at <= RANGE.toMs).at(-1)?.at ?? 0);
    const seeded = experimentResults(T0).filter(
      (r) => r.analyzed_at === latestAt && r.is_control === 0 && r.metric !== 'units',
    );
    const rows = await run('exp-lifts');
    expect(rows.map((r) => [r['metric'], r['role'], r['method']])).toEqual([
      ['rebufferRatio', 'guardrail', 'welch'],
      ['startupMs', 'primary', 'cuped-welch'],
      ['startupMs', 'primary', 'welch'],
    ]);
    for (const row of rows) {
      const s = seeded.find((x) => x.metric === row['metric'] && x.method === row['method']);
      const what = `${row['metric']}/${row['method']}`;
      expect(row['decision'], what).toBe(s?.decision);
      expect(row['status'], what).toBe(s?.status);
      for (const [column, value] of [
        ['n', s?.n],
        ['control_estimate', s?.control_estimate],
        ['estimate', s?.estimate],
        ['lift', s?.lift],
        ['lift_ci_lower', s?.lift_ci_lower],
        ['lift_ci_upper', s?.lift_ci_upper],
        ['p_value', s?.p_value],
        ['p_adjusted', s?.p_adjusted],
        ['p_sequential', s?.p_sequential],
      ] as const) {
        close(row[column], value ?? null, `${what} ${column}`);
      }
    }
  });

  it('sequential boundary: the deciding primary rows of each run in the range', async () => {
    const rows = await run('exp-sequential-boundary');
    const runs = SEED_RUNS.filter((r) => T0 + r.at <= RANGE.toMs);
    expect(
      rows.map((r) => [r['time'], r['series'], r['difference'], r['lower_bound'], r['upper_bound']]),
    ).toEqual(
      runs.map((r) => [
        T0 + r.at,
        `${ABR} · treatment · startupMs`,
        r.difference,
        r.sequence[0],
        r.sequence[1],
      ]),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Pipeline health
// ---------------------------------------------------------------------------------------

describe('Pipeline health', () => {
  const rejectedIn = (j: number): number => sum(Object.values(SNAPSHOT.rejected(j)));

  it('stats', async () => {
    const lastMinute = windows.filter((j) => snapshotTs(T0, j) > RANGE.toMs - 60_000);
    close(
      (await run('pipe-ingest-rate-now'))[0]?.['value'],
      sum(lastMinute.map(SNAPSHOT.accepted)) / 60,
      'rate',
    );
    close((await run('pipe-rejected-total'))[0]?.['value'], sum(windows.map(rejectedIn)), 'rejected');
    const last = WINDOWS - 1;
    close((await run('pipe-lag-now'))[0]?.['value'], sum(Object.values(SNAPSHOT.lag(last))), 'lag');
    close(
      (await run('pipe-freshness-now'))[0]?.['value'],
      SNAPSHOT.freshness(last)['sessions'] ?? null,
      'freshness',
    );
  });

  it('rates per interval', async () => {
    const ingest = await run('pipe-ingest-rate');
    expect(ingest.map(windowOf)).toEqual(windows);
    for (const row of ingest) {
      const j = windowOf(row);
      close(row['accepted'], SNAPSHOT.accepted(j) / 10, `accepted ${j}`);
      close(row['rejected'], rejectedIn(j) / 10, `rejected ${j}`);
      close(row['dead_lettered'], rejectedIn(j) / 10, `dead-lettered ${j}`);
    }
    const byReason = await run('pipe-rejections-by-reason');
    // Reasons that never happened in the range make no series.
    expect(new Set(byReason.map((r) => r['reason']))).toEqual(new Set(['missing_field', 'out_of_range']));
    for (const row of byReason) {
      close(
        row['rejected'],
        (SNAPSHOT.rejected(windowOf(row))[String(row['reason'])] ?? 0) / 10,
        `${row['reason']}`,
      );
    }
    const dlq = await run('pipe-dlq-volume');
    const sources: Record<string, (j: number) => number> = {
      'ingest · ingest_events_dead_lettered': rejectedIn,
      'processors · qoe_dead_lettered': SNAPSHOT.qoeDeadLettered,
      'processors · sessionize_late_events': SNAPSHOT.sessionizeLate,
    };
    expect(new Set(dlq.map((r) => r['source']))).toEqual(new Set(Object.keys(sources)));
    for (const row of dlq) {
      const j = windowOf(row);
      close(
        row['dead_lettered'],
        (sources[String(row['source'])]?.(j) ?? Number.NaN) / 10,
        `${row['source']} ${j}`,
      );
    }
    for (const row of await run('pipe-processor-throughput'))
      close(row['records'], SNAPSHOT.records() / 10, 'records');
  });

  it('consumer lag and freshness', async () => {
    const lag = await run('pipe-consumer-lag');
    expect(lag.map(windowOf)).toEqual(windows);
    for (const row of lag) close(row['consumer_lag'], sum(Object.values(SNAPSHOT.lag(windowOf(row)))), 'lag');
    const freshness = await run('pipe-freshness');
    expect(freshness.length).toBe(2 * WINDOWS);
    for (const row of freshness) {
      close(
        row['freshness'],
        SNAPSHOT.freshness(windowOf(row))[String(row['source_table'])] ?? null,
        'freshness',
      );
    }
  });
});

describe('every panel', () => {
  it('was run by a test above, and returned rows', () => {
    for (const { panel } of allPanels()) {
      const result = results.get(panel.id);
      expect(result, `${panel.id} has no test`).toBeDefined();
      expect(result?.rows.length, `${panel.id} returned no rows`).toBeGreaterThan(0);
    }
  });
});
