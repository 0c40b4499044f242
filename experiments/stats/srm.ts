/**
 * Sample ratio mismatch: are the units per cell consistent with the configured weights?
 * Pearson's chi-square goodness-of-fit test, χ² = Σ (O - E)² / E with k - 1 degrees of
 * freedom (Pearson 1900), as recommended for SRM by Fabijan et al., "Diagnosing Sample
 * Ratio Mismatch in Online Controlled Experiments", KDD 2019, and Kohavi, Tang & Xu (2020)
 * ch. 21, with the conventional threshold p < 0.001: SRM checks run at every look, and a
 * strict threshold keeps false alarms rare while real assignment bugs give tiny p-values.
 */
import { chiSquareSf } from './chi-square.ts';
import { invalid, requireCount, requireOpenUnit, requirePositive } from './errors.ts';

export interface SrmCell {
  readonly cell: string;
  /** Units observed in the cell. */
  readonly observed: number;
  /** Configured weight, any positive scale (basis points, fractions): normalised here. */
  readonly weight: number;
}

export interface SrmOptions {
  /** Flag a mismatch below this p-value. Default 0.001. */
  readonly threshold?: number;
}

export interface SrmResult {
  readonly chiSquare: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  readonly threshold: number;
  /** pValue < threshold. */
  readonly mismatch: boolean;
  readonly total: number;
  readonly cells: readonly {
    readonly cell: string;
    readonly observed: number;
    readonly expected: number;
    readonly observedShare: number;
    readonly expectedShare: number;
  }[];
}

export function sampleRatioMismatch(cells: readonly SrmCell[], options: SrmOptions = {}): SrmResult {
  const threshold = options.threshold ?? 0.001;
  requireOpenUnit('threshold', threshold);
  if (cells.length < 2) throw invalid(`SRM needs at least two cells, got ${cells.length}`);
  const names = new Set<string>();
  let total = 0;
  let weightSum = 0;
  for (const c of cells) {
    if (names.has(c.cell)) throw invalid(`cell ${c.cell} appears twice`, { cell: c.cell });
    names.add(c.cell);
    requireCount(`observed units of ${c.cell}`, c.observed, 0);
    requirePositive(`weight of ${c.cell}`, c.weight);
    total += c.observed;
    weightSum += c.weight;
  }
  if (total === 0) throw invalid('SRM needs at least one observed unit');
  let chiSquare = 0;
  const out = cells.map((c) => {
    const expectedShare = c.weight / weightSum;
    const expected = total * expectedShare;
    chiSquare += (c.observed - expected) ** 2 / expected;
    return { cell: c.cell, observed: c.observed, expected, observedShare: c.observed / total, expectedShare };
  });
  const degreesOfFreedom = cells.length - 1;
  const pValue = chiSquareSf(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, threshold, mismatch: pValue < threshold, total, cells: out };
}
