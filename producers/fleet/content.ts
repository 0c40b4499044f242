/**
 * What a player knows about the title it plays once the manifest is in: the ladder, the
 * content duration and the segmentation. The HTTP mode reads it from the playlists; the
 * timing mode takes it from the plan and models each segment's size.
 *
 * Segment sizes in the timing mode: average bit rate * duration, times a per-segment factor
 * in [0.85, 1.15] (SEGMENT_SIZE_SPREAD) drawn from a hash of (title, level, index), so every player downloading a
 * segment sees the same size and a run does not depend on visiting order. The spread
 * stands in for capped VBR (the ladder encodes with maxrate 110 % and a 2 s VBV buffer).
 */
import type { AbrLevel } from './abr/types.ts';
import type { PlaybackPlan } from './plan.ts';
import { fmix32, hashString } from './random.ts';

export interface ContentRendition extends AbrLevel {
  readonly id: string;
  /** The rendition's nominal rate in kbps, as players report it (CMCD `br`). */
  readonly kbps: number;
  readonly height: number | null;
  /** Media playlist path relative to an OCA's base URL. */
  readonly playlist: string;
}

export interface ContentInfo {
  readonly renditions: readonly ContentRendition[];
  readonly durationMs: number;
  readonly segmentDurationMs: number;
  readonly segmentCount: number;
  /** A number for the title, seeding segment sizes. */
  readonly titleHash: number;
}

export function renditionsFromPlan(plan: PlaybackPlan): ContentRendition[] {
  return plan.renditions.map((r) => ({
    id: r.id,
    bitrateBps: r.bandwidthBps,
    averageBitrateBps: r.averageBandwidthBps ?? r.bandwidthBps,
    kbps: Math.round(r.bandwidthBps / 1000),
    height: r.height ?? null,
    playlist: r.playlist,
  }));
}

export function makeContent(
  titleId: string,
  renditions: readonly ContentRendition[],
  durationMs: number,
  segmentDurationMs: number,
): ContentInfo {
  if (!(durationMs > 0) || !(segmentDurationMs > 0)) throw new RangeError('content needs positive durations');
  return {
    renditions,
    durationMs,
    segmentDurationMs,
    segmentCount: Math.ceil(durationMs / segmentDurationMs),
    titleHash: hashString(titleId),
  };
}

/** The timing mode's content: from the plan, which then must state both durations. */
export function contentFromPlan(plan: PlaybackPlan): ContentInfo | undefined {
  if (plan.durationMs === undefined || plan.segmentDurationMs === undefined) return undefined;
  return makeContent(plan.titleId, renditionsFromPlan(plan), plan.durationMs, plan.segmentDurationMs);
}

/** Media duration of segment `index` (the last one may be short). */
export function segmentDurationMs(content: ContentInfo, index: number): number {
  const start = index * content.segmentDurationMs;
  return Math.max(0, Math.min(content.segmentDurationMs, content.durationMs - start));
}

/** Default spread of segment sizes around the average: factors in [1 - s, 1 + s]. */
export const SEGMENT_SIZE_SPREAD = 0.15;

/** Modelled size of segment `index` at `level`, bytes. */
export function modelSegmentBytes(
  content: ContentInfo,
  level: number,
  index: number,
  spread = SEGMENT_SIZE_SPREAD,
): number {
  const r = content.renditions[level];
  if (r === undefined) throw new RangeError(`no level ${level}`);
  const h = fmix32(
    (content.titleHash ^ Math.imul(level + 1, 0x9e3779b9) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0,
  );
  const factor = 1 - spread + 2 * spread * (h / 4_294_967_296);
  return Math.max(1, Math.round(((r.averageBitrateBps * segmentDurationMs(content, index)) / 8000) * factor));
}

/** Modelled sizes of the manifest objects: the multivariant playlist and one media playlist. */
export function modelManifestBytes(content: ContentInfo): number {
  return 300 + 220 * content.renditions.length + 40 * content.segmentCount;
}
