/**
 * The panel definitions hold together, and the Grafana JSON in dashboards/ is exactly what
 * they generate: every variable a query names exists, multi-value variables only appear
 * inside $__conditionalAll, every macro is one the plugin has, every table exists in a
 * migration, and every dashboard names the provisioned datasource.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../core/config.ts';
import { defaultMigrationsDir } from '../../infra/clickhouse.ts';
import { staleFiles } from '../gen.ts';
import { DATASOURCE, GRAFANA_REFRESH, grafanaDashboard, SCHEMA_VERSION } from '../grafana.ts';
import { expandPanel, type Selections } from '../query/context.ts';
import { MACRO_NAMES } from '../query/macros.ts';
import { allPanels, DASHBOARDS, dashboardVariables } from './index.ts';
import { variable } from './sql.ts';

const root = join(import.meta.dirname, '..', '..');
const migrations = readdirSync(defaultMigrationsDir())
  .filter((f) => f.endsWith('.sql'))
  .map((f) => readFileSync(join(defaultMigrationsDir(), f), 'utf8'))
  .join('\n');

function queriesOf(slug: string): string[] {
  const dashboard = DASHBOARDS.find((d) => d.slug === slug);
  if (!dashboard) return [];
  return [
    ...dashboard.rows.flatMap((r) => r.panels.map((p) => p.sql)),
    ...dashboard.annotations.map((a) => a.sql),
    ...dashboardVariables(dashboard).flatMap((v) => (v.type === 'query' ? [v.sql] : [])),
  ];
}

describe('panel definitions', () => {
  it('have unique ids, dashboards unique uids and slugs', () => {
    const ids = allPanels().map((p) => p.panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(new Set(DASHBOARDS.map((d) => d.uid)).size).toBe(DASHBOARDS.length);
    expect(new Set(DASHBOARDS.map((d) => d.slug)).size).toBe(DASHBOARDS.length);
  });

  it('name only variables their dashboard defines, and only macros the plugin has', () => {
    const known = new Set([...MACRO_NAMES, 'conditionalAll', 'from', 'to']);
    for (const dashboard of DASHBOARDS) {
      const names = new Set(dashboardVariables(dashboard).map((v) => v.name));
      for (const sql of queriesOf(dashboard.slug)) {
        for (const m of sql.matchAll(/\$\{(\w+)\}|\$(\w+)/g)) {
          const name = (m[1] ?? m[2]) as string;
          if (name.startsWith('__'))
            expect(known.has(name.slice(2)), `${dashboard.slug}: ${m[0]}`).toBe(true);
          else expect(names.has(name), `${dashboard.slug}: ${m[0]}`).toBe(true);
        }
      }
    }
  });

  it('read only tables the migrations create', () => {
    for (const { panel } of allPanels()) {
      for (const m of panel.sql.matchAll(/\$\{db\}\.(\w+)/g)) {
        expect(migrations, `${panel.id} reads ${m[1]}`).toMatch(
          new RegExp(`CREATE TABLE IF NOT EXISTS \\{db\\}\\.${m[1]}\\b`),
        );
      }
    }
  });

  it('expand with every variable at All (multi-value variables only inside $__conditionalAll) and with a selection', () => {
    const request = {
      fromMs: 1_700_000_000_000,
      toMs: 1_700_000_900_000,
      maxDataPoints: 500,
      database: 'db1',
    };
    for (const { dashboard, panel } of allPanels()) {
      const atAll = expandPanel(dashboard, panel, { ...request, selections: {} }).sql;
      expect(atAll, panel.id).not.toMatch(/\$(\{)?\w/);
      expect(atAll).not.toContain('${');
      const selections: Record<string, string[]> = {};
      for (const v of dashboardVariables(dashboard))
        if (v.type === 'query') selections[v.name] = [`pick-${v.name}`];
      const picked = expandPanel(dashboard, panel, { ...request, selections: selections as Selections }).sql;
      for (const name of Object.keys(selections)) {
        const used = panel.sql.includes(`$${name}`);
        expect(picked.includes(`'pick-${name}'`), `${panel.id} uses $${name}`).toBe(used);
      }
    }
  });

  it('declare a time column for time series and sizes inside the 24-column grid', () => {
    for (const { panel } of allPanels()) {
      if (panel.kind === 'timeseries') expect(panel.fields.time, panel.id).toBe('time');
      expect(panel.width).toBeGreaterThanOrEqual(1);
      expect(panel.width).toBeLessThanOrEqual(24);
      expect(panel.fields.values.length, panel.id).toBeGreaterThan(0);
    }
  });

  it('cover the four dashboards the issue names, with their variables', () => {
    const bySlug = new Map(DASHBOARDS.map((d) => [d.slug, d]));
    expect([...bySlug.keys()]).toEqual(['qoe-overview', 'cdn-steering', 'experiments', 'pipeline-health']);
    const variables = new Set(DASHBOARDS.flatMap((d) => d.variables));
    for (const name of ['oca', 'isp', 'device', 'title', 'experiment'])
      expect(variables.has(name), name).toBe(true);
    expect(bySlug.get('cdn-steering')?.annotations.map((a) => a.name)).toEqual(['Steering changes']);
  });
});

describe('Grafana JSON', () => {
  it('in dashboards/ is what the definitions generate (npm run dashboards:gen)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('uses the provisioned datasource, whose default database is the db constant and the config default', () => {
    const provisioning = parse(
      readFileSync(join(root, 'dashboards/provisioning/datasources/clickhouse.yaml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string; jsonData: { defaultDatabase: string } }> };
    const ds = provisioning.datasources[0];
    expect(ds?.uid).toBe(DATASOURCE.uid);
    expect(ds?.type).toBe(DATASOURCE.type);
    const db = variable('db');
    expect(db.type === 'constant' ? db.value : undefined).toBe(ds?.jsonData.defaultDatabase);
    expect(loadConfig({ env: {} }).clickhouse.database).toBe(ds?.jsonData.defaultDatabase);
  });

  it('has the shape Grafana and the ClickHouse plugin read', () => {
    for (const dashboard of DASHBOARDS) {
      const json = JSON.parse(readFileSync(join(root, 'dashboards', `${dashboard.slug}.json`), 'utf8')) as {
        uid: string;
        schemaVersion: number;
        time: { from: string; to: string };
        refresh: string;
        templating: {
          list: Array<{ name: string; type: string; hide?: number; datasource?: { uid: string } }>;
        };
        annotations: {
          list: Array<{ name: string; datasource: { uid: string }; target?: { rawSql: string } }>;
        };
        panels: Array<{
          type: string;
          title: string;
          datasource?: { type: string; uid: string };
          gridPos: { x: number; w: number };
          targets?: Array<{
            rawSql: string;
            format: number;
            queryType: string;
            editorType: string;
            pluginVersion: string;
          }>;
        }>;
      };
      expect(json).toEqual(grafanaDashboard(dashboard));
      expect(json.uid).toBe(dashboard.uid);
      expect(json.schemaVersion).toBeGreaterThanOrEqual(SCHEMA_VERSION);
      expect(json.time).toEqual({ from: 'now-15m', to: 'now' });
      expect(json.refresh).toBe(GRAFANA_REFRESH);
      const db = json.templating.list.find((v) => v.name === 'db');
      expect(db).toMatchObject({ type: 'constant', hide: 2 });
      for (const v of json.templating.list.filter((x) => x.type === 'query'))
        expect(v.datasource?.uid).toBe(DATASOURCE.uid);
      const panels = json.panels.filter((p) => p.type !== 'row');
      const definitions = dashboard.rows.flatMap((r) => r.panels);
      expect(panels.map((p) => p.title)).toEqual(definitions.map((d) => d.title));
      panels.forEach((p, i) => {
        const definition = definitions[i];
        expect(p.datasource).toEqual(DATASOURCE);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        const target = p.targets?.[0];
        expect(target?.rawSql).toBe(definition?.sql);
        expect(target?.editorType).toBe('sql');
        expect(target?.format).toBe(definition?.kind === 'timeseries' ? 0 : 1);
        expect(target?.queryType).toBe(definition?.kind === 'timeseries' ? 'timeseries' : 'table');
        expect(Number(target?.pluginVersion.split('.')[0])).toBeGreaterThanOrEqual(4);
      });
      for (const a of json.annotations.list.filter((x) => x.target))
        expect(a.datasource.uid).toBe(DATASOURCE.uid);
    }
  });
});
