/**
 * Macro expansion checked against what grafana-clickhouse-datasource documents and tests:
 * - README.md, "Macros" table (output examples, quoted below);
 * - pkg/macros/macros.go (4.20.0) for the exact formats, and pkg/macros/macros_test.go;
 * - src/data/CHDatasource.test.ts, "Conditional All" cases, for $__conditionalAll;
 * - grafana/macropro parser.go for argument parsing, name boundaries and comments.
 */
import { describe, expect, it } from 'vitest';
import {
  applyConditionalAll,
  type ExpansionContext,
  expandQuery,
  interpolateMacros,
  replaceTemplateVariables,
  type VariableValue,
} from './macros.ts';

// The README's example range: toDateTime(1415792726) ... toDateTime(1447328726), with the
// milliseconds of its fromUnixTimestamp64Milli examples.
const README_RANGE = { fromMs: 1_415_792_726_123, toMs: 1_447_328_726_456 };

function ctx(over: Partial<ExpansionContext> = {}): ExpansionContext {
  return { ...README_RANGE, intervalMs: 20_000, variables: {}, ...over };
}

const multi = (...values: string[]): VariableValue => ({ kind: 'multi', values, all: false });
const all: VariableValue = { kind: 'multi', values: [], all: true };
const single = (value: string): VariableValue => ({ kind: 'single', values: [value], all: false });

describe('backend macros (README "Macros" table)', () => {
  it('$__timeFilter(columnName): seconds', () => {
    expect(interpolateMacros('WHERE $__timeFilter(time)', ctx())).toBe(
      'WHERE time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)',
    );
  });

  it('$__timeFilter_ms(columnName): milliseconds', () => {
    expect(interpolateMacros('$__timeFilter_ms(time)', ctx())).toBe(
      'time >= fromUnixTimestamp64Milli(1415792726123) AND time <= fromUnixTimestamp64Milli(1447328726456)',
    );
  });

  it('$__fromTime, $__toTime, $__fromTime_ms, $__toTime_ms', () => {
    expect(interpolateMacros('$__fromTime $__toTime', ctx())).toBe(
      'toDateTime(1415792726) toDateTime(1447328726)',
    );
    expect(interpolateMacros('$__fromTime_ms, $__toTime_ms', ctx())).toBe(
      'fromUnixTimestamp64Milli(1415792726123), fromUnixTimestamp64Milli(1447328726456)',
    );
  });

  it('$__interval_s and $__timeInterval(columnName) with a 20 s interval', () => {
    expect(interpolateMacros('$__interval_s', ctx())).toBe('20');
    expect(interpolateMacros('$__timeInterval(column)', ctx())).toBe(
      'toStartOfInterval(toDateTime(column), INTERVAL 20 second)',
    );
  });

  it('$__timeInterval_ms(columnName) with a 20 ms interval', () => {
    expect(interpolateMacros('$__timeInterval_ms(column)', ctx({ intervalMs: 20 }))).toBe(
      'toStartOfInterval(toDateTime64(column, 3), INTERVAL 20 millisecond)',
    );
  });

  it('a sub-second interval is at least 1 second for the seconds macros (math.Max(seconds, 1))', () => {
    expect(interpolateMacros('$__interval_s $__timeInterval(t)', ctx({ intervalMs: 500 }))).toBe(
      '1 toStartOfInterval(toDateTime(t), INTERVAL 1 second)',
    );
    // Go's int() truncates: 1.5 s is 1.
    expect(interpolateMacros('$__interval_s', ctx({ intervalMs: 1_500 }))).toBe('1');
  });

  it('$__dateFilter and $__dateTimeFilter / $__dt', () => {
    const range = { fromMs: Date.UTC(2022, 9, 21, 8), toMs: Date.UTC(2022, 9, 23, 20) };
    expect(interpolateMacros('$__dateFilter(date)', ctx(range))).toBe(
      "date >= toDate('2022-10-21') AND date <= toDate('2022-10-23')",
    );
    const from = range.fromMs / 1000;
    const to = range.toMs / 1000;
    const expected = `(d >= toDate('2022-10-21') AND d <= toDate('2022-10-23')) AND (t >= toDateTime(${from}) AND t <= toDateTime(${to}))`;
    expect(interpolateMacros('$__dateTimeFilter(d, t)', ctx(range))).toBe(expected);
    expect(interpolateMacros('$__dt(d, t)', ctx(range))).toBe(expected);
  });

  it('$__interval and $__interval_ms (macropro defaults)', () => {
    expect(interpolateMacros('$__interval / $__interval_ms', ctx({ intervalMs: 300_000 }))).toBe(
      '5m / 300000',
    );
    expect(interpolateMacros('$__interval', ctx({ intervalMs: 500 }))).toBe('500ms');
  });

  it('$__timeFrom(col), $__timeTo(col) and $__timeGroup(col, 5m) (ClickHouse overrides)', () => {
    expect(interpolateMacros('$__timeFrom(t) AND $__timeTo(t)', ctx())).toBe(
      't >= toDateTime(1415792726) AND t <= toDateTime(1447328726)',
    );
    expect(interpolateMacros("$__timeGroup(t, '5m')", ctx())).toBe(
      'toStartOfInterval(toDateTime(t), INTERVAL 300 second)',
    );
  });

  it('matches names whole and longest first', () => {
    // `$__timeFilter_ms` is not `$__timeFilter` followed by `_ms`.
    expect(interpolateMacros('$__timeFilter_ms(a)', ctx())).toContain('fromUnixTimestamp64Milli');
    // An unknown name that starts like a known one is left as it is.
    expect(interpolateMacros('$__fromTimeX', ctx())).toBe('$__fromTimeX');
  });

  it('parses arguments with nested parentheses, quotes and commas', () => {
    expect(interpolateMacros('$__timeFilter(coalesce(a, b))', ctx())).toBe(
      'coalesce(a, b) >= toDateTime(1415792726) AND coalesce(a, b) <= toDateTime(1447328726)',
    );
    expect(interpolateMacros("$__timeInterval(if(x = ')', a, b))", ctx())).toBe(
      "toStartOfInterval(toDateTime(if(x = ')', a, b)), INTERVAL 20 second)",
    );
  });

  it('only a parenthesis right after the name opens arguments', () => {
    expect(interpolateMacros('($__fromTime) AND f(1)', ctx())).toBe('(toDateTime(1415792726)) AND f(1)');
    expect(interpolateMacros('$__fromTime AND x IN (1)', ctx())).toBe('toDateTime(1415792726) AND x IN (1)');
  });

  it('blanks comments first, so a macro in a comment is never expanded', () => {
    const out = interpolateMacros('SELECT 1 -- $__timeFilter(x)\nWHERE /* $__fromTime */ 1', ctx());
    expect(out).not.toContain('$__');
    expect(out).not.toContain('toDateTime');
    expect(out.startsWith('SELECT 1 ')).toBe(true);
    expect(out).toContain('\nWHERE ');
    // A -- inside a string is not a comment.
    expect(interpolateMacros("SELECT '--' AS a, $__interval_s", ctx())).toBe("SELECT '--' AS a, 20");
  });

  it('refuses the wrong number of arguments, as the plugin does', () => {
    expect(() => interpolateMacros('$__timeFilter()', ctx())).toThrow(/expected 1 argument/);
    expect(() => interpolateMacros('$__timeFilter(a, b)', ctx())).toThrow(/expected 1 argument/);
    expect(() => interpolateMacros('$__dt(a)', ctx())).toThrow(/expected 2 argument/);
  });
});

describe('$__conditionalAll (CHDatasource.applyConditionalAll)', () => {
  it('is 1=1 when All is selected', () => {
    expect(
      applyConditionalAll(
        'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal);',
        {
          fieldVal: all,
        },
      ),
    ).toBe('select stuff from table where 1=1;');
  });

  it('is the condition when anything else is selected', () => {
    expect(
      applyConditionalAll(
        'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal);',
        {
          fieldVal: multi('val1', 'val2'),
        },
      ),
    ).toBe('select stuff from table where fieldVal in ($fieldVal);');
  });

  it('replaces every occurrence', () => {
    expect(
      applyConditionalAll(
        'select stuff from table where $__conditionalAll(fieldVal in ($fieldVal), $fieldVal) and $__conditionalAll(fieldVal in ($fieldVal2), $fieldVal2);',
        { fieldVal: multi('val1', 'val2'), fieldVal2: all },
      ),
    ).toBe('select stuff from table where fieldVal in ($fieldVal) and 1=1;');
  });

  it('accepts the braced form and an empty selection (Grafana compares the value with "")', () => {
    expect(applyConditionalAll(`$__conditionalAll(a IN (\${v}), \${v})`, { v: multi() })).toBe('1=1');
    expect(applyConditionalAll(`$__conditionalAll(a IN (\${v}), \${v})`, { v: multi('x') })).toBe(
      `a IN (\${v})`,
    );
  });

  it('refuses a macro without exactly two arguments', () => {
    expect(() => applyConditionalAll('$__conditionalAll(a)', { v: all })).toThrow(/two arguments/);
  });
});

describe('template variables (Grafana template service with the plugin format)', () => {
  it('formats a multi-value as a quoted list and a single value raw', () => {
    const variables = { oca: multi('oca-a', 'oca-b'), col: single('isp') };
    expect(
      replaceTemplateVariables(`x IN ($oca) AND \${col} = 1 AND y IN ([[oca]])`, ctx({ variables })),
    ).toBe("x IN ('oca-a','oca-b') AND isp = 1 AND y IN ('oca-a','oca-b')");
  });

  it('escapes quotes and backslashes in values', () => {
    expect(replaceTemplateVariables('$v', ctx({ variables: { v: multi("it's", 'a\\b') } }))).toBe(
      "'it\\'s','a\\\\b'",
    );
  });

  it('replaces $__from and $__to, and leaves macros for the backend', () => {
    expect(replaceTemplateVariables('$__from $__to $__timeFilter(t)', ctx())).toBe(
      '1415792726123 1447328726456 $__timeFilter(t)',
    );
  });

  it('refuses variables the dashboard does not define, and All with unknown values outside $__conditionalAll', () => {
    expect(() => replaceTemplateVariables('$nope', ctx())).toThrow(/no variable \$nope/);
    expect(() => replaceTemplateVariables('x IN ($v)', ctx({ variables: { v: all } }))).toThrow(
      /conditionalAll/,
    );
    expect(
      replaceTemplateVariables(
        'x IN ($v)',
        ctx({ variables: { v: { kind: 'multi', values: ['a'], all: true } } }),
      ),
    ).toBe("x IN ('a')");
  });
});

describe('expandQuery: the three passes in Grafana’s order', () => {
  it('expands a panel query', () => {
    const sql = `SELECT $__timeInterval(ts) AS time, count() FROM \${db}.t
WHERE $__timeFilter(ts) AND $__conditionalAll(oca IN (\${oca}), $oca) AND $__conditionalAll(isp IN (\${isp}), $isp)
GROUP BY time`;
    const out = expandQuery(
      sql,
      ctx({ variables: { db: single('playloop'), oca: multi('oca-a'), isp: all } }),
    );
    expect(
      out,
    ).toBe(`SELECT toStartOfInterval(toDateTime(ts), INTERVAL 20 second) AS time, count() FROM playloop.t
WHERE ts >= toDateTime(1415792726) AND ts <= toDateTime(1447328726) AND oca IN ('oca-a') AND 1=1
GROUP BY time`);
  });
});
