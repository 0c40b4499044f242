/**
 * Adjusted p-values for many tests at once (metrics × treatment cells). An adjusted p-value
 * is compared with the unadjusted alpha; results keep the input order.
 *
 * - Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Stat. 6
 *   (1979): controls the family-wise error rate under any dependence. Adjusted
 *   p_(i) = max_{j<=i} min(1, (m - j + 1) p_(j)) over the ascending order.
 * - Benjamini & Hochberg, "Controlling the false discovery rate", JRSS B 57 (1995):
 *   controls the false discovery rate for independent or positively dependent tests.
 *   Adjusted p_(i) = min_{j>=i} min(1, m p_(j) / j).
 * Both match statsmodels.stats.multitest.multipletests (methods 'holm' and 'fdr_bh').
 */
import { invalid } from './errors.ts';

function validate(pValues: readonly number[]): void {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw invalid(`p-value ${i} must be in [0, 1], got ${p}`, { index: i, p });
  });
}

function ascendingOrder(pValues: readonly number[]): number[] {
  return pValues.map((_, i) => i).sort((a, b) => (pValues[a] as number) - (pValues[b] as number) || a - b);
}

export function holmAdjust(pValues: readonly number[]): number[] {
  validate(pValues);
  const m = pValues.length;
  const order = ascendingOrder(pValues);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] as number)));
    adjusted[index] = running;
  });
  return adjusted;
}

export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  validate(pValues);
  const m = pValues.length;
  const order = ascendingOrder(pValues);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank] as number;
    running = Math.min(running, (m * (pValues[index] as number)) / (rank + 1));
    adjusted[index] = Math.min(1, running);
  }
  return adjusted;
}
