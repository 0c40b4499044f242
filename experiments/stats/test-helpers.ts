/**
 * Assertions for the statistics tests: closeness with a relative tolerance (and an optional
 * absolute floor for values near zero), reported with both numbers.
 */
import { expect } from 'vitest';

export function expectClose(actual: number, expected: number, relative = 1e-9, absolute = 0): void {
  if (expected === actual) return;
  const error = Math.abs(actual - expected);
  const tolerance = Math.max(absolute, relative * Math.abs(expected));
  expect(error, `expected ${actual} to be within ${tolerance} of ${expected}`).toBeLessThanOrEqual(tolerance);
}
