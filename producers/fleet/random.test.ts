import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../control-plane/oca/degrade.ts';
import { fmix32, hashString, Rng, streamSeed, zipfWeights } from './random.ts';

describe('Rng', () => {
  it('is mulberry32: matches the OCA error drawer, written separately', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef]) {
      const ours = new Rng(seed);
      const theirs = mulberry32(seed);
      for (let i = 0; i < 100; i++) expect(ours.nextUint32() / 4_294_967_296).toBe(theirs());
    }
  });

  it('gives the same stream for the same seed and a different one for another', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 10 }, () => a.uniform());
    expect(Array.from({ length: 10 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => c.uniform())).not.toEqual(xs);
  });

  it('draws uniforms strictly inside (0, 1) with mean 1/2', () => {
    const rng = new Rng(123);
    let sum = 0;
    let outside = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u > 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    // Standard error of the mean of U(0,1) is sqrt(1/12/n) = 0.000913; allow 5 of them.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
  });

  it('draws exponentials with the asked mean and log-normals with the asked median', () => {
    const rng = new Rng(99);
    const n = 50_000;
    let sum = 0;
    const logs: number[] = [];
    for (let i = 0; i < n; i++) {
      sum += rng.exponential(3);
      logs.push(rng.logNormal(10, 0.5));
    }
    // Exp(mean 3) has sd 3: standard error 3/sqrt(n) = 0.0134.
    expect(Math.abs(sum / n - 3)).toBeLessThan(5 * (3 / Math.sqrt(n)));
    logs.sort((x, y) => x - y);
    const median = logs[n / 2] as number;
    expect(Math.abs(Math.log(median) - Math.log(10))).toBeLessThan(0.02);
  });

  it('picks weighted indices in proportion', () => {
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.weighted([1, 2, 0])]!++;
    expect(counts[2]).toBe(0);
    expect(Math.abs((counts[1] as number) / 30_000 - 2 / 3)).toBeLessThan(0.015);
  });
});

describe('stream seeds', () => {
  it('separate players, sessions and purposes', () => {
    const seen = new Set<number>();
    for (let player = 0; player < 50; player++) {
      for (let purpose = 0; purpose < 4; purpose++) seen.add(streamSeed(1, player, 0, purpose));
    }
    expect(seen.size).toBe(200);
    expect(streamSeed(1, 2, 3)).toBe(streamSeed(1, 2, 3));
    expect(streamSeed(1, 2, 3)).not.toBe(streamSeed(2, 2, 3));
  });

  it('fmix32 is the MurmurHash3 finaliser (fmix32(1) from the reference C code)', () => {
    // fmix32(0) is 0 and fmix32(1) = 0x514e28b7 in smhasher's MurmurHash3.cpp.
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });

  it('hashes strings with FNV-1a (the published test vector for "a")', () => {
    // FNV-1a 32-bit of "a" is 0xe40c292c (Fowler/Noll/Vo reference vectors).
    expect(hashString('a')).toBe(0xe40c292c);
  });

  it('Zipf weights fall as 1/k^s', () => {
    expect(zipfWeights(3, 1)).toEqual([1, 0.5, 1 / 3]);
  });
});
