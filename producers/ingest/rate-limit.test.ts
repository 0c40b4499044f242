import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('per-key token bucket', () => {
  it('allows a burst, then refills at the rate, and says how long to wait', () => {
    let t = 0;
    const limiter = new RateLimiter({ eventsPerSecond: 100, burstEvents: 300 }, () => t);
    expect(limiter.take('k', 300)).toEqual({ allowed: true });
    // Empty: 250 events need 2.5 s of refill -> Retry-After 3 (whole seconds, rounded up).
    expect(limiter.take('k', 250)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    t += 2_500;
    expect(limiter.take('k', 250)).toEqual({ allowed: true });
    expect(limiter.take('k', 1)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('never holds more than the burst and keeps keys apart', () => {
    let t = 0;
    const limiter = new RateLimiter({ eventsPerSecond: 10, burstEvents: 20 }, () => t);
    t += 1_000_000;
    expect(limiter.take('a', 21).allowed).toBe(false);
    expect(limiter.take('a', 20).allowed).toBe(true);
    expect(limiter.take('b', 20).allowed).toBe(true);
  });
});
