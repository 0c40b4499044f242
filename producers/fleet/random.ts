/**
 * Seeded randomness for the fleet: the same seed gives the same run, draw for draw.
 *
 * - Generator: mulberry32 (Tommy Ettinger, 2017, public domain). One 32-bit word of state,
 *   so a player can carry several independent streams for a few bytes each; its 2^32 period
 *   is far more than a session draws. Not for cryptography, not for statistics tests.
 * - Streams: every (fleet seed, player, session, purpose) gets its own stream, seeded by
 *   hashing those numbers with MurmurHash3's 32-bit finaliser (Appleby, "fmix32"), so a
 *   player's draws never depend on how many draws another player made or in which order
 *   the simulator visited them. That is what makes a run reproducible event for event.
 * - Normals: Box-Muller (Box & Muller, Ann. Math. Stat. 29, 1958), one deviate per call.
 */

/** MurmurHash3 fmix32: a bijective avalanche mix of 32 bits. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stream seed from a run seed and any number of small integers (player, session, purpose). */
export function streamSeed(seed: number, ...parts: readonly number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) h = fmix32((h + Math.imul(part >>> 0, 0x9e3779b9) + 0x7f4a7c15) >>> 0);
  return h;
}

/** FNV-1a over UTF-16 code units: a stable number from an id (title, OCA). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TWO_POW_32 = 4_294_967_296;

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in the open interval (0, 1): never 0, so logarithms of it are finite. */
  uniform(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Exponential with the given mean (inverse transform). */
  exponential(mean: number): number {
    return -mean * Math.log(this.uniform());
  }

  /** Log-normal with the given median (e^mu) and shape sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.uniform() < p;
  }

  /** An index drawn with probability proportional to its weight (weights >= 0, sum > 0). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

/**
 * Cumulative weights of a Zipf distribution over `n` ranks with exponent `s`
 * (P(rank k) proportional to 1/k^s): video popularity is Zipf-like (Cha et al., "I Tube,
 * You Tube, Everybody Tubes", IMC 2007).
 */
export function zipfWeights(n: number, s: number): number[] {
  return Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);
}
