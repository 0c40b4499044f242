/**
 * Grafana query expansion for ClickHouse panels, done the way Grafana and the official
 * ClickHouse datasource plugin (grafana-clickhouse-datasource 4.x) do it, so the SQL that the
 * dashboard role runs is byte for byte the SQL Grafana would send. One expander serves the
 * dashboard page and the panel tests.
 *
 * The plugin expands a panel's `rawSql` in three passes, in this order:
 *
 * 1. Frontend, `Datasource.applyConditionalAll` (src/data/CHDatasource.ts):
 *    `$__conditionalAll(condition, $var)` becomes `1=1` when the variable's current value is
 *    `$__all` or empty, and `condition` otherwise. Scanned from the last occurrence backwards;
 *    arguments are split at top-level commas by bracket counting.
 * 2. Frontend, Grafana's template service with the plugin's `format` function: `$var`,
 *    `${var}` and `[[var]]` become the variable's value. A multi-value (array) value is
 *    formatted as `'a','b'`; a single value is inserted raw. Grafana's own globals
 *    (`$__from`, `$__to`, epoch milliseconds) are replaced here too; unknown names are left
 *    as they are, which is what lets `$__timeFilter` and friends reach the backend.
 * 3. Backend, `pkg/macros/macros.go` on grafana/macropro's engine (parser.go): comments
 *    (`--`, `/* *\/`) are blanked first; macro names are matched longest first and must not
 *    be followed by a name character; a `(` right after the name opens an argument list that
 *    ends at its balanced `)` (quotes respected); arguments split at top-level commas and
 *    are trimmed. The macros and their output are the README's "Macros" table:
 *      $__timeFilter(c)     c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)
 *      $__timeFilter_ms(c)  c >= fromUnixTimestamp64Milli(<from ms>) AND c <= fromUnixTimestamp64Milli(<to ms>)
 *      $__dateFilter(c)     c >= toDate('<from date>') AND c <= toDate('<to date>')
 *      $__dateTimeFilter(d, t), $__dt(d, t)   (date filter) AND (time filter)
 *      $__fromTime / $__toTime        toDateTime(<s>)
 *      $__fromTime_ms / $__toTime_ms  fromUnixTimestamp64Milli(<ms>)
 *      $__timeInterval(c)    toStartOfInterval(toDateTime(c), INTERVAL <interval s> second)
 *      $__timeInterval_ms(c) toStartOfInterval(toDateTime64(c, 3), INTERVAL <interval ms> millisecond)
 *      $__interval_s         <interval s>   (whole seconds, at least 1)
 *      $__interval, $__interval_ms   macropro defaults: `10s`, `10000`
 *      $__timeFrom(c), $__timeTo(c)  c >= toDateTime(<s>), c <= toDateTime(<s>)
 *      $__timeGroup(c, 5m)   toStartOfInterval(toDateTime(c), INTERVAL 300 second)
 *
 * Deliberate differences, each stricter than Grafana and none reachable by a valid panel:
 * - A multi-value is quoted with ClickHouse escaping (`\\` and `\'`); Grafana joins values
 *   without escaping. The dashboard role takes values from URLs, so they must not break out
 *   of the literal.
 * - A variable the dashboard does not define, a `$__conditionalAll` without exactly two
 *   arguments, and an 'All' selection used outside `$__conditionalAll` with unknown values
 *   are errors here; Grafana would send SQL that fails or matches nothing.
 * - Statement macros ($__columns, $__lttb ...) and ad hoc filters are not supported.
 */
import { PlayloopError } from '../../core/errors.ts';

/** The value of one template variable, as Grafana's `current` holds it. */
export interface VariableValue {
  /**
   * `multi`: a multi-value or include-All variable; its value is a list and is formatted
   * `'a','b'`. `single`: one value, inserted as it is (custom variables naming a column).
   */
  readonly kind: 'multi' | 'single';
  /** The selected values; for 'All', every value the variable offers (when known). */
  readonly values: readonly string[];
  /** 'All' is selected (Grafana's `$__all`). */
  readonly all: boolean;
}

export interface ExpansionContext {
  readonly fromMs: number;
  readonly toMs: number;
  /** Grafana's query interval (the `interval` of the request). */
  readonly intervalMs: number;
  readonly variables: Readonly<Record<string, VariableValue>>;
}

/** Expands a panel's SQL: conditional alls, then template variables, then the backend macros. */
export function expandQuery(sql: string, ctx: ExpansionContext): string {
  const withConditionals = applyConditionalAll(sql, ctx.variables);
  const withVariables = replaceTemplateVariables(withConditionals, ctx);
  return interpolateMacros(withVariables, ctx);
}

// ---------------------------------------------------------------------------------------
// Pass 1: $__conditionalAll (frontend)
// ---------------------------------------------------------------------------------------

const CONDITIONAL_ALL = '$__conditionalAll(';

export function applyConditionalAll(sql: string, variables: Readonly<Record<string, VariableValue>>): string {
  let out = sql;
  let index = out.lastIndexOf(CONDITIONAL_ALL);
  while (index !== -1) {
    const open = index + CONDITIONAL_ALL.length - 1;
    const parsed = bracketArgs(out, open);
    if (parsed?.args.length !== 2) {
      throw new PlayloopError(
        'BAD_REQUEST',
        `$__conditionalAll needs exactly two arguments (condition, $variable) at: ${out.slice(index, index + 80)}`,
      );
    }
    const [condition, variableArg] = parsed.args as [string, string];
    const name = /\$\{(\w+)\}|\$(\w+)/.exec(variableArg.trim());
    let phrase = condition;
    if (name) {
      const variableName = (name[1] ?? name[2]) as string;
      const value = variables[variableName];
      if (!value) throw unknownVariable(variableName);
      // Grafana compares `current.value.toString()` with '$__all' and ''.
      if (value.all || value.values.length === 0 || (value.kind === 'single' && value.values[0] === '')) {
        phrase = '1=1';
      }
    }
    out = out.slice(0, index) + phrase + out.slice(parsed.end + 1);
    index = out.lastIndexOf(CONDITIONAL_ALL);
  }
  return out;
}

/**
 * The plugin's `getMacroArgs`: from the `(` at `open`, split at commas at depth 1 until the
 * bracket that closes it. Arguments are returned untrimmed, as the plugin keeps them.
 */
function bracketArgs(text: string, open: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth === 0) {
      args.push(text.slice(start, i));
      return { args, end: i };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Pass 2: template variables (Grafana's template service, plugin's format function)
// ---------------------------------------------------------------------------------------

/** Grafana's variable syntaxes: $name, [[name]] / [[name:fmt]], ${name} / ${name:fmt}. */
const VARIABLE_SYNTAX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

export function replaceTemplateVariables(sql: string, ctx: ExpansionContext): string {
  return sql.replace(
    VARIABLE_SYNTAX,
    (match: string, bare?: string, bracket?: string, _bf?: string, braced?: string, format?: string) => {
      const name = (bare ?? bracket ?? braced) as string;
      const global = grafanaGlobal(name, ctx);
      if (global !== undefined) return global;
      const value = ctx.variables[name];
      if (!value) {
        // Macros ($__timeFilter ...) and anything else Grafana does not know stay as they are.
        if (name.startsWith('__')) return match;
        throw unknownVariable(name);
      }
      return formatValue(name, value, format);
    },
  );
}

function grafanaGlobal(name: string, ctx: ExpansionContext): string | undefined {
  if (name === '__from') return String(Math.trunc(ctx.fromMs));
  if (name === '__to') return String(Math.trunc(ctx.toMs));
  return undefined;
}

/** A ClickHouse single-quoted string literal. */
export function quoteString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function formatValue(name: string, value: VariableValue, format: string | undefined): string {
  if (format !== undefined && format !== 'raw' && format !== 'singlequote' && format !== 'sqlstring') {
    throw new PlayloopError('BAD_REQUEST', `variable format ${format} of $${name} is not supported`);
  }
  if (value.kind === 'single' && format === undefined) return value.values[0] ?? '';
  if (value.all && value.values.length === 0) {
    throw new PlayloopError(
      'BAD_REQUEST',
      `$${name} is 'All' but its values are unknown; use it inside $__conditionalAll(..., $${name})`,
    );
  }
  // The plugin's format(): an array becomes 'a','b' (escaped here, see the header).
  return value.values.map(quoteString).join(',');
}

function unknownVariable(name: string): PlayloopError {
  return new PlayloopError('BAD_REQUEST', `the dashboard has no variable $${name}`);
}

// ---------------------------------------------------------------------------------------
// Pass 3: backend macros (pkg/macros/macros.go on grafana/macropro)
// ---------------------------------------------------------------------------------------

type MacroFn = (ctx: ExpansionContext, args: readonly string[]) => string;

const toDateTime = (ms: number): string => `toDateTime(${Math.floor(ms / 1000)})`;
const toDateTime64 = (ms: number): string => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const toDate = (ms: number): string => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
/** Go's `math.Max(interval.Seconds(), 1)` truncated by `int()`. */
const intervalSeconds = (ctx: ExpansionContext): number => Math.trunc(Math.max(ctx.intervalMs / 1000, 1));

function arity(name: string, want: number, args: readonly string[]): void {
  if (args.length !== want) {
    throw new PlayloopError(
      'BAD_REQUEST',
      `$__${name} expected ${want} argument(s), received ${args.length}`,
    );
  }
}

/** Go's time.ParseDuration subset used by $__timeGroup intervals (plus d and w, as macropro). */
function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new PlayloopError('BAD_REQUEST', `$__timeGroup: invalid interval "${text}"`);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0));
}

/** Compact duration, macropro's FormatDuration: largest whole unit of h, m, s, else ms. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const abs = Math.abs(ms);
  if (abs % 3_600_000 === 0) return `${abs / 3_600_000}h`;
  if (abs % 60_000 === 0) return `${abs / 60_000}m`;
  if (abs % 1000 === 0) return `${abs / 1000}s`;
  return `${Math.trunc(abs)}ms`;
}

const MACROS: Readonly<Record<string, MacroFn>> = {
  fromTime: (ctx) => toDateTime(ctx.fromMs),
  toTime: (ctx) => toDateTime(ctx.toMs),
  fromTime_ms: (ctx) => toDateTime64(ctx.fromMs),
  toTime_ms: (ctx) => toDateTime64(ctx.toMs),
  timeFilter: (ctx, args) => {
    arity('timeFilter', 1, args);
    const c = args[0] as string;
    return `${c} >= ${toDateTime(ctx.fromMs)} AND ${c} <= ${toDateTime(ctx.toMs)}`;
  },
  timeFilter_ms: (ctx, args) => {
    arity('timeFilter_ms', 1, args);
    const c = args[0] as string;
    return `${c} >= ${toDateTime64(ctx.fromMs)} AND ${c} <= ${toDateTime64(ctx.toMs)}`;
  },
  dateFilter: (ctx, args) => {
    arity('dateFilter', 1, args);
    const c = args[0] as string;
    return `${c} >= ${toDate(ctx.fromMs)} AND ${c} <= ${toDate(ctx.toMs)}`;
  },
  dateTimeFilter: (ctx, args) => dateTimeFilter('dateTimeFilter', ctx, args),
  dt: (ctx, args) => dateTimeFilter('dt', ctx, args),
  timeInterval: (ctx, args) => {
    arity('timeInterval', 1, args);
    return `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${intervalSeconds(ctx)} second)`;
  },
  timeInterval_ms: (ctx, args) => {
    arity('timeInterval_ms', 1, args);
    const ms = Math.trunc(Math.max(ctx.intervalMs, 1));
    return `toStartOfInterval(toDateTime64(${args[0]}, 3), INTERVAL ${ms} millisecond)`;
  },
  interval_s: (ctx) => String(intervalSeconds(ctx)),
  interval: (ctx) => formatDuration(ctx.intervalMs),
  interval_ms: (ctx) => String(Math.trunc(ctx.intervalMs)),
  timeFrom: (ctx, args) => {
    arity('timeFrom', 1, args);
    return `${args[0]} >= ${toDateTime(ctx.fromMs)}`;
  },
  timeTo: (ctx, args) => {
    arity('timeTo', 1, args);
    return `${args[0]} <= ${toDateTime(ctx.toMs)}`;
  },
  timeGroup: (_ctx, args) => {
    arity('timeGroup', 2, args);
    const column = (args[0] as string).trim();
    const secs = durationSeconds((args[1] as string).trim().replace(/^['"]+|['"]+$/g, ''));
    if (secs <= 0) throw new PlayloopError('BAD_REQUEST', '$__timeGroup: interval must be positive');
    return `toStartOfInterval(toDateTime(${column}), INTERVAL ${secs} second)`;
  },
};

function dateTimeFilter(name: string, ctx: ExpansionContext, args: readonly string[]): string {
  arity(name, 2, args);
  const [d, t] = args as [string, string];
  const date = `(${d} >= ${toDate(ctx.fromMs)} AND ${d} <= ${toDate(ctx.toMs)})`;
  const time = `(${t} >= ${toDateTime(ctx.fromMs)} AND ${t} <= ${toDateTime(ctx.toMs)})`;
  return `${date} AND ${time}`;
}

/** Names of the macros this expander knows, for checks on panel definitions. */
export const MACRO_NAMES: readonly string[] = Object.keys(MACROS);

/** Longest first, so `$__timeFilter_ms` is never read as `$__timeFilter` (macropro). */
const NAMES_LONGEST_FIRST = [...MACRO_NAMES].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));

export function interpolateMacros(sql: string, ctx: ExpansionContext): string {
  let out = stripComments(sql);
  for (const name of NAMES_LONGEST_FIRST) {
    const fn = MACROS[name] as MacroFn;
    out = replaceAllMacro(out, `$__${name}`, (raw) => fn(ctx, parseArgs(raw, name)));
  }
  return out;
}

const isNameChar = (c: string | undefined): boolean => c !== undefined && /[_a-zA-Z0-9]/.test(c);

function replaceAllMacro(text: string, token: string, expand: (raw: string) => string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const idx = rest.indexOf(token);
    if (idx === -1) return out + rest;
    const after = idx + token.length;
    if (isNameChar(rest[after])) {
      out += rest.slice(0, after);
      rest = rest.slice(after);
      continue;
    }
    out += rest.slice(0, idx);
    rest = rest.slice(after);
    let raw = '';
    if (rest[0] === '(') {
      const end = findClosingParen(rest);
      if (end !== -1) {
        raw = rest.slice(1, end);
        rest = rest.slice(end + 1);
      }
    }
    out += expand(raw);
  }
}

/** Index just past a quoted literal starting at `pos` (doubled quotes and backslashes escape). */
function scanQuoted(text: string, pos: number): number {
  const quote = text[pos];
  let j = pos + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return j;
}

function findClosingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i = scanQuoted(text, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
    i++;
  }
  return -1;
}

function parseArgs(raw: string, name: string): string[] {
  const text = raw.trim();
  if (text === '') return [];
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i = scanQuoted(text, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  if (depth !== 0) throw new PlayloopError('BAD_REQUEST', `$__${name}: unbalanced parentheses in arguments`);
  args.push(text.slice(start).trim());
  return args;
}

/**
 * Blanks `--` and block comments outside quotes, keeping lengths (macropro StripComments with
 * the plugin's LineComment | BlockComment | BackslashEscape | BacktickQuote).
 */
export function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = scanQuoted(sql, i);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      let j = i;
      while (j < sql.length && sql[j] !== '\n' && sql[j] !== '\r') j++;
      out += ' '.repeat(j - i);
      i = j;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const j = close === -1 ? sql.length : close + 2;
      out += sql.slice(i, j).replace(/[^\n\r]/g, ' ');
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
