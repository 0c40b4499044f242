/**
 * Renders the Multivariant Playlist a player starts from: the ladder repeated once per
 * Pathway (one Pathway per OCA), optionally with the Content Steering tag that points the
 * player at the steering server.
 *
 * Sources: RFC 8216bis (draft-pantos-hls-rfc8216bis) §4.4.6.2 EXT-X-STREAM-INF (BANDWIDTH
 * required; AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE, PATHWAY-ID, STABLE-VARIANT-ID),
 * §4.4.6.6 EXT-X-CONTENT-STEERING (SERVER-URI required, PATHWAY-ID optional), and the HLS
 * Content Steering specification (Pathway IDs limited to [a-zA-Z0-9._-]). Each Pathway lists
 * the same Variant Streams with the same STABLE-VARIANT-IDs, so a player that moves between
 * Pathways keeps its rendition.
 */
import type { Rendition } from './ladder.ts';

/** What a Variant Stream needs from a rendition. */
export type VariantSource = Pick<
  Rendition,
  'id' | 'bandwidth' | 'averageBandwidth' | 'codecs' | 'width' | 'height' | 'frameRate' | 'playlist'
>;

export interface Pathway {
  /** The OCA id; omit for a single unsteered copy (the default Pathway "."). */
  readonly pathwayId?: string;
  /**
   * Prefix for the media playlist URIs: an absolute URL ending in `/` (a signed prefix on one
   * OCA), or `''` for URIs relative to the multivariant playlist itself.
   */
  readonly baseUrl: string;
}

export interface SteeringTag {
  readonly serverUri: string;
  /** The Pathway to use until the first Steering Manifest arrives; must be one listed. */
  readonly pathwayId?: string;
}

export interface MultivariantOptions {
  readonly steering?: SteeringTag;
  /**
   * The STABLE-VARIANT-ID listed first in each Pathway. Players start with the first variant
   * listed (Apple HLS Authoring Specification; hls.js when `startLevel` is unset), so this
   * picks the start rendition; by default the lowest, which starts fastest.
   */
  readonly firstVariantId?: string;
}

/** Content Steering spec, "Pathway ID". */
const PATHWAY_ID = /^[A-Za-z0-9._-]+$/;
/** RFC 8216bis §4.4.6.2, STABLE-VARIANT-ID. */
const STABLE_VARIANT_ID = /^[A-Za-z0-9+/=._-]+$/;
/** RFC 8216bis §4.2: a quoted-string cannot hold a double quote, CR or LF. */
const QUOTABLE = /^[^"\r\n]*$/;
const URI_LINE = /^[^\s"]*$/;

function quoted(name: string, value: string): string {
  if (!QUOTABLE.test(value))
    throw new TypeError(`${name} cannot be a quoted-string: ${JSON.stringify(value)}`);
  return `${name}="${value}"`;
}

function variantOrder(variants: readonly VariantSource[], firstId: string | undefined): VariantSource[] {
  const ordered = [...variants].sort((a, b) => a.bandwidth - b.bandwidth);
  if (firstId === undefined) return ordered;
  const first = ordered.find((v) => v.id === firstId);
  if (first === undefined) throw new TypeError(`firstVariantId ${firstId} is not in the ladder`);
  return [first, ...ordered.filter((v) => v !== first)];
}

export function renderMultivariantPlaylist(
  variants: readonly VariantSource[],
  pathways: readonly Pathway[],
  options: MultivariantOptions = {},
): string {
  if (variants.length === 0) throw new TypeError('a Multivariant Playlist needs at least one variant');
  if (pathways.length === 0) throw new TypeError('a Multivariant Playlist needs at least one Pathway');
  const pathwayIds = new Set<string>();
  for (const p of pathways) {
    if (!URI_LINE.test(p.baseUrl)) throw new TypeError(`baseUrl ${JSON.stringify(p.baseUrl)} is not a URI`);
    if (p.pathwayId === undefined) {
      if (pathways.length > 1) throw new TypeError('with several Pathways each needs a pathwayId');
      continue;
    }
    if (!PATHWAY_ID.test(p.pathwayId))
      throw new TypeError(`Pathway ID ${JSON.stringify(p.pathwayId)} is not legal`);
    if (pathwayIds.has(p.pathwayId)) throw new TypeError(`Pathway ID ${p.pathwayId} appears twice`);
    pathwayIds.add(p.pathwayId);
  }
  const variantIds = new Set<string>();
  for (const v of variants) {
    if (!STABLE_VARIANT_ID.test(v.id))
      throw new TypeError(`STABLE-VARIANT-ID ${JSON.stringify(v.id)} is not legal`);
    if (variantIds.has(v.id)) throw new TypeError(`STABLE-VARIANT-ID ${v.id} appears twice`);
    variantIds.add(v.id);
    if (!Number.isSafeInteger(v.bandwidth) || v.bandwidth <= 0)
      throw new TypeError(`bad BANDWIDTH for ${v.id}`);
  }

  const lines = ['#EXTM3U', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (options.steering !== undefined) {
    const attrs = [quoted('SERVER-URI', options.steering.serverUri)];
    const initial = options.steering.pathwayId;
    if (initial !== undefined) {
      if (!pathwayIds.has(initial))
        throw new TypeError(`steering PATHWAY-ID ${initial} is not one of the Pathways`);
      attrs.push(quoted('PATHWAY-ID', initial));
    }
    lines.push(`#EXT-X-CONTENT-STEERING:${attrs.join(',')}`);
  }
  const ordered = variantOrder(variants, options.firstVariantId);
  for (const p of pathways) {
    lines.push('');
    for (const v of ordered) {
      const attrs = [
        `BANDWIDTH=${v.bandwidth}`,
        `AVERAGE-BANDWIDTH=${v.averageBandwidth}`,
        quoted('CODECS', v.codecs),
        `RESOLUTION=${v.width}x${v.height}`,
        `FRAME-RATE=${v.frameRate.toFixed(3)}`,
      ];
      if (p.pathwayId !== undefined) attrs.push(quoted('PATHWAY-ID', p.pathwayId));
      attrs.push(quoted('STABLE-VARIANT-ID', v.id));
      lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `${p.baseUrl}${v.playlist}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
