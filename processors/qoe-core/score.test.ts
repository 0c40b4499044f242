import { describe, expect, it } from 'vitest';
import {
  bitrateUtility,
  qualityComponent,
  RUNG_UTILITY,
  type ScoreInputs,
  sessionScore,
  smoothnessComponent,
  startupComponent,
} from './score.ts';

// Reference values computed independently with Python 3 `math` (log, exp, sqrt) from the
// formula in SCORE.md, not from this code:
//   span = ln(5800/100); rung = ln(5800/235)/9/span
//   u(k) = clamp(ln(k/100)/span); S = 8/(8+s); M = (1/sqrt(1+(n/2)^2) + e^(-10r))/2
//   Q = clamp(u(k) - rung*switches/max(1, playSec/4)); score = round(100*F*S*M*Q, 2)

function inputs(partial: Partial<ScoreInputs>): ScoreInputs {
  return {
    startupOutcome: 'started',
    startupMs: 0,
    vpf: false,
    stallCount: 0,
    rebufferRatio: 0,
    avgBitrateKbps: 5800,
    firstBitrateKbps: 5800,
    switchesUp: 0,
    switchesDown: 0,
    playMs: 600_000,
    ...partial,
  };
}

describe('score components', () => {
  it('startup follows the Mux curve 8/(8+s)', () => {
    // Mux's published examples: 400 ms -> 95, 2 s -> 80, 8 s -> 50, 20 s -> 29 (rounded).
    expect(Math.round(100 * startupComponent(400))).toBe(95);
    expect(startupComponent(2_000)).toBeCloseTo(0.8, 12);
    expect(startupComponent(8_000)).toBeCloseTo(0.5, 12);
    expect(Math.round(100 * startupComponent(20_000))).toBe(29);
    expect(startupComponent(null)).toBe(1);
  });

  it('smoothness averages the stall-count and rebuffer curves', () => {
    expect(smoothnessComponent(0, 0)).toBe(1);
    // n = 1, r = 1/30: (1/sqrt(1.25) + e^(-1/3))/2 = (0.894427191 + 0.716531311)/2 = 0.805479251
    expect(smoothnessComponent(1, 2_000 / 60_000)).toBeCloseTo(0.8054792507868526, 12);
    // n = 2, r = 0.05: (1/sqrt(2) + e^(-0.5))/2 = (0.707106781 + 0.606530660)/2 = 0.656818720
    expect(smoothnessComponent(2, 0.05)).toBeCloseTo(0.6568187204495904, 12);
  });

  it('bitrate utility is 0 at the floor, 1 at the ladder top, logarithmic between', () => {
    expect(bitrateUtility(100)).toBe(0);
    expect(bitrateUtility(50)).toBe(0);
    expect(bitrateUtility(5_800)).toBe(1);
    expect(bitrateUtility(20_000)).toBe(1);
    // ln(2.35)/ln(58) = 0.854415/4.060443 = 0.210424
    expect(bitrateUtility(235)).toBeCloseTo(0.21042416453989038, 12);
    expect(bitrateUtility(1_000)).toBeCloseTo(0.5670773083167061, 12);
    // ln(5800/235)/9/ln(58) = 3.206...(/9)/4.060... = 0.0877306
    expect(RUNG_UTILITY).toBeCloseTo(0.08773064838445664, 14);
  });

  it('quality subtracts one rung per switch per chunk played', () => {
    // 1050 kbps, 4 switches over 120 s = 30 chunks: u = 0.5790929... - 4*0.0877306/30
    expect(qualityComponent(1_050, 4, 120_000)).toBeCloseTo(0.5673958592138099, 12);
    // Under one chunk of play the divisor is 1, never less.
    expect(qualityComponent(5_800, 1, 1_000)).toBeCloseTo(1 - RUNG_UTILITY, 12);
  });
});

describe('sessionScore', () => {
  it('matches the hand-checked vectors', () => {
    expect(sessionScore(inputs({})).score).toBe(100);
    expect(sessionScore(inputs({ startupMs: 2_000, avgBitrateKbps: 3_000 })).score).toBe(67.01);
    expect(
      sessionScore(
        inputs({
          startupMs: 8_000,
          stallCount: 2,
          rebufferRatio: 0.05,
          avgBitrateKbps: 1_050,
          switchesUp: 2,
          switchesDown: 2,
          playMs: 120_000,
        }),
      ).score,
    ).toBe(18.63);
    expect(
      sessionScore(
        inputs({
          startupMs: 500,
          stallCount: 5,
          rebufferRatio: 0.2,
          avgBitrateKbps: 235,
          switchesUp: 5,
          switchesDown: 5,
          playMs: 60_000,
          vpf: true,
        }),
      ).score,
    ).toBe(1.81);
    expect(
      sessionScore(
        inputs({
          startupMs: 1_200,
          stallCount: 1,
          rebufferRatio: 0.01,
          avgBitrateKbps: 4_300,
          switchesUp: 2,
          switchesDown: 1,
          playMs: 300_000,
        }),
      ).score,
    ).toBe(72.19);
  });

  it('scores start failures 0 and gives no verdict for exits before video start', () => {
    expect(sessionScore(inputs({ startupOutcome: 'vsf' })).score).toBe(0);
    expect(sessionScore(inputs({ startupOutcome: 'ebvs' })).score).toBeNull();
    expect(sessionScore(inputs({ startupOutcome: 'unknown' })).score).toBeNull();
  });

  it('a continued view has no startup term', () => {
    const s = sessionScore(inputs({ startupOutcome: 'continued', startupMs: null, avgBitrateKbps: 5_800 }));
    expect(s.startup).toBe(1);
    expect(s.score).toBe(100);
  });

  it('falls back to the first-frame bitrate when there was no play time', () => {
    const s = sessionScore(inputs({ avgBitrateKbps: null, firstBitrateKbps: 1_000, playMs: 0 }));
    expect(s.quality).toBeCloseTo(0.5670773083167061, 12);
  });

  it('is monotone in each input', () => {
    const base = inputs({
      startupMs: 1_500,
      stallCount: 2,
      rebufferRatio: 0.03,
      avgBitrateKbps: 2_000,
      switchesUp: 2,
      switchesDown: 2,
      playMs: 180_000,
    });
    const at = (p: Partial<ScoreInputs>): number => sessionScore({ ...base, ...p }).score ?? Number.NaN;
    let previous = Number.POSITIVE_INFINITY;
    for (const startupMs of [0, 200, 1_000, 3_000, 10_000, 60_000]) {
      const s = at({ startupMs });
      expect(s).toBeLessThanOrEqual(previous);
      previous = s;
    }
    previous = Number.POSITIVE_INFINITY;
    for (const stallCount of [0, 1, 2, 5, 20]) {
      const s = at({ stallCount });
      expect(s).toBeLessThanOrEqual(previous);
      previous = s;
    }
    previous = Number.POSITIVE_INFINITY;
    for (const rebufferRatio of [0, 0.001, 0.01, 0.1, 0.5, 1]) {
      const s = at({ rebufferRatio });
      expect(s).toBeLessThanOrEqual(previous);
      previous = s;
    }
    previous = Number.NEGATIVE_INFINITY;
    for (const avgBitrateKbps of [50, 235, 750, 2_350, 5_800, 12_000]) {
      const s = at({ avgBitrateKbps });
      expect(s).toBeGreaterThanOrEqual(previous);
      previous = s;
    }
    previous = Number.POSITIVE_INFINITY;
    for (const switchesDown of [0, 1, 5, 50, 500]) {
      const s = at({ switchesDown });
      expect(s).toBeLessThanOrEqual(previous);
      previous = s;
    }
    expect(at({ vpf: true })).toBeLessThan(at({ vpf: false }));
  });
});
