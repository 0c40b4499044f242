/**
 * One interface for every ABR algorithm the fleet runs, so the player state machine drives
 * them alike. The player asks for a decision before each segment request and reports each
 * downloaded segment, each buffer underrun and each seek; the algorithm keeps its own state.
 */

export const ABR_KINDS = ['throughput', 'bola'] as const;
/** throughput: hls.js-like EWMA bandwidth estimation; bola: buffer-based BOLA as in dash.js. */
export type AbrKind = (typeof ABR_KINDS)[number];

export interface AbrLevel {
  /** Peak bit rate (HLS BANDWIDTH), bit/s. */
  readonly bitrateBps: number;
  /** Mean bit rate (HLS AVERAGE-BANDWIDTH), bit/s. */
  readonly averageBitrateBps: number;
}

export interface AbrInput {
  readonly nowMs: number;
  /** Forward buffer at the playhead. */
  readonly bufferMs: number;
  /** Level of the last segment loaded, -1 before the first (and after a seek flushed it). */
  readonly lastLevel: number;
  readonly segmentDurationMs: number;
}

export interface AbrDecision {
  readonly level: number;
  /** Wait this long before requesting, then decide again (BOLA's pause on a full buffer). */
  readonly delayMs: number;
}

export interface SegmentSample {
  /** When the last byte arrived. */
  readonly nowMs: number;
  readonly requestedAtMs: number;
  readonly bytes: number;
  /** Request to last byte. */
  readonly downloadMs: number;
  /** Request to first byte. */
  readonly ttfbMs: number;
  readonly level: number;
  readonly durationMs: number;
  /** Forward buffer when the segment arrived, before it is appended. */
  readonly bufferMs: number;
}

export interface Abr {
  readonly kind: AbrKind;
  decide(input: AbrInput): AbrDecision;
  /** The forward buffer the scheduler fills to before it stops requesting. */
  bufferTargetMs(level: number): number;
  onSegmentLoaded(sample: SegmentSample): void;
  /** The buffer ran dry while playing. */
  onBufferEmpty(): void;
  /** The viewer seeked outside the buffer. */
  onSeek(): void;
  /** Current throughput estimate, bit/s: CMCD `mtp` and the steering `_HLS_throughput`. */
  estimateBps(): number;
}

/** Highest level whose peak bit rate fits `bps`, else the lowest (dash.js getQualityForBitrate). */
export function levelForBitrate(levels: readonly AbrLevel[], bps: number): number {
  let q = 0;
  for (let i = 0; i < levels.length; i++) {
    if ((levels[i] as AbrLevel).bitrateBps > bps) break;
    q = i;
  }
  return q;
}
