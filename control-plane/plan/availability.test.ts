import { describe, expect, it } from 'vitest';
import {
  availabilityFromFillReports,
  availabilityFromPredictions,
  holdsTitle,
  PRESUMED_AVAILABILITY,
} from './availability.ts';
import { fakeCatalog, fakeLadder, fakeOcas } from './testing.ts';

const ladder = fakeLadder();
const catalog = fakeCatalog(10, ladder);
// Room for exactly two titles at an 80 % fill budget.
const ocas = fakeOcas(Math.ceil((ladder.totalBytes * 2.5) / 0.8));
const [storage, , edgeA, , edgeUs] = ocas as [
  (typeof ocas)[number],
  (typeof ocas)[number],
  (typeof ocas)[number],
  (typeof ocas)[number],
  (typeof ocas)[number],
];

describe('availability', () => {
  it('presumes every OCA holds every title before anything is known', () => {
    expect(holdsTitle(PRESUMED_AVAILABILITY, edgeA, 'title-007')).toBe(true);
    expect(holdsTitle(PRESUMED_AVAILABILITY, storage, 'title-007')).toBe(true);
  });

  it('gives each edge its region’s most popular titles that fit the fill budget', () => {
    const av = availabilityFromPredictions(
      ocas,
      [
        {
          region: 'eu-central',
          titles: [
            { titleId: 'title-003', expectedViews: 50 },
            { titleId: 'title-001', expectedViews: 90 },
            { titleId: 'title-002', expectedViews: 10 },
          ],
        },
      ],
      catalog,
      0.8,
      1_000,
    );
    expect(av.source).toBe('clickhouse');
    expect([...(av.edgeTitles.get(edgeA.id) ?? [])].sort()).toEqual(['title-001', 'title-003']);
    expect(holdsTitle(av, edgeA, 'title-001')).toBe(true);
    expect(holdsTitle(av, edgeA, 'title-002')).toBe(false);
    // Storage holds everything; an edge of a region without a prediction is presumed to.
    expect(holdsTitle(av, storage, 'title-002')).toBe(true);
    expect(holdsTitle(av, edgeUs, 'title-002')).toBe(true);
  });

  it('reads holdings from the fleet’s own fill reports', () => {
    const av = availabilityFromFillReports([{ ocaId: edgeA.id, plan: { titles: ['title-005'] } }], 5);
    expect(holdsTitle(av, edgeA, 'title-005')).toBe(true);
    expect(holdsTitle(av, edgeA, 'title-001')).toBe(false);
  });
});
