/**
 * The dashboard server's HTTP API (fastify inject) on seeded ClickHouse, and the
 * MetricsSnapshotter writing into ClickHouse: what the page and Grafana users rely on beyond
 * the panel values (dashboard-panels.test.ts) and the browser (dashboard-browser.test.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { buildDashboardServer } from '../dashboards/page/server.ts';
import { allPanels } from '../dashboards/panels/index.ts';
import { FRESHNESS_METRIC, freshnessProbes, MetricsSnapshotter } from '../dashboards/snapshot.ts';
import { seedAll, steeringChanges, WINDOW_MS, WINDOWS } from '../dashboards/testing/seed.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { testConfig } from './support/stack.ts';

const config = testConfig('dashapi');
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const range = `from=${T0}&to=${T0 + WINDOWS * WINDOW_MS}`;

let ch: ClickHouse;
let app: FastifyInstance;

beforeAll(async () => {
  ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
  await seedAll(ch.client, ch.database, T0);
  ({ app } = buildDashboardServer({
    client: ch.client,
    database: ch.database,
    refreshIntervalMs: 5_000,
    log: silentLogger,
  }));
});

afterAll(async () => {
  await app?.close();
  await ch?.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
  await ch?.close();
});

describe('dashboard API', () => {
  it('serves the page and its assets from this machine', async () => {
    const page = await app.inject({ url: '/dashboard' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    for (const src of [
      '/dashboard/assets/uPlot.iife.min.js',
      '/dashboard/assets/uPlot.min.css',
      '/dashboard/assets/app.js',
    ]) {
      expect(page.body).toContain(src);
      const asset = await app.inject({ url: src });
      expect(asset.statusCode, src).toBe(200);
      expect(asset.body.length, src).toBeGreaterThan(1_000);
    }
    // The page script is compiled TypeScript: no type annotations left, and it reads the API.
    const script = (await app.inject({ url: '/dashboard/assets/app.js' })).body;
    expect(script).toContain('/api/dashboards');
    expect(script).not.toMatch(/:\s*PanelDefinition\b/);
    expect((await app.inject({ url: '/dashboard/assets/../../package.json' })).statusCode).toBe(404);
  });

  it('lists the definitions, SQL included', async () => {
    const list = (await app.inject({ url: '/api/panels' })).json<{
      panels: Array<{ id: string; sql: string }>;
    }>();
    expect(list.panels.map((p) => p.id)).toEqual(allPanels().map((p) => p.panel.id));
    expect(list.panels.every((p) => p.sql.includes(`\${db}.`))).toBe(true);
    const index = (await app.inject({ url: '/api/dashboards' })).json<{
      refreshIntervalMs: number;
      dashboards: Array<{ slug: string; variables: Array<{ name: string }> }>;
    }>();
    expect(index.refreshIntervalMs).toBe(5_000);
    expect(index.dashboards.map((d) => d.slug)).toEqual([
      'qoe-overview',
      'cdn-steering',
      'experiments',
      'pipeline-health',
    ]);
    // The db constant is the server's business, not the page's.
    expect(index.dashboards.flatMap((d) => d.variables.map((v) => v.name))).not.toContain('db');
  });

  it('runs a panel with Grafana-style variables and returns the expanded SQL and typed rows', async () => {
    const response = await app.inject({ url: `/api/panels/qoe-by-oca?${range}&var-oca=oca-a&var-oca=oca-c` });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      sql: string;
      intervalMs: number;
      columns: Array<{ name: string; kind: string }>;
      rows: unknown[][];
    }>();
    expect(body.sql).toContain(`FROM ${ch.database}.qoe_windows FINAL`);
    expect(body.sql).toContain("oca_id IN ('oca-a','oca-c')");
    expect(body.sql).not.toContain('$');
    expect(body.rows.map((r) => r[0]).sort()).toEqual(['oca-a', 'oca-c']);
    expect(body.columns[1]).toEqual({ name: 'session_count', type: 'UInt64', kind: 'number' });
    // Relative times, as Grafana URLs carry them.
    expect((await app.inject({ url: '/api/panels/qoe-sessions?from=now-1h&to=now' })).statusCode).toBe(200);
  });

  it('refuses what would change the SQL beyond a value', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/api/panels/nope', 404, /no panel/],
      [`/api/panels/qoe-rebuffer-by?${range}&var-breakdown=oca_id%20OR%201`, 400, /must be one of/],
      [`/api/panels/qoe-sessions?${range}&var-db=system`, 400, /constant/],
      [`/api/panels/qoe-sessions?${range}&var-experiment=x`, 400, /no variable experiment/],
      ['/api/panels/qoe-sessions?from=later', 400, /not a time/],
      [`/api/panels/qoe-sessions?from=${T0}&to=${T0}`, 400, /empty or invalid/],
      [`/api/panels/qoe-sessions?${range}&maxDataPoints=0`, 400, /maxDataPoints/],
    ];
    for (const [url, status, message] of cases) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(status);
      expect(response.json<{ message: string }>().message, url).toMatch(message);
    }
    // A value with quotes stays a value.
    const quoted = await app.inject({
      url: `/api/panels/qoe-sessions?${range}&var-oca=${encodeURIComponent("x') OR 1=1 --")}`,
    });
    expect(quoted.statusCode).toBe(200);
    expect(quoted.json<{ rows: unknown[][] }>().rows).toEqual([[0]]);
  });

  it('lists variable values for the range and the steering annotations', async () => {
    const oca = (await app.inject({ url: `/api/variables/qoe-overview/oca?${range}` })).json<{
      values: string[];
    }>();
    expect(oca.values).toEqual(['oca-a', 'oca-b', 'oca-c']);
    const breakdown = (await app.inject({ url: '/api/variables/qoe-overview/breakdown' })).json<{
      values: string[];
    }>();
    expect(breakdown.values).toEqual(['oca_id', 'isp', 'device_class', 'title_id']);
    expect((await app.inject({ url: '/api/variables/qoe-overview/experiment' })).statusCode).toBe(404);
    const annotations = (await app.inject({ url: `/api/annotations/cdn-steering?${range}` })).json<{
      annotations: Array<{ time: number; title: string; text: string }>;
    }>();
    const seeded = steeringChanges(T0);
    expect(annotations.annotations.map((a) => a.time)).toEqual(seeded.map((c) => c.changed_at));
    expect(annotations.annotations[1]?.title).toBe('steering v2 · isp:AS2');
    expect(annotations.annotations[1]?.text).toBe(
      'oca-b healthy → degraded (score 40): health 40 below 60 · priority oca-c > oca-b',
    );
  });
});

describe('MetricsSnapshotter into ClickHouse', () => {
  it('writes deltas and freshness, and keeps rows while inserts fail', async () => {
    const registry = new Registry();
    const accepted = new Counter({
      name: 'playloop_ingest_events_accepted_total',
      help: 'h',
      registers: [registry],
    });
    const database = `${ch.database}_late`;
    let now = Date.now();
    const snapshotter = new MetricsSnapshotter({
      client: ch.client,
      database,
      intervalMs: 60_000,
      sources: () => [{ component: 'ingest', instance: 't', registry }],
      probes: freshnessProbes(ch.client, ch.database, 't'),
      log: silentLogger,
      now: () => now,
    });
    accepted.inc(5);
    // The target database does not exist yet: the insert fails, the rows wait.
    expect(await snapshotter.snapshot()).toBe(0);
    await ch.client.command({ query: `CREATE DATABASE ${database}` });
    await ch.client.command({
      query: `CREATE TABLE ${database}.pipeline_metrics AS ${ch.database}.pipeline_metrics`,
    });
    accepted.inc(2);
    now += 5_000;
    const written = await snapshotter.snapshot();
    expect(written).toBeGreaterThanOrEqual(3);
    const rows = await queryRows<{ metric: string; kind: string; value: number; table: string }>(
      ch.client,
      `SELECT metric, kind, value, labels['table'] AS table FROM ${database}.pipeline_metrics ORDER BY ts, metric, table`,
    );
    expect(
      rows.filter((r) => r.metric === 'playloop_ingest_events_accepted_total').map((r) => r.value),
    ).toEqual([5, 2]);
    const freshness = rows.filter((r) => r.metric === FRESHNESS_METRIC);
    // Seeded sessions end at most 10 minutes ago; qoe_windows were materialised just now.
    expect(freshness.map((r) => r.table).sort()).toEqual([
      'qoe_windows',
      'qoe_windows',
      'sessions',
      'sessions',
    ]);
    for (const r of freshness.filter((x) => x.table === 'sessions')) {
      expect(r.value).toBeGreaterThan(400);
      expect(r.value).toBeLessThan(900);
    }
    await snapshotter.stop();
    await ch.client.command({ query: `DROP DATABASE ${database}` });
  });
});
