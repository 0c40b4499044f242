import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';

/** The ingest section of core/config.ts: defaults, and contradictions refused with a reason. */
describe('ingest settings', () => {
  it('has safe defaults', () => {
    const { ingest } = loadConfig({ env: {} });
    expect(ingest).toMatchObject({
      maxBodyBytes: 1_048_576,
      maxEventsPerBatch: 500,
      rateLimit: { eventsPerSecond: 250_000, burstEvents: 500_000 },
      maxInFlightBytes: 64 * 1_048_576,
      retryAfterSeconds: 1,
      clock: { maxFutureMs: 300_000, maxPastMs: 86_400_000 },
      produce: { ackTimeoutMs: 5_000, retries: 5 },
      trustedProxies: [],
    });
  });

  it('refuses a burst smaller than a full batch, and an in-flight bound smaller than a body', () => {
    expect(() =>
      loadConfig({
        env: {},
        overrides: { ingest: { maxEventsPerBatch: 100, rateLimit: { burstEvents: 50 } } },
      }),
    ).toThrow(/ingest\.rateLimit\.burstEvents .*must be at least maxEventsPerBatch \(100\)/);
    expect(() =>
      loadConfig({ env: {}, overrides: { ingest: { maxBodyBytes: 10_000, maxInFlightBytes: 5_000 } } }),
    ).toThrow(/ingest\.maxInFlightBytes .*must be at least maxBodyBytes/);
  });
});
