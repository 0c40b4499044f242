/**
 * ABR decisions on hand-worked cases. Every expected number is derived in the comments from
 * the formulas the modules cite (hls.js 1.7.4 abr-controller / ewma; dash.js BolaRule), not
 * read back from the code.
 */
import { describe, expect, it } from 'vitest';
import { isPlayloopError } from '../../../core/errors.ts';
import { BolaAbr, bolaParameters } from './bola.ts';
import { Ewma, EwmaBandwidthEstimator } from './ewma.ts';
import { DEFAULT_ABR_KNOBS, resolveAbrKnobs } from './knobs.ts';
import { ThroughputAbr } from './throughput.ts';
import type { AbrLevel } from './types.ts';

/** The default ladder's video rates (control-plane/media/ladder-spec.ts), peak = average. */
const LADDER: AbrLevel[] = [400_000, 700_000, 1_200_000, 2_500_000].map((b) => ({
  bitrateBps: b,
  averageBitrateBps: b,
}));
const SEG = 2_000;

/** A segment that measures exactly `bps` over a 2 s transfer after a 100 ms first byte. */
function sampleAt(bps: number, level: number, nowMs = 2_100) {
  return {
    nowMs,
    requestedAtMs: nowMs - 2_100,
    bytes: (bps * 2) / 8,
    downloadMs: 2_100,
    ttfbMs: 100,
    level,
    durationMs: SEG,
    bufferMs: 0,
  };
}

describe('EWMA (hls.js ewma.ts)', () => {
  it('weights by seconds with a half-life and corrects the zero start', () => {
    // Half-life 3 s: alpha = 0.5^(1/3). Sample (2 s, 3 Mbit/s): est = 3e6 (1 - alpha^2).
    // Sample (1 s, 1 Mbit/s): est = 1e6 (1 - alpha) + alpha est. Total weight 3 s, so the
    // zero factor is 1 - 0.5^(3/3) = 0.5: 2,174,802 bit/s.
    const e = new Ewma(3);
    e.sample(2, 3e6);
    e.sample(1, 1e6);
    expect(e.value()).toBeCloseTo(2_174_802.1, 0);
    expect(e.weight).toBe(3);
  });

  it('estimates min(fast, slow) after a drop, the default before any sample', () => {
    const est = new EwmaBandwidthEstimator(9, 3, 500_000);
    expect(est.estimateBps()).toBe(500_000);
    est.sample(2_000, 750_000); // 2 s of 6e6 bits: 3 Mbit/s
    // One sample: both averages are exactly it after the zero correction.
    expect(est.estimateBps()).toBeCloseTo(3e6, 3);
    est.sample(1_000, 125_000); // 1 s of 1e6 bits: 1 Mbit/s
    // Fast (3 s): 2,174,802 as above; slow (9 s): 2,281,382; the minimum is the fast one.
    expect(est.estimateBps()).toBeCloseTo(2_174_802.1, 0);
  });

  it('floors a very short download at min(50 ms, bytes / 100000)', () => {
    const est = new EwmaBandwidthEstimator(9, 3, 500_000);
    est.sample(1, 1_000_000); // floor min(50, 10) = 10 ms: 8e6 bits / 0.01 s
    expect(est.estimateBps()).toBeCloseTo(8e8, 0);
  });

  it('tracks TTFB, 100 ms by default', () => {
    const est = new EwmaBandwidthEstimator(9, 3, 500_000);
    expect(est.estimateTtfbMs()).toBe(100);
    est.sampleTtfb(40);
    expect(est.estimateTtfbMs()).toBeCloseTo(40, 9);
  });
});

describe('ThroughputAbr (hls.js findBestLevel)', () => {
  it('starts from the default estimate: 500 kbit/s picks 400 kbit/s', () => {
    // First selection, base = level 0. Levels above 0 are up-switches: 0.7 * 500k = 350k
    // fits none of them. Level 0: 0.95 * 500k = 475k >= 400k, fetch 0.1 + 400k*2/475k =
    // 1.78 s < 0 + maxStarvationDelay 4 s.
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    expect(abr.decide({ nowMs: 0, bufferMs: 0, lastLevel: -1, segmentDurationMs: SEG })).toEqual({
      level: 0,
      delayMs: 0,
    });
  });

  it('honours startLevel for the first segment only', () => {
    const abr = new ThroughputAbr(LADDER, resolveAbrKnobs({ startLevel: 2 }));
    expect(abr.decide({ nowMs: 0, bufferMs: 0, lastLevel: -1, segmentDurationMs: SEG }).level).toBe(2);
    expect(abr.decide({ nowMs: 0, bufferMs: 0, lastLevel: 2, segmentDurationMs: SEG }).level).toBe(0);
  });

  it('switches up with abrBandWidthUpFactor: 3 Mbit/s from level 1 goes to 1.2 Mbit/s, not 2.5', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    abr.onSegmentLoaded(sampleAt(3e6, 1));
    // Up-switch factor 0.7: 2.1 Mbit/s < 2.5 Mbit/s for level 3; level 2 fits (fetch
    // 0.1 + 1.2*2/2.1 = 1.24 s < buffer 10 s).
    expect(abr.decide({ nowMs: 2_100, bufferMs: 10_000, lastLevel: 1, segmentDurationMs: SEG }).level).toBe(
      2,
    );
  });

  it('stays up with abrBandWidthFactor: 3 Mbit/s on level 3 keeps level 3', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    abr.onSegmentLoaded(sampleAt(3e6, 3));
    // Not an up-switch: 0.95 * 3e6 = 2.85e6 >= 2.5e6; fetch 0.1 + 5/2.85 = 1.85 s < 10 s.
    expect(abr.decide({ nowMs: 2_100, bufferMs: 10_000, lastLevel: 3, segmentDurationMs: SEG }).level).toBe(
      3,
    );
    // A lower factor leaves no headroom for it: 0.8 * 3e6 = 2.4e6 < 2.5e6, so level 2.
    const cautious = new ThroughputAbr(LADDER, resolveAbrKnobs({ abrBandWidthFactor: 0.8 }));
    cautious.onSegmentLoaded(sampleAt(3e6, 3));
    expect(
      cautious.decide({ nowMs: 2_100, bufferMs: 10_000, lastLevel: 3, segmentDurationMs: SEG }).level,
    ).toBe(2);
  });

  it('with an empty buffer accepts at most min(segment, maxStarvationDelay) of rebuffering', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    abr.onSegmentLoaded(sampleAt(2.6e6, 3));
    // Buffer 0: pass 2 only, max fetch 0 + min(2, 4) = 2 s. Level 3: 0.95 * 2.6e6 = 2.47e6
    // < 2.5e6. Level 2: 2.47e6 >= 1.2e6 and fetch 0.1 + 2.4/2.47 = 1.07 s < 2 s.
    expect(abr.decide({ nowMs: 2_100, bufferMs: 0, lastLevel: 3, segmentDurationMs: SEG }).level).toBe(2);
  });

  it('rejects a level whose fetch outlasts the buffer when nothing may rebuffer', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    abr.onSegmentLoaded(sampleAt(2.7e6, 3));
    // Level 3 fits the bandwidth (0.95 * 2.7e6 = 2.565e6) but takes 0.1 + 5/2.565 = 2.05 s.
    // Buffer 1.5 s: pass 1 (no rebuffering) needs fetch < 1.5 s: level 3 fails, level 2
    // (0.1 + 2.4/2.565 = 1.04 s) fits.
    expect(abr.decide({ nowMs: 2_100, bufferMs: 1_500, lastLevel: 3, segmentDurationMs: SEG }).level).toBe(2);
  });

  it('falls back to the lowest level when nothing fits', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    abr.onSegmentLoaded(sampleAt(200_000, 2));
    expect(abr.decide({ nowMs: 2_100, bufferMs: 0, lastLevel: 2, segmentDurationMs: SEG }).level).toBe(0);
  });

  it('buffers min(max(8 * maxBufferSize / bitrate, maxBufferLength), maxMaxBufferLength)', () => {
    const abr = new ThroughputAbr(LADDER, DEFAULT_ABR_KNOBS);
    // 2.5 Mbit/s: 8 * 60e6 / 2.5e6 = 192 s. 400 kbit/s: 1200 s, capped at 600 s.
    expect(abr.bufferTargetMs(3)).toBe(192_000);
    expect(abr.bufferTargetMs(0)).toBe(600_000);
    const small = new ThroughputAbr(
      LADDER,
      resolveAbrKnobs({ maxBufferSize: 1_000_000, maxBufferLength: 6 }),
    );
    // 8e6 / 2.5e6 = 3.2 s < maxBufferLength 6 s.
    expect(small.bufferTargetMs(3)).toBe(6_000);
  });
});

describe('BOLA (dash.js BolaRule)', () => {
  // Utilities 1, 1+ln 1.75, 1+ln 3, 1+ln 6.25; Q_target = max(12, 10 + 2*4) = 18 s;
  // gp = (2.83258 - 1) / (18/10 - 1) = 2.29073; V = 10 / gp = 4.36543.
  it('derives gp and V from the ladder', () => {
    const p = bolaParameters(
      LADDER.map((l) => l.bitrateBps),
      12,
    );
    expect(p?.gp).toBeCloseTo(2.29073, 5);
    expect(p?.vp).toBeCloseTo(4.36543, 5);
    expect(bolaParameters([1e6], 12)).toBeNull();
  });

  it('picks the lowest level at 10 s of buffer, the top at 18 s, and 1.2 Mbit/s at 15 s', () => {
    const bola = new BolaAbr(LADDER, DEFAULT_ABR_KNOBS, 600_000);
    // Scores (V (v + gp) - Q) / S at Q = 15: -1.59e-6, 2.58e-6, 3.47e-6, 2.95e-6.
    expect(bola.qualityFromBuffer(10)).toBe(0);
    expect(bola.qualityFromBuffer(15)).toBe(2);
    expect(bola.qualityFromBuffer(18)).toBe(3);
    // Ceilings V (v + gp): 14.365, 16.808, 19.161, 22.365 s; floors (score ties with every
    // lower level): 0, 11.108, 13.514, 16.204 s.
    expect(bola.maxBufferForQuality(1)).toBeCloseTo(16.80839, 4);
    expect(bola.minBufferForQuality(1)).toBeCloseTo(11.10814, 4);
    expect(bola.minBufferForQuality(3)).toBeCloseTo(16.20372, 4);
  });

  it('runs startup from throughput, then BOLA-O and the placeholder buffer in steady state', () => {
    const bola = new BolaAbr(LADDER, DEFAULT_ABR_KNOBS, 600_000);
    // 1. No sample: the default estimate 500 kbit/s fits level 0.
    expect(bola.decide({ nowMs: 0, bufferMs: 0, lastLevel: -1, segmentDurationMs: SEG })).toEqual({
      level: 0,
      delayMs: 0,
    });
    // 2. Level 0 arrives at 2.1 s: 250 kB in 2 s of transfer = 1 Mbit/s.
    bola.onSegmentLoaded({ ...sampleAt(1e6, 0), bytes: 250_000 });
    // 3. Startup: safe throughput 0.9 Mbit/s fits level 1; placeholder = floor(1) - buffer
    //    = 11.108 - 2 = 9.108 s; the buffer holds a segment, so BOLA turns steady.
    expect(bola.decide({ nowMs: 2_100, bufferMs: 2_000, lastLevel: 0, segmentDurationMs: SEG }).level).toBe(
      1,
    );
    expect(bola.debugState.state).toBe('steady');
    expect(bola.debugState.placeholderS).toBeCloseTo(9.10814, 4);
    // 4. Level 1 arrives at 3.6 s (requested at 2.1 s, 175 kB in 1.4 s = 1 Mbit/s), buffer
    //    0.5 s. Placeholder decays to 9.108 * 0.99 = 9.01706 s; the cap, ceiling(1) minus
    //    the buffer at request (0.5 + 1.5 = 2 s) = 14.808 s, does not bind.
    bola.onSegmentLoaded({
      nowMs: 3_600,
      requestedAtMs: 2_100,
      bytes: 175_000,
      downloadMs: 1_500,
      ttfbMs: 100,
      level: 1,
      durationMs: SEG,
      bufferMs: 500,
    });
    expect(bola.debugState.placeholderS).toBeCloseTo(9.01706, 4);
  });

  it('holds at the throughput level when the buffer says go up (BOLA-O), shrinking the placeholder', () => {
    const bola = steadyAtLevel1();
    // Effective buffer 9.5 + 9.01706 = 18.517 s: the score prefers level 3, but safe
    // throughput (0.9 Mbit/s) only allows level 1 and the last level was 1: stay at 1.
    // 18.517 - ceiling(1) 16.808 = 1.709 s of excess, taken from the placeholder: 7.30839 s.
    expect(bola.decide({ nowMs: 3_600, bufferMs: 9_500, lastLevel: 1, segmentDurationMs: SEG })).toEqual({
      level: 1,
      delayMs: 0,
    });
    expect(bola.debugState.placeholderS).toBeCloseTo(7.30839, 4);
  });

  it('delays the next request once the excess is larger than the placeholder', () => {
    const bola = steadyAtLevel1();
    // Effective 25 + 9.01706 = 34.017 s; excess over 16.808 s is 17.2087 s; the placeholder
    // covers 9.01706 of it, the remaining 8.19161 s becomes a delay.
    const d = bola.decide({ nowMs: 3_600, bufferMs: 25_000, lastLevel: 1, segmentDurationMs: SEG });
    expect(d.level).toBe(1);
    expect(d.delayMs).toBeCloseTo(8_191.6, 0);
    expect(bola.debugState.placeholderS).toBe(0);
  });

  it('forgets the placeholder on a buffer underrun and restarts on a seek', () => {
    const bola = steadyAtLevel1();
    bola.onBufferEmpty();
    expect(bola.debugState.placeholderS).toBe(0);
    bola.onSeek();
    expect(bola.debugState.state).toBe('startup');
  });

  it('targets stableBufferTime below the top level and the top-quality time at the top', () => {
    const short = new BolaAbr(LADDER, DEFAULT_ABR_KNOBS, 120_000);
    const long = new BolaAbr(LADDER, DEFAULT_ABR_KNOBS, 3_600_000);
    expect(short.bufferTargetMs(2)).toBe(12_000);
    expect(short.bufferTargetMs(3)).toBe(30_000);
    expect(long.bufferTargetMs(3)).toBe(60_000);
  });
});

function steadyAtLevel1(): BolaAbr {
  const bola = new BolaAbr(LADDER, DEFAULT_ABR_KNOBS, 600_000);
  bola.decide({ nowMs: 0, bufferMs: 0, lastLevel: -1, segmentDurationMs: SEG });
  bola.onSegmentLoaded({ ...sampleAt(1e6, 0), bytes: 250_000 });
  bola.decide({ nowMs: 2_100, bufferMs: 2_000, lastLevel: 0, segmentDurationMs: SEG });
  bola.onSegmentLoaded({
    nowMs: 3_600,
    requestedAtMs: 2_100,
    bytes: 175_000,
    downloadMs: 1_500,
    ttfbMs: 100,
    level: 1,
    durationMs: SEG,
    bufferMs: 500,
  });
  return bola;
}

describe('ABR knobs', () => {
  it('keeps the players defaults and overlays a plan subset', () => {
    expect(DEFAULT_ABR_KNOBS.abrBandWidthFactor).toBe(0.95);
    expect(DEFAULT_ABR_KNOBS.abrBandWidthUpFactor).toBe(0.7);
    expect(DEFAULT_ABR_KNOBS.abrEwmaDefaultEstimate).toBe(500_000);
    expect(DEFAULT_ABR_KNOBS.maxBufferLength).toBe(30);
    expect(DEFAULT_ABR_KNOBS.bandwidthSafetyFactor).toBe(0.9);
    expect(resolveAbrKnobs({ abrBandWidthFactor: 0.8 }).abrBandWidthFactor).toBe(0.8);
  });

  it('refuses unknown knobs, out-of-range values and contradictions, naming them', () => {
    for (const bad of [{ abrBandwidthFactor: 0.8 }, { abrBandWidthFactor: 1.5 }, { maxBufferLength: 700 }]) {
      try {
        resolveAbrKnobs(bad);
        expect.unreachable();
      } catch (err) {
        expect(isPlayloopError(err) && err.code).toBe('PLAYLOOP_CONFIG_INVALID');
      }
    }
    expect(() => resolveAbrKnobs({ maxBufferLength: 700 })).toThrow(/maxMaxBufferLength/);
  });
});
