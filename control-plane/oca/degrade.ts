/**
 * Degradation on command: what an OCA does to its media responses so the feedback loop has
 * something to detect and steer around. Three knobs, each applied for real by the server:
 * added latency before the first byte, a per-connection throughput cap (see pacing.ts), and
 * an error rate answered with 503. Errors are drawn from a seeded generator so a test (or a
 * replayed experiment) sees the same sequence of failures every time.
 */
import { z } from 'zod';

export const degradationSchema = z.strictObject({
  /** Added before the first byte of each media response. */
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Per-connection cap in kilobits per second (1 kbps = 1000 bit/s); absent means no cap. */
  throughputKbps: z.number().positive().max(10_000_000).optional(),
  /** Probability that a media request is answered 503. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Seeds the error draws; defaults to a hash of the OCA id. */
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
});

export type DegradationInput = z.input<typeof degradationSchema>;
export type Degradation = Readonly<z.output<typeof degradationSchema>>;

export const NO_DEGRADATION: Degradation = Object.freeze({ latencyMs: 0, errorRate: 0 });

export function isDegraded(d: Degradation): boolean {
  return d.latencyMs > 0 || d.throughputKbps !== undefined || d.errorRate > 0;
}

/**
 * mulberry32 (Tommy Ettinger, 2017, public domain): a 32-bit state generator with a full
 * 2^32 period, plenty for drawing error decisions, and tiny enough to reimplement anywhere.
 * Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, 32-bit: a stable default seed from an OCA id. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The current degradation of one OCA and its error draws. */
export class Degrader {
  readonly #defaultSeed: number;
  #current: Degradation = NO_DEGRADATION;
  #random: () => number;

  constructor(ocaId: string) {
    this.#defaultSeed = fnv1a32(ocaId);
    this.#random = mulberry32(this.#defaultSeed);
  }

  get current(): Degradation {
    return this.#current;
  }

  /** Replaces the whole degradation (unset knobs go back to healthy) and reseeds the draws. */
  set(input: DegradationInput): Degradation {
    const parsed = degradationSchema.parse(input);
    this.#current = Object.freeze(parsed);
    this.#random = mulberry32(parsed.seed ?? this.#defaultSeed);
    return this.#current;
  }

  clear(): void {
    this.#current = NO_DEGRADATION;
    this.#random = mulberry32(this.#defaultSeed);
  }

  /** One draw per media request: true means answer 503. */
  shouldFail(): boolean {
    if (this.#current.errorRate <= 0) return false;
    return this.#random() < this.#current.errorRate;
  }
}
