/**
 * Known data for the panel and browser tests: session rows (turned into qoe_windows and
 * qoe_cells by the qoe processor's own materialisation), Prometheus snapshots from real
 * prom-client registries, steering changes and experiment analyses. Everything is generated
 * from the small tables below, so a test computes the expected panel values from the same
 * rows with plain arithmetic, independently of the panels' SQL.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Counter, Gauge, Registry } from 'prom-client';
import { materialize } from '../../processors/qoe/materialize.ts';
import type { SessionRow } from '../../processors/qoe/rows.ts';
import { FRESHNESS_METRIC, type PipelineMetricRow, toRows } from '../snapshot.ts';

export const WINDOW_MS = 10_000;
/** 10 s windows seeded per run: three minutes. */
export const WINDOWS = 18;

export interface Profile {
  readonly name: string;
  readonly oca: string;
  readonly isp: string;
  readonly device: string;
  readonly title: string;
  readonly outcome: 'started' | 'vsf' | 'ebvs';
  readonly startupMs: number | null;
  readonly playMs: number;
  readonly stallMs: number;
  readonly stalls: number;
  readonly bitrateKbps: number | null;
  readonly bytes: number;
  readonly score: number | null;
  readonly experiments: readonly { readonly key: string; readonly cell: string }[];
  /** Sessions of this profile ending in window k. */
  readonly count: (k: number) => number;
}

export const ABR = 'abr-bandwidth-factor';
export const STEERING = 'steering-health-weighted';

/**
 * Startup time depends on the OCA only (oca-a 800 ms, oca-b 1600 ms, oca-c 3200 ms), so any
 * slice of one OCA has p50 = p90 = p99 exactly, whatever the t-digest does.
 */
export const PROFILES: readonly Profile[] = [
  {
    name: 'tv-a',
    oca: 'oca-a',
    isp: 'AS1',
    device: 'tv',
    title: 'title-001',
    outcome: 'started',
    startupMs: 800,
    playMs: 60_000,
    stallMs: 0,
    stalls: 0,
    bitrateKbps: 4_000,
    bytes: 30_000_000,
    score: 90,
    experiments: [
      { key: ABR, cell: 'control' },
      { key: STEERING, cell: 'health-weighted' },
    ],
    count: (k) => 1 + (k % 3),
  },
  {
    name: 'mobile-a',
    oca: 'oca-a',
    isp: 'AS1',
    device: 'mobile',
    title: 'title-002',
    outcome: 'started',
    startupMs: 800,
    playMs: 30_000,
    stallMs: 3_000,
    stalls: 2,
    bitrateKbps: 2_000,
    bytes: 10_000_000,
    score: 70,
    experiments: [{ key: ABR, cell: 'treatment' }],
    count: () => 1,
  },
  {
    name: 'tv-b',
    oca: 'oca-b',
    isp: 'AS2',
    device: 'tv',
    title: 'title-001',
    outcome: 'started',
    startupMs: 1_600,
    playMs: 40_000,
    stallMs: 10_000,
    stalls: 4,
    bitrateKbps: 1_000,
    bytes: 8_000_000,
    score: 40,
    experiments: [
      { key: ABR, cell: 'control' },
      { key: STEERING, cell: 'proximity-only' },
    ],
    count: (k) => (k % 2 === 0 ? 2 : 1),
  },
  {
    name: 'mobile-b-vsf',
    oca: 'oca-b',
    isp: 'AS2',
    device: 'mobile',
    title: 'title-001',
    outcome: 'vsf',
    startupMs: null,
    playMs: 0,
    stallMs: 0,
    stalls: 0,
    bitrateKbps: null,
    bytes: 0,
    score: 0,
    experiments: [{ key: ABR, cell: 'treatment' }],
    count: (k) => (k % 3 === 0 ? 1 : 0),
  },
  {
    name: 'tv-c-ebvs',
    oca: 'oca-c',
    isp: 'AS2',
    device: 'tv',
    title: 'title-002',
    outcome: 'ebvs',
    startupMs: null,
    playMs: 0,
    stallMs: 0,
    stalls: 0,
    bitrateKbps: null,
    bytes: 0,
    score: null,
    experiments: [{ key: ABR, cell: 'control' }],
    count: (k) => (k % 4 === 1 ? 1 : 0),
  },
  {
    name: 'tv-c',
    oca: 'oca-c',
    isp: 'AS1',
    device: 'tv',
    title: 'title-002',
    outcome: 'started',
    startupMs: 3_200,
    playMs: 50_000,
    stallMs: 0,
    stalls: 0,
    bitrateKbps: 3_000,
    bytes: 20_000_000,
    score: 80,
    experiments: [{ key: ABR, cell: 'treatment' }],
    count: () => 1,
  },
];

/** One seeded session, with the window it ends in. */
export interface SeededSession {
  readonly profile: Profile;
  readonly window: number;
  readonly row: SessionRow;
}

/** Sessions ending in windows [firstWindow, firstWindow + windows) after t0 (ms, minute aligned). */
export function seedSessions(
  t0: number,
  firstWindow = 0,
  windows = WINDOWS,
  idPrefix = 's',
): SeededSession[] {
  const out: SeededSession[] = [];
  for (let k = firstWindow; k < firstWindow + windows; k++) {
    for (const profile of PROFILES) {
      for (let i = 0; i < profile.count(k); i++) {
        const id = `${idPrefix}-${profile.name}-${k}-${i}`;
        const end = t0 + k * WINDOW_MS + 5_000;
        const started = profile.outcome === 'started';
        out.push({
          profile,
          window: k,
          row: {
            summary_id: `${id}:0`,
            summary_version: 1,
            session_id: id,
            viewer_id: `v-${id}`,
            title_id: profile.title,
            start_time: end - 120_000,
            end_time: end,
            duration_ms: 120_000,
            end_reason: started ? 'viewer_exit' : profile.outcome === 'vsf' ? 'fatal_error' : 'viewer_exit',
            startup_outcome: profile.outcome,
            play_attempt: 1,
            ebvs: profile.outcome === 'ebvs' ? 1 : 0,
            vsf: profile.outcome === 'vsf' ? 1 : 0,
            vpf: 0,
            startup_ms: profile.startupMs,
            play_ms: profile.playMs,
            paused_ms: 0,
            stall_ms: profile.stallMs,
            seek_stall_ms: 0,
            stall_count: profile.stalls,
            rebuffer_ratio: started ? profile.stallMs / (profile.playMs + profile.stallMs) : null,
            stalls_per_hour: null,
            avg_bitrate_kbps: profile.bitrateKbps,
            switches_up: 0,
            switches_down: 0,
            bytes: profile.bytes,
            download_ms: 1_000,
            segments: 10,
            throughput_kbps: null,
            oca_id: profile.oca,
            first_oca_id: profile.oca,
            plan_oca_id: profile.oca,
            device_class: profile.device,
            isp: profile.isp,
            region: 'eu-west',
            country: 'DE',
            player_name: 'seed',
            experiments: profile.experiments.map((e) => ({ key: e.key, cell: e.cell })),
            event_count: 10,
            missing_seq_count: 0,
            error_count: profile.outcome === 'vsf' ? 1 : 0,
            fatal_error_type: profile.outcome === 'vsf' ? 'NETWORK_ERROR' : '',
            fatal_error_details: profile.outcome === 'vsf' ? 'manifestLoadError' : '',
            score: profile.score,
            source_partition: 0,
            source_offset_last: k,
          },
        });
      }
    }
  }
  return out;
}

/** Inserts sessions and runs the qoe processor's materialisation over their windows. */
export async function insertSessions(
  client: ClickHouseClient,
  database: string,
  sessions: readonly SeededSession[],
  windowSizesSec: readonly number[] = [10, 60],
): Promise<void> {
  if (sessions.length === 0) return;
  await client.insert({
    table: `${database}.sessions`,
    values: sessions.map((s) => s.row),
    format: 'JSONEachRow',
  });
  const ends = sessions.map((s) => s.row.end_time);
  const fromSec = Math.floor(Math.min(...ends) / 1000);
  const toSec = Math.floor(Math.max(...ends) / 1000) + 1;
  await materialize(
    client,
    database,
    windowSizesSec.map((w) => ({
      windowSec: w,
      fromSec: fromSec - (fromSec % w),
      toSec: toSec + ((w - (toSec % w)) % w),
    })),
  );
}

// ---------------------------------------------------------------------------------------
// Prometheus snapshots
// ---------------------------------------------------------------------------------------

/** Increments applied before snapshot j (one snapshot per 10 s window, at its middle). */
export const SNAPSHOT = {
  accepted: (j: number) => 100 + 10 * j,
  /** By rejection reason; `not_finite` never happens (its zero rows must not make a series). */
  rejected: (j: number): Record<string, number> => ({
    missing_field: j % 2,
    out_of_range: j === 5 ? 3 : 0,
    not_finite: 0,
  }),
  qoeDeadLettered: (j: number) => (j === 3 ? 1 : 0),
  /** Late events sessionize dead-letters. */
  sessionizeLate: (j: number) => (j === 7 ? 2 : 0),
  records: () => 200,
  /** Consumer lag per partition (gauge). */
  lag: (j: number): Record<string, number> => ({ '0': Math.max(0, 50 - j), '1': 10 }),
  /** Per OCA: cache lookups that hit and missed, bytes served and filled on a miss. */
  oca: {
    'oca-a': { tier: 'edge', hits: 9, misses: 1, served: 1_000_000, missFill: 100_000 },
    'oca-b': { tier: 'edge', hits: 3, misses: 1, served: 400_000, missFill: 100_000 },
    'oca-c': { tier: 'storage', hits: 0, misses: 0, served: 500_000, missFill: 0 },
  } as const,
  freshness: (j: number): Record<string, number> => ({ sessions: 2 + (j % 3), qoe_windows: 1 }),
} as const;

export const snapshotTs = (t0: number, j: number): number => t0 + j * WINDOW_MS + 5_000;

/**
 * Registries shaped like the roles' (same metric names, types and labels; OCA registries carry
 * the OCA's default labels as control-plane/oca/metrics.ts sets them).
 */
export function seedRegistries() {
  const ingest = new Registry();
  const accepted = new Counter({
    name: 'playloop_ingest_events_accepted_total',
    help: 'h',
    registers: [ingest],
  });
  const rejected = new Counter({
    name: 'playloop_ingest_events_rejected_total',
    help: 'h',
    labelNames: ['reason'] as const,
    registers: [ingest],
  });
  for (const reason of Object.keys(SNAPSHOT.rejected(0))) rejected.inc({ reason }, 0);
  const deadLettered = new Counter({
    name: 'playloop_ingest_events_dead_lettered_total',
    help: 'h',
    registers: [ingest],
  });
  const processors = new Registry();
  const lag = new Gauge({
    name: 'playloop_consumer_lag',
    help: 'h',
    labelNames: ['processor', 'topic', 'partition'] as const,
    registers: [processors],
  });
  const records = new Counter({
    name: 'playloop_processor_records_total',
    help: 'h',
    labelNames: ['processor'] as const,
    registers: [processors],
  });
  const qoeDeadLettered = new Counter({
    name: 'playloop_qoe_dead_lettered_total',
    help: 'h',
    registers: [processors],
  });
  const sessionizeLate = new Counter({
    name: 'playloop_sessionize_late_events_total',
    help: 'h',
    registers: [processors],
  });
  const ocas = Object.entries(SNAPSHOT.oca).map(([id, spec]) => {
    const registry = new Registry();
    registry.setDefaultLabels({ oca: id, tier: spec.tier, region: 'eu-west', isp: 'AS1' });
    return {
      id,
      spec,
      registry,
      lookups: new Counter({
        name: 'playloop_oca_cache_lookups_total',
        help: 'h',
        labelNames: ['result'] as const,
        registers: spec.tier === 'edge' ? [registry] : [],
      }),
      served: new Counter({
        name: 'playloop_oca_served_bytes_total',
        help: 'h',
        labelNames: ['kind'] as const,
        registers: [registry],
      }),
      fill: new Counter({
        name: 'playloop_oca_fill_bytes_total',
        help: 'h',
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
    };
  });
  /** Applies snapshot j's increments. */
  const step = (j: number): void => {
    accepted.inc(SNAPSHOT.accepted(j));
    let refused = 0;
    for (const [reason, n] of Object.entries(SNAPSHOT.rejected(j))) {
      rejected.inc({ reason }, n);
      refused += n;
    }
    deadLettered.inc(refused);
    for (const [partition, value] of Object.entries(SNAPSHOT.lag(j))) {
      lag.set({ processor: 'qoe', topic: 'playback.sessions', partition }, value);
    }
    records.inc({ processor: 'qoe' }, SNAPSHOT.records());
    qoeDeadLettered.inc(SNAPSHOT.qoeDeadLettered(j));
    sessionizeLate.inc(SNAPSHOT.sessionizeLate(j));
    for (const oca of ocas) {
      if (oca.spec.tier === 'edge') {
        oca.lookups.inc({ result: 'hit' }, oca.spec.hits);
        oca.lookups.inc({ result: 'miss' }, oca.spec.misses);
        oca.fill.inc({ reason: 'miss' }, oca.spec.missFill);
      }
      oca.served.inc({ kind: 'segment' }, oca.spec.served);
    }
  };
  const sources = [
    { component: 'ingest', instance: 'seed', registry: ingest },
    { component: 'processors', instance: 'seed', registry: processors },
    ...ocas.map((o) => ({ component: 'oca', instance: o.id, registry: o.registry })),
  ];
  return { sources, step };
}

/** Snapshot rows for snapshots [first, first + count), through the snapshotter's own toRows. */
export async function seedMetricRows(
  t0: number,
  first = 0,
  count = WINDOWS,
  registries = seedRegistries(),
  previous = new Map<string, number>(),
): Promise<PipelineMetricRow[]> {
  const rows: PipelineMetricRow[] = [];
  for (let j = first; j < first + count; j++) {
    registries.step(j);
    const ts = snapshotTs(t0, j);
    for (const source of registries.sources) {
      rows.push(...toRows(source, await source.registry.getMetricsAsJSON(), ts, previous));
    }
    for (const [table, value] of Object.entries(SNAPSHOT.freshness(j))) {
      rows.push({
        ts,
        component: 'clickhouse',
        instance: 'seed',
        metric: FRESHNESS_METRIC,
        kind: 'gauge',
        labels: { table },
        value,
      });
    }
  }
  return rows;
}

export async function insertMetricRows(
  client: ClickHouseClient,
  database: string,
  rows: readonly PipelineMetricRow[],
): Promise<void> {
  if (rows.length > 0) {
    await client.insert({ table: `${database}.pipeline_metrics`, values: [...rows], format: 'JSONEachRow' });
  }
}

// ---------------------------------------------------------------------------------------
// Steering changes and experiment analyses
// ---------------------------------------------------------------------------------------

export interface SteeringChange {
  readonly changed_at: number;
  readonly scope: string;
  readonly version: number;
  readonly kind: string;
  readonly oca_id: string;
  readonly from_state: string;
  readonly to_state: string;
  readonly score: number;
  readonly reason: string;
  readonly window_start: number;
  readonly window_end: number;
  readonly pathway_priority: readonly string[];
  readonly evidence: string;
}

/** Rows of steering_changes (infra/migrations/0400_steering_changes.sql). */
export const steeringChanges = (t0: number): SteeringChange[] => [
  {
    changed_at: t0 + 45_000,
    scope: 'global',
    version: 1,
    kind: 'initial',
    oca_id: '',
    from_state: '',
    to_state: '',
    score: 0,
    reason: 'first document',
    window_start: t0,
    window_end: t0 + 40_000,
    pathway_priority: ['oca-a', 'oca-b', 'oca-c'],
    evidence: '{}',
  },
  {
    changed_at: t0 + 95_000,
    scope: 'isp:AS2',
    version: 2,
    kind: 'state',
    oca_id: 'oca-b',
    from_state: 'healthy',
    to_state: 'degraded',
    score: 40,
    reason: 'health 40 below 60',
    window_start: t0 + 80_000,
    window_end: t0 + 90_000,
    pathway_priority: ['oca-c', 'oca-b'],
    evidence: '{}',
  },
];

/** A row of experiment_results (infra/migrations/0301_experiment_results.sql). */
export interface ExperimentResultRow {
  readonly experiment_key: string;
  readonly analyzed_at: number;
  readonly analysis_id: string;
  readonly definition_digest: string;
  readonly unit_type: string;
  readonly decision_rule: string;
  readonly test_mode: string;
  readonly alpha: number;
  readonly runtime_days: number;
  readonly cell: string;
  readonly is_control: number;
  readonly metric: string;
  readonly role: string;
  readonly method: string;
  readonly decides: number;
  readonly better: string;
  readonly n: number;
  readonly estimate: number | null;
  readonly ci_lower: number | null;
  readonly ci_upper: number | null;
  readonly control_estimate: number | null;
  readonly difference: number | null;
  readonly difference_ci_lower: number | null;
  readonly difference_ci_upper: number | null;
  readonly lift: number | null;
  readonly lift_ci_lower: number | null;
  readonly lift_ci_upper: number | null;
  readonly p_value: number | null;
  readonly p_adjusted: number | null;
  readonly p_adjustment: string;
  readonly p_sequential: number | null;
  readonly sequential_ci_lower: number | null;
  readonly sequential_ci_upper: number | null;
  readonly status: string;
  readonly planned_n: number | null;
  readonly srm_p_value: number | null;
  readonly decision: string;
  readonly decision_cell: string;
  readonly reasons: readonly string[];
}

/** One analysis run of the ABR experiment at t0 + `at`, with `n` units in the control. */
export interface SeedRun {
  readonly at: number;
  readonly n: number;
  readonly decision: string;
  /** The startup-time primary's difference and its confidence sequence. */
  readonly difference: number;
  readonly sequence: readonly [number, number];
  readonly srmP: number;
}

/** Runs at t0 + 60 s and t0 + 120 s, and one after a three-minute range (t0 + 240 s). */
export const SEED_RUNS: readonly SeedRun[] = [
  { at: 60_000, n: 100, decision: 'continue', difference: -40, sequence: [-120, 30], srmP: 0.8 },
  { at: 120_000, n: 200, decision: 'ship', difference: -60, sequence: [-100, -5], srmP: 0.6 },
  { at: 240_000, n: 300, decision: 'ship', difference: -62, sequence: [-90, -20], srmP: 0.0001 },
];

export function experimentResults(t0: number): ExperimentResultRow[] {
  const rows: ExperimentResultRow[] = [];
  for (const run of SEED_RUNS) {
    const base = {
      experiment_key: ABR,
      analyzed_at: t0 + run.at,
      analysis_id: `${ABR}@${new Date(t0 + run.at).toISOString()}`,
      definition_digest: 'd1',
      unit_type: 'viewer',
      decision_rule: 'superiority',
      test_mode: 'sequential',
      alpha: 0.05,
      runtime_days: 1,
      decision: run.decision,
      decision_cell: run.decision === 'ship' ? 'treatment' : '',
      reasons: ['seeded'],
      p_adjustment: 'none',
      planned_n: 500,
      ci_lower: null,
      ci_upper: null,
    };
    const none = {
      control_estimate: null,
      difference: null,
      difference_ci_lower: null,
      difference_ci_upper: null,
      lift: null,
      lift_ci_lower: null,
      lift_ci_upper: null,
      p_value: null,
      p_adjusted: null,
      p_sequential: null,
      sequential_ci_lower: null,
      sequential_ci_upper: null,
    };
    const treatmentN = run.n + 3;
    for (const [cell, isControl, n] of [
      ['control', 1, run.n],
      ['treatment', 0, treatmentN],
    ] as const) {
      rows.push({
        ...base,
        ...none,
        cell,
        is_control: isControl,
        metric: 'units',
        role: 'srm',
        method: 'chi-square',
        decides: 0,
        better: 'higher',
        n,
        estimate: n / (run.n + treatmentN),
        control_estimate: 0.5,
        status: '',
        srm_p_value: run.srmP,
      });
    }
    const metric = (
      name: string,
      role: string,
      method: string,
      decides: number,
      control: number,
      difference: number,
      sequence: readonly [number, number] | null,
      status: string,
    ): ExperimentResultRow[] => [
      {
        ...base,
        ...none,
        cell: 'control',
        is_control: 1,
        metric: name,
        role,
        method,
        decides,
        better: 'lower',
        n: run.n,
        estimate: control,
        status: '',
        srm_p_value: run.srmP,
      },
      {
        ...base,
        cell: 'treatment',
        is_control: 0,
        metric: name,
        role,
        method,
        decides,
        better: 'lower',
        n: treatmentN,
        estimate: control + difference,
        control_estimate: control,
        difference,
        difference_ci_lower: difference - Math.abs(difference) / 2,
        difference_ci_upper: difference + Math.abs(difference) / 2,
        lift: difference / control,
        lift_ci_lower: (difference - Math.abs(difference) / 2) / control,
        lift_ci_upper: (difference + Math.abs(difference) / 2) / control,
        p_value: 0.001,
        p_adjusted: 0.002,
        p_sequential: sequence ? 0.03 : null,
        sequential_ci_lower: sequence ? sequence[0] : null,
        sequential_ci_upper: sequence ? sequence[1] : null,
        status,
        srm_p_value: run.srmP,
      },
    ];
    rows.push(
      ...metric('startupMs', 'primary', 'welch', 1, 1_200, run.difference, run.sequence, 'better'),
      ...metric('startupMs', 'primary', 'cuped-welch', 0, 1_200, run.difference + 5, run.sequence, 'better'),
      ...metric('rebufferRatio', 'guardrail', 'welch', 1, 0.05, 0.001, [-0.01, 0.012], 'pass'),
    );
  }
  return rows;
}

/** Everything a dashboard needs, for windows [0, WINDOWS) after t0. */
export async function seedAll(
  client: ClickHouseClient,
  database: string,
  t0: number,
): Promise<SeededSession[]> {
  const sessions = seedSessions(t0);
  await insertSessions(client, database, sessions);
  await insertMetricRows(client, database, await seedMetricRows(t0));
  await client.insert({
    table: `${database}.steering_changes`,
    values: steeringChanges(t0),
    format: 'JSONEachRow',
  });
  await client.insert({
    table: `${database}.experiment_results`,
    values: experimentResults(t0),
    format: 'JSONEachRow',
  });
  return sessions;
}
