/**
 * Which OCA holds which title. Storage OCAs hold the whole catalog. Edge OCAs hold what the
 * proactive fill put there: each region's most popular titles, as many as fit in the fill
 * budget of the edge's cache (control-plane/oca/fill.ts, the plan the fleet itself runs).
 * The control plane predicts the same plan from the same inputs, so it knows what each edge
 * holds without asking it on the request path.
 *
 * An edge nobody has predicted anything for (no viewing data yet for its region) is presumed
 * to hold every title: it fills on a miss, and ruling it out would send a cold start's whole
 * audience to storage. Pure.
 */
import type { Catalog } from '../media/catalog.ts';
import { planProactiveFill, type RegionPrediction } from '../oca/fill.ts';
import type { OcaDescriptor } from './ranking.ts';

export type AvailabilitySource = 'presumed' | 'clickhouse' | 'fill-report';

export interface Availability {
  readonly source: AvailabilitySource;
  /** When the inputs were read (epoch ms); 0 for the presumed availability. */
  readonly asOfMs: number;
  /** Edge id -> the titles it holds. An edge absent here is presumed to hold every title. */
  readonly edgeTitles: ReadonlyMap<string, ReadonlySet<string>>;
}

export const PRESUMED_AVAILABILITY: Availability = Object.freeze({
  source: 'presumed',
  asOfMs: 0,
  edgeTitles: new Map<string, ReadonlySet<string>>(),
});

/** Whether `oca` holds `titleId` (the caller has checked the title is in the catalog). */
export function holdsTitle(availability: Availability, oca: OcaDescriptor, titleId: string): boolean {
  if (oca.tier === 'storage') return true;
  const titles = availability.edgeTitles.get(oca.id);
  return titles === undefined || titles.has(titleId);
}

/**
 * Each edge's holdings from regional popularity: the proactive fill plan of its region's
 * prediction within `capacityBytes * budgetFraction`, exactly as the fleet fills it.
 */
export function availabilityFromPredictions(
  ocas: readonly OcaDescriptor[],
  predictions: readonly RegionPrediction[],
  catalog: Catalog,
  budgetFraction: number,
  asOfMs: number,
): Availability {
  if (!(budgetFraction > 0 && budgetFraction <= 1)) throw new RangeError('budgetFraction must be in (0, 1]');
  const byRegion = new Map(predictions.map((p) => [p.region, p]));
  const edgeTitles = new Map<string, ReadonlySet<string>>();
  // Edges of one region and one size get the same plan: compute it once.
  const plans = new Map<string, ReadonlySet<string>>();
  for (const oca of ocas) {
    if (oca.tier !== 'edge') continue;
    const prediction = byRegion.get(oca.region);
    if (prediction === undefined || oca.capacityBytes === undefined) continue;
    const key = `${oca.region}\u0000${oca.capacityBytes}`;
    let titles = plans.get(key);
    if (titles === undefined) {
      titles = new Set(
        planProactiveFill(prediction.titles, catalog, oca.capacityBytes * budgetFraction).titles,
      );
      plans.set(key, titles);
    }
    edgeTitles.set(oca.id, titles);
  }
  return { source: 'clickhouse', asOfMs, edgeTitles };
}

/** Holdings from fill reports (`OcaFleet.proactiveFill`), when the fleet shares a process. */
export function availabilityFromFillReports(
  reports: ReadonlyArray<{ readonly ocaId: string; readonly plan: { readonly titles: readonly string[] } }>,
  asOfMs: number,
): Availability {
  const edgeTitles = new Map<string, ReadonlySet<string>>();
  for (const report of reports) edgeTitles.set(report.ocaId, new Set(report.plan.titles));
  return { source: 'fill-report', asOfMs, edgeTitles };
}
