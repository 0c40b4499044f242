/**
 * The dashboard role's HTTP server: the same panels as the Grafana dashboards, served as a
 * page of their own (uPlot charts, refreshing on their own) and as JSON.
 *
 *   GET /dashboard                       the page
 *   GET /dashboard/assets/<file>         uPlot's dist files (from node_modules) and the page's script
 *   GET /api/dashboards                  dashboards, rows, panels and variables (definitions)
 *   GET /api/panels                      every panel definition, SQL included
 *   GET /api/panels/:id?from&to&maxDataPoints&var-<name>=<value>...
 *                                        the panel's SQL expanded as Grafana would, run, typed rows
 *   GET /api/variables/:dashboard/:name?from&to   a query variable's values
 *   GET /api/annotations/:dashboard?from&to      the dashboard's annotations (steering changes)
 *
 * Times are Grafana's: epoch ms, `now` or `now-15m`. Variables follow Grafana's URL form
 * (`var-oca=oca-a&var-oca=oca-b`; absent or `$__all` is All).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { isPlayloopError, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { DEFAULT_TIME } from '../grafana.ts';
import { allPanels, DASHBOARDS, dashboardVariables } from '../panels/index.ts';
import type { DashboardDefinition, PanelDefinition, VariableDefinition } from '../panels/types.ts';
import { expandPanel, panelContext, type Selections } from '../query/context.ts';
import { parseTime } from '../query/interval.ts';
import { expandQuery } from '../query/macros.ts';
import { runQuery } from '../query/run.ts';
import { type AssetStore, loadAssets } from './assets.ts';
import { pageHtml } from './html.ts';

export interface DashboardServerOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  /** How often the page re-runs its panels. */
  readonly refreshIntervalMs: number;
  /** Panel queries run at once; more wait, so the page never crowds out the processors. */
  readonly maxConcurrentQueries?: number;
  readonly log: Logger;
  readonly now?: () => number;
  readonly dashboards?: readonly DashboardDefinition[];
}

export interface DashboardServer {
  readonly app: FastifyInstance;
}

/** A counting semaphore: at most `limit` queries in ClickHouse from this server. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

type Query = Record<string, string | string[] | undefined>;

function one(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** `var-<name>` parameters, as Grafana's dashboard URLs carry them. */
function selectionsOf(query: Query): Selections {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('var-') || value === undefined) continue;
    out[key.slice(4)] = Array.isArray(value) ? value : [value];
  }
  return out;
}

function rangeOf(query: Query, nowMs: number): { fromMs: number; toMs: number } {
  return {
    fromMs: parseTime(one(query, 'from') ?? DEFAULT_TIME.from, nowMs),
    toMs: parseTime(one(query, 'to') ?? DEFAULT_TIME.to, nowMs),
  };
}

function maxDataPointsOf(query: Query): number {
  const raw = one(query, 'maxDataPoints');
  const value = raw === undefined ? 600 : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new PlayloopError('BAD_REQUEST', 'maxDataPoints must be an integer from 1 to 10000');
  }
  return value;
}

function variableJson(v: VariableDefinition) {
  if (v.type === 'constant') return { name: v.name, type: v.type };
  if (v.type === 'custom')
    return { name: v.name, type: v.type, label: v.label, options: v.options, default: v.default };
  return { name: v.name, type: v.type, label: v.label, sql: v.sql };
}

function panelJson(panel: PanelDefinition) {
  return { ...panel };
}

export function buildDashboardServer(options: DashboardServerOptions): DashboardServer {
  const dashboards = options.dashboards ?? DASHBOARDS;
  const now = options.now ?? Date.now;
  const limit = limiter(options.maxConcurrentQueries ?? 2);
  const assets: AssetStore = loadAssets();
  const app = Fastify({ logger: false });

  const dashboardBySlug = (slug: string): DashboardDefinition => {
    const found = dashboards.find((d) => d.slug === slug || d.uid === slug);
    if (!found) throw new PlayloopError('NOT_FOUND', `no dashboard ${slug}`);
    return found;
  };

  const send = (reply: FastifyReply, err: PlayloopError): FastifyReply =>
    reply.code(err.httpStatus).header('cache-control', 'no-store').send(err.toJSON());

  app.setErrorHandler(async (err: unknown, _request, reply) => {
    if (isPlayloopError(err)) return send(reply, err);
    const status =
      typeof err === 'object' && err !== null && 'statusCode' in err
        ? Number((err as { statusCode: unknown }).statusCode)
        : 500;
    if (status >= 400 && status < 500) {
      return send(reply, new PlayloopError('BAD_REQUEST', err instanceof Error ? err.message : String(err)));
    }
    options.log.error({ err }, 'dashboard: unexpected error');
    return send(reply, new PlayloopError('INTERNAL', 'unexpected internal error'));
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  app.get('/', async (_request, reply) => reply.redirect('/dashboard'));
  app.get('/dashboard', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(pageHtml()),
  );
  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', async (request, reply) => {
    const asset = await assets.get(request.params.file);
    if (!asset) throw new PlayloopError('NOT_FOUND', `no asset ${request.params.file}`);
    return reply.type(asset.contentType).header('cache-control', 'no-cache').send(asset.body);
  });

  app.get('/api/dashboards', async () => ({
    refreshIntervalMs: options.refreshIntervalMs,
    defaultTime: DEFAULT_TIME,
    dashboards: dashboards.map((d) => ({
      uid: d.uid,
      slug: d.slug,
      title: d.title,
      description: d.description,
      variables: dashboardVariables(d)
        .filter((v) => v.type !== 'constant')
        .map(variableJson),
      annotations: d.annotations.map((a) => ({ name: a.name, color: a.color })),
      rows: d.rows.map((r) => ({ title: r.title, panels: r.panels.map(panelJson) })),
    })),
  }));

  app.get('/api/panels', async () => ({
    panels: allPanels(dashboards).map(({ dashboard, panel }) => ({
      dashboard: dashboard.uid,
      ...panelJson(panel),
    })),
  }));

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/panels/:id', async (request, reply) => {
    const located = allPanels(dashboards).find((p) => p.panel.id === request.params.id);
    if (!located) throw new PlayloopError('NOT_FOUND', `no panel ${request.params.id}`);
    const { fromMs, toMs } = rangeOf(request.query, now());
    const { sql, intervalMs } = expandPanel(located.dashboard, located.panel, {
      fromMs,
      toMs,
      maxDataPoints: maxDataPointsOf(request.query),
      selections: selectionsOf(request.query),
      database: options.database,
    });
    const result = await limit(() => runQuery(options.client, sql));
    return reply
      .header('cache-control', 'no-store')
      .send({ id: located.panel.id, fromMs, toMs, intervalMs, sql, ...result });
  });

  app.get<{ Params: { dashboard: string; name: string }; Querystring: Query }>(
    '/api/variables/:dashboard/:name',
    async (request) => {
      const dashboard = dashboardBySlug(request.params.dashboard);
      const definition = dashboardVariables(dashboard).find((v) => v.name === request.params.name);
      if (!definition || definition.type === 'constant') {
        throw new PlayloopError(
          'NOT_FOUND',
          `dashboard ${dashboard.slug} has no variable ${request.params.name}`,
        );
      }
      if (definition.type === 'custom')
        return { name: definition.name, values: definition.options.map((o) => o.value) };
      const { fromMs, toMs } = rangeOf(request.query, now());
      const ctx = panelContext(dashboard, undefined, {
        fromMs,
        toMs,
        maxDataPoints: 600,
        selections: {},
        database: options.database,
      });
      const result = await limit(() => runQuery(options.client, expandQuery(definition.sql, ctx)));
      return { name: definition.name, values: result.rows.map((r) => String(r[0] ?? '')) };
    },
  );

  app.get<{ Params: { dashboard: string }; Querystring: Query }>(
    '/api/annotations/:dashboard',
    async (request) => {
      const dashboard = dashboardBySlug(request.params.dashboard);
      const { fromMs, toMs } = rangeOf(request.query, now());
      const ctx = panelContext(dashboard, undefined, {
        fromMs,
        toMs,
        maxDataPoints: 600,
        selections: selectionsOf(request.query),
        database: options.database,
      });
      const annotations = [];
      for (const annotation of dashboard.annotations) {
        const result = await limit(() => runQuery(options.client, expandQuery(annotation.sql, ctx)));
        const index = (name: string): number => result.columns.findIndex((c) => c.name === name);
        const [time, title, text, tags] = ['time', 'title', 'text', 'tags'].map(index) as [
          number,
          number,
          number,
          number,
        ];
        for (const row of result.rows) {
          annotations.push({
            source: annotation.name,
            color: annotation.color,
            time: Number(row[time]),
            title: String(row[title] ?? ''),
            text: String(row[text] ?? ''),
            tags: String(row[tags] ?? ''),
          });
        }
      }
      return { annotations };
    },
  );

  return { app };
}
