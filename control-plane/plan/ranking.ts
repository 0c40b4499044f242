/**
 * Which OCAs a viewer is sent to for a title, best first. Pure: the same inputs give the
 * same order in the plan and in every steering manifest of the session.
 *
 * 1. Availability. Only OCAs that hold the title are candidates (Open Connect's steering
 *    service likewise returns only appliances that have the file: "Netflix and Fill",
 *    Netflix Technology Blog 2016). Storage OCAs hold the whole catalog.
 * 2. Health, from the steering config of the viewer's scope. A drained OCA is left out
 *    unless nothing else holds the title (then the drained holders are all there is, in
 *    the order below). Under the `health-weighted` policy healthy OCAs come before degraded
 *    ones; under `proximity-only` (the experiment's control cell: no QoE feedback) state
 *    and score are ignored, except that drained is still drained.
 * 3. Proximity: an edge in the viewer's ISP, then an edge in the viewer's region, then the
 *    storage OCA of the viewer's region, then other storage, then edges elsewhere (an edge
 *    embedded in another ISP's network is the farthest path of all).
 * 4. Among equals, weighted rendezvous hashing (highest random weight, Thaler & Ravishankar,
 *    "Using name-based mappings to increase hit rates", IEEE/ACM ToN 1998; weighted form by
 *    the logarithmic method, Schindelhauer & Schomaker 2005): each (title, OCA) pair draws a
 *    pseudo-random key -w / ln(u), with u uniform from a hash and w the OCA's health score.
 *    A title keeps landing on the same OCA (cache affinity); different titles spread over
 *    equal OCAs in proportion to their scores, instead of every viewer piling onto the OCA
 *    whose score is a hair better (herding, then flapping).
 */

import { murmur3x86_32 } from '../../experiments/assignment/murmur3.ts';
import type { SteeringPolicy } from '../../experiments/definitions/vocabulary.ts';
import type { OcaState } from '../../schemas/generated/steering-config.ts';

export type OcaTier = 'edge' | 'storage';

/** What ranking needs to know about an OCA (the fleet's OcaInfo has all of it). */
export interface OcaDescriptor {
  readonly id: string;
  readonly tier: OcaTier;
  readonly region: string;
  readonly isp: string;
  /** Base URL, e.g. `http://127.0.0.1:7102`. */
  readonly url: string;
  /** Edge cache size; availability planning needs it. */
  readonly capacityBytes?: number | undefined;
}

export const PROXIMITY = [
  'isp-edge',
  'region-edge',
  'region-storage',
  'remote-storage',
  'remote-edge',
] as const;
export type Proximity = (typeof PROXIMITY)[number];

export interface ViewerLocation {
  readonly isp: string | null;
  readonly region: string | null;
}

export interface OcaHealthView {
  readonly state: OcaState;
  /** 0 (unusable) to 1 (perfect). */
  readonly score: number;
}

/** No evidence is no reason to avoid an OCA: it is presumed healthy, so it earns some. */
export const PRESUMED_HEALTHY: OcaHealthView = Object.freeze({ state: 'healthy', score: 1 });

export interface RankInput {
  readonly titleId: string;
  readonly viewer: ViewerLocation;
  readonly policy: SteeringPolicy;
  /** The OCAs to consider, in any order. */
  readonly ocas: readonly OcaDescriptor[];
  readonly holds: (oca: OcaDescriptor) => boolean;
  readonly health: (ocaId: string) => OcaHealthView | undefined;
}

export interface RankedOca {
  readonly oca: OcaDescriptor;
  readonly proximity: Proximity;
  readonly state: OcaState;
  readonly score: number;
  /** False when the steering config says nothing about this OCA. */
  readonly healthKnown: boolean;
}

export type ExclusionReason = 'not-holding-title' | 'drained';

export interface Ranking {
  readonly ranked: readonly RankedOca[];
  readonly excluded: ReadonlyArray<{ readonly oca: OcaDescriptor; readonly reason: ExclusionReason }>;
  /** Every holder was drained, so the drained ones were ranked anyway. */
  readonly lastResort: boolean;
}

export function proximityOf(oca: OcaDescriptor, viewer: ViewerLocation): Proximity {
  const sameRegion = viewer.region !== null && oca.region === viewer.region;
  if (oca.tier === 'storage') return sameRegion ? 'region-storage' : 'remote-storage';
  if (viewer.isp !== null && oca.isp === viewer.isp) return 'isp-edge';
  return sameRegion ? 'region-edge' : 'remote-edge';
}

const PROXIMITY_RANK: Readonly<Record<Proximity, number>> = {
  'isp-edge': 0,
  'region-edge': 1,
  'region-storage': 2,
  'remote-storage': 3,
  'remote-edge': 4,
};

const STATE_RANK: Readonly<Record<OcaState, number>> = { healthy: 0, degraded: 1, drained: 2 };

/** A score of 0 still orders (last among equals) rather than dividing by nothing. */
const MIN_WEIGHT = 1e-3;
const encoder = new TextEncoder();
const scratch = new Uint8Array(1024);

/** Uniform in (0, 1) from (title, OCA): MurmurHash3 x86_32 of `titleId \0 ocaId`. */
export function rendezvousUniform(titleId: string, ocaId: string): number {
  const text = `${titleId}\u0000${ocaId}`;
  // UTF-8 takes at most 3 bytes per UTF-16 unit; longer text gets a buffer of its own.
  const bytes =
    text.length * 3 <= scratch.length
      ? scratch.subarray(0, encoder.encodeInto(text, scratch).written)
      : encoder.encode(text);
  const h = murmur3x86_32(bytes, 0);
  return (h + 0.5) / 4_294_967_296;
}

/** Weighted rendezvous key: the largest wins. -w / ln(u) with u in (0, 1), so positive. */
export function rendezvousKey(titleId: string, ocaId: string, weight: number): number {
  return -Math.max(weight, MIN_WEIGHT) / Math.log(rendezvousUniform(titleId, ocaId));
}

interface Candidate extends RankedOca {
  readonly order: number;
  readonly key: number;
}

function compare(a: Candidate, b: Candidate): number {
  return a.order - b.order || b.key - a.key || (a.oca.id < b.oca.id ? -1 : a.oca.id > b.oca.id ? 1 : 0);
}

export function rankOcas(input: RankInput): Ranking {
  const { titleId, viewer, policy } = input;
  const healthWeighted = policy === 'health-weighted';
  const live: Candidate[] = [];
  const drained: Candidate[] = [];
  const excluded: Array<{ oca: OcaDescriptor; reason: ExclusionReason }> = [];
  for (const oca of input.ocas) {
    if (!input.holds(oca)) {
      excluded.push({ oca, reason: 'not-holding-title' });
      continue;
    }
    const known = input.health(oca.id);
    const health = known ?? PRESUMED_HEALTHY;
    const proximity = proximityOf(oca, viewer);
    // Sort key: (state, proximity) as one number under health-weighted, proximity alone
    // otherwise; the rendezvous key breaks ties, weighted by score only when health counts.
    const order = (healthWeighted ? STATE_RANK[health.state] * 10 : 0) + PROXIMITY_RANK[proximity];
    const candidate: Candidate = {
      oca,
      proximity,
      state: health.state,
      score: health.score,
      healthKnown: known !== undefined,
      order,
      key: rendezvousKey(titleId, oca.id, healthWeighted ? health.score : 1),
    };
    (health.state === 'drained' ? drained : live).push(candidate);
  }
  const lastResort = live.length === 0 && drained.length > 0;
  const chosen = lastResort ? drained : live;
  if (!lastResort) for (const d of drained) excluded.push({ oca: d.oca, reason: 'drained' });
  chosen.sort(compare);
  return {
    ranked: chosen.map(({ oca, proximity, state, score, healthKnown }) => ({
      oca,
      proximity,
      state,
      score,
      healthKnown,
    })),
    excluded,
    lastResort,
  };
}
