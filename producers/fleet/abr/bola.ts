/**
 * BOLA: buffer-based bitrate adaptation by Lyapunov optimisation (Spiteri, Urgaonkar,
 * Sitaraman, "BOLA: Near-Optimal Bitrate Adaptation for Online Videos", IEEE INFOCOM 2016;
 * IEEE/ACM ToN 28(4), 2020), in the form dash.js ships it (src/streaming/rules/abr/
 * BolaRule.js, dash.js v3/v4), reimplemented from that description:
 *
 * - Utilities v_m = ln(S_m / S_1) + 1 (S_m the level's bit rate), so the lowest level has
 *   utility 1. With a minimum buffer Q_min = 10 s and a target
 *   Q_target = max(stableBufferTime, 10 + 2 * levels) s, the control parameters are
 *   gp = (v_max - 1) / (Q_target / Q_min - 1) and V = Q_min / gp, which make BOLA pick the
 *   lowest level at Q_min and the top level at Q_target.
 * - Decision: the level maximising (V * (v_m + gp) - Q) / S_m, Q the buffer in seconds
 *   plus a "placeholder" buffer (below).
 * - Startup (until the buffer holds a segment): the level the safe throughput allows
 *   (mean of the last 4 transfer-time throughputs * bandwidthSafetyFactor, dash.js
 *   ThroughputHistory), and a placeholder buffer that makes BOLA agree with that choice.
 * - Steady state, BOLA-O (the paper's oscillation fix, as dash.js does it): never switch up
 *   past what the safe throughput allows, unless staying at the last level; and when the
 *   buffer is above the level's ceiling V * (v_m + gp), wait: first by shrinking the
 *   placeholder, then by delaying the next request (never at the top level).
 * - The placeholder grows by the time between a segment's arrival and the next decision
 *   (so idle time the schedule imposed does not lower quality), decays by 0.99 per segment,
 *   is capped so the buffer at request time stays under the last level's ceiling, and
 *   resets on a buffer underrun; a seek returns to startup.
 * - Buffer target (dash.js ScheduleController): stableBufferTime below the top level,
 *   bufferTimeAtTopQuality at the top (bufferTimeAtTopQualityLongForm for content longer
 *   than longFormContentDurationThreshold).
 * Before any throughput sample the first guess is abrEwmaDefaultEstimate (dash.js uses its
 * own initial bit rate there); startLevel, when set, fixes the first segment's level.
 */
import type { AbrKnobs } from './knobs.ts';
import {
  type Abr,
  type AbrDecision,
  type AbrInput,
  type AbrLevel,
  levelForBitrate,
  type SegmentSample,
} from './types.ts';

export const BOLA_MINIMUM_BUFFER_S = 10;
export const BOLA_MINIMUM_BUFFER_PER_LEVEL_S = 2;
export const BOLA_PLACEHOLDER_DECAY = 0.99;
/** dash.js ThroughputHistory: VOD averages the last 4 throughput samples. */
export const THROUGHPUT_SAMPLES_VOD = 4;

const STARTUP = 0;
const STEADY = 1;

export interface BolaParameters {
  readonly utilities: readonly number[];
  readonly gp: number;
  readonly vp: number;
}

/** Utilities and (gp, V) for a ladder; null with a single level (always the lowest). */
export function bolaParameters(
  bitratesBps: readonly number[],
  stableBufferTimeS: number,
): BolaParameters | null {
  if (bitratesBps.length < 2) return null;
  const base = Math.log(bitratesBps[0] as number);
  const utilities = bitratesBps.map((b) => Math.log(b) - base + 1);
  const top = utilities[utilities.length - 1] as number;
  const bufferTime = Math.max(
    stableBufferTimeS,
    BOLA_MINIMUM_BUFFER_S + BOLA_MINIMUM_BUFFER_PER_LEVEL_S * bitratesBps.length,
  );
  const gp = (top - 1) / (bufferTime / BOLA_MINIMUM_BUFFER_S - 1);
  return { utilities, gp, vp: BOLA_MINIMUM_BUFFER_S / gp };
}

export class BolaAbr implements Abr {
  readonly kind = 'bola' as const;
  private readonly bitrates: readonly number[];
  private readonly params: BolaParameters | null;
  private readonly throughputs: number[] = [];
  private state = STARTUP;
  private lastQuality = 0;
  private placeholderS = 0;
  private lastSegmentDurationS = Number.NaN;
  private lastSegmentFinishMs = Number.NaN;
  private lastCallMs = Number.NaN;

  constructor(
    private readonly levels: readonly AbrLevel[],
    private readonly knobs: AbrKnobs,
    /** Content duration, for the long-form buffer target. */
    private readonly contentDurationMs: number,
  ) {
    if (levels.length === 0) throw new RangeError('ABR needs at least one level');
    this.bitrates = levels.map((l) => l.bitrateBps);
    this.params = bolaParameters(this.bitrates, knobs.stableBufferTime);
  }

  /** Mean of the recent throughputs, bit/s; NaN before the first sample. */
  averageThroughputBps(): number {
    if (this.throughputs.length === 0) return Number.NaN;
    let sum = 0;
    for (const t of this.throughputs) sum += t;
    return sum / this.throughputs.length;
  }

  private safeThroughputBps(): number {
    const avg = this.averageThroughputBps();
    return Number.isNaN(avg) ? this.knobs.abrEwmaDefaultEstimate : avg * this.knobs.bandwidthSafetyFactor;
  }

  /** The level BOLA's score prefers at an effective buffer of `bufferS` seconds. */
  qualityFromBuffer(bufferS: number): number {
    const p = this.params;
    if (p === null) return 0;
    let quality = 0;
    let score = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.bitrates.length; i++) {
      const s = (p.vp * ((p.utilities[i] as number) + p.gp) - bufferS) / (this.bitrates[i] as number);
      if (s >= score) {
        score = s;
        quality = i;
      }
    }
    return quality;
  }

  /** Largest buffer at which BOLA still prefers downloading `quality` to waiting. */
  maxBufferForQuality(quality: number): number {
    const p = this.params;
    return p === null ? 0 : p.vp * ((p.utilities[quality] as number) + p.gp);
  }

  /** Smallest buffer at which BOLA prefers `quality` to every lower level. */
  minBufferForQuality(quality: number): number {
    const p = this.params;
    if (p === null) return 0;
    const qBitrate = this.bitrates[quality] as number;
    const qUtility = p.utilities[quality] as number;
    let min = 0;
    for (let i = quality - 1; i >= 0; i--) {
      const iUtility = p.utilities[i] as number;
      if (iUtility < qUtility) {
        const iBitrate = this.bitrates[i] as number;
        const level = p.vp * (p.gp + (qBitrate * iUtility - iBitrate * qUtility) / (qBitrate - iBitrate));
        min = Math.max(min, level);
      }
    }
    return min;
  }

  decide(input: AbrInput): AbrDecision {
    const top = this.levels.length - 1;
    if (input.lastLevel < 0 && this.knobs.startLevel >= 0 && this.throughputs.length === 0) {
      const level = Math.min(this.knobs.startLevel, top);
      this.lastQuality = level;
      return { level, delayMs: 0 };
    }
    if (this.params === null) return { level: 0, delayMs: 0 };
    const bufferS = input.bufferMs / 1000;
    const safe = this.safeThroughputBps();
    const throughputQuality = levelForBitrate(this.levels, safe);
    if (this.state === STARTUP) {
      this.placeholderS = Math.max(0, this.minBufferForQuality(throughputQuality) - bufferS);
      this.lastQuality = throughputQuality;
      if (!Number.isNaN(this.lastSegmentDurationS) && bufferS >= this.lastSegmentDurationS)
        this.state = STEADY;
      this.lastCallMs = input.nowMs;
      return { level: throughputQuality, delayMs: 0 };
    }
    this.updatePlaceholder(input.nowMs);
    let quality = this.qualityFromBuffer(bufferS + this.placeholderS);
    if (quality > this.lastQuality && quality > throughputQuality) {
      quality = Math.max(throughputQuality, this.lastQuality);
    }
    let delayS = Math.max(0, bufferS + this.placeholderS - this.maxBufferForQuality(quality));
    if (delayS <= this.placeholderS) {
      this.placeholderS -= delayS;
      delayS = 0;
    } else {
      delayS -= this.placeholderS;
      this.placeholderS = 0;
      if (quality === top) delayS = 0;
    }
    this.lastQuality = quality;
    return { level: quality, delayMs: delayS * 1000 };
  }

  private updatePlaceholder(nowMs: number): void {
    if (!Number.isNaN(this.lastSegmentFinishMs)) {
      this.placeholderS += Math.max(0, (nowMs - this.lastSegmentFinishMs) / 1000);
    } else if (!Number.isNaN(this.lastCallMs)) {
      this.placeholderS += Math.max(0, (nowMs - this.lastCallMs) / 1000);
    }
    this.lastCallMs = nowMs;
    this.lastSegmentFinishMs = Number.NaN;
  }

  bufferTargetMs(level: number): number {
    const k = this.knobs;
    if (level < this.levels.length - 1) return k.stableBufferTime * 1000;
    const longForm = this.contentDurationMs > k.longFormContentDurationThreshold * 1000;
    return (longForm ? k.bufferTimeAtTopQualityLongForm : k.bufferTimeAtTopQuality) * 1000;
  }

  onSegmentLoaded(s: SegmentSample): void {
    const transferMs = Math.max(1, s.downloadMs - s.ttfbMs);
    this.throughputs.push((8 * s.bytes * 1000) / transferMs);
    if (this.throughputs.length > THROUGHPUT_SAMPLES_VOD) this.throughputs.shift();
    this.lastQuality = s.level;
    this.lastSegmentDurationS = s.durationMs / 1000;
    // dash.js checkNewSegment: decay, then cap so the buffer at request time plus the
    // placeholder stays under the ceiling of the level just loaded.
    this.placeholderS *= BOLA_PLACEHOLDER_DECAY;
    const bufferAtRequestS = s.bufferMs / 1000 + (s.nowMs - s.requestedAtMs) / 1000;
    const maxPlaceholder = Math.max(0, this.maxBufferForQuality(s.level) - bufferAtRequestS);
    this.placeholderS = Math.min(maxPlaceholder, this.placeholderS);
    this.lastSegmentFinishMs = s.nowMs;
  }

  onBufferEmpty(): void {
    if (this.state === STEADY) this.placeholderS = 0;
  }

  onSeek(): void {
    this.state = STARTUP;
    this.placeholderS = 0;
    this.lastSegmentDurationS = Number.NaN;
    this.lastSegmentFinishMs = Number.NaN;
  }

  estimateBps(): number {
    const avg = this.averageThroughputBps();
    return Number.isNaN(avg) ? this.knobs.abrEwmaDefaultEstimate : avg;
  }

  /** For tests and the progress display: startup or steady, and the placeholder in seconds. */
  get debugState(): { readonly state: 'startup' | 'steady'; readonly placeholderS: number } {
    return { state: this.state === STARTUP ? 'startup' : 'steady', placeholderS: this.placeholderS };
  }
}
