/**
 * Builds playback plans, steering manifests and steered multivariant playlists from what the
 * control plane holds in memory: the catalog, the OCA fleet, the latest steering and ABR
 * configs, the experiment definitions and the availability. Nothing here does I/O; a plan is
 * a few map look-ups, the viewer's experiment buckets, two HMACs (media prefix, session
 * token) and its JSON written from cached pieces (render.ts).
 *
 * What is reused between requests, and dropped when its inputs change:
 * - per ladder: the renditions in their plan shape, and the playable subset per device
 *   capabilities (a handful of distinct capability sets in practice);
 * - per (ISP, region): the steering view, rebuilt when config.steering changes;
 * - per (title, ISP, region, policy): the ranking of the fleet, rebuilt when config.steering
 *   or the availability changes;
 * - per (device class, ISP, country): the config layers of ABR, rebuilt when config.abr
 *   changes, and per combination of experiment cells the effects of those cells and the ABR
 *   with them on top, rebuilt when the experiment list changes (a viewer's cells depend on
 *   the viewer id, so assignment itself runs per request);
 * - per each of those objects: its JSON (render.ts), keyed by the object itself, so a new
 *   config makes new JSON without any invalidation of its own.
 */

import { PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { toAllocationEvent } from '../../experiments/assignment/allocation-event.ts';
import {
  type Allocation,
  type AssignableExperiment,
  assignOne,
  mergeCellConfigs,
} from '../../experiments/assignment/assign.ts';
import type { AbrKnob, SteeringPolicy } from '../../experiments/definitions/vocabulary.ts';
import type { Source, VersionedDoc } from '../../infra/config-topic.ts';
import type { AbrConfig } from '../../schemas/generated/abr-config.ts';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import type { JwtKeyring } from '../auth/jwt.ts';
import { type SessionClaims, signSessionToken } from '../auth/session-token.ts';
import type { Catalog } from '../media/catalog.ts';
import type { Ladder, Rendition } from '../media/ladder.ts';
import { renderMultivariantPlaylist } from '../media/playlist.ts';
import { type Keyring, signMediaPrefix } from '../signing/url-signing.ts';
import { type SteeringManifest, steeringManifest } from '../steering/manifest.ts';
import { AbrIndex, type AbrOverride, type PlayerAbrConfig, type ResolvedAbr, withOverrides } from './abr.ts';
import type { AllocationSink } from './allocations.ts';
import { type Availability, holdsTitle } from './availability.ts';
import type { AvailabilityProvider } from './availability-refresher.ts';
import {
  type OcaDescriptor,
  type Proximity,
  type RankedOca,
  type Ranking,
  rankOcas,
  type ViewerLocation,
} from './ranking.ts';
import { PlanJsonWriter, type PlanParts, steeringPath, toPlaybackPlan } from './render.ts';
import { playableRenditions, startRendition } from './renditions.ts';
import type { PlaybackRequest } from './request.ts';
import { EMPTY_STEERING_VIEW, effectiveTtlSec, type SteeringView, steeringView } from './steering-view.ts';

/** What the control plane needs from a config table (infra/config-topic.ts ConfigTable has it). */
export interface ConfigReader<T extends VersionedDoc> {
  get(scope: string): T | undefined;
  all(): T[];
  health(): { source: Source; scopes: number; lastUpdateAt: number };
  onChange(listener: (doc: T) => void): () => void;
}

export interface PlannerSettings {
  /** Validity of the media grant and the session token. */
  readonly urlTtlSec: number;
  readonly steering: {
    readonly ttlSec: number;
    readonly ttlFloorSec: number;
    readonly ttlCeilingSec: number;
    readonly defaultPolicy: SteeringPolicy;
  };
}

export interface PlannerDeps {
  readonly catalog: Catalog;
  readonly ocas: readonly OcaDescriptor[];
  readonly steering: ConfigReader<SteeringConfig>;
  readonly abr: ConfigReader<AbrConfig>;
  readonly experiments: () => readonly AssignableExperiment[];
  readonly availability: AvailabilityProvider;
  readonly allocations: AllocationSink;
  readonly mediaKeyring: Keyring;
  readonly sessionRing: JwtKeyring;
  readonly settings: PlannerSettings;
  readonly log: Logger;
  readonly nowMs: () => number;
  readonly newSessionId: () => string;
  /** Told when a plan is served on a fallback (for a counter). */
  readonly onFallback?: (kind: string) => void;
}

export interface ViewerContext {
  readonly viewerId: string;
  readonly isp: string | null;
  readonly region: string | null;
  readonly country: string | null;
}

export interface PlannedOca {
  readonly id: string;
  readonly rank: number;
  readonly tier: OcaDescriptor['tier'];
  readonly proximity: Proximity;
  readonly region: string;
  readonly isp: string;
  readonly state: string;
  readonly score: number;
  readonly healthKnown: boolean;
  /**
   * The signed path prefix on this OCA: `<baseUrl><rendition>/<file>` is a media URL, and
   * `<baseUrl>master.m3u8` this OCA's own unsteered playlist (for players without steering).
   */
  readonly baseUrl: string;
}

export interface PlannedRendition {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  readonly codecs: string;
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  /** Media playlist path under an OCA's baseUrl. */
  readonly playlist: string;
}

export interface PlaybackPlan {
  readonly sessionId: string;
  readonly titleId: string;
  readonly viewerId: string;
  readonly issuedAtMs: number;
  /** The media URLs and the session token expire together (epoch seconds). */
  readonly expiresAtSec: number;
  /** The steered multivariant playlist (one Pathway per OCA), served by the control plane. */
  readonly manifestUrl: string;
  readonly steering: {
    readonly uri: string;
    readonly ttlSec: number;
    readonly pathwayId: string;
    readonly policy: SteeringPolicy;
  };
  readonly ocas: readonly PlannedOca[];
  readonly excludedOcas: ReadonlyArray<{ readonly id: string; readonly reason: string }>;
  readonly renditions: readonly PlannedRendition[];
  readonly startRenditionId: string | null;
  readonly abr: PlayerAbrConfig & {
    readonly knobs: ResolvedAbr['knobs'];
    readonly sources: ResolvedAbr['sources'];
  };
  readonly experiments: ReadonlyArray<{
    readonly key: string;
    readonly cell: string;
    readonly control: boolean;
  }>;
  readonly network: {
    readonly isp: string | null;
    readonly region: string | null;
    readonly country: string | null;
  };
  readonly config: {
    readonly steering: { readonly source: Source; readonly versions: readonly string[] };
    readonly abr: { readonly source: Source; readonly layers: readonly string[] };
    readonly availability: { readonly source: Availability['source']; readonly asOfMs: number };
  };
}

interface PreparedLadder {
  readonly ladder: Ladder;
  readonly renditions: readonly PlannedRendition[];
  /** Capabilities key -> playable renditions. */
  readonly playable: Map<string, readonly PlannedRendition[]>;
}

/** Bound on every per-key cache: a flood of distinct keys costs a rebuild, never memory. */
const CACHE_LIMIT = 4_096;

function setBounded<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_LIMIT) map.clear();
  map.set(key, value);
  return value;
}

function plannedRendition(r: Rendition): PlannedRendition {
  return Object.freeze({
    id: r.id,
    width: r.width,
    height: r.height,
    frameRate: r.frameRate,
    codecs: r.codecs,
    bandwidth: r.bandwidth,
    averageBandwidth: r.averageBandwidth,
    playlist: r.playlist,
  });
}

export interface CellEffects {
  readonly overrides: readonly AbrOverride[];
  readonly policy: SteeringPolicy | undefined;
  readonly cells: ReadonlyArray<{ key: string; cell: string; control: boolean }>;
}

const NO_CELLS: CellEffects = Object.freeze({ overrides: [], policy: undefined, cells: [] });

/** `experiment/cell` of every cell the viewer is in, in experiment order: what the effects depend on. */
function cellsKey(allocations: readonly Allocation[]): string {
  let key = '';
  for (const a of allocations) if (a.inExperiment) key += `${a.experimentKey}\u0000${a.cell}\u0000`;
  return key;
}

/** What the viewer's cells change: ABR knobs (attributed to experiment/cell) and the steering policy. */
export function cellEffects(allocations: readonly Allocation[]): CellEffects {
  const cells: Array<{ key: string; cell: string; control: boolean }> = [];
  const cellOf = new Map<string, string>();
  for (const a of allocations) {
    if (!a.inExperiment) continue;
    cells.push({ key: a.experimentKey, cell: a.cell, control: a.control });
    cellOf.set(a.experimentKey, a.cell);
  }
  if (cells.length === 0) return NO_CELLS;
  const merged = mergeCellConfigs(allocations);
  const overrides: AbrOverride[] = [];
  for (const [knob, value] of Object.entries(merged.abr) as Array<[AbrKnob, number]>) {
    const key = merged.sources[knob] as string;
    overrides.push({ knob, value, source: `experiment:${key}/${cellOf.get(key)}` });
  }
  return { overrides, policy: merged.steering?.policy, cells };
}

export class Planner {
  private readonly ocaById: ReadonlyMap<string, OcaDescriptor>;
  private readonly ladders = new Map<string, PreparedLadder>();
  private readonly views = new Map<string, SteeringView>();
  private readonly abrBase = new Map<string, ResolvedAbr>();
  /** Rankings of the whole fleet per (title, ISP, region, policy), for the availability below. */
  private readonly rankings = new Map<string, Ranking>();
  private rankedUnder: Availability | undefined;
  private abrIndex: AbrIndex | undefined;
  private experimentsSeen: readonly AssignableExperiment[] | undefined;
  private running: readonly AssignableExperiment[] = [];
  /** Effects per combination of cells (cellsKey), for the current experiment list. */
  private readonly effects = new Map<string, CellEffects>();
  /** Config layers with a combination of cells on top; both keys are cached objects. */
  private readonly abrWithCells = new WeakMap<ResolvedAbr, WeakMap<CellEffects, ResolvedAbr>>();
  private readonly json = new PlanJsonWriter();
  /** Per ranking: its Pathways (ranked, then drained holders); per playable set: the ids. */
  private readonly pathways = new WeakMap<Ranking, readonly string[]>();
  private readonly renditionIds = new WeakMap<readonly PlannedRendition[], readonly string[]>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: PlannerDeps) {
    this.ocaById = new Map(deps.ocas.map((o) => [o.id, o]));
    if (this.ocaById.size !== deps.ocas.length) throw new TypeError('OCA ids must be unique');
    this.unsubscribe.push(
      deps.steering.onChange(() => {
        this.views.clear();
        this.rankings.clear();
      }),
      deps.abr.onChange(() => {
        this.abrIndex = undefined;
        this.abrBase.clear();
      }),
    );
  }

  close(): void {
    for (const off of this.unsubscribe) off();
  }

  get ocas(): readonly OcaDescriptor[] {
    return this.deps.ocas;
  }

  /** The ladder of a title, or NOT_FOUND. */
  ladderOf(titleId: string): PreparedLadder {
    const ladder = this.deps.catalog.ladderOf(titleId);
    if (ladder === undefined) throw new PlayloopError('NOT_FOUND', `no title ${titleId} in the catalog`);
    let prepared = this.ladders.get(ladder.id);
    if (prepared === undefined) {
      prepared = { ladder, renditions: ladder.renditions.map(plannedRendition), playable: new Map() };
      this.ladders.set(ladder.id, prepared);
    }
    return prepared;
  }

  steeringViewFor(location: ViewerLocation): SteeringView {
    const key = `${location.isp ?? ''}|${location.region ?? ''}`;
    const cached = this.views.get(key);
    if (cached !== undefined) return cached;
    const view =
      this.deps.steering.health().scopes === 0
        ? EMPTY_STEERING_VIEW
        : steeringView((scope) => this.deps.steering.get(scope), location);
    return setBounded(this.views, key, view);
  }

  private abrFor(deviceClass: string, isp: string | null, country: string | null): ResolvedAbr {
    const key = `${deviceClass}|${isp ?? ''}|${country ?? ''}`;
    const cached = this.abrBase.get(key);
    if (cached !== undefined) return cached;
    this.abrIndex ??= new AbrIndex(this.deps.abr.all(), (doc, knob, value) =>
      this.deps.log.warn(
        { scope: doc.scope, version: doc.version, knob, value },
        'ABR knob out of range; inherited',
      ),
    );
    return setBounded(this.abrBase, key, this.abrIndex.resolve({ deviceClass, isp, country }));
  }

  /** The config layers of `base` with the cells' overrides on top, the same object each time. */
  private withCells(base: ResolvedAbr, cells: CellEffects): ResolvedAbr {
    if (cells.overrides.length === 0) return base;
    let byCells = this.abrWithCells.get(base);
    if (byCells === undefined) {
      byCells = new WeakMap();
      this.abrWithCells.set(base, byCells);
    }
    let resolved = byCells.get(cells);
    if (resolved === undefined) {
      resolved = withOverrides(base, cells.overrides);
      byCells.set(cells, resolved);
    }
    return resolved;
  }

  /** Ranks `ocas` for a title and viewer under the current steering config and availability. */
  rank(
    titleId: string,
    location: ViewerLocation,
    policy: SteeringPolicy,
    ocas: readonly OcaDescriptor[],
  ): Ranking {
    const view = this.steeringViewFor(location);
    const availability = this.deps.availability.current();
    return rankOcas({
      titleId,
      viewer: location,
      policy,
      ocas,
      holds: (oca) => holdsTitle(availability, oca, titleId),
      health: (id) => view.health.get(id),
    });
  }

  /**
   * The whole fleet ranked, cached until the steering config or the availability changes:
   * the ranking depends on nothing else, and a title's viewers share few (ISP, region) pairs.
   */
  private rankFleet(titleId: string, location: ViewerLocation, policy: SteeringPolicy): Ranking {
    const availability = this.deps.availability.current();
    if (availability !== this.rankedUnder) {
      this.rankings.clear();
      this.rankedUnder = availability;
    }
    const key = `${titleId}\u0000${location.isp ?? ''}\u0000${location.region ?? ''}\u0000${policy}`;
    const cached = this.rankings.get(key);
    if (cached !== undefined) return cached;
    return setBounded(this.rankings, key, this.rank(titleId, location, policy, this.deps.ocas));
  }

  /**
   * The running experiments in key order, as assign() picks them, worked out once per
   * experiment list rather than once per playback.
   */
  private runningExperiments(): readonly AssignableExperiment[] {
    const all = this.deps.experiments();
    if (all !== this.experimentsSeen) {
      this.experimentsSeen = all;
      this.effects.clear();
      this.running = all
        .filter((exp) => exp.status === 'running')
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return this.running;
  }

  private allocate(
    viewer: ViewerContext,
    sessionId: string,
    deviceClass: string,
    nowMs: number,
  ): CellEffects {
    const running = this.runningExperiments();
    if (running.length === 0) return NO_CELLS;
    let allocations: Allocation[];
    let effects: CellEffects;
    try {
      const unit = {
        viewerId: viewer.viewerId,
        sessionId,
        deviceClass,
        country: viewer.country,
        isp: viewer.isp,
      };
      // What assign(definitions, unit) returns, without filtering and sorting on every call.
      allocations = running.map((exp) => assignOne(exp, unit));
      const key = cellsKey(allocations);
      effects =
        key === ''
          ? NO_CELLS
          : (this.effects.get(key) ?? setBounded(this.effects, key, cellEffects(allocations)));
    } catch (err) {
      // A broken experiment set must not break playback: play without experiments, loudly.
      this.deps.onFallback?.('experiments-skipped');
      this.deps.log.error({ err }, 'experiment assignment failed; plan served without experiments');
      return NO_CELLS;
    }
    for (const a of allocations) {
      if (a.inExperiment) {
        this.deps.allocations.offer(toAllocationEvent(a, { allocatedAt: nowMs, source: 'control-plane' }));
      }
    }
    return effects;
  }

  /** The playback plan of a new session: see PlaybackPlan. */
  plan(
    titleId: string,
    viewer: ViewerContext,
    request: PlaybackRequest,
    publicBaseUrl: string,
  ): PlaybackPlan {
    return toPlaybackPlan(this.decide(titleId, viewer, request, publicBaseUrl));
  }

  /**
   * The same plan as `plan` gives, as its JSON text (what the server sends), and the OCA
   * ranked first (for the metrics). Written from cached pieces: see render.ts.
   */
  planJson(
    titleId: string,
    viewer: ViewerContext,
    request: PlaybackRequest,
    publicBaseUrl: string,
  ): { readonly json: string; readonly first: RankedOca } {
    const parts = this.decide(titleId, viewer, request, publicBaseUrl);
    return { json: this.json.write(parts), first: parts.ranking.ranked[0] as RankedOca };
  }

  private decide(
    titleId: string,
    viewer: ViewerContext,
    request: PlaybackRequest,
    publicBaseUrl: string,
  ): PlanParts {
    const prepared = this.ladderOf(titleId);
    const { device, network } = request;
    const caps = `${device.codecs.join(',')}|${device.maxResolution.width}x${device.maxResolution.height}`;
    let playable = prepared.playable.get(caps);
    if (playable === undefined) {
      playable = setBounded(
        prepared.playable,
        caps,
        Object.freeze(
          playableRenditions(prepared.renditions, {
            codecs: device.codecs,
            maxWidth: device.maxResolution.width,
            maxHeight: device.maxResolution.height,
          }),
        ),
      );
    }
    if (playable.length === 0) {
      throw new PlayloopError(
        'NOT_PLAYABLE',
        `the device can play no rendition of ${titleId}: it offers ${prepared.renditions
          .map((r) => `${r.id} (${r.codecs}, ${r.width}x${r.height})`)
          .join(', ')}`,
        { details: { renditions: prepared.renditions.map((r) => r.id) } },
      );
    }

    const nowMs = this.deps.nowMs();
    const sessionId = this.deps.newSessionId();
    const location: ViewerLocation = { isp: viewer.isp, region: viewer.region };
    const cells = this.allocate(viewer, sessionId, device.class, nowMs);
    const policy = cells.policy ?? this.deps.settings.steering.defaultPolicy;

    const ranking = this.rankFleet(titleId, location, policy);
    const first = ranking.ranked[0];
    if (first === undefined) {
      throw new PlayloopError('NO_SERVING_OCA', `no OCA holds ${titleId}`, {
        details: { excluded: ranking.excluded.map((e) => `${e.oca.id}: ${e.reason}`) },
      });
    }
    if (ranking.lastResort) this.deps.onFallback?.('drained-only');
    const availability = this.deps.availability.current();

    const abr = this.withCells(this.abrFor(device.class, viewer.isp, viewer.country), cells);
    const start = startRendition(playable, network.throughputKbps, abr.knobs.abrBandWidthUpFactor);

    const expiresAtSec = Math.floor(nowMs / 1000) + this.deps.settings.urlTtlSec;
    const prefix = signMediaPrefix({ titleId, sessionId, expiresAtSec }, this.deps.mediaKeyring);
    // Pathways: the ranked OCAs, then drained holders, so steering can bring the session
    // back to one of them when it recovers (a Pathway missing from the playlist is lost).
    let pathways = this.pathways.get(ranking);
    if (pathways === undefined) {
      const ids = ranking.ranked.map((r) => r.oca.id);
      for (const e of ranking.excluded) if (e.reason === 'drained') ids.push(e.oca.id);
      pathways = Object.freeze(ids);
      this.pathways.set(ranking, pathways);
    }
    let renditionIds = this.renditionIds.get(playable);
    if (renditionIds === undefined) {
      renditionIds = Object.freeze(playable.map((r) => r.id));
      this.renditionIds.set(playable, renditionIds);
    }
    const claims: SessionClaims = {
      sid: sessionId,
      tid: titleId,
      isp: viewer.isp,
      reg: viewer.region,
      pol: policy,
      oc: pathways,
      rv: renditionIds,
      fv: start?.id ?? null,
      exp: expiresAtSec,
    };
    const token = signSessionToken(claims, this.deps.sessionRing);
    const view = this.steeringViewFor(location);
    return {
      titleId,
      viewer,
      sessionId,
      nowMs,
      expiresAtSec,
      publicBaseUrl,
      token,
      prefix,
      policy,
      ttlSec: effectiveTtlSec(view, this.deps.settings.steering),
      ranking,
      playable,
      start,
      abr,
      cells,
      view,
      steeringSource: this.deps.steering.health().source,
      abrSource: this.deps.abr.health().source,
      availability,
    };
  }

  /**
   * The Content Steering manifest of a session: its Pathways, ranked again under the config
   * and availability of now. If none of them qualifies any more, the playlist's own order
   * stands (an empty PATHWAY-PRIORITY would leave the player nowhere to go).
   */
  steeringManifest(claims: SessionClaims, token: string): SteeringManifest {
    const location: ViewerLocation = { isp: claims.isp, region: claims.reg };
    const candidates: OcaDescriptor[] = [];
    for (const id of claims.oc) {
      const oca = this.ocaById.get(id);
      if (oca !== undefined) candidates.push(oca);
    }
    const ranking = this.rank(claims.tid, location, claims.pol, candidates);
    const priority = ranking.ranked.length > 0 ? ranking.ranked.map((r) => r.oca.id) : claims.oc;
    const ttl = effectiveTtlSec(this.steeringViewFor(location), this.deps.settings.steering);
    return steeringManifest(priority, ttl, steeringPath(claims.sid, token));
  }

  /**
   * The session's multivariant playlist: every Pathway (OCA) with the playable renditions
   * under the session's signed prefix, and the EXT-X-CONTENT-STEERING tag pointing at the
   * steering server with the initial Pathway.
   */
  masterPlaylist(claims: SessionClaims, steeringUri: string): string {
    const prepared = this.ladderOf(claims.tid);
    const allowed = new Set(claims.rv);
    const variants = prepared.ladder.renditions.filter((r) => allowed.has(r.id));
    if (variants.length === 0)
      throw new PlayloopError('NOT_FOUND', 'the session lists no rendition of its title');
    const prefix = signMediaPrefix(
      { titleId: claims.tid, sessionId: claims.sid, expiresAtSec: claims.exp },
      this.deps.mediaKeyring,
    );
    const pathways = claims.oc
      .map((id) => this.ocaById.get(id))
      .filter((oca): oca is OcaDescriptor => oca !== undefined)
      .map((oca) => ({ pathwayId: oca.id, baseUrl: `${oca.url}${prefix}` }));
    const initial = pathways[0];
    if (initial === undefined) {
      throw new PlayloopError('NO_SERVING_OCA', "none of the session's OCAs is in the fleet any more");
    }
    const firstVariantId = claims.fv !== null && allowed.has(claims.fv) ? claims.fv : undefined;
    return renderMultivariantPlaylist(variants, pathways, {
      steering: { serverUri: steeringUri, pathwayId: initial.pathwayId },
      ...(firstVariantId === undefined ? {} : { firstVariantId }),
    });
  }
}
