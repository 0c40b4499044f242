/**
 * Reference values computed offline:
 * - means: scipy 1.17.1, favourable = sign*(mean_a - mean_b) + stats.t.ppf(1 - alpha, df) * se,
 *   se and df by Welch-Satterthwaite;
 * - proportions: statsmodels 0.15.0 confint_proportions_2indep(after, n, before, n,
 *   method='newcomb', compare='diff', alpha=2*alpha).
 */
import { describe, expect, it } from 'vitest';
import { type CohortMetrics, evaluateGuardrails, type Guardrail } from './guardrails.ts';

function side(over: Partial<CohortMetrics>): CohortMetrics {
  return { sessions: 1_000, attempts: 1_000, plays: 980, ebvs: 0, vsf: 0, vpf: 0, means: {}, ...over };
}

const BITRATE: Guardrail = { metric: 'avgBitrateKbps', better: 'higher', margin: { relative: 0.05 } };
const VSF: Guardrail = { metric: 'vsf', better: 'lower', margin: { absolute: 0.002 } };
const STARTUP: Guardrail = { metric: 'startupMs', better: 'lower', margin: { relative: 0.03 } };
const P = { alpha: 0.05, minSessions: 30 };

describe('evaluateGuardrails', () => {
  it('breaches a mean guardrail only when even the favourable Welch bound is beyond the margin', () => {
    const before = side({ means: { avgBitrateKbps: { n: 300, mean: 3_200, variance: 400 ** 2 } } });
    const worse = side({ means: { avgBitrateKbps: { n: 250, mean: 2_900, variance: 450 ** 2 } } });
    const r = evaluateGuardrails([BITRATE], before, worse, P);
    expect(r.results[0]?.favourableBound).toBeCloseTo(-239.60243132506392, 6);
    expect(r.results[0]?.margin).toBeCloseTo(160, 10);
    expect(r.breached.map((b) => b.metric)).toEqual(['avgBitrateKbps']);

    const slightlyWorse = side({ means: { avgBitrateKbps: { n: 250, mean: 3_100, variance: 450 ** 2 } } });
    const ok = evaluateGuardrails([BITRATE], before, slightlyWorse, P);
    expect(ok.results[0]?.favourableBound).toBeCloseTo(-39.60243132506392, 6);
    expect(ok.results[0]?.status).toBe('pass');
    expect(ok.breached).toEqual([]);
  });

  it('handles lower-is-better means', () => {
    const before = side({ means: { startupMs: { n: 40, mean: 1_000, variance: 300 ** 2 } } });
    const after = side({ means: { startupMs: { n: 35, mean: 1_400, variance: 500 ** 2 } } });
    const r = evaluateGuardrails([STARTUP], before, after, P);
    expect(r.results[0]?.favourableBound).toBeCloseTo(-237.80941784025833, 6);
    expect(r.results[0]?.status).toBe('breach');
  });

  it('breaches a proportion guardrail on the Newcombe bound', () => {
    const r = evaluateGuardrails([VSF], side({ vsf: 5 }), side({ vsf: 30 }), P);
    expect(r.results[0]?.favourableBound).toBeCloseTo(-0.01570267272910309, 10);
    expect(r.results[0]?.status).toBe('breach');
    const noise = evaluateGuardrails([VSF], side({ vsf: 5 }), side({ vsf: 7 }), P);
    expect(noise.results[0]?.favourableBound).toBeCloseTo(0.004135967964369937, 10);
    expect(noise.results[0]?.status).toBe('pass');
  });

  it('judges nothing until both sides have enough sessions', () => {
    const r = evaluateGuardrails(
      [VSF, BITRATE],
      side({ vsf: 5 }),
      side({ sessions: 29, attempts: 29, vsf: 29 }),
      P,
    );
    expect(r.breached).toEqual([]);
    expect(r.results.map((x) => x.status)).toEqual(['insufficient', 'insufficient']);
  });
});
