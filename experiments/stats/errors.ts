/**
 * Input checks shared by the statistics modules. Bad input is a programmer or data error:
 * it throws a PlayloopError of kind STATS_INPUT_INVALID (never retriable) naming the
 * argument and the value, rather than returning NaN that would travel to a dashboard.
 */
import { PlayloopError } from '../../core/errors.ts';

export function invalid(message: string, details: Record<string, unknown> = {}): PlayloopError {
  return new PlayloopError('STATS_INPUT_INVALID', message, { details });
}

export function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value))
    throw invalid(`${name} must be a finite number, got ${value}`, { [name]: value });
}

export function requirePositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw invalid(`${name} must be a positive finite number, got ${value}`, { [name]: value });
  }
}

export function requireNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw invalid(`${name} must be a non-negative finite number, got ${value}`, { [name]: value });
  }
}

/** A probability strictly inside (0, 1): alpha, power, a quantile level. */
export function requireOpenUnit(name: string, value: number): void {
  if (!(value > 0 && value < 1)) throw invalid(`${name} must be in (0, 1), got ${value}`, { [name]: value });
}

export function requireCount(name: string, value: number, min = 0): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw invalid(`${name} must be an integer >= ${min}, got ${value}`, { [name]: value });
  }
}

/** Iterative algorithms that fail to converge are a bug or an input far outside their design range. */
export function notConverged(algorithm: string, details: Record<string, unknown>): PlayloopError {
  return new PlayloopError('INTERNAL', `${algorithm} did not converge`, { details });
}
