/**
 * From a request (time range, points the chart can show, variable selections) to the exact
 * SQL of a panel, with the variables resolved as Grafana resolves them for these dashboards.
 */
import { PlayloopError } from '../../core/errors.ts';
import { dashboardVariables } from '../panels/index.ts';
import type { DashboardDefinition, PanelDefinition, VariableDefinition } from '../panels/types.ts';
import { calculateIntervalMs, parseDurationMs } from './interval.ts';
import { type ExpansionContext, expandQuery, type VariableValue } from './macros.ts';

/** Grafana's value for "every value" of a multi-value variable. */
export const ALL = '$__all';

/** Variable name -> selected values; absent or `['$__all']` is 'All' (the default). */
export type Selections = Readonly<Record<string, readonly string[] | undefined>>;

export interface PanelRequest {
  readonly fromMs: number;
  readonly toMs: number;
  /** Grafana's maxDataPoints: the chart's width in points. */
  readonly maxDataPoints: number;
  readonly selections: Selections;
  /** The ClickHouse database the `db` constant stands for. */
  readonly database: string;
}

export function resolveVariable(
  definition: VariableDefinition,
  selected: readonly string[] | undefined,
  database: string,
): VariableValue {
  switch (definition.type) {
    case 'constant':
      if (selected !== undefined) {
        throw new PlayloopError('BAD_REQUEST', `$${definition.name} is a constant and cannot be set`);
      }
      return { kind: 'single', values: [database], all: false };
    case 'custom': {
      const value = selected?.[0] ?? definition.default;
      if ((selected?.length ?? 1) !== 1 || !definition.options.some((o) => o.value === value)) {
        throw new PlayloopError(
          'BAD_REQUEST',
          `$${definition.name} must be one of ${definition.options.map((o) => o.value).join(', ')}`,
        );
      }
      // Inserted raw (a column name): only the fixed options ever get here.
      return { kind: 'single', values: [value], all: false };
    }
    case 'query': {
      if (selected === undefined || selected.length === 0 || selected.includes(ALL)) {
        return { kind: 'multi', values: [], all: true };
      }
      return { kind: 'multi', values: [...selected], all: false };
    }
  }
}

export function resolveVariables(
  dashboard: DashboardDefinition,
  selections: Selections,
  database: string,
): Record<string, VariableValue> {
  const definitions = dashboardVariables(dashboard);
  for (const name of Object.keys(selections)) {
    if (!definitions.some((d) => d.name === name)) {
      throw new PlayloopError('BAD_REQUEST', `dashboard ${dashboard.uid} has no variable ${name}`);
    }
  }
  return Object.fromEntries(
    definitions.map((d) => [d.name, resolveVariable(d, selections[d.name], database)]),
  );
}

export function validateRange(fromMs: number, toMs: number): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs >= toMs) {
    throw new PlayloopError('BAD_REQUEST', `time range from ${fromMs} to ${toMs} is empty or invalid`);
  }
}

/** The expansion context Grafana would build for this panel and request. */
export function panelContext(
  dashboard: DashboardDefinition,
  panel: PanelDefinition | undefined,
  request: PanelRequest,
): ExpansionContext {
  validateRange(request.fromMs, request.toMs);
  const minIntervalMs = panel?.minInterval === undefined ? 1 : parseDurationMs(panel.minInterval);
  return {
    fromMs: request.fromMs,
    toMs: request.toMs,
    intervalMs: calculateIntervalMs(request.toMs - request.fromMs, request.maxDataPoints, minIntervalMs),
    variables: resolveVariables(dashboard, request.selections, request.database),
  };
}

export function expandPanel(
  dashboard: DashboardDefinition,
  panel: PanelDefinition,
  request: PanelRequest,
): { sql: string; intervalMs: number } {
  const ctx = panelContext(dashboard, panel, request);
  return { sql: expandQuery(panel.sql, ctx), intervalMs: ctx.intervalMs };
}
