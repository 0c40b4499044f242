/**
 * Interval and time parsing against Grafana's own rules: @grafana/data rangeutil
 * `roundInterval` (its ladder: below 15 ms -> 10 ms ... below 12.5 s -> 10 s, below 25 s ->
 * 20 s, below 90 s -> 1 m ...) and `calculateInterval` (range / resolution, rounded, at least
 * the panel's min interval).
 */
import { describe, expect, it } from 'vitest';
import { calculateIntervalMs, parseDurationMs, parseTime, roundInterval } from './interval.ts';

describe('roundInterval', () => {
  it('follows the ladder at and around its steps', () => {
    expect(roundInterval(5)).toBe(1);
    expect(roundInterval(14)).toBe(10);
    expect(roundInterval(749)).toBe(500);
    expect(roundInterval(750)).toBe(1_000);
    expect(roundInterval(12_499)).toBe(10_000);
    expect(roundInterval(12_500)).toBe(15_000);
    expect(roundInterval(24_999)).toBe(20_000);
    expect(roundInterval(89_999)).toBe(60_000);
    expect(roundInterval(90_000)).toBe(120_000);
    expect(roundInterval(4_000_000_000)).toBe(31_536_000_000);
  });
});

describe('calculateIntervalMs', () => {
  it('is the rounded range per point, never below the panel minimum', () => {
    const fifteenMinutes = 15 * 60_000;
    expect(calculateIntervalMs(fifteenMinutes, 1_000)).toBe(1_000); // 900 ms -> 1 s
    expect(calculateIntervalMs(fifteenMinutes, 1_000, 10_000)).toBe(10_000);
    expect(calculateIntervalMs(6 * 3_600_000, 1_000, 10_000)).toBe(20_000); // 21.6 s -> 20 s
    expect(calculateIntervalMs(24 * 3_600_000, 1_000, 10_000)).toBe(60_000); // 86.4 s -> 1 m
    expect(calculateIntervalMs(180_000, 3, 10_000)).toBe(60_000);
  });
});

describe('times and durations', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  it('reads epoch milliseconds, now and now-<n><unit>', () => {
    expect(parseTime('1795689240000', now)).toBe(1_795_689_240_000);
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('now-15m', now)).toBe(now - 900_000);
    expect(parseTime('now-6h', now)).toBe(now - 21_600_000);
    expect(() => parseTime('yesterday', now)).toThrow(/not a time/);
  });

  it('reads durations', () => {
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(() => parseDurationMs('10')).toThrow(/duration/);
  });
});
