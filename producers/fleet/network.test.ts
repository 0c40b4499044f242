import { describe, expect, it } from 'vitest';
import {
  ACCESS_PROFILES,
  type AccessProfile,
  HEALTHY,
  mathisCapKbps,
  modelRequest,
  NetworkTrace,
  PATH_RTT_MS,
  pathExtraRttMs,
  scheduledConditions,
} from './network.ts';
import { Rng } from './random.ts';

const DSL = ACCESS_PROFILES.dsl;
const TIMEOUTS = { ttfbTimeoutMs: 10_000, loadTimeoutMs: 120_000 };

/** 0-1 s at 1000 kbps, 1-3 s at 500 kbps, 3-10 s at 250 kbps (bad). */
function handTrace(): NetworkTrace {
  return NetworkTrace.scripted(DSL, new Rng(1), [
    { untilMs: 1_000, kbps: 1_000 },
    { untilMs: 3_000, kbps: 500 },
    { untilMs: 10_000, kbps: 250, bad: true },
  ]);
}

describe('NetworkTrace.transferMs (hand-worked)', () => {
  it('walks piece by piece: 2,000,000 bits from t=500', () => {
    // [500,1000) at 1000 bit/ms = 500,000 bits; [1000,3000) at 500 = 1,000,000 bits;
    // the last 500,000 bits at 250 bit/ms take 2000 ms: 500 + 2000 + 2000 = 4500 ms.
    expect(handTrace().transferMs(500, 250_000)).toBe(4_500);
  });

  it('applies a per-connection cap as min(trace, cap)', () => {
    // Cap 400: [500,1000) 200,000 bits; [1000,3000) 800,000 bits; 1,000,000 bits left at
    // min(250, 400) = 250 bit/ms: 4000 ms. Total 500 + 2000 + 4000 = 6500 ms.
    expect(handTrace().transferMs(500, 250_000, 400)).toBe(6_500);
  });

  it('finishes inside the first piece when the object is small', () => {
    // 10,000 bytes = 80,000 bits at 1000 bit/ms = 80 ms.
    expect(handTrace().transferMs(0, 10_000)).toBe(80);
  });

  it('reports bandwidth and RTT from the piece holding t', () => {
    const trace = handTrace();
    expect(trace.bandwidthKbpsAt(999)).toBe(1_000);
    expect(trace.bandwidthKbpsAt(1_000)).toBe(500);
    expect(trace.rttMsAt(0)).toBe(DSL.baseRttMs);
    expect(trace.rttMsAt(5_000)).toBe(DSL.baseRttMs + DSL.bad.queueingMs);
  });

  it('releases pieces it will not be asked about and keeps answering later times', () => {
    const trace = handTrace();
    trace.release(3_000);
    expect(trace.keptFromMs).toBe(3_000);
    expect(trace.bandwidthKbpsAt(4_000)).toBe(250);
    // Past the script the model takes over with positive bandwidth.
    expect(trace.bandwidthKbpsAt(50_000)).toBeGreaterThan(0);
  });
});

describe('NetworkTrace model', () => {
  it('is reproducible from its seed', () => {
    const a = new NetworkTrace(ACCESS_PROFILES.lte, new Rng(77));
    const b = new NetworkTrace(ACCESS_PROFILES.lte, new Rng(77));
    const xs = Array.from({ length: 200 }, (_, i) => a.bandwidthKbpsAt(i * 997));
    expect(Array.from({ length: 200 }, (_, i) => b.bandwidthKbpsAt(i * 997))).toEqual(xs);
  });

  it('spends the stationary share of time in the bad state and averages the stated means', () => {
    // A fast-switching profile so a few hours of simulated time give many cycles.
    const fast: AccessProfile = {
      ...DSL,
      good: { meanKbps: 6_000, sigma: 0.3, meanDwellMs: 4_000, queueingMs: 0 },
      bad: { meanKbps: 1_500, sigma: 0.3, meanDwellMs: 2_000, queueingMs: 50 },
      rho: 0,
    };
    const trace = new NetworkTrace(fast, new Rng(2024));
    const step = 10;
    const horizon = 4_000_000; // ~1.1 h in 10 ms steps: ~670 state cycles
    let badMs = 0;
    let bits = 0;
    for (let t = 0; t < horizon; t += step) {
      if (trace.isBadAt(t)) badMs += step;
      bits += trace.bandwidthKbpsAt(t) * step;
      trace.release(t);
    }
    // Two-state CTMC: P(bad) = dwell_bad / (dwell_good + dwell_bad) = 2000 / 6000 = 1/3.
    expect(Math.abs(badMs / horizon - 1 / 3)).toBeLessThan(0.03);
    // E[bw] = 2/3 * 6000 + 1/3 * 1500 = 4500 kbps (log-normal with mean correction).
    expect(Math.abs(bits / horizon - 4_500) / 4_500).toBeLessThan(0.04);
  });
});

describe('path model', () => {
  it('bounds TCP throughput by Mathis et al. (MSS/RTT * sqrt(3/2)/sqrt(p))', () => {
    // 1460 B * 8 / 100 ms = 116.8 bit/ms; * 1.224745 / sqrt(0.01) = 1430.5 kbps.
    expect(mathisCapKbps(100, 0.01)).toBeCloseTo(1_430.5, 1);
    expect(mathisCapKbps(100, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('adds path RTT by where the OCA sits', () => {
    const player = { region: 'eu-central', isp: 'AS3320' };
    expect(pathExtraRttMs(player, { region: 'eu-central', isp: 'AS3320' })).toBe(PATH_RTT_MS.sameIsp);
    expect(pathExtraRttMs(player, { region: 'eu-central', isp: 'ix-fra' })).toBe(PATH_RTT_MS.sameRegion);
    expect(pathExtraRttMs(player, { region: 'us-east', isp: 'AS7922' })).toBe(PATH_RTT_MS.otherRegion);
    expect(pathExtraRttMs(player, {})).toBe(PATH_RTT_MS.unknown);
  });

  it('models one request: ttfb = RTT + OCA latency, then the transfer', () => {
    const trace = handTrace();
    // RTT 35 + 5 path + 100 OCA latency = 140 ms to first byte at t=0; 10,000 bytes from
    // t=140 at 1000 bit/ms: 80 ms. Total 220 ms.
    const r = modelRequest(trace, 0, 10_000, 5, { latencyMs: 100, errorRate: 0 }, TIMEOUTS, 0.5);
    expect(r).toEqual({ outcome: 'ok', durationMs: 220, ttfbMs: 140, httpStatus: 200 });
  });

  it('answers 503 after the first-byte time when the error draw falls under the error rate', () => {
    const r = modelRequest(handTrace(), 0, 10_000, 0, { latencyMs: 0, errorRate: 0.3 }, TIMEOUTS, 0.29);
    expect(r).toEqual({ outcome: 'http_error', durationMs: 35, ttfbMs: 35, httpStatus: 503 });
    const ok = modelRequest(handTrace(), 0, 10_000, 0, { latencyMs: 0, errorRate: 0.3 }, TIMEOUTS, 0.31);
    expect(ok.outcome).toBe('ok');
  });

  it('caps the transfer at the OCA throughput cap and times out past maxLoadTimeMs', () => {
    // Cap 100 kbps: 10,000 bytes = 80,000 bits take 800 ms after the 35 ms first byte.
    const capped = modelRequest(
      handTrace(),
      0,
      10_000,
      0,
      { latencyMs: 0, errorRate: 0, throughputKbps: 100 },
      TIMEOUTS,
      0.5,
    );
    expect(capped.durationMs).toBe(835);
    const slow = modelRequest(
      handTrace(),
      0,
      10_000_000,
      0,
      { latencyMs: 0, errorRate: 0, throughputKbps: 10 },
      TIMEOUTS,
      0.5,
    );
    expect(slow).toEqual({ outcome: 'timeout', durationMs: 120_000, ttfbMs: 35, httpStatus: null });
  });

  it('plays a scripted degradation scenario', () => {
    const c = scheduledConditions([
      { atMs: 60_000, ocaId: 'a', degradation: { latencyMs: 0, errorRate: 0, throughputKbps: 800 } },
      { atMs: 120_000, ocaId: 'a', degradation: HEALTHY },
    ]);
    expect(c.at('a', 59_999)).toBe(HEALTHY);
    expect(c.at('a', 60_000).throughputKbps).toBe(800);
    expect(c.at('a', 130_000)).toBe(HEALTHY);
    expect(c.at('b', 90_000)).toBe(HEALTHY);
  });
});
