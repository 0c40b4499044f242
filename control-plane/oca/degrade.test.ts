import { describe, expect, it } from 'vitest';
import { Degrader, degradationSchema, fnv1a32, isDegraded, mulberry32 } from './degrade.ts';

describe('mulberry32', () => {
  it('matches the published C algorithm', () => {
    // Reference: the C source (Tommy Ettinger) transcribed to Python 3.11 with explicit
    // 32-bit masking; seed 42 gives these first three draws.
    const next = mulberry32(42);
    expect([next(), next(), next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });
});

describe('fnv1a32', () => {
  it('matches the FNV-1a reference values', () => {
    // Offset basis for the empty string; 'a' is the published test vector 0xe40c292c.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('oca-edge-as3320-a')).toBe(1_937_279_789); // Python reference, same loop
  });
});

describe('Degrader', () => {
  it('is healthy until told otherwise', () => {
    const d = new Degrader('oca-a');
    expect(isDegraded(d.current)).toBe(false);
    expect(Array.from({ length: 100 }, () => d.shouldFail()).some(Boolean)).toBe(false);
  });

  it('replaces the whole degradation on each command and clears back to healthy', () => {
    const d = new Degrader('oca-a');
    d.set({ latencyMs: 200, throughputKbps: 800 });
    expect(d.set({ errorRate: 0.1 })).toEqual({ latencyMs: 0, errorRate: 0.1 });
    d.clear();
    expect(isDegraded(d.current)).toBe(false);
  });

  it('repeats the same failures for the same seed', () => {
    const draws = (seed: number) => {
      const d = new Degrader('oca-a');
      d.set({ errorRate: 0.3, seed });
      return Array.from({ length: 50 }, () => d.shouldFail());
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });

  it('fails at about the configured rate', () => {
    const d = new Degrader('oca-a');
    d.set({ errorRate: 0.25, seed: 1 });
    const failures = Array.from({ length: 400 }, () => d.shouldFail()).filter(Boolean).length;
    // scipy 1.17.1 stats.binom.interval(0.999, 400, 0.25) = (72, 129)
    expect(failures).toBeGreaterThanOrEqual(72);
    expect(failures).toBeLessThanOrEqual(129);
  });

  it('refuses impossible settings', () => {
    expect(() => degradationSchema.parse({ errorRate: 1.5 })).toThrow();
    expect(() => degradationSchema.parse({ throughputKbps: 0 })).toThrow();
    expect(() => degradationSchema.parse({ latencyMs: -1 })).toThrow();
    expect(() => degradationSchema.parse({ jitter: 1 })).toThrow();
  });
});
