/**
 * What the processors benchmark's parent and children share: the config of one run (its own
 * topics, consumer groups and ClickHouse database), child processes that answer one JSON
 * line, CPU and percentile arithmetic.
 */
import { spawn } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Registry } from 'prom-client';
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';

const pbkdf2Async = promisify(pbkdf2);

/** Config overrides as loadConfig takes them (one level of sections). */
export type Overrides = Record<string, Record<string, unknown> | string>;

/** A run's own topics, consumer groups, database and data directory; partitions from config. */
export function runOverrides(
  id: string,
  dataDir: string,
  processors: Record<string, unknown> = {},
): Overrides {
  return {
    dataDir,
    topics: {
      events: `${id}.playback.events`,
      eventsDlq: `${id}.playback.events.dlq`,
      sessions: `${id}.playback.sessions`,
      allocations: `${id}.experiment.allocations`,
      steering: `${id}.config.steering`,
      abr: `${id}.config.abr`,
    },
    clickhouse: { database: id.replace(/[^A-Za-z0-9_]/g, '_') },
    processors: { groupPrefix: id, ...processors },
  };
}

export function configOf(overrides: Overrides): PlayloopConfig {
  return loadConfig({ overrides });
}

/** Every topic a run's processors role creates (processors/role.ts processorTopics). */
export function runTopics(config: PlayloopConfig): string[] {
  const t = config.topics;
  return [
    t.events,
    t.eventsDlq,
    t.sessions,
    `${t.sessions}.dlq`,
    t.allocations,
    `${t.allocations}.dlq`,
    t.steering,
    t.abr,
  ];
}

/** CPU time of this process (user + system, every thread), ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1_000;
}

/** CPU time of this process's threads by kind, ms. */
export interface ThreadCpu {
  /** The JavaScript thread (its id is the process id). */
  readonly main: number;
  /**
   * libuv's thread pool (found by findLibuvPool): where embedded ClickHouse runs each query
   * (chDB's async calls are libuv work), and asynchronous fs and crypto. 0 until it is found.
   */
  readonly libuvPool: number;
  /** Node's other threads: V8 platform workers (parallel and concurrent GC, compilation). */
  readonly nodeHelpers: number;
  /** Every other thread: in the processors, embedded ClickHouse's named pools. */
  readonly other: number;
}

interface ThreadTime {
  readonly tid: number;
  /** The kernel's thread name (comm); Node's own threads are all "node". */
  readonly name: string;
  /** utime + stime so far, ms. */
  readonly ms: number;
}

/**
 * Every thread of this process with its CPU time, from /proc/self/task/<tid>/stat (utime +
 * stime, in clock ticks of 10 ms, the Linux USER_HZ); undefined where /proc is not there.
 */
function threadTimes(): ThreadTime[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const out: ThreadTime[] = [];
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const close = stat.lastIndexOf(')');
    // Fields after the command: state is field 3, utime 14 and stime 15 (proc(5)).
    const fields = stat.slice(close + 2).split(' ');
    out.push({
      tid: Number(tid),
      name: stat.slice(stat.indexOf('(') + 1, close),
      ms: (Number(fields[11]) + Number(fields[12])) * 10,
    });
  }
  return out;
}

let libuvPool: ReadonlySet<number> = new Set();

/** pbkdf2 rounds of one calibration job: tens of ms, several clock ticks of its thread. */
const CALIBRATION_ITERATIONS = 100_000;

/**
 * Finds the threads of libuv's pool, so threadCpu can tell them from V8's. Both are named
 * "node", and the difference matters here: chDB runs each query on a pool thread (its async
 * calls are libuv work), so counting the pool as Node overhead hid a third of embedded
 * ClickHouse's CPU among GC (seen with `perf record`: libchdb.so frames on "node" threads).
 * The pool is given as many pbkdf2 jobs as it has threads (UV_THREADPOOL_SIZE, 4 by
 * default), twice; a "node" thread other than the JavaScript one that gained CPU meanwhile ran
 * one of them. Call it at the start of a child, before what it measures.
 */
export async function findLibuvPool(): Promise<ReadonlySet<number>> {
  const size = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
  const found = new Set<number>();
  for (let round = 0; round < 2; round++) {
    const before = new Map((threadTimes() ?? []).map((t) => [t.tid, t.ms]));
    await Promise.all(
      Array.from({ length: size }, (_, i) =>
        pbkdf2Async(`job ${i}`, 'playloop', CALIBRATION_ITERATIONS, 32, 'sha256'),
      ),
    );
    for (const t of threadTimes() ?? []) {
      // Two ticks: a V8 worker that happens to run a GC task meanwhile rarely spends 20 ms.
      if (t.tid !== process.pid && t.name === 'node' && t.ms - (before.get(t.tid) ?? 0) >= 20)
        found.add(t.tid);
    }
  }
  libuvPool = found;
  return found;
}

/**
 * Per-thread CPU by kind. Threads that ended since the last reading are missing from both
 * readings, so a difference can undercount them; undefined where /proc is not there.
 */
export function threadCpu(): ThreadCpu | undefined {
  const times = threadTimes();
  if (times === undefined) return undefined;
  let main = 0;
  let pool = 0;
  let nodeHelpers = 0;
  let other = 0;
  for (const t of times) {
    if (t.tid === process.pid) main += t.ms;
    else if (libuvPool.has(t.tid)) pool += t.ms;
    else if (t.name === 'node') nodeHelpers += t.ms;
    else other += t.ms;
  }
  return { main, libuvPool: pool, nodeHelpers, other };
}

/** CPU so far by thread name, the JavaScript thread and libuv's pool named as such. */
export function cpuByThreadName(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of threadTimes() ?? []) {
    const name = t.tid === process.pid ? 'JS thread' : libuvPool.has(t.tid) ? 'libuv pool' : t.name;
    out.set(name, (out.get(name) ?? 0) + t.ms);
  }
  return out;
}

export function threadCpuSince(before: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadCpu();
  if (before === undefined || now === undefined) return undefined;
  return {
    main: now.main - before.main,
    libuvPool: now.libuvPool - before.libuvPool,
    nodeHelpers: now.nodeHelpers - before.nodeHelpers,
    other: now.other - before.other,
  };
}

/** Monotonic clock in µs, the clock V8 CPU profiles are stamped with. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

/** Nearest-rank percentile (q in [0, 1]) of ascending values; NaN for none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Sum of a prom-client metric's values whose labels include `labels`. */
export async function metricSum(
  registry: Registry,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}

const RESULT = 'RESULT ';

/** A child's answer: one stdout line `RESULT <json>` (anything else on stdout is a log line). */
export function answer(result: unknown): void {
  process.stdout.write(`${RESULT}${JSON.stringify(result)}\n`);
}

export interface ChildOptions {
  /** Node flags before the script (--expose-gc, --cpu-prof ...). */
  readonly nodeArgs?: readonly string[];
  /** Called for every line the child prints that is not its answer. */
  readonly onLine?: (line: string) => void;
}

export interface Child<T> {
  readonly result: Promise<T>;
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
}

/** Runs `bench/processors.ts --child <name> <spec>` and resolves with its answer. */
export function startChild<T>(name: string, spec: unknown, options: ChildOptions = {}): Child<T> {
  const script = join(import.meta.dirname, '..', 'processors.ts');
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', script, '--child', name, JSON.stringify(spec)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const result = new Promise<T>((resolve, reject) => {
    let answerLine: string | undefined;
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(RESULT)) answerLine = line.slice(RESULT.length);
        else if (line.length > 0) (options.onLine ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
        nl = buffered.indexOf('\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (answerLine === undefined) {
        reject(new Error(`child ${name} exited with ${code ?? signal} and no answer`));
      } else {
        resolve(JSON.parse(answerLine) as T);
      }
    });
  });
  return { result, pid: child.pid, kill: (signal) => child.kill(signal) };
}

/** Progress lines go to stderr, so stdout stays the answer channel. */
export function progress(message: string): void {
  process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
