/**
 * A playback plan's two renderings from one set of decisions (PlanParts): the PlaybackPlan
 * object, and its JSON written from pieces cached per config version, which is what the
 * server sends, instead of JSON.stringify over the whole 4-5 KB object on every request.
 *
 * Most of a plan is shared by every viewer of a cohort: the ranked OCAs (per title, ISP,
 * region, policy, under one steering config and availability), the playable renditions (per
 * device capabilities), the ABR block (per device class, ISP, country and experiment cells,
 * under one ABR config), the experiment cells. The planner hands out those parts as the same
 * objects for as long as their inputs stand (its caches are dropped when config.steering,
 * config.abr, the availability or the experiment list change), so their JSON is cached here
 * by object identity (WeakMap): a new config makes new objects, and so new JSON, with nothing
 * to invalidate by hand. What is left per request is the session's own values: ids, times,
 * the session token and the signed media prefix.
 *
 * The output is byte for byte what JSON.stringify(toPlaybackPlan(parts)) gives (same keys,
 * same order, same number formatting); render.test.ts holds it to that.
 */

import type { SteeringPolicy } from '../../experiments/definitions/vocabulary.ts';
import type { Source } from '../../infra/config-topic.ts';
import { playerAbrConfig, type ResolvedAbr } from './abr.ts';
import type { Availability } from './availability.ts';
import type { CellEffects, PlannedRendition, PlaybackPlan, ViewerContext } from './planner.ts';
import type { Ranking } from './ranking.ts';
import type { SteeringView } from './steering-view.ts';

/**
 * Everything a plan is made of, decided once per request; rendered as the PlaybackPlan object
 * (toPlaybackPlan) or straight to its JSON (PlanJsonWriter). The object-valued parts are shared
 * between requests for as long as their inputs stand (see the Planner's caches).
 */
export interface PlanParts {
  readonly titleId: string;
  readonly viewer: ViewerContext;
  readonly sessionId: string;
  readonly nowMs: number;
  readonly expiresAtSec: number;
  /** Base of the plan's control-plane URLs (from config or the request's Host). */
  readonly publicBaseUrl: string;
  /** The session token (a JWT: base64url parts and dots, nothing JSON has to escape). */
  readonly token: string;
  /**
   * The signed media path prefix of the session (signMediaPrefix): path-safe ids, digits and
   * base64url, which signMediaPrefix enforces, so nothing JSON has to escape either.
   */
  readonly prefix: string;
  readonly policy: SteeringPolicy;
  readonly ttlSec: number;
  readonly ranking: Ranking;
  readonly playable: readonly PlannedRendition[];
  readonly start: PlannedRendition | undefined;
  /** Config layers with the viewer's experiment cells on top. */
  readonly abr: ResolvedAbr;
  readonly cells: CellEffects;
  readonly view: SteeringView;
  readonly steeringSource: Source;
  readonly abrSource: Source;
  readonly availability: Availability;
}

/** The plan as an object: what PlanJsonWriter writes as text. */
export function toPlaybackPlan(p: PlanParts): PlaybackPlan {
  const first = p.ranking.ranked[0];
  if (first === undefined) throw new TypeError('a plan needs a ranked OCA');
  return {
    sessionId: p.sessionId,
    titleId: p.titleId,
    viewerId: p.viewer.viewerId,
    issuedAtMs: p.nowMs,
    expiresAtSec: p.expiresAtSec,
    manifestUrl: `${p.publicBaseUrl}${manifestPath(p.sessionId, p.token)}`,
    steering: {
      uri: `${p.publicBaseUrl}${steeringPath(p.sessionId, p.token)}`,
      ttlSec: p.ttlSec,
      pathwayId: first.oca.id,
      policy: p.policy,
    },
    ocas: p.ranking.ranked.map((r, i) => ({
      id: r.oca.id,
      rank: i + 1,
      tier: r.oca.tier,
      proximity: r.proximity,
      region: r.oca.region,
      isp: r.oca.isp,
      state: r.state,
      score: r.score,
      healthKnown: r.healthKnown,
      baseUrl: `${r.oca.url}${p.prefix}`,
    })),
    excludedOcas: p.ranking.excluded.map((e) => ({ id: e.oca.id, reason: e.reason })),
    renditions: p.playable,
    startRenditionId: p.start?.id ?? null,
    abr: abrBlock(p.abr),
    experiments: p.cells.cells,
    network: { isp: p.viewer.isp, region: p.viewer.region, country: p.viewer.country },
    config: {
      steering: { source: p.steeringSource, versions: p.view.versions },
      abr: { source: p.abrSource, layers: p.abr.layers },
      availability: { source: p.availability.source, asOfMs: p.availability.asOfMs },
    },
  };
}

export function steeringPath(sessionId: string, token: string): string {
  return `/v1/steering/${sessionId}?st=${token}`;
}

/** The session's steered multivariant playlist, under the control plane's base URL. */
export function manifestPath(sessionId: string, token: string): string {
  return `/v1/sessions/${sessionId}/master.m3u8?st=${token}`;
}

/** A JSON string literal. */
const str = JSON.stringify as (value: string) => string;

/** A JSON number (JSON.stringify writes non-finite numbers as null). */
function num(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

function strOrNull(value: string | null): string {
  return value === null ? 'null' : str(value);
}

interface RankingJson {
  /**
   * Each ranked OCA's JSON up to its baseUrl's closing quote: the signed prefix of the session
   * goes there. JSON escapes character by character, so escaping the URL and the prefix
   * apart and joining them is escaping the joined string.
   */
  readonly heads: readonly string[];
  readonly excluded: string;
}

/** The `abr` block of a plan: each player's config, then the knobs and where each came from. */
export function abrBlock(abr: ResolvedAbr): PlaybackPlan['abr'] {
  const player = playerAbrConfig(abr);
  return { hlsjs: player.hlsjs, dashjs: player.dashjs, knobs: abr.knobs, sources: abr.sources };
}

export class PlanJsonWriter {
  private readonly rankings = new WeakMap<Ranking, RankingJson>();
  private readonly renditions = new WeakMap<readonly PlannedRendition[], string>();
  private readonly abrs = new WeakMap<ResolvedAbr, { readonly block: string; readonly layers: string }>();
  private readonly cells = new WeakMap<object, string>();
  private readonly views = new WeakMap<SteeringView, string>();
  private lastBase = '';
  private lastBaseJson = '';

  write(p: PlanParts): string {
    const ranking = this.rankingJson(p.ranking);
    // The session id, the token and the media prefix need no escaping (PlanParts says why):
    // JSON.stringify would scan some 1.5 KB of them per plan for nothing.
    const base = this.baseJson(p.publicBaseUrl);
    let ocas = '[';
    for (let i = 0; i < ranking.heads.length; i++) {
      ocas += `${i === 0 ? '' : ','}${ranking.heads[i]}${p.prefix}"}`;
    }
    ocas += ']';
    const abr = this.abrJson(p.abr);
    const first = p.ranking.ranked[0];
    if (first === undefined) throw new TypeError('a plan needs a ranked OCA');
    return (
      `{"sessionId":${str(p.sessionId)},"titleId":${str(p.titleId)},"viewerId":${str(p.viewer.viewerId)}` +
      `,"issuedAtMs":${num(p.nowMs)},"expiresAtSec":${num(p.expiresAtSec)}` +
      `,"manifestUrl":"${base}${manifestPath(p.sessionId, p.token)}"` +
      `,"steering":{"uri":"${base}${steeringPath(p.sessionId, p.token)}","ttlSec":${num(p.ttlSec)},"pathwayId":${str(first.oca.id)},"policy":${str(p.policy)}}` +
      `,"ocas":${ocas},"excludedOcas":${ranking.excluded}` +
      `,"renditions":${this.renditionsJson(p.playable)}` +
      `,"startRenditionId":${p.start === undefined ? 'null' : str(p.start.id)}` +
      `,"abr":${abr.block},"experiments":${this.cellsJson(p.cells)}` +
      `,"network":{"isp":${strOrNull(p.viewer.isp)},"region":${strOrNull(p.viewer.region)},"country":${strOrNull(p.viewer.country)}}` +
      `,"config":{"steering":{"source":${str(p.steeringSource)},"versions":${this.versionsJson(p.view)}}` +
      `,"abr":{"source":${str(p.abrSource)},"layers":${abr.layers}}` +
      `,"availability":{"source":${str(p.availability.source)},"asOfMs":${num(p.availability.asOfMs)}}}}`
    );
  }

  /** The base URL escaped for a JSON string, without its quotes; one or two bases in practice. */
  private baseJson(base: string): string {
    if (base !== this.lastBase) {
      this.lastBase = base;
      this.lastBaseJson = str(base).slice(1, -1);
    }
    return this.lastBaseJson;
  }

  private rankingJson(ranking: Ranking): RankingJson {
    let cached = this.rankings.get(ranking);
    if (cached === undefined) {
      const heads = ranking.ranked.map((r, i) => {
        const entry = JSON.stringify({
          id: r.oca.id,
          rank: i + 1,
          tier: r.oca.tier,
          proximity: r.proximity,
          region: r.oca.region,
          isp: r.oca.isp,
          state: r.state,
          score: r.score,
          healthKnown: r.healthKnown,
        });
        return `${entry.slice(0, -1)},"baseUrl":${str(r.oca.url).slice(0, -1)}`;
      });
      const excluded = JSON.stringify(ranking.excluded.map((e) => ({ id: e.oca.id, reason: e.reason })));
      cached = { heads, excluded };
      this.rankings.set(ranking, cached);
    }
    return cached;
  }

  private renditionsJson(playable: readonly PlannedRendition[]): string {
    let cached = this.renditions.get(playable);
    if (cached === undefined) {
      cached = JSON.stringify(playable);
      this.renditions.set(playable, cached);
    }
    return cached;
  }

  private abrJson(abr: ResolvedAbr): { readonly block: string; readonly layers: string } {
    let cached = this.abrs.get(abr);
    if (cached === undefined) {
      cached = { block: JSON.stringify(abrBlock(abr)), layers: JSON.stringify(abr.layers) };
      this.abrs.set(abr, cached);
    }
    return cached;
  }

  private cellsJson(cells: PlanParts['cells']): string {
    let cached = this.cells.get(cells);
    if (cached === undefined) {
      cached = JSON.stringify(cells.cells);
      this.cells.set(cells, cached);
    }
    return cached;
  }

  private versionsJson(view: SteeringView): string {
    let cached = this.views.get(view);
    if (cached === undefined) {
      cached = JSON.stringify(view.versions);
      this.views.set(view, cached);
    }
    return cached;
  }
}
