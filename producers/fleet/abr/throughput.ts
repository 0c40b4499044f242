/**
 * Throughput-based ABR as hls.js does it, reimplemented from the description of hls.js
 * 1.7.4 `src/controller/abr-controller.ts` (getNextABRAutoLevel, findBestLevel,
 * getTimeToLoadFrag) and `base-stream-controller.ts` (getMaxBufferLength):
 *
 * - Bandwidth: the EWMA estimator (ewma.ts), sampled once per segment with its transfer
 *   time, i.e. the download time less min(TTFB, TTFB estimate), as onFragBuffered does.
 * - Choice: from the top level down, the first level i whose bit rate fits the adjusted
 *   bandwidth, adjusted = estimate * abrBandWidthFactor when i is at or below the level last
 *   loaded (stay or go down) and * abrBandWidthUpFactor when above it (go up), and whose
 *   fetch time, TTFB estimate + bitrate * segment duration / adjusted, is below
 *   buffer + maxStarvation. First with maxStarvation = 0 ("no rebuffering at all") when the
 *   buffer is not empty; then with min(segment duration, maxStarvationDelay); if nothing
 *   fits, the lowest level. The bit rate compared is the peak (BANDWIDTH), or the average
 *   (AVERAGE-BANDWIDTH) when the buffer holds two segments and no rebuffering is expected.
 * - First segment: startLevel when set (>= 0); otherwise the same choice from the default
 *   estimate (abrEwmaDefaultEstimate), raised to at least the lowest level's bit rate, with
 *   the first listed level (the lowest, as the control plane lists them) as the base.
 * - Buffer target: min(max(8 * maxBufferSize / bitrate, maxBufferLength), maxMaxBufferLength)
 *   seconds of the level being loaded: with hls.js defaults maxBufferLength is a floor, and
 *   a low bit rate is buffered further ahead (60 MB of it, up to 600 s).
 *
 * Left out: the emergency abandon of a segment in flight (`_abandonRulesCheck`), level
 * error penalties, codec/HDR/frame-rate tiers and the playlist-load term of a level switch.
 */
import { EwmaBandwidthEstimator } from './ewma.ts';
import type { AbrKnobs } from './knobs.ts';
import type { Abr, AbrDecision, AbrInput, AbrLevel, SegmentSample } from './types.ts';

export class ThroughputAbr implements Abr {
  readonly kind = 'throughput' as const;
  private readonly estimator: EwmaBandwidthEstimator;

  constructor(
    private readonly levels: readonly AbrLevel[],
    private readonly knobs: AbrKnobs,
  ) {
    if (levels.length === 0) throw new RangeError('ABR needs at least one level');
    this.estimator = new EwmaBandwidthEstimator(
      knobs.abrEwmaSlowVoD,
      knobs.abrEwmaFastVoD,
      knobs.abrEwmaDefaultEstimate,
    );
  }

  decide(input: AbrInput): AbrDecision {
    return { level: this.chooseLevel(input), delayMs: 0 };
  }

  private chooseLevel(input: AbrInput): number {
    const top = this.levels.length - 1;
    const first = input.lastLevel < 0;
    if (first && this.knobs.startLevel >= 0) return Math.min(this.knobs.startLevel, top);
    if (top === 0) return 0;
    let bw = this.estimator.estimateBps();
    if (first) bw = Math.max(bw, (this.levels[0] as AbrLevel).bitrateBps);
    const base = first ? 0 : input.lastLevel;
    const starvationS = input.bufferMs / 1000;
    const segmentS = input.segmentDurationMs / 1000;
    if (starvationS > 0) {
      const noRebuffer = this.findBestLevel(bw, base, starvationS, 0, segmentS);
      if (noRebuffer >= 0) return noRebuffer;
    }
    const maxStarvationS = first
      ? this.knobs.maxStarvationDelay
      : Math.min(segmentS, this.knobs.maxStarvationDelay);
    const best = this.findBestLevel(bw, base, starvationS, maxStarvationS, segmentS);
    return Math.max(0, best);
  }

  /** hls.js findBestLevel, without codec tiers and error penalties; -1 when nothing fits. */
  findBestLevel(
    bwBps: number,
    base: number,
    starvationS: number,
    maxStarvationS: number,
    segmentS: number,
  ): number {
    const maxFetchS = starvationS + maxStarvationS;
    const ttfbS = this.estimator.estimateTtfbMs() / 1000;
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const level = this.levels[i] as AbrLevel;
      const adjusted = (i > base ? this.knobs.abrBandWidthUpFactor : this.knobs.abrBandWidthFactor) * bwBps;
      const bitrate =
        segmentS > 0 && starvationS >= 2 * segmentS && maxStarvationS === 0
          ? level.averageBitrateBps
          : level.bitrateBps;
      const fetchS = ttfbS + (bitrate * segmentS) / adjusted;
      if (adjusted >= bitrate && (!Number.isFinite(fetchS) || fetchS < maxFetchS)) return i;
    }
    return -1;
  }

  bufferTargetMs(level: number): number {
    const k = this.knobs;
    const bitrate = (this.levels[level] ?? this.levels[0])?.bitrateBps ?? 0;
    const bySize = bitrate > 0 ? (8 * k.maxBufferSize) / bitrate : k.maxBufferLength;
    return Math.min(Math.max(bySize, k.maxBufferLength), k.maxMaxBufferLength) * 1000;
  }

  onSegmentLoaded(s: SegmentSample): void {
    // hls.js samples TTFB on FRAG_LOADED and bandwidth on FRAG_BUFFERED, after it.
    this.estimator.sampleTtfb(s.ttfbMs);
    this.estimator.sample(s.downloadMs - Math.min(s.ttfbMs, this.estimator.estimateTtfbMs()), s.bytes);
  }

  onBufferEmpty(): void {}

  onSeek(): void {}

  estimateBps(): number {
    return this.estimator.estimateBps();
  }
}
