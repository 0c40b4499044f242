/**
 * Which renditions of a ladder a device can play, and which one to list first. Pure.
 *
 * Codecs are RFC 6381 strings (`avc1.42c01e`, `mp4a.40.2`), as a rendition's CODECS
 * attribute lists them (RFC 8216bis §4.4.6.2). A device names what it decodes either
 * exactly or by a prefix that ends at a `.` boundary: `avc1` covers every AVC profile,
 * `mp4a.40` every MPEG-4 audio object type, `avc1.42c01e` only that profile and level.
 * A rendition is playable when the device covers every codec in it and the picture fits
 * within the device's maximum resolution.
 */
import type { Rendition } from '../media/ladder.ts';

export interface DeviceCapabilities {
  readonly codecs: readonly string[];
  readonly maxWidth: number;
  readonly maxHeight: number;
}

export function codecCovered(deviceCodecs: readonly string[], codec: string): boolean {
  const lower = codec.toLowerCase();
  for (const entry of deviceCodecs) {
    const e = entry.toLowerCase();
    if (lower === e || (lower.startsWith(e) && lower.charCodeAt(e.length) === 46) /* . */) return true;
  }
  return false;
}

export function renditionCodecs(rendition: Pick<Rendition, 'codecs'>): string[] {
  return rendition.codecs
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

export function playableRenditions<R extends Pick<Rendition, 'codecs' | 'width' | 'height'>>(
  renditions: readonly R[],
  device: DeviceCapabilities,
): R[] {
  return renditions.filter(
    (r) =>
      r.width <= device.maxWidth &&
      r.height <= device.maxHeight &&
      renditionCodecs(r).every((c) => codecCovered(device.codecs, c)),
  );
}

/**
 * hls.js's default `abrBandWidthUpFactor` (src/config.ts, hls.js 1.7): the share of measured
 * bandwidth it allows itself when switching up, used here when no config sets the knob.
 */
export const HLSJS_DEFAULT_UP_FACTOR = 0.7;

/**
 * The rendition to list first when the device told us its throughput: the highest one whose
 * peak BANDWIDTH fits in `throughputKbps * upFactor` (the margin hls.js itself keeps before
 * switching up), else the lowest. Players start with the first variant listed (Apple HLS
 * Authoring Specification; hls.js with automatic start level and no estimate yet), so a good
 * hint saves the climb from the bottom. Undefined without a hint: the lowest starts fastest.
 */
export function startRendition<R extends Pick<Rendition, 'id' | 'bandwidth'>>(
  playable: readonly R[],
  throughputKbps: number | undefined,
  upFactor: number = HLSJS_DEFAULT_UP_FACTOR,
): R | undefined {
  if (throughputKbps === undefined || playable.length === 0) return undefined;
  const budget = throughputKbps * 1000 * upFactor;
  let best: R | undefined;
  for (const r of playable) {
    if (r.bandwidth <= budget && (best === undefined || r.bandwidth > best.bandwidth)) best = r;
  }
  if (best !== undefined) return best;
  let lowest = playable[0] as R;
  for (const r of playable) if (r.bandwidth < lowest.bandwidth) lowest = r;
  return lowest;
}
