/**
 * A V8 CPU profile (`node --cpu-prof`, the .cpuprofile JSON Chrome DevTools reads) reduced to
 * where the main thread spent its time: self time per function and per component, over a
 * span of the run. Only the JavaScript thread is sampled: work on other threads (embedded
 * ClickHouse queries, GC helpers, libuv) shows in process CPU time, not here.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

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
  /** Share of the sampled, non-idle time. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time in the span, idle excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: readonly ProfileLine[];
  readonly components: readonly ProfileLine[];
  /**
   * Time with the function anywhere on the stack (each function once per sample). Named
   * functions only: the TypeScript files arrive transformed by tsx, so an anonymous arrow
   * function cannot be told from its neighbours. Synchronous work only: after an await, a
   * continuation runs from the microtask queue, not under its caller.
   */
  readonly inclusive: readonly ProfileLine[];
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
]);

/** Which part of the system a frame belongs to, from its script URL. */
export function componentOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    if (functionName === '(idle)') return 'idle';
    return 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) {
    const name = pkg[1]!;
    return name === 'avsc' ? 'avsc (Avro)' : name;
  }
  for (const dir of [
    'processors/sessionize',
    'processors/qoe-core',
    'processors/qoe',
    'processors/runtime',
  ]) {
    if (url.includes(`/${dir}/`)) return dir;
  }
  if (url.includes('/infra/')) return 'infra';
  if (url.includes('/bench/')) return 'bench (polling)';
  return 'other';
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url);
  if (m) return m[1]!;
  const i = url.indexOf('/work/');
  return i >= 0 ? url.replace(/^.*?\/(core|infra|processors|bench|cli|schemas|tests)\//, '$1/') : url;
}

/**
 * Self time per function and component between `fromUs` and `toUs` (the profile's own
 * monotonic microseconds; the whole profile when the span holds no sample).
 */
export function summariseProfile(
  profile: CpuProfile,
  span?: { readonly fromUs: number; readonly toUs: number },
  top = 20,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nameOf = (f: CallFrame): string =>
    `${f.functionName || '(anonymous)'} ${f.url === '' ? '' : `${shortUrl(f.url)}:${f.lineNumber + 1}`}`.trim();
  const fnTotal = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const inSpan = (t: number): boolean => span === undefined || (t >= span.fromUs && t <= span.toUs);
  let anyInSpan = false;
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (inSpan(t)) {
      anyInSpan = true;
      break;
    }
  }
  const useSpan = anyInSpan ? span : undefined;
  const fnSelf = new Map<string, number>();
  const compSelf = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (useSpan !== undefined && (t < useSpan.fromUs || t > useSpan.toUs)) continue;
    // A sample stands for the time until the next one.
    const dt = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i]!);
    if (node === undefined) continue;
    const component = componentOf(node.callFrame);
    if (component === 'idle') {
      idleUs += dt;
      continue;
    }
    busyUs += dt;
    const name = nameOf(node.callFrame);
    fnSelf.set(name, (fnSelf.get(name) ?? 0) + dt);
    const onStack = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined || WRAPPERS.has(frame.functionName || '(anonymous)')) continue;
      onStack.add(nameOf(frame));
    }
    for (const n of onStack) fnTotal.set(n, (fnTotal.get(n) ?? 0) + dt);
    compSelf.set(component, (compSelf.get(component) ?? 0) + dt);
  }
  const lines = (m: Map<string, number>, n: number): ProfileLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, selfMs: us / 1_000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    busyMs: busyUs / 1_000,
    idleMs: idleUs / 1_000,
    functions: lines(fnSelf, top),
    components: lines(compSelf, 100),
    inclusive: lines(fnTotal, top),
  };
}
