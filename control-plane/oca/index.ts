/**
 * The OCA fleet's public surface, and a one-call start from the validated config for the
 * `control-plane` role: encode (or load) the ladder, build the catalog, load the signing
 * keys, start the default fleet.
 */
import type { PlayloopConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { type Catalog, defaultTitleIds, sharedLadderCatalog } from '../media/catalog.ts';
import { ensureLadder, type Ladder } from '../media/ladder.ts';
import { DEFAULT_LADDER, type LadderSpec } from '../media/ladder-spec.ts';
import { type Keyring, keyringFromConfig } from '../signing/url-signing.ts';
import { type OcaFleet, startOcaFleet } from './fleet.ts';
import type { CmcdRecord } from './server.ts';
import { defaultFleetSpec, type FleetSpec } from './spec.ts';

export type { CmcdData, CmcdValue } from './cmcd.ts';
export {
  type CmcdForwarder,
  type CmcdForwarderStats,
  createCmcdForwarder,
  type IngestBeacon,
  ingestBeacon,
} from './cmcd-forward.ts';
export type { Degradation, DegradationInput } from './degrade.ts';
export {
  type FillPlan,
  planProactiveFill,
  predictRegionalPopularity,
  type RegionPrediction,
  type TitlePopularity,
  type ViewingRow,
} from './fill.ts';
export {
  type FleetDeps,
  type OcaFleet,
  type OcaInfo,
  type ProactiveFillReport,
  startOcaFleet,
} from './fleet.ts';
export type { CacheStats, CmcdRecord, FillResult, OcaStats } from './server.ts';
export { defaultFleetSpec, type FleetSpec, type OcaSpec, type OcaTier, validateFleetSpec } from './spec.ts';

export interface ConfiguredFleet {
  readonly fleet: OcaFleet;
  readonly ladder: Ladder;
  readonly catalog: Catalog;
  readonly keyring: Keyring;
}

export async function startConfiguredOcaFleet(
  config: PlayloopConfig,
  options: {
    readonly log?: Logger;
    readonly titleIds?: readonly string[];
    readonly ladderSpec?: LadderSpec;
    readonly fleetSpec?: FleetSpec;
    readonly onCmcd?: (record: CmcdRecord) => void;
    readonly signal?: AbortSignal;
  } = {},
): Promise<ConfiguredFleet> {
  const ladder = await ensureLadder(config.dataDir, options.ladderSpec ?? DEFAULT_LADDER, {
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const catalog = sharedLadderCatalog(options.titleIds ?? defaultTitleIds(20), ladder);
  const keyring = keyringFromConfig(config.signing.keys);
  const fleet = await startOcaFleet(options.fleetSpec ?? defaultFleetSpec(config.oca), {
    catalog,
    keyring,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.onCmcd === undefined ? {} : { onCmcd: options.onCmcd }),
  });
  return { fleet, ladder, catalog, keyring };
}
