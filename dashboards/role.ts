/**
 * The `dashboard` role: the Grafana dashboards' panels on a page of their own
 * (http://<dashboard.host>:<dashboard.port>/dashboard), read from the ClickHouse the role
 * context opens, plus the MetricsSnapshotter that feeds the pipeline-health and cache panels:
 * every `dashboard.snapshotIntervalMs` it copies the given Prometheus registries (ingest,
 * processors, OCAs of this process) and the freshness probes into pipeline_metrics.
 */
import type { RoleContext, RunningRole } from '../cli/role.ts';
import { buildDashboardServer } from './page/server.ts';
import { freshnessProbes, MetricsSnapshotter, type MetricsSource, processInstance } from './snapshot.ts';

export interface DashboardRoleOptions {
  /**
   * The registries to snapshot, read at every snapshot (roles started later are included).
   * Without it only the freshness probes are written.
   */
  readonly metricsSources?: () => readonly MetricsSource[];
}

export interface RunningDashboard extends RunningRole {
  /** The page's URL, for the demo report and the CLI. */
  readonly url: string;
  readonly snapshotter: MetricsSnapshotter;
}

export async function startDashboard(
  ctx: RoleContext,
  options: DashboardRoleOptions = {},
): Promise<RunningDashboard> {
  const { config } = ctx;
  const log = ctx.log.child({ role: 'dashboard' });
  const ch = await ctx.clickhouse();
  const snapshotter = new MetricsSnapshotter({
    client: ch.client,
    database: ch.database,
    intervalMs: config.dashboard.snapshotIntervalMs,
    sources: options.metricsSources ?? (() => []),
    probes: freshnessProbes(ch.client, ch.database, processInstance()),
    log,
  });
  const server = buildDashboardServer({
    client: ch.client,
    database: ch.database,
    refreshIntervalMs: config.dashboard.refreshIntervalMs,
    log,
  });
  await server.app.listen({ host: config.dashboard.host, port: config.dashboard.port });
  snapshotter.start();
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.dashboard.port;
  const base = `http://${config.dashboard.host}:${port}`;
  const url = `${base}/dashboard`;
  log.info({ url }, 'dashboard: serving');

  let stopping: Promise<void> | undefined;
  return {
    name: 'dashboard',
    addresses: [url, `${base}/api/panels`],
    url,
    snapshotter,
    stop() {
      stopping ??= (async () => {
        await server.app.close();
        await snapshotter.stop();
      })();
      return stopping;
    },
  };
}
