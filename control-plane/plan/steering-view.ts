/**
 * The steering config a viewer falls under: documents of config.steering are keyed by
 * scope, and a viewer is covered by up to three of them, most specific first:
 * `isp:<isp>`, `region:<region>`, `global`. Each OCA's health comes from the most specific
 * document that mentions it (an ISP document need not repeat every storage OCA); the TTL
 * from the most specific document there is. Pure.
 */
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import type { OcaHealthView, ViewerLocation } from './ranking.ts';

export interface SteeringView {
  /** TTL of the most specific document, before the server's floor and ceiling. */
  readonly ttlSec: number | undefined;
  readonly health: ReadonlyMap<string, OcaHealthView>;
  /** The documents consulted, most specific first, as `scope@version`. */
  readonly versions: readonly string[];
}

export const EMPTY_STEERING_VIEW: SteeringView = Object.freeze({
  ttlSec: undefined,
  health: new Map<string, OcaHealthView>(),
  versions: Object.freeze([]),
});

export function steeringScopes(viewer: ViewerLocation): string[] {
  const scopes: string[] = [];
  if (viewer.isp !== null) scopes.push(`isp:${viewer.isp}`);
  if (viewer.region !== null) scopes.push(`region:${viewer.region}`);
  scopes.push('global');
  return scopes;
}

export function steeringView(
  lookup: (scope: string) => SteeringConfig | undefined,
  viewer: ViewerLocation,
): SteeringView {
  const health = new Map<string, OcaHealthView>();
  const versions: string[] = [];
  let ttlSec: number | undefined;
  for (const scope of steeringScopes(viewer)) {
    const doc = lookup(scope);
    if (doc === undefined) continue;
    versions.push(`${doc.scope}@${doc.version}`);
    ttlSec ??= doc.ttlSec;
    for (const oca of doc.ocas) {
      if (!health.has(oca.ocaId)) health.set(oca.ocaId, { state: oca.state, score: clampScore(oca.score) });
    }
  }
  return { ttlSec, health, versions };
}

/** The schema promises [0, 1]; a NaN or out-of-range score must not reorder everything. */
function clampScore(score: number): number {
  if (!Number.isFinite(score)) return 0;
  return Math.min(1, Math.max(0, score));
}

/** TTL actually served: the config's (or the default) within [floor, ceiling]. */
export function effectiveTtlSec(
  view: SteeringView,
  settings: { readonly ttlSec: number; readonly ttlFloorSec: number; readonly ttlCeilingSec: number },
): number {
  const wanted = view.ttlSec ?? settings.ttlSec;
  const whole = Number.isFinite(wanted) ? Math.round(wanted) : settings.ttlSec;
  return Math.min(settings.ttlCeilingSec, Math.max(settings.ttlFloorSec, whole));
}
