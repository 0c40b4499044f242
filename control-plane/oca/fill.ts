/**
 * Proactive fill: before viewers ask, put the titles a region is predicted to watch on the
 * edge OCAs in that region, so peak-hour requests hit the edge instead of crossing to
 * storage. Netflix Open Connect fills its appliances off-peak from a popularity prediction
 * per region ("Content Popularity for Open Connect", Netflix Technology Blog, 2020); here the
 * prediction comes from ClickHouse viewing data and the plan is pure.
 */
import type { Catalog } from '../media/catalog.ts';

export interface TitlePopularity {
  readonly titleId: string;
  /** Predicted views over the coming period; only the order and zero matter to the plan. */
  readonly expectedViews: number;
}

export interface RegionPrediction {
  readonly region: string;
  readonly titles: readonly TitlePopularity[];
}

export interface FillObject {
  readonly titleId: string;
  /** File path within the title's ladder, e.g. `720p/seg_00003.m4s`. */
  readonly path: string;
  readonly bytes: number;
}

export interface FillPlan {
  /** Titles chosen, most popular first. */
  readonly titles: readonly string[];
  /**
   * Objects in insertion order: least popular title first, so in an LRU cache the most
   * popular titles end up most recently used and are the last to be evicted.
   */
  readonly objects: readonly FillObject[];
  readonly bytes: number;
  /** Popular titles that did not fit in the budget or are not in the catalog. */
  readonly skipped: readonly string[];
}

/**
 * Greedy by predicted views: whole titles (every rendition, playlists and init segments) in
 * descending popularity while they fit in `budgetBytes`; a title too large for what is left
 * is skipped and smaller, less popular ones may still fit. Ties break by title id so the plan
 * is deterministic.
 */
export function planProactiveFill(
  titles: readonly TitlePopularity[],
  catalog: Catalog,
  budgetBytes: number,
): FillPlan {
  const ranked = titles
    .filter((t) => t.expectedViews > 0)
    .sort((a, b) => b.expectedViews - a.expectedViews || (a.titleId < b.titleId ? -1 : 1));
  const chosen: string[] = [];
  const skipped: string[] = [];
  const perTitle: FillObject[][] = [];
  let bytes = 0;
  for (const { titleId } of ranked) {
    const ladder = catalog.ladderOf(titleId);
    if (ladder === undefined || chosen.includes(titleId)) {
      skipped.push(titleId);
      continue;
    }
    if (bytes + ladder.totalBytes > budgetBytes) {
      skipped.push(titleId);
      continue;
    }
    chosen.push(titleId);
    bytes += ladder.totalBytes;
    perTitle.push([...ladder.files.values()].map((f) => ({ titleId, path: f.path, bytes: f.bytes })));
  }
  return { titles: chosen, objects: perTitle.reverse().flat(), bytes, skipped };
}

export interface ViewingRow {
  readonly region: string;
  readonly titleId: string;
  /** Start of the time bucket the views were counted in (epoch ms). */
  readonly bucketStartMs: number;
  readonly views: number;
}

/**
 * Predicted popularity per region from past views: an exponentially decayed count, each
 * bucket weighted 2^(-age / halfLife), the estimator behind EWMA popularity models (recent
 * interest predicts near-future interest; a title's audience decays over days). Buckets in
 * the future get weight 1. Returns one prediction per region, titles most popular first.
 */
export function predictRegionalPopularity(
  rows: readonly ViewingRow[],
  options: { readonly nowMs: number; readonly halfLifeHours: number },
): RegionPrediction[] {
  if (!(options.halfLifeHours > 0)) throw new RangeError('halfLifeHours must be positive');
  const halfLifeMs = options.halfLifeHours * 3_600_000;
  const byRegion = new Map<string, Map<string, number>>();
  for (const row of rows) {
    if (!(row.views > 0)) continue;
    const ageMs = Math.max(0, options.nowMs - row.bucketStartMs);
    const weight = 2 ** (-ageMs / halfLifeMs);
    const titles = byRegion.get(row.region) ?? new Map<string, number>();
    titles.set(row.titleId, (titles.get(row.titleId) ?? 0) + row.views * weight);
    byRegion.set(row.region, titles);
  }
  return [...byRegion.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([region, titles]) => ({
      region,
      titles: [...titles.entries()]
        .map(([titleId, expectedViews]) => ({ titleId, expectedViews }))
        .sort((a, b) => b.expectedViews - a.expectedViews || (a.titleId < b.titleId ? -1 : 1)),
    }));
}
