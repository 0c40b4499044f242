/**
 * The projections of infra/migrations/0302 must be the ones queries.ts reads: ClickHouse
 * serves a query from an aggregate projection only when every aggregate expression of the
 * query is one of the projection's, character for character after parsing. This keeps the
 * migration (generated once from queries.ts) and the queries from drifting apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../../infra/clickhouse.ts';
import { splitStatements } from '../../infra/migrations.ts';
import { METRIC_NAMES, type MetricName, UNIT_TYPES } from '../definitions/vocabulary.ts';
import { cohortStatisticsSql, playDelayProjectionSql, unitSumsProjectionSql } from './queries.ts';

const migration = readFileSync(
  join(defaultMigrationsDir(), '0302_experiment_analysis_projections.sql'),
  'utf8',
);
const statements = splitStatements(migration);

/** The aggregate expressions of a SELECT list, one per line as queries.ts writes them. */
function aggregates(sql: string): string[] {
  return [...sql.matchAll(/((?:count|countIf|sum|min)\(.*\))(?: AS \w+)?,?$/gm)].map((m) => m[1] as string);
}

describe('the analysis projections (migration 0302)', () => {
  it('are the projections queries.ts generates', () => {
    expect(statements).toContain(
      `ALTER TABLE {db}.experiment_units ADD PROJECTION IF NOT EXISTS ${unitSumsProjectionSql().replace(/^PROJECTION /, '')}`,
    );
    expect(statements).toContain(
      `ALTER TABLE {db}.experiment_sessions ADD PROJECTION IF NOT EXISTS ${playDelayProjectionSql().replace(/^PROJECTION /, '')}`,
    );
  });

  it('hold every aggregate the cohort query asks for, whatever the metrics and the unit', () => {
    const projected = new Set(aggregates(unitSumsProjectionSql()));
    // count, sessions, several cells, first allocation; n per metric; Σy, Σy² per value form;
    // 9 CUPED sums per value form of the primary.
    expect(projected.size).toBeGreaterThan(100);
    for (const unit of UNIT_TYPES) {
      for (const primary of METRIC_NAMES) {
        const metrics: MetricName[] = [primary, ...METRIC_NAMES.filter((m) => m !== primary)];
        for (const a of aggregates(cohortStatisticsSql('db', metrics, unit, true))) {
          expect(projected.has(a), `${a} (${unit}, primary ${primary})`).toBe(true);
        }
      }
    }
  });
});
