/**
 * Keeps the availability (availability.ts) current from ClickHouse, off the request path:
 * every `refreshIntervalMs` it reads views per (region, title, hour), predicts regional
 * popularity (oca/fill.ts, exponentially decayed counts) and plans each edge's holdings.
 *
 * The query runs through a circuit breaker. When ClickHouse fails or the breaker is open,
 * the last good availability stays in force (and is reported as stale in /readyz): a
 * playback never waits for, or fails because of, ClickHouse.
 */
import type CircuitBreaker from 'opossum';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { type ClickHouse, queryRows } from '../../infra/clickhouse.ts';
import type { Catalog } from '../media/catalog.ts';
import { predictRegionalPopularity, type ViewingRow } from '../oca/fill.ts';
import { type Availability, availabilityFromPredictions, PRESUMED_AVAILABILITY } from './availability.ts';
import { type BreakerSettings, type BreakerState, breakerState, createBreaker } from './breaker.ts';
import type { OcaDescriptor } from './ranking.ts';

export interface AvailabilitySettings {
  readonly refreshIntervalMs: number;
  readonly lookbackHours: number;
  readonly halfLifeHours: number;
  readonly fillBudgetFraction: number;
}

export interface AvailabilityProvider {
  current(): Availability;
}

export interface AvailabilityHealth {
  readonly source: Availability['source'];
  readonly asOfMs: number;
  readonly breaker: BreakerState;
  readonly lastError: string | undefined;
  readonly refreshes: number;
  readonly failures: number;
}

/** Views per (region, title, hour) over the last `lookbackHours`, from the sessions table. */
export async function queryRegionalViews(ch: ClickHouse, lookbackHours: number): Promise<ViewingRow[]> {
  // The database name is validated as an identifier by core/config.ts.
  const rows = await queryRows<{
    region: string;
    titleId: string;
    bucketStartMs: string | number;
    views: string | number;
  }>(
    ch.client,
    `SELECT region, title_id AS titleId,
            toUnixTimestamp(toStartOfHour(start_time)) * 1000 AS bucketStartMs,
            count() AS views
       FROM ${ch.database}.sessions FINAL
      WHERE start_time >= now() - toIntervalSecond({lookbackSec:UInt32})
        AND region != ''
      GROUP BY region, titleId, bucketStartMs`,
    { lookbackSec: Math.round(lookbackHours * 3600) },
  );
  return rows.map((r) => ({
    region: r.region,
    titleId: r.titleId,
    bucketStartMs: Number(r.bucketStartMs),
    views: Number(r.views),
  }));
}

export interface AvailabilityRefresherOptions {
  readonly ocas: readonly OcaDescriptor[];
  readonly catalog: Catalog;
  readonly settings: AvailabilitySettings;
  readonly breaker: BreakerSettings;
  /** Reads the viewing rows (ClickHouse in production). */
  readonly readViews: () => Promise<ViewingRow[]>;
  readonly log: Logger;
  readonly nowMs?: () => number;
}

export class AvailabilityRefresher implements AvailabilityProvider {
  private availability: Availability = PRESUMED_AVAILABILITY;
  private readonly breaker: CircuitBreaker<[], ViewingRow[]>;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private refreshes = 0;
  private failures = 0;
  private readonly nowMs: () => number;

  constructor(private readonly options: AvailabilityRefresherOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.breaker = createBreaker('clickhouse-availability', options.readViews, options.breaker, options.log);
  }

  current(): Availability {
    return this.availability;
  }

  health(): AvailabilityHealth {
    return {
      source: this.availability.source,
      asOfMs: this.availability.asOfMs,
      breaker: breakerState(this.breaker),
      lastError: this.lastError,
      refreshes: this.refreshes,
      failures: this.failures,
    };
  }

  /** One refresh; false (and the last good availability kept) when it failed. */
  async refresh(): Promise<boolean> {
    const { settings } = this.options;
    try {
      const rows = await this.breaker.fire();
      const now = this.nowMs();
      const predictions = predictRegionalPopularity(rows, {
        nowMs: now,
        halfLifeHours: settings.halfLifeHours,
      });
      this.availability = availabilityFromPredictions(
        this.options.ocas,
        predictions,
        this.options.catalog,
        settings.fillBudgetFraction,
        now,
      );
      this.refreshes++;
      this.lastError = undefined;
      return true;
    } catch (err) {
      this.failures++;
      this.lastError = errorMessage(err);
      if (!this.breaker.opened) {
        this.options.log.warn(
          { err: this.lastError },
          'availability refresh failed; keeping the last good one',
        );
      }
      return false;
    }
  }

  /** First refresh now (not awaited by playback), then every refreshIntervalMs. */
  start(): Promise<boolean> {
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.refresh(), this.options.settings.refreshIntervalMs);
      this.timer.unref();
    }
    return this.refresh();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.breaker.shutdown();
  }
}
