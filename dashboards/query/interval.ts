/**
 * The time range and query interval of a panel request, computed as Grafana computes them,
 * so `$__interval_s` and `$__timeInterval` see the same numbers on the dashboard page as in
 * Grafana:
 * - interval = max(roundInterval(range / maxDataPoints), panel min interval)
 *   (@grafana/data rangeutil `calculateInterval`, with `roundInterval`'s ladder below);
 * - relative times `now`, `now-15m`, `now-6h` (Grafana's relative time syntax, without the
 *   `/d` rounding, which the dashboards do not use).
 */
import { PlayloopError } from '../../core/errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `10s`, `1m`, `500ms` -> milliseconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) throw new PlayloopError('BAD_REQUEST', `"${text}" is not a duration like 10s, 5m or 1h`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/**
 * A time as Grafana's URL and time picker write it: epoch milliseconds, `now`, or
 * `now-<n><unit>`.
 */
export function parseTime(text: string, nowMs: number): number {
  const value = text.trim();
  if (/^\d{10,14}$/.test(value)) return Number(value);
  if (value === 'now') return nowMs;
  const match = /^now-(\d+)(s|m|h|d|w)$/.exec(value);
  if (match) return nowMs - Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  throw new PlayloopError('BAD_REQUEST', `"${text}" is not a time (epoch ms, now, or now-15m)`);
}

/** Grafana's `roundInterval` (@grafana/data, datetime/rangeutil.ts): nice interval steps. */
export function roundInterval(intervalMs: number): number {
  const ladder: ReadonlyArray<readonly [number, number]> = [
    [10, 1],
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1_500, 1_000],
    [3_500, 2_000],
    [7_500, 5_000],
    [12_500, 10_000],
    [17_500, 15_000],
    [25_000, 20_000],
    [45_000, 30_000],
    [90_000, 60_000],
    [210_000, 120_000],
    [450_000, 300_000],
    [750_000, 600_000],
    [1_050_000, 900_000],
    [1_500_000, 1_200_000],
    [2_700_000, 1_800_000],
    [5_400_000, 3_600_000],
    [9_000_000, 7_200_000],
    [16_200_000, 10_800_000],
    [32_400_000, 21_600_000],
    [86_400_000, 43_200_000],
    [604_800_000, 86_400_000],
    [1_814_400_000, 604_800_000],
    [3_628_800_000, 2_592_000_000],
  ];
  for (const [below, step] of ladder) if (intervalMs < below) return step;
  return 31_536_000_000;
}

/**
 * Grafana's `calculateInterval(range, resolution, lowLimit)`: the range divided by the
 * number of points the panel can show, rounded to a nice step, never below the panel's
 * minimum interval.
 */
export function calculateIntervalMs(rangeMs: number, maxDataPoints: number, minIntervalMs = 1): number {
  const resolution = Math.max(1, Math.floor(maxDataPoints));
  const raw = roundInterval(Math.max(0, rangeMs) / resolution);
  return Math.max(raw, minIntervalMs);
}
