/**
 * MetricsSnapshotter: copies chosen Prometheus series from prom-client registries (ingest,
 * processors, OCAs) and a few probes (freshness) into ClickHouse's `pipeline_metrics` every
 * few seconds, so the dashboards, which read only ClickHouse, can chart them over time.
 *
 * Row semantics (infra/migrations/0500_pipeline_metrics.sql):
 * - counters become `delta` rows: the increase since the previous snapshot of the same series
 *   (a series seen for the first time counts from 0, as a counter does when its process
 *   starts; a value below the previous one is a reset and counts from 0 too, as Prometheus'
 *   `increase()` does). Summing deltas over any grouping and dividing by seconds is a rate.
 * - gauges become `gauge` rows: the value at `ts`.
 * - histograms and summaries contribute their `_sum` and `_count` as deltas.
 *
 * Freshness is defined per stored table as `snapshot time - newest timestamp in the table`:
 * for `sessions` the newest `end_time` (when the newest stored session ended), for
 * `qoe_windows` the newest `materialized_at`. With traffic flowing it bounds from above how
 * long an ended session takes to become visible to the dashboards; with no traffic it grows,
 * which is also worth seeing. No rows in the last day: no sample.
 *
 * Rows whose insert fails stay buffered (up to a bound) and go with the next snapshot, so an
 * outage of ClickHouse delays the numbers rather than losing them.
 */
import { hostname } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { queryRows } from '../infra/clickhouse.ts';

export const FRESHNESS_METRIC = 'playloop_freshness_seconds';

export const DEAD_LETTERED_SUFFIX = '_dead_lettered_total';
/** Events sessionize dead-letters because their view was already emitted. */
export const SESSIONIZE_LATE = 'playloop_sessionize_late_events_total';

/** The series the dashboards read; every `*_dead_lettered_total` counter is taken too. */
export const DASHBOARD_SERIES: readonly string[] = [
  SESSIONIZE_LATE,
  'playloop_ingest_events_accepted_total',
  'playloop_ingest_events_rejected_total',
  'playloop_consumer_lag',
  'playloop_processor_records_total',
  'playloop_oca_cache_lookups_total',
  'playloop_oca_served_bytes_total',
  'playloop_oca_fill_bytes_total',
];

export function dashboardSeries(name: string): boolean {
  return DASHBOARD_SERIES.includes(name) || name.endsWith(DEAD_LETTERED_SUFFIX);
}

/** What `Registry.getMetricsAsJSON()` returns, as far as it is read here. */
export interface MetricJson {
  readonly name: string;
  /** 'counter' | 'gauge' | 'histogram' | 'summary' at run time (prom-client's typings say an enum). */
  readonly type: unknown;
  readonly values: readonly {
    readonly value: number;
    readonly labels: Readonly<Record<string, string | number | undefined>>;
    readonly metricName?: string;
  }[];
}

export interface MetricsRegistry {
  getMetricsAsJSON(): Promise<readonly MetricJson[]>;
}

export interface MetricsSource {
  /** Which part of the loop: 'ingest', 'processors', 'oca' ... */
  readonly component: string;
  /** Which process or server: two sources of one component must differ here. */
  readonly instance: string;
  readonly registry: MetricsRegistry;
}

export interface Probe {
  readonly component: string;
  readonly instance: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** A gauge value, or undefined for "no sample now". */
  read(nowMs: number): Promise<number | undefined>;
}

export interface PipelineMetricRow {
  /** Epoch milliseconds (DateTime64(3) reads an integer as ticks in JSONEachRow). */
  readonly ts: number;
  readonly component: string;
  readonly instance: string;
  readonly metric: string;
  readonly kind: 'delta' | 'gauge';
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** `host:pid`: tells processes apart when several write the same component's series. */
export function processInstance(): string {
  return `${hostname()}:${process.pid}`;
}

function stringLabels(labels: Readonly<Record<string, string | number | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}

/**
 * One source's metrics as rows. Pure: `previous` holds the last counter value per series and
 * is updated in place, so the next call yields the increase since this one.
 */
export function toRows(
  source: Pick<MetricsSource, 'component' | 'instance'>,
  metrics: readonly MetricJson[],
  ts: number,
  previous: Map<string, number>,
  select: (name: string) => boolean = dashboardSeries,
): PipelineMetricRow[] {
  const rows: PipelineMetricRow[] = [];
  for (const metric of metrics) {
    if (!select(metric.name)) continue;
    const type = String(metric.type);
    for (const sample of metric.values) {
      if (!Number.isFinite(sample.value)) continue;
      const name = sample.metricName ?? metric.name;
      let kind: 'delta' | 'gauge';
      if (type === 'gauge') kind = 'gauge';
      else if (type === 'counter') kind = 'delta';
      else if (name.endsWith('_sum') || name.endsWith('_count')) kind = 'delta';
      else continue; // histogram buckets and summary quantiles are not charted
      const labels = stringLabels(sample.labels);
      if (kind === 'gauge') {
        rows.push({
          ts,
          component: source.component,
          instance: source.instance,
          metric: name,
          kind,
          labels,
          value: sample.value,
        });
        continue;
      }
      const key = [source.component, source.instance, name, JSON.stringify(labels)].join('\u0000');
      const before = previous.get(key);
      previous.set(key, sample.value);
      const delta = before === undefined || sample.value < before ? sample.value : sample.value - before;
      rows.push({
        ts,
        component: source.component,
        instance: source.instance,
        metric: name,
        kind,
        labels,
        value: delta,
      });
    }
  }
  return rows;
}

/** Freshness of `sessions` (newest end_time) and `qoe_windows` (newest materialized_at). */
export function freshnessProbes(client: ClickHouseClient, database: string, instance: string): Probe[] {
  const probe = (table: string, column: string, recent: string): Probe => ({
    component: 'clickhouse',
    instance,
    metric: FRESHNESS_METRIC,
    labels: { table },
    read: async (nowMs) => {
      const [row] = await queryRows<{ newest: number; n: number }>(
        client,
        `SELECT toUnixTimestamp64Milli(max(${column})) AS newest, count() AS n
         FROM ${database}.${table} WHERE ${recent} >= now() - INTERVAL 1 DAY`,
      );
      if (!row || Number(row.n) === 0) return undefined;
      return Math.max(0, (nowMs - Number(row.newest)) / 1000);
    },
  });
  return [probe('sessions', 'end_time', 'end_time'), probe('qoe_windows', 'materialized_at', 'window_start')];
}

export interface SnapshotterOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly intervalMs: number;
  /** Read at every snapshot, so sources added later are picked up. */
  readonly sources: () => readonly MetricsSource[];
  readonly probes?: readonly Probe[];
  readonly select?: (name: string) => boolean;
  readonly log: Logger;
  readonly now?: () => number;
  /** Rows kept while inserts fail; the oldest go first past it. */
  readonly maxPendingRows?: number;
}

export class MetricsSnapshotter {
  private readonly previous = new Map<string, number>();
  private pending: PipelineMetricRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  /** Rows dropped because inserts kept failing past maxPendingRows. */
  droppedRows = 0;

  constructor(private readonly options: SnapshotterOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.snapshot().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One snapshot now; resolves with the rows written (0 when the insert failed). */
  snapshot(): Promise<number> {
    this.running ??= this.takeSnapshot().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async takeSnapshot(): Promise<number> {
    const { options } = this;
    const ts = (options.now ?? Date.now)();
    const rows: PipelineMetricRow[] = [];
    for (const source of options.sources()) {
      try {
        const metrics = await source.registry.getMetricsAsJSON();
        rows.push(...toRows(source, metrics, ts, this.previous, options.select));
      } catch (err) {
        options.log.warn(
          { component: source.component, err: errorMessage(err) },
          'metrics snapshot: source failed',
        );
      }
    }
    for (const probe of options.probes ?? []) {
      try {
        const value = await probe.read(ts);
        if (value !== undefined) {
          rows.push({
            ts,
            component: probe.component,
            instance: probe.instance,
            metric: probe.metric,
            kind: 'gauge',
            labels: probe.labels,
            value,
          });
        }
      } catch (err) {
        options.log.debug({ metric: probe.metric, err: errorMessage(err) }, 'metrics snapshot: probe failed');
      }
    }
    const batch = [...this.pending, ...rows];
    if (batch.length === 0) return 0;
    try {
      await options.client.insert({
        table: `${options.database}.pipeline_metrics`,
        values: batch,
        format: 'JSONEachRow',
      });
      this.pending = [];
      return batch.length;
    } catch (err) {
      const max = options.maxPendingRows ?? 100_000;
      const overflow = Math.max(0, batch.length - max);
      this.droppedRows += overflow;
      this.pending = batch.slice(overflow);
      options.log.warn(
        { err: errorMessage(err), pending: this.pending.length, dropped: this.droppedRows },
        'metrics snapshot: insert failed; rows kept for the next snapshot',
      );
      return 0;
    }
  }

  /** Stops the timer, then takes a last snapshot so the final increments are kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.running;
    await this.snapshot();
  }
}
