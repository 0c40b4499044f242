/**
 * The dashboard page in a real browser (Debian Chromium, headless, driven by playwright-core)
 * while data flows: the dashboard server on 127.0.0.1:0 reads ClickHouse seeded with known
 * data, a feeder keeps adding sessions (through the qoe processor's materialisation) and
 * Prometheus snapshots (through MetricsSnapshotter, with the freshness probes), and the test
 * checks that every panel of every dashboard rendered a non-empty series, that charts update
 * as new data lands, and saves a screenshot of each dashboard under test-output/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import type { ChartStatus } from '../dashboards/page/client.ts';
import { buildDashboardServer } from '../dashboards/page/server.ts';
import { DASHBOARDS } from '../dashboards/panels/index.ts';
import { freshnessProbes, MetricsSnapshotter } from '../dashboards/snapshot.ts';
import {
  insertSessions,
  seedAll,
  seedRegistries,
  seedSessions,
  WINDOW_MS,
} from '../dashboards/testing/seed.ts';
import { type ClickHouse, openAndMigrate } from '../infra/clickhouse.ts';
import { testConfig } from './support/stack.ts';

const config = testConfig('dashbrowser');
const OUTPUT = join(import.meta.dirname, '..', 'test-output', 'dashboard-browser');
// Three minutes of history ending now, so the page's default "last 15 minutes" shows it.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 180_000;

let ch: ClickHouse;
let browser: Browser | undefined;
let baseUrl = '';
let close: () => Promise<void> = async () => {};
let feeder: NodeJS.Timeout | undefined;
let feeding: Promise<void> = Promise.resolve();
let snapshotter: MetricsSnapshotter;
const pageErrors: string[] = [];

/** One tick of live data: sessions ending now, and a metrics snapshot. */
async function feed(tick: number): Promise<void> {
  const window = Math.floor((Date.now() - 5_000 - T0) / WINDOW_MS);
  const live = seedSessions(T0, window, 1, `live${tick}`).filter((s) => s.row.end_time <= Date.now());
  await insertSessions(ch.client, ch.database, live);
  await snapshotter.snapshot();
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
  await seedAll(ch.client, ch.database, T0);
  const registries = seedRegistries();
  let step = 0;
  snapshotter = new MetricsSnapshotter({
    client: ch.client,
    database: ch.database,
    intervalMs: 60_000, // driven by the feeder below, not by its own timer
    sources: () => {
      registries.step(step++);
      return registries.sources;
    },
    probes: freshnessProbes(ch.client, ch.database, 'test'),
    log: silentLogger,
  });
  let tick = 0;
  feeder = setInterval(() => {
    feeding = feeding.then(() => feed(tick++)).catch(() => {});
  }, 1_000);
  const { app } = buildDashboardServer({
    client: ch.client,
    database: ch.database,
    refreshIntervalMs: 2_000,
    log: silentLogger,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  close = () => app.close();
  // launch() gives every run a fresh temporary user-data-dir.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  if (feeder) clearInterval(feeder);
  await feeding;
  await browser?.close();
  await close();
  await ch?.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
  await ch?.close();
});

async function charts(page: Page): Promise<Record<string, ChartStatus>> {
  return page.evaluate(() => window.__playloopCharts);
}

/** Waits until every panel of the dashboard drew data (or one failed, which fails the test). */
async function waitForDashboard(
  page: Page,
  slug: string,
  panelIds: readonly string[],
): Promise<Record<string, ChartStatus>> {
  return pollUntil(
    async () => {
      const state = await page.evaluate(() => window.__playloopPage);
      if (state.dashboard !== slug || !state.ready) return undefined;
      const status = await charts(page);
      const failed = panelIds.filter((id) => status[id]?.error);
      if (failed.length > 0)
        throw new Error(`panels failed: ${failed.map((id) => `${id}: ${status[id]?.error}`).join('; ')}`);
      return panelIds.every((id) => status[id]?.nonEmpty) ? status : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `every panel of ${slug} drawn with data` },
  );
}

describe('dashboard page in Chromium', () => {
  it('renders every panel of every dashboard with data, and refreshes as data flows', async () => {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/dashboard?refresh=2000`);

    for (const dashboard of DASHBOARDS) {
      await page.click(`#tabs button[data-slug="${dashboard.slug}"]`);
      const ids = dashboard.rows.flatMap((r) => r.panels.map((p) => p.id));
      const status = await waitForDashboard(page, dashboard.slug, ids);
      for (const id of ids) {
        const s = status[id];
        expect(s?.nonEmpty, id).toBe(true);
        if (s?.kind === 'timeseries') {
          // A uPlot chart with at least one line that has points.
          expect(s.series, id).toBeGreaterThan(0);
          expect(await page.locator(`[data-panel="${id}"] .uplot canvas`).count(), id).toBe(1);
        }
      }
      await page.screenshot({ path: join(OUTPUT, `${dashboard.slug}.png`), fullPage: true });
    }

    // Data keeps flowing: the page refreshes on its own and shows the new sessions and rates.
    await page.click('#tabs button[data-slug="qoe-overview"]');
    const before = await waitForDashboard(page, 'qoe-overview', ['qoe-sessions', 'qoe-rebuffer-over-time']);
    const sessionsBefore = before['qoe-sessions']?.lastValue ?? 0;
    const updatesBefore = before['qoe-rebuffer-over-time']?.updates ?? 0;
    await pollUntil(
      async () => {
        const now = await charts(page);
        const grew = (now['qoe-sessions']?.lastValue ?? 0) > sessionsBefore;
        const redrawn = (now['qoe-rebuffer-over-time']?.updates ?? 0) > updatesBefore;
        return grew && redrawn ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the sessions stat to grow and the charts to redraw' },
    );
    await page.click('#tabs button[data-slug="pipeline-health"]');
    const pipeline = await waitForDashboard(page, 'pipeline-health', ['pipe-ingest-rate', 'pipe-freshness']);
    const pointsBefore = pipeline['pipe-freshness']?.points ?? 0;
    await pollUntil(
      async () => ((await charts(page))['pipe-freshness']?.points ?? 0) > pointsBefore || undefined,
      { timeoutMs: 30_000, intervalMs: 250, what: 'freshness points from the live snapshotter' },
    );
    await page.screenshot({ path: join(OUTPUT, 'pipeline-health-live.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
