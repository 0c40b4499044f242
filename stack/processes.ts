/**
 * Background processes of the local stack: started detached, their PIDs recorded, and
 * stopped only by those records. A record names a marker that must appear in the
 * process's command line, so a PID the kernel has since reused is never signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlayloopError } from '../core/errors.ts';
import { pollUntil, sleep } from '../core/retry.ts';

export interface ProcessRecord {
  readonly pid: number;
  readonly marker: string;
  readonly startedAt: string;
  readonly command: readonly string[];
}

export interface ProcessFiles {
  readonly pidFile: string;
  readonly logFile: string;
}

export function readRecord(files: ProcessFiles): ProcessRecord | undefined {
  if (!existsSync(files.pidFile)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(files.pidFile, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'pid' in parsed && 'marker' in parsed) {
      return parsed as ProcessRecord;
    }
  } catch {
    // A torn or hand-edited record names no process we may signal.
  }
  return undefined;
}

/** True when `pid` is alive and its command line carries our marker. */
export function isOurs(record: ProcessRecord): boolean {
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(record.marker);
  } catch {
    return false;
  }
}

/**
 * Whether a process just started is gone (dead, a zombie, or its PID now another command's).
 * Not the negation of isOurs: /proc/<pid>/cmdline can read empty for a live process, while it
 * is in exec or when its memory cannot be read under load, and a start that was going fine was
 * once failed as "exited" on such a read. Alive with an unreadable or empty command line is
 * not gone; the state field of /proc/<pid>/stat says dead or alive.
 */
export function isGone(record: ProcessRecord): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // proc(5): "pid (comm) state ...", where comm may itself hold parentheses.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  if (state === 'Z' || state === 'X') return true;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  return cmdline.length > 0 && !cmdline.includes(record.marker);
}

export function startDetached(
  files: ProcessFiles,
  command: string,
  args: readonly string[],
  options: { marker: string; cwd?: string; env?: NodeJS.ProcessEnv },
): ProcessRecord {
  mkdirSync(dirname(files.logFile), { recursive: true });
  mkdirSync(dirname(files.pidFile), { recursive: true });
  const log = openSync(files.logFile, 'a');
  try {
    writeFileSync(log, `\n=== ${new Date().toISOString()} starting: ${command} ${args.join(' ')}\n`);
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    child.unref();
    const record: ProcessRecord = {
      pid: child.pid,
      marker: options.marker,
      startedAt: new Date().toISOString(),
      command: [command, ...args],
    };
    writeFileSync(files.pidFile, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, a bounded wait, then SIGKILL. Returns how it ended. */
export async function stopRecorded(
  files: ProcessFiles,
  graceMs = 30_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  const record = readRecord(files);
  if (record === undefined || !isOurs(record)) {
    rmSync(files.pidFile, { force: true });
    return 'not-running';
  }
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(record)) {
      rmSync(files.pidFile, { force: true });
      return 'stopped';
    }
    await sleep(200);
  }
  signalGroup(record.pid, 'SIGKILL');
  while (isOurs(record)) await sleep(100);
  rmSync(files.pidFile, { force: true });
  return 'killed';
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Detached children lead their own process group; signal the group so nothing is orphaned.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export function tailFile(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log yet)';
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
}

export interface ServingWait<T> {
  /** How the service is named in messages: `kafka`, `registry`. */
  readonly service: string;
  /** Said when the recorded process is gone before it answered. */
  readonly exited: string;
  /** What is awaited, for the timeout message. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Resolves once the service answers; a throw means "not yet". */
  readonly probe: () => Promise<T>;
}

/**
 * Waits until a just-started service answers its probe. Fails at once, with the log's
 * tail, when the process dies meanwhile: waiting out the timeout for a dead process would
 * only hide why it died.
 */
export async function waitUntilServing<T>(files: ProcessFiles, wait: ServingWait<T>): Promise<T> {
  return pollUntil(
    async () => {
      const record = readRecord(files);
      if (record === undefined || isGone(record)) {
        throw new PlayloopError(
          'STACK_FAILED',
          `${wait.service}: ${wait.exited}. Last log lines:\n${tailFile(files.logFile, 30)}`,
        );
      }
      try {
        return await wait.probe();
      } catch {
        return undefined;
      }
    },
    { timeoutMs: wait.timeoutMs, intervalMs: 300, what: wait.what },
  ).catch((err: unknown) => {
    if (err instanceof PlayloopError) throw err;
    throw new PlayloopError(
      'STACK_FAILED',
      `${wait.service}: ${String(err)}\n${tailFile(files.logFile, 30)}`,
    );
  });
}
