/**
 * Validation of experiment definitions: each file on its own (YAML, schema, rules), then
 * the set of files together (keys, seeds, namespaces, knob conflicts). Every problem is an
 * issue with the file, the path of the field (`cells[1].weight`) and the reason; an
 * invalid definition is refused whole, never repaired.
 *
 * `parseExperiment` and `checkExperimentSet` are pure; `validateExperimentFiles` and
 * `loadExperiments` add the file reading around them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import { cellKnobs, definitionRules, type IssuePath, knobPath } from './rules.ts';
import { type ExperimentDefinition, experimentSchema, KNOWN_FIELD_NAMES, type Targeting } from './schema.ts';
import { ABR_KNOB_NAMES } from './vocabulary.ts';

export interface ValidationIssue {
  /** The file as it was named to the validator. */
  readonly file: string;
  /** Path of the offending field, e.g. `cells[1].weight`; `(root)` for the file as a whole. */
  readonly path: string;
  readonly reason: string;
  /** 1-based line of the field in the file, when it can be located. */
  readonly line?: number;
}

export interface ValidExperiment {
  readonly file: string;
  readonly definition: ExperimentDefinition;
}

export interface ValidationReport {
  /** True when every file is valid on its own and the set is consistent. */
  readonly ok: boolean;
  readonly files: readonly string[];
  readonly issues: readonly ValidationIssue[];
  /** The definitions that are valid on their own (frozen), in file order. */
  readonly experiments: readonly ValidExperiment[];
}

/** `['cells', 1, 'weight']` -> `cells[1].weight`. */
export function formatPath(path: IssuePath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? part : `.${part}`;
  }
  return text === '' ? '(root)' : text;
}

/** `file: path: reason`, the one line format every tool prints. */
export function formatIssue(issue: ValidationIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${issue.file}: ${issue.path}: ${issue.reason}${where}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

function suggestion(name: string, candidates: readonly string[]): string {
  const lower = name.toLowerCase();
  const best = candidates
    .map((c) => ({ c, d: c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  return best === undefined ? '' : ` (did you mean "${best.c}"?)`;
}

type ZodIssue = z.core.$ZodIssue;

function zodPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** Turns one zod issue into one or more of ours, with messages that say what to do. */
function fromZodIssue(issue: ZodIssue): Array<{ path: IssuePath; reason: string }> {
  const path = zodPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const inAbr = path[path.length - 1] === 'abr';
    return issue.keys.map((key) => ({
      path: [...path, key],
      reason: inAbr
        ? `unknown ABR knob "${key}"${suggestion(key, ABR_KNOB_NAMES)}; known: ${ABR_KNOB_NAMES.join(', ')}`
        : `unknown field "${key}"${suggestion(key, KNOWN_FIELD_NAMES)}`,
    }));
  }
  return [{ path, reason: issue.message }];
}

/** Messages for missing fields; zod's default ones elsewhere. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required (${issue.expected})`;
  return undefined;
};

export interface ParsedExperiment {
  readonly definition?: ExperimentDefinition;
  readonly issues: readonly ValidationIssue[];
}

/**
 * Validates one definition from its YAML text. `file` names it in issues; its base name
 * must be `<key>.yaml` (or `.yml`), so a definition is found by its key.
 */
export function parseExperiment(text: string, file: string): ParsedExperiment {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((error) => ({
        file,
        path: '(root)',
        reason: `not valid YAML: ${error.message.split('\n')[0]}`,
        line: lineOf(error.pos[0]),
      })),
    };
  }

  // The line of the deepest node on the path that exists in the document.
  const locate = (path: IssuePath): number | undefined => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (typeof node === 'object' && node !== null && 'range' in node) {
        const range = (node as { range?: readonly number[] | null }).range;
        if (range) return lineOf(range[0]);
      }
    }
    return undefined;
  };
  const issue = (path: IssuePath, reason: string): ValidationIssue => {
    const line = locate(path);
    return line === undefined
      ? { file, path: formatPath(path), reason }
      : { file, path: formatPath(path), reason, line };
  };

  // toJS throws on what the parser lets through: an alias to a missing anchor, or more
  // alias expansions than maxAliasCount (the "billion laughs" guard).
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    return { issues: [{ file, path: '(root)', reason: `not valid YAML: ${errorMessage(cause)}` }] };
  }
  const parsed = experimentSchema.safeParse(raw, { error: errorMap });
  if (!parsed.success) {
    return { issues: parsed.error.issues.flatMap(fromZodIssue).map((i) => issue(i.path, i.reason)) };
  }
  const definition = parsed.data as ExperimentDefinition;
  const issues = definitionRules(definition).map((i) => issue(i.path, i.reason));
  const stem = basename(file, extname(file));
  if (stem !== definition.key) {
    issues.unshift(issue(['key'], `"${definition.key}" must match the file name (${stem}${extname(file)})`));
  }
  if (issues.length > 0) return { issues };
  return { definition: deepFreeze(definition), issues: [] };
}

/** Whether two targetings can match the same unit: empty lists match everything. */
export function targetingOverlaps(a: Targeting, b: Targeting): boolean {
  const meets = (x: readonly string[], y: readonly string[]) =>
    x.length === 0 || y.length === 0 || x.some((v) => y.includes(v));
  return meets(a.deviceClasses, b.deviceClasses) && meets(a.countries, b.countries) && meets(a.isps, b.isps);
}

function rangesOverlap(a: ExperimentDefinition, b: ExperimentDefinition): boolean {
  return a.namespace.range.start < b.namespace.range.end && b.namespace.range.start < a.namespace.range.end;
}

/** Knob -> the index of the first cell that overrides it. */
function knobsOf(def: ExperimentDefinition): Map<string, number> {
  const knobs = new Map<string, number>();
  def.cells.forEach((cell, i) => {
    for (const knob of cellKnobs(cell)) if (!knobs.has(knob)) knobs.set(knob, i);
  });
  return knobs;
}

/**
 * Rules across definitions. Namespaces (layers, as in Tang et al., "Overlapping Experiment
 * Infrastructure", KDD 2010) exist so that two experiments touching the same knob never
 * both hold one viewer:
 * - keys and seeds are unique (a shared seed would correlate two experiments' cells);
 * - two running experiments in one namespace hold disjoint bucket ranges, and use one
 *   hash version (the layer bucket must be computed the same way for both);
 * - two running experiments in different namespaces never override the same knob for
 *   overlapping targeting (nothing would keep them apart).
 * Each issue is reported once, on the later file of the pair, naming the earlier one.
 */
export function checkExperimentSet(experiments: readonly ValidExperiment[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  experiments.forEach((later, j) => {
    const b = later.definition;
    for (const earlier of experiments.slice(0, j)) {
      const a = earlier.definition;
      const other = `"${a.key}" (${earlier.file})`;
      if (a.key === b.key) {
        issues.push({ file: later.file, path: 'key', reason: `duplicate key: ${other} has the same key` });
      }
      if (a.seed === b.seed) {
        issues.push({
          file: later.file,
          path: 'seed',
          reason: `seed "${b.seed}" is also used by ${other}; each experiment needs its own seed`,
        });
      }
      if (a.status !== 'running' || b.status !== 'running') continue;
      if (a.namespace.name === b.namespace.name) {
        if (rangesOverlap(a, b)) {
          const ra = a.namespace.range;
          const rb = b.namespace.range;
          issues.push({
            file: later.file,
            path: 'namespace.range',
            reason: `[${rb.start}, ${rb.end}) overlaps [${ra.start}, ${ra.end}) of running experiment ${other} in namespace "${b.namespace.name}"`,
          });
        }
        if (a.hashVersion !== b.hashVersion) {
          issues.push({
            file: later.file,
            path: 'hashVersion',
            reason: `${b.hashVersion} differs from ${a.hashVersion} of running experiment ${other} in the same namespace; layer buckets would not agree`,
          });
        }
        continue;
      }
      if (!targetingOverlaps(a.targeting, b.targeting)) continue;
      const knobsA = knobsOf(a);
      for (const [knob, cellIndex] of knobsOf(b)) {
        if (!knobsA.has(knob)) continue;
        issues.push({
          file: later.file,
          path: formatPath(knobPath(cellIndex, knob)),
          reason: `running experiment ${other} in namespace "${a.namespace.name}" also overrides ${knob} and its targeting overlaps; put both in one namespace with disjoint ranges, or make their targeting disjoint`,
        });
      }
    }
  });
  return issues;
}

/** Validates the given files on their own and as a set. Unreadable files are issues too. */
export async function validateExperimentFiles(paths: readonly string[]): Promise<ValidationReport> {
  const issues: ValidationIssue[] = [];
  const experiments: ValidExperiment[] = [];
  for (const file of paths) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      const code =
        typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : 'error';
      issues.push({ file, path: '(root)', reason: `cannot be read (${code})` });
      continue;
    }
    const parsed = parseExperiment(text, file);
    issues.push(...parsed.issues);
    if (parsed.definition) experiments.push({ file, definition: parsed.definition });
  }
  issues.push(...checkExperimentSet(experiments));
  return Object.freeze({
    ok: issues.length === 0,
    files: Object.freeze([...paths]),
    issues: Object.freeze(issues),
    experiments: Object.freeze(experiments),
  });
}

/** The definition files directly in `dir` (not below it), sorted by name. */
export async function experimentFilesIn(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Loads every definition in `dir`, all or nothing: one invalid file refuses the whole set
 * (EXPERIMENT_INVALID listing every issue), since running the rest would silently drop an
 * experiment. Returns frozen definitions sorted by key.
 */
export async function loadExperiments(dir: string): Promise<readonly ExperimentDefinition[]> {
  let files: string[];
  try {
    files = await experimentFilesIn(dir);
  } catch (cause) {
    throw new PlayloopError('EXPERIMENT_INVALID', `experiments directory ${dir} cannot be read`, { cause });
  }
  const report = await validateExperimentFiles(files);
  if (!report.ok) {
    const lines = report.issues.map(formatIssue);
    throw new PlayloopError(
      'EXPERIMENT_INVALID',
      `invalid experiment definitions:\n  ${lines.join('\n  ')}`,
      {
        details: { issues: lines },
      },
    );
  }
  const definitions = report.experiments
    .map((e) => e.definition)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return Object.freeze(definitions);
}
