/**
 * Which module starts each role. Loaded lazily, so a process running only `ingest` never
 * loads the processors' code (or chDB).
 */
import { PlayloopError } from '../core/errors.ts';
import { ROLE_NAMES, type RoleName, type StartRole } from './role.ts';

const loaders: Partial<Record<RoleName, () => Promise<StartRole>>> = {
  processors: async () => (await import('../processors/role.ts')).startProcessors,
  'control-plane': async () => (await import('../control-plane/role.ts')).startControlPlane,
  ingest: async () => (await import('../producers/ingest/role.ts')).startIngest,
  dashboard: async () => {
    const { startDashboard } = await import('../dashboards/role.ts');
    const { processInstance } = await import('../dashboards/snapshot.ts');
    // Snapshot the registries of the roles started before it in this process.
    return (ctx) =>
      startDashboard(ctx, {
        metricsSources: () =>
          (ctx.runningMetrics?.() ?? []).map((m) => ({
            component: m.role,
            instance: processInstance(),
            registry: m.registry,
          })),
      });
  },
};

/** Start order: consumers before the endpoints that feed them, the dashboard last. */
export const START_ORDER: readonly RoleName[] = ['processors', 'control-plane', 'ingest', 'dashboard'];

export function availableRoles(): RoleName[] {
  return START_ORDER.filter((r) => loaders[r] !== undefined);
}

export function parseRoles(value: string | undefined): RoleName[] {
  if (value === undefined || value === '' || value === 'all') return availableRoles();
  const asked = value.split(',').map((s) => s.trim());
  for (const name of asked) {
    if (!(ROLE_NAMES as readonly string[]).includes(name)) {
      throw new PlayloopError('USAGE', `unknown role "${name}"; roles: ${ROLE_NAMES.join(', ')}`);
    }
    if (loaders[name as RoleName] === undefined) {
      throw new PlayloopError(
        'USAGE',
        `role "${name}" is not available in this build; available: ${availableRoles().join(', ')}`,
      );
    }
  }
  return START_ORDER.filter((r) => asked.includes(r));
}

export async function loadRole(name: RoleName): Promise<StartRole> {
  const loader = loaders[name];
  if (!loader) throw new PlayloopError('USAGE', `role "${name}" is not available`);
  return loader();
}
