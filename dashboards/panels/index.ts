/** Every dashboard, in the order the page shows them. */
import { cdnDashboard } from './cdn.ts';
import { experimentsDashboard } from './experiments.ts';
import { pipelineDashboard } from './pipeline.ts';
import { qoeDashboard } from './qoe.ts';
import { variable } from './sql.ts';
import type { DashboardDefinition, PanelDefinition, VariableDefinition } from './types.ts';

export const DASHBOARDS: readonly DashboardDefinition[] = [
  qoeDashboard,
  cdnDashboard,
  experimentsDashboard,
  pipelineDashboard,
];

export interface LocatedPanel {
  readonly dashboard: DashboardDefinition;
  readonly panel: PanelDefinition;
}

export function allPanels(dashboards: readonly DashboardDefinition[] = DASHBOARDS): LocatedPanel[] {
  return dashboards.flatMap((dashboard) =>
    dashboard.rows.flatMap((row) => row.panels.map((panel) => ({ dashboard, panel }))),
  );
}

export function findPanel(id: string): LocatedPanel | undefined {
  return allPanels().find((p) => p.panel.id === id);
}

/** The variables a dashboard's queries may reference: the hidden `db` plus its own. */
export function dashboardVariables(dashboard: DashboardDefinition): VariableDefinition[] {
  return ['db', ...dashboard.variables].map(variable);
}
