/**
 * A small deterministic pseudo-random number generator for simulations and tests: the same
 * seed gives the same stream on every platform (Math.random cannot be seeded).
 *
 * - Generator: xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number
 *   generators", ACM TOMS 47(4), 2021): 128-bit state, period 2^128 - 1, passes BigCrush.
 * - Seeding: the four state words are the halves of two SplitMix64 outputs (Steele, Lea &
 *   Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), the expansion
 *   Vigna recommends so that nearby seeds give unrelated streams.
 * - Uniform doubles use 53 random bits; normals use the Box-Muller transform (Box & Muller,
 *   "A note on the generation of random normal deviates", Ann. Math. Stat. 29, 1958),
 *   returning both deviates of each pair.
 */
import { invalid } from './errors.ts';

export interface Rng {
  /** The next 32 random bits, as an unsigned integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number;
  /** A standard normal deviate. */
  normal(): number;
}

const MASK64 = (1n << 64n) - 1n;

function splitMix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state: next, value: z ^ (z >> 31n) };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

class Xoshiro128StarStar implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(words: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

/** A generator seeded with a non-negative safe integer. */
export function createRng(seed: number): Rng {
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw invalid(`seed must be a non-negative safe integer, got ${seed}`, { seed });
  }
  const first = splitMix64(BigInt(seed));
  const second = splitMix64(first.state);
  const words: [number, number, number, number] = [
    Number(first.value & 0xffffffffn),
    Number(first.value >> 32n),
    Number(second.value & 0xffffffffn),
    Number(second.value >> 32n),
  ];
  // The all-zero state is the one fixed point of xoshiro; SplitMix64 never yields two zero outputs in a row.
  return new Xoshiro128StarStar(words);
}
