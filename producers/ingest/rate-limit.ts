/**
 * Per-key token bucket counted in events: `eventsPerSecond` refill, `burstEvents` capacity
 * (the classic token bucket, e.g. RFC 2697's single-rate meter). A batch costs its event
 * count; when it does not fit, the answer is 429 with the seconds until it would.
 */

export interface RateLimitSettings {
  readonly eventsPerSecond: number;
  readonly burstEvents: number;
}

export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  take(keyId: string, events: number): RateDecision {
    const t = this.now();
    let bucket = this.buckets.get(keyId);
    if (bucket === undefined) {
      bucket = { tokens: this.settings.burstEvents, updatedAt: t };
      this.buckets.set(keyId, bucket);
    }
    const elapsedMs = Math.max(0, t - bucket.updatedAt);
    bucket.tokens = Math.min(
      this.settings.burstEvents,
      bucket.tokens + (elapsedMs / 1_000) * this.settings.eventsPerSecond,
    );
    bucket.updatedAt = t;
    if (events <= bucket.tokens) {
      bucket.tokens -= events;
      return { allowed: true };
    }
    const deficit = events - bucket.tokens;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil(deficit / this.settings.eventsPerSecond)),
    };
  }
}
