/**
 * What the processors benchmark's parent and children share: the config of one run (its own
 * topics, consumer groups and ClickHouse database), child processes that answer one JSON
 * line, CPU and percentile arithmetic.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';

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
  /** Node's other threads: V8 platform workers (concurrent GC, compilation), libuv pool. */
  readonly nodeHelpers: number;
  /** Every other thread: in the processors, embedded ClickHouse (chDB's named pools). */
  readonly other: number;
}

/**
 * Per-thread CPU from /proc/self/task/<tid>/stat (utime + stime, in clock ticks of 10 ms, the
 * Linux USER_HZ). Threads that ended since the last reading are missing from both readings,
 * so a difference can undercount them; undefined where /proc is not there.
 */
export function threadCpu(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let main = 0;
  let nodeHelpers = 0;
  let other = 0;
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after the command: state is field 3, utime 14 and stime 15 (proc(5)).
    const fields = stat.slice(close + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    if (Number(tid) === process.pid) main += ms;
    else if (comm === 'node') nodeHelpers += ms;
    else other += ms;
  }
  return { main, nodeHelpers, other };
}

export function threadCpuSince(before: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadCpu();
  if (before === undefined || now === undefined) return undefined;
  return {
    main: now.main - before.main,
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
