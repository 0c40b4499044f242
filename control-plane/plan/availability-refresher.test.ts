import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import type { ViewingRow } from '../oca/fill.ts';
import { holdsTitle } from './availability.ts';
import { AvailabilityRefresher } from './availability-refresher.ts';
import { fakeCatalog, fakeOcas } from './testing.ts';

const NOW = 1_700_000_000_000;
const ocas = fakeOcas();
const edge = ocas.find((o) => o.id === 'oca-edge-as3320-a') as (typeof ocas)[number];

function refresher(readViews: () => Promise<ViewingRow[]>) {
  return new AvailabilityRefresher({
    ocas,
    catalog: fakeCatalog(10),
    settings: { refreshIntervalMs: 60_000, lookbackHours: 24, halfLifeHours: 6, fillBudgetFraction: 0.8 },
    breaker: { timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 2 },
    readViews,
    log: silentLogger,
    nowMs: () => NOW,
  });
}

describe('availability refresher', () => {
  it('plans edge holdings from regional views, and keeps the last good ones when the query fails', async () => {
    let fail = false;
    const r = refresher(async () => {
      if (fail) throw new Error('ClickHouse is away');
      return [{ region: 'eu-central', titleId: 'title-002', bucketStartMs: NOW - 3_600_000, views: 12 }];
    });
    expect(r.current().source).toBe('presumed');
    expect(await r.refresh()).toBe(true);
    const good = r.current();
    expect(good).toMatchObject({ source: 'clickhouse', asOfMs: NOW });
    expect(holdsTitle(good, edge, 'title-002')).toBe(true);
    expect(holdsTitle(good, edge, 'title-001')).toBe(false);

    fail = true;
    expect(await r.refresh()).toBe(false);
    expect(await r.refresh()).toBe(false);
    expect(r.current()).toBe(good);
    // Two failures at volumeThreshold 2: the breaker opens and the next call fails fast.
    expect(r.health()).toMatchObject({ breaker: 'open', failures: 2, lastError: 'ClickHouse is away' });
    expect(await r.refresh()).toBe(false);
    expect(r.health().lastError).toMatch(/open/i);
    expect(r.current()).toBe(good);
    r.stop();
  });
});
