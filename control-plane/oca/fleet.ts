/**
 * Many OCAs in one process: each its own fastify server on its own port, storage OCAs first
 * so every edge knows where to fill from. The handle lets the loop (and tests) degrade an
 * OCA, read everyone's counters, and run a proactive fill from a popularity prediction.
 */
import type { Logger } from '../../core/log.ts';
import { silentLogger } from '../../core/log.ts';
import type { Catalog } from '../media/catalog.ts';
import type { Keyring } from '../signing/url-signing.ts';
import type { Degradation, DegradationInput } from './degrade.ts';
import { type FillPlan, planProactiveFill, type RegionPrediction } from './fill.ts';
import { type CmcdRecord, createOca, type FillResult, type Oca, type OcaStats } from './server.ts';
import { type FleetSpec, type OcaTier, portOf, validateFleetSpec } from './spec.ts';

export interface FleetDeps {
  readonly catalog: Catalog;
  readonly keyring: Keyring;
  readonly log?: Logger;
  /** Clock for signature expiry; Date.now by default. */
  readonly nowMs?: () => number;
  readonly onCmcd?: (record: CmcdRecord) => void;
  readonly upstreamTimeoutMs?: number;
}

export interface OcaInfo {
  readonly id: string;
  readonly tier: OcaTier;
  readonly region: string;
  readonly isp: string;
  readonly url: string;
  readonly port: number;
  readonly capacityBytes: number | undefined;
  /** For an edge, the storage OCA it fills from. */
  readonly upstreamId: string | undefined;
}

export interface ProactiveFillReport {
  readonly ocaId: string;
  readonly region: string;
  readonly plan: FillPlan;
  readonly result: FillResult;
}

export interface OcaFleet {
  readonly ocas: readonly OcaInfo[];
  get(id: string): OcaInfo;
  degrade(id: string, degradation: DegradationInput): Degradation;
  restore(id: string): void;
  stats(): OcaStats[];
  recentCmcd(id: string, limit?: number): CmcdRecord[];
  /** Prometheus text of one OCA (each OCA keeps its own registry). */
  metrics(id: string): Promise<string>;
  /**
   * Fills every edge OCA in each predicted region with that region's most popular titles,
   * up to `budgetFraction` of its cache (the rest stays free for the long tail's misses).
   */
  proactiveFill(
    predictions: readonly RegionPrediction[],
    options?: { budgetFraction?: number; concurrency?: number },
  ): Promise<ProactiveFillReport[]>;
  stop(): Promise<void>;
}

export async function startOcaFleet(spec: FleetSpec, deps: FleetDeps): Promise<OcaFleet> {
  const fleet = validateFleetSpec(spec);
  const log = (deps.log ?? silentLogger).child({ component: 'oca-fleet' });
  const nowMs = deps.nowMs ?? Date.now;
  const started = new Map<string, { oca: Oca; info: OcaInfo }>();
  const order = fleet.ocas
    .map((oca, index) => ({ oca, index }))
    .sort((a, b) => (a.oca.tier === b.oca.tier ? a.index - b.index : a.oca.tier === 'storage' ? -1 : 1));
  try {
    for (const { oca: ocaSpec, index } of order) {
      const upstreamUrl =
        ocaSpec.upstream === undefined ? undefined : started.get(ocaSpec.upstream)?.info.url;
      const oca = createOca(ocaSpec, {
        catalog: deps.catalog,
        keyring: deps.keyring,
        log,
        nowMs,
        ...(upstreamUrl === undefined ? {} : { upstreamUrl }),
        ...(deps.onCmcd === undefined ? {} : { onCmcd: deps.onCmcd }),
        ...(deps.upstreamTimeoutMs === undefined ? {} : { upstreamTimeoutMs: deps.upstreamTimeoutMs }),
      });
      const url = await oca.listen(fleet.host, portOf(fleet, index));
      started.set(ocaSpec.id, {
        oca,
        info: Object.freeze({
          id: ocaSpec.id,
          tier: ocaSpec.tier,
          region: ocaSpec.region,
          isp: ocaSpec.isp,
          url,
          port: Number(new URL(url).port),
          capacityBytes: ocaSpec.tier === 'edge' ? ocaSpec.capacityBytes : undefined,
          upstreamId: ocaSpec.upstream,
        }),
      });
    }
  } catch (err) {
    await Promise.allSettled([...started.values()].map(({ oca }) => oca.close()));
    throw err;
  }
  // Listed in spec order, whatever order they started in.
  const ocas = Object.freeze(fleet.ocas.map((o) => (started.get(o.id) as { info: OcaInfo }).info));
  log.info({ ocas: ocas.map((o) => `${o.id}=${o.url}`) }, 'OCA fleet up');

  const ocaOf = (id: string): Oca => {
    const entry = started.get(id);
    if (entry === undefined) throw new TypeError(`no OCA ${id} in this fleet`);
    return entry.oca;
  };

  return {
    ocas,
    get: (id) => {
      const entry = started.get(id);
      if (entry === undefined) throw new TypeError(`no OCA ${id} in this fleet`);
      return entry.info;
    },
    degrade: (id, degradation) => ocaOf(id).degrade(degradation),
    restore: (id) => ocaOf(id).restore(),
    stats: () => fleet.ocas.map((o) => ocaOf(o.id).stats()),
    recentCmcd: (id, limit) => ocaOf(id).recentCmcd(limit),
    metrics: (id) => ocaOf(id).metrics.registry.metrics(),
    async proactiveFill(predictions, options = {}) {
      const fraction = options.budgetFraction ?? 0.8;
      if (!(fraction > 0 && fraction <= 1)) throw new RangeError('budgetFraction must be in (0, 1]');
      const jobs: Array<Promise<ProactiveFillReport>> = [];
      for (const prediction of predictions) {
        for (const info of ocas) {
          if (info.tier !== 'edge' || info.region !== prediction.region) continue;
          const plan = planProactiveFill(
            prediction.titles,
            deps.catalog,
            (info.capacityBytes ?? 0) * fraction,
          );
          jobs.push(
            ocaOf(info.id)
              .fill(
                plan.objects,
                options.concurrency === undefined ? {} : { concurrency: options.concurrency },
              )
              .then((result) => ({ ocaId: info.id, region: info.region, plan, result })),
          );
        }
      }
      return Promise.all(jobs);
    },
    async stop() {
      await Promise.allSettled([...started.values()].map(({ oca }) => oca.close()));
    },
  };
}
