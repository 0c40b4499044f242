/**
 * hls.js's bandwidth estimator, reimplemented from its description (hls.js 1.7.4
 * `src/utils/ewma.ts` and `src/utils/ewma-bandwidth-estimator.ts`, themselves after
 * shaka-player):
 *
 * - An exponentially weighted moving average whose weights are sample durations in seconds
 *   and whose decay is a half-life in seconds: alpha = 0.5^(1/halfLife), and a sample of
 *   weight w moves the estimate by a = alpha^w: est <- (1 - a) * value + a * est. The
 *   estimate read out is corrected for its zero start by dividing by 1 - alpha^(total weight)
 *   (the bias correction Adam uses too).
 * - Two such averages over (download seconds, bit/s) samples, a fast and a slow one; the
 *   estimate is their minimum ("adapt down quickly, up slowly"), or the configured default
 *   until the fast one holds at least 0.001 s of samples. A download shorter than
 *   min(50 ms, bytes / 100000) counts as that long, so tiny cached objects do not explode it.
 * - Time to first byte has its own average (slow half-life), each sample weighted by
 *   sqrt(2) * exp(-s^2 / 2) for a TTFB of s seconds, floored at 5 ms; 100 ms by default.
 */

export class Ewma {
  private readonly alpha: number;
  private estimate = 0;
  private totalWeight = 0;

  constructor(readonly halfLife: number) {
    this.alpha = halfLife > 0 ? 0.5 ** (1 / halfLife) : 0;
  }

  sample(weight: number, value: number): void {
    const a = this.alpha ** weight;
    this.estimate = value * (1 - a) + a * this.estimate;
    this.totalWeight += weight;
  }

  get weight(): number {
    return this.totalWeight;
  }

  value(): number {
    if (this.alpha > 0) {
      const zeroFactor = 1 - this.alpha ** this.totalWeight;
      if (zeroFactor > 0) return this.estimate / zeroFactor;
    }
    return this.estimate;
  }
}

const MIN_WEIGHT = 0.001;
const MIN_DELAY_MS = 50;
const DEFAULT_TTFB_MS = 100;

export class EwmaBandwidthEstimator {
  private readonly fast: Ewma;
  private readonly slow: Ewma;
  private readonly ttfb: Ewma;

  constructor(
    slowHalfLifeS: number,
    fastHalfLifeS: number,
    private readonly defaultEstimateBps: number,
  ) {
    this.fast = new Ewma(fastHalfLifeS);
    this.slow = new Ewma(slowHalfLifeS);
    this.ttfb = new Ewma(slowHalfLifeS);
  }

  /** One transfer: `durationMs` of transfer (TTFB excluded) for `bytes`. */
  sample(durationMs: number, bytes: number): void {
    if (bytes <= 0) return;
    const seconds = Math.max(durationMs, Math.min(MIN_DELAY_MS, bytes / 100_000)) / 1000;
    const bps = (8 * bytes) / seconds;
    this.fast.sample(seconds, bps);
    this.slow.sample(seconds, bps);
  }

  sampleTtfb(ttfbMs: number): void {
    const s = ttfbMs / 1000;
    this.ttfb.sample(Math.SQRT2 * Math.exp(-(s * s) / 2), Math.max(ttfbMs, 5));
  }

  canEstimate(): boolean {
    return this.fast.weight >= MIN_WEIGHT;
  }

  estimateBps(): number {
    return this.canEstimate() ? Math.min(this.fast.value(), this.slow.value()) : this.defaultEstimateBps;
  }

  estimateTtfbMs(): number {
    return this.ttfb.weight >= MIN_WEIGHT ? this.ttfb.value() : DEFAULT_TTFB_MS;
  }
}
