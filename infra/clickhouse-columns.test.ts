import { describe, expect, it } from 'vitest';
import { columnsOf } from './clickhouse-columns.ts';

interface Row {
  readonly a: number;
  readonly b: string;
  readonly c: boolean;
}

describe('columnsOf', () => {
  it('returns the list as given, in its order', () => {
    expect(columnsOf<Row>()(['c', 'a', 'b'])).toEqual(['c', 'a', 'b']);
  });

  it('does not compile when a column is missing (checked by tsc, not at run time)', () => {
    // @ts-expect-error 'c' is missing: the argument must carry `missingColumns: 'c'`.
    const partial = columnsOf<Row>()(['a', 'b']);
    expect(partial).toEqual(['a', 'b']);
  });
});
