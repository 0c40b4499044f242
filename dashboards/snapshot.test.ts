/** Prometheus registries to pipeline_metrics rows: deltas, resets, gauges, histograms, selection. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createOcaMetrics } from '../control-plane/oca/metrics.ts';
import { dashboardSeries, toRows } from './snapshot.ts';

const source = { component: 'ingest', instance: 'i1' };

describe('toRows', () => {
  it('turns counters into increases since the previous snapshot, per series', async () => {
    const registry = new Registry();
    const rejected = new Counter({
      name: 'playloop_ingest_events_rejected_total',
      help: 'h',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    const previous = new Map<string, number>();
    rejected.inc({ reason: 'a' }, 5);
    const first = toRows(source, await registry.getMetricsAsJSON(), 1_000, previous);
    expect(first).toEqual([
      {
        ts: 1_000,
        component: 'ingest',
        instance: 'i1',
        metric: 'playloop_ingest_events_rejected_total',
        kind: 'delta',
        labels: { reason: 'a' },
        value: 5,
      },
    ]);
    rejected.inc({ reason: 'a' }, 2);
    rejected.inc({ reason: 'b' }, 1);
    const second = toRows(source, await registry.getMetricsAsJSON(), 2_000, previous);
    expect(second.map((r) => [r.labels['reason'], r.value])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    // Nothing happened: zero increases (a rate of 0, not a gap).
    const third = toRows(source, await registry.getMetricsAsJSON(), 3_000, previous);
    expect(third.map((r) => r.value)).toEqual([0, 0]);
  });

  it('counts from zero after a reset, as Prometheus increase() does', async () => {
    const registry = new Registry();
    const accepted = new Counter({
      name: 'playloop_ingest_events_accepted_total',
      help: 'h',
      registers: [registry],
    });
    const previous = new Map<string, number>();
    accepted.inc(10);
    toRows(source, await registry.getMetricsAsJSON(), 1, previous);
    accepted.reset();
    accepted.inc(3);
    const rows = toRows(source, await registry.getMetricsAsJSON(), 2, previous);
    expect(rows[0]?.value).toBe(3);
  });

  it('keeps gauges as values, and separates instances', async () => {
    const registry = new Registry();
    const lag = new Gauge({
      name: 'playloop_consumer_lag',
      help: 'h',
      labelNames: ['processor', 'partition'] as const,
      registers: [registry],
    });
    lag.set({ processor: 'qoe', partition: '0' }, 7);
    const previous = new Map<string, number>();
    const rows = toRows(
      { component: 'processors', instance: 'p1' },
      await registry.getMetricsAsJSON(),
      5,
      previous,
    );
    expect(rows).toEqual([
      {
        ts: 5,
        component: 'processors',
        instance: 'p1',
        metric: 'playloop_consumer_lag',
        kind: 'gauge',
        labels: { partition: '0', processor: 'qoe' },
        value: 7,
      },
    ]);
    expect(previous.size).toBe(0);
  });

  it('takes a histogram’s _sum and _count as deltas and skips its buckets', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'playloop_x_seconds',
      help: 'h',
      buckets: [1, 2],
      registers: [registry],
    });
    h.observe(0.5);
    h.observe(1.5);
    const rows = toRows(source, await registry.getMetricsAsJSON(), 1, new Map(), () => true);
    expect(rows.map((r) => [r.metric, r.kind, r.value])).toEqual([
      ['playloop_x_seconds_sum', 'delta', 2],
      ['playloop_x_seconds_count', 'delta', 2],
    ]);
  });

  it('keeps only the series the dashboards read', async () => {
    const registry = new Registry();
    new Counter({ name: 'playloop_ingest_requests_total', help: 'h', registers: [registry] }).inc();
    new Counter({ name: 'playloop_outcomes_dead_lettered_total', help: 'h', registers: [registry] }).inc();
    const rows = toRows(source, await registry.getMetricsAsJSON(), 1, new Map());
    expect(rows.map((r) => r.metric)).toEqual(['playloop_outcomes_dead_lettered_total']);
  });

  it('reads the OCA registries as the OCAs export them (default labels carry oca and tier)', async () => {
    const metrics = createOcaMetrics({ id: 'edge-1', tier: 'edge', region: 'eu-west', isp: 'AS1' });
    metrics.cacheLookups.inc({ result: 'hit' }, 4);
    metrics.cacheLookups.inc({ result: 'miss' });
    metrics.fillBytes.inc({ reason: 'miss' }, 100);
    metrics.bytesServed.inc({ kind: 'segment' }, 1_000);
    const rows = toRows(
      { component: 'oca', instance: 'edge-1' },
      await metrics.registry.getMetricsAsJSON(),
      1,
      new Map(),
    );
    const names = new Set(rows.map((r) => r.metric));
    for (const name of [
      'playloop_oca_cache_lookups_total',
      'playloop_oca_served_bytes_total',
      'playloop_oca_fill_bytes_total',
    ]) {
      expect(names.has(name), name).toBe(true);
      expect(dashboardSeries(name)).toBe(true);
    }
    const hit = rows.find(
      (r) => r.metric === 'playloop_oca_cache_lookups_total' && r.labels['result'] === 'hit',
    );
    expect(hit?.labels).toMatchObject({ oca: 'edge-1', tier: 'edge', result: 'hit' });
    expect(hit?.value).toBe(4);
  });
});
