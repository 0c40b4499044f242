/**
 * A V8 CPU profile (`node --cpu-prof`, or the inspector's Profiler domain: the .cpuprofile
 * JSON Chrome DevTools reads) reduced to where the JavaScript thread spent its time, for every
 * benchmark that profiles: self time per function and per component, time with a function
 * anywhere on the stack, and optionally time per "area" of the work, recognised by a frame on
 * the stack. Only the JavaScript thread is sampled: work on other threads (embedded
 * ClickHouse queries, GC helpers, libuv, worker threads) shows in process CPU time, not here.
 * Sampled time is wall-clock time on that thread (a descheduled thread is still sampled), so
 * on a loaded machine compare shares or two profiles of one run, not absolute values.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The part of a .cpuprofile read here (node:inspector's Profiler.Profile has it). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly selfMs: number;
  /** Share of the sampled, counted time (idle and `exclude`d components left out), 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time counted: not idle, not in an excluded component. */
  readonly busyMs: number;
  readonly idleMs: number;
  /** Sampled time in excluded components (e.g. module loading at start). */
  readonly excludedMs: number;
  /** Self time per function (`name file:line`). */
  readonly functions: readonly ProfileLine[];
  /** Self time per component (`componentOf`). */
  readonly components: readonly ProfileLine[];
  /**
   * Time with the function anywhere on the stack, each function once per sample. Named
   * frames only (tsx-transformed arrow functions cannot be told apart), synchronous work only
   * (after an await, a continuation runs from the microtask queue, not under its caller).
   */
  readonly inclusive: readonly ProfileLine[];
  /** Time per area (`options.areas`), the first area with a frame on the stack; else `rest`. */
  readonly areas: readonly ProfileLine[];
}

export interface SummaryOptions {
  /** Which part of the system a frame belongs to; default `moduleOf`. */
  readonly componentOf?: (frame: CallFrame) => string;
  /** Components whose samples are set apart (`excludedMs`) rather than counted. */
  readonly exclude?: (component: string) => boolean;
  /** Only these frames count in `inclusive`; default every named frame but the wrappers. */
  readonly inclusiveOf?: (frame: CallFrame) => boolean;
  /** Parts of the work, tested in order against `function url` of every frame on the stack. */
  readonly areas?: {
    readonly list: ReadonlyArray<readonly [name: string, pattern: RegExp]>;
    readonly rest: string;
  };
  /** Only samples in this span of the profile's own monotonic µs (the whole profile if none is). */
  readonly span?: { readonly fromUs: number; readonly toUs: number };
  /** Lines kept per list (components and areas are kept whole). */
  readonly top?: number;
}

/** Frames every stack passes through: their inclusive time says nothing. */
const WRAPPERS = new Set([
  '(root)',
  '(program)',
  '(idle)',
  '(garbage collector)',
  '(anonymous)',
  'processTicksAndRejections',
  'runMicrotasks',
  'listOnTimeout',
  'processTimers',
  'emit',
]);

const REPOSITORY = `${pathToFileURL(resolve(import.meta.dirname, '..')).href}/`;

/** True for a frame of this repository's own code (not node_modules). */
export function isOwnCode(frame: CallFrame): boolean {
  return frame.url.startsWith(REPOSITORY) && !frame.url.includes('/node_modules/');
}

/** `kafkajs/src/protocol/encoder.js`, `processors/qoe/rows.ts`, `node:buffer`. */
export function fileOf(url: string): string {
  const pkg = /node_modules\/(.+)$/.exec(url);
  if (pkg !== null) return pkg[1] as string;
  if (url.startsWith(REPOSITORY)) return url.slice(REPOSITORY.length);
  return url.replace(/^node:(internal\/)?/, 'node:');
}

/**
 * A frame's module: an npm package, a file of this repository, a node core module, or what
 * V8 calls its own work: `(garbage collector)`, `(program)` (native code outside JS),
 * `V8 builtins` (everything else without a script).
 */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'V8 builtins';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1] as string;
  if (url.startsWith(REPOSITORY)) return url.slice(REPOSITORY.length);
  const core = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (core !== null) return `node:${core[1]}`;
  return url.slice(-48);
}

export function frameName(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url === '' ? name : `${name} ${fileOf(frame.url)}:${frame.lineNumber + 1}`;
}

export function summariseProfile(profile: CpuProfile, options: SummaryOptions = {}): ProfileSummary {
  const componentOf = options.componentOf ?? moduleOf;
  const inclusiveOf = options.inclusiveOf ?? (() => true);
  const top = options.top ?? 20;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];

  // Sample i was taken at startTime + the deltas up to it; it stands for the time until the
  // next one. A span that holds no sample (a clock mismatch) falls back to the whole profile.
  const at = new Float64Array(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    at[i] = t;
  }
  const { span } = options;
  const inSpan = (time: number): boolean => span === undefined || (time >= span.fromUs && time <= span.toUs);
  const spanned = span !== undefined && at.some((time) => inSpan(time));

  const fnSelf = new Map<string, number>();
  const compSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const areaTime = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  let excludedUs = 0;
  for (let i = 0; i < samples.length; i++) {
    if (spanned && !inSpan(at[i] as number)) continue;
    const dt = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i] as number);
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const component = componentOf(node.callFrame);
    if (options.exclude?.(component)) {
      excludedUs += dt;
      continue;
    }
    busyUs += dt;
    compSelf.set(component, (compSelf.get(component) ?? 0) + dt);
    const name = frameName(node.callFrame);
    fnSelf.set(name, (fnSelf.get(name) ?? 0) + dt);
    const onStack = new Set<string>();
    const stack: string[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined) continue;
      if (options.areas !== undefined) stack.push(`${frame.functionName} ${frame.url}`);
      if (WRAPPERS.has(frame.functionName || '(anonymous)') || !inclusiveOf(frame)) continue;
      onStack.add(frameName(frame));
    }
    for (const n of onStack) fnTotal.set(n, (fnTotal.get(n) ?? 0) + dt);
    if (options.areas !== undefined) {
      const area =
        options.areas.list.find(([, pattern]) => stack.some((f) => pattern.test(f)))?.[0] ??
        options.areas.rest;
      areaTime.set(area, (areaTime.get(area) ?? 0) + dt);
    }
  }
  const lines = (m: Map<string, number>, n: number): ProfileLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: us / 1_000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    busyMs: busyUs / 1_000,
    idleMs: idleUs / 1_000,
    excludedMs: excludedUs / 1_000,
    functions: lines(fnSelf, top),
    components: lines(compSelf, Number.POSITIVE_INFINITY),
    inclusive: lines(fnTotal, top),
    areas: lines(areaTime, Number.POSITIVE_INFINITY),
  };
}

/** `  12.3%  name` lines of a summary list, the first `n`. */
export function printLines(title: string, lines: readonly ProfileLine[], n: number): void {
  console.log(`  ${title}`);
  for (const l of lines.slice(0, n)) console.log(`    ${(100 * l.share).toFixed(1).padStart(5)}%  ${l.name}`);
}
