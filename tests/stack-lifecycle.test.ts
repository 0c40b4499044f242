/**
 * `npm run stack` as a user drives it, on a private instance (own folder, own ports) so the
 * shared stack the other tests use is never disturbed: up, status, kill -9 of the broker,
 * up again (recovers and says what happened to the data), down (nothing left running).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStackSettings } from '../stack/settings.ts';

const run = promisify(execFile);
const shared = loadStackSettings();
const dir = mkdtempSync(join(tmpdir(), 'playloop-stack-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PLAYLOOP_STACK_DIR: dir,
  PLAYLOOP_DATA_DIR: dir,
  PLAYLOOP_STACK_KAFKA_PORT: '19192',
  PLAYLOOP_STACK_KAFKA_CONTROLLER_PORT: '19193',
  PLAYLOOP_STACK_REGISTRY_PORT: '18181',
  PLAYLOOP_STACK_REGISTRY_MANAGEMENT_PORT: '19100',
  PLAYLOOP_STACK_KAFKA_HEAP_MB: '384',
  PLAYLOOP_STACK_REGISTRY_HEAP_MB: '384',
  KAFKA_BROKERS: '',
  SCHEMA_REGISTRY_URL: '',
};

// Reuse the jars the shared stack fetched, so this test needs no second Maven download.
mkdirSync(join(dir, 'lib'), { recursive: true });
if (existsSync(shared.kafka.libDir)) symlinkSync(shared.kafka.libDir, join(dir, 'lib', 'kafka'));
if (existsSync(shared.registry.installDir)) {
  symlinkSync(shared.registry.installDir, join(dir, `apicurio-${shared.registry.version}`));
}

async function stack(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'stack/cli.ts', ...args], { env, timeout: 150_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function pidOf(service: string): number {
  const record = JSON.parse(readFileSync(join(dir, 'run', `${service}.pid.json`), 'utf8')) as { pid: number };
  return record.pid;
}

function stackProcesses(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(`@${dir}`)) found.push(entry);
    } catch {
      // Gone between listing and reading.
    }
  }
  return found;
}

afterAll(async () => {
  await stack('down');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run stack (private instance)', () => {
  it('comes up, reports each service healthy with its address, and is idempotent', async () => {
    const t0 = Date.now();
    const up = await stack('up');
    expect(up.out).toContain('kafka: formatting new KRaft storage');
    expect(up.code, up.out).toBe(0);
    expect(Date.now() - t0).toBeLessThan(90_000);

    const status = await stack('status');
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/kafka\s+healthy\s+127\.0\.0\.1:19192/);
    expect(status.out).toMatch(/registry\s+healthy\s+http:\/\/127\.0\.0\.1:18181\/apis\/ccompat\/v7/);
    expect(status.out).toMatch(/clickhouse\s+healthy\s+embedded:/);

    const again = await stack('up');
    expect(again.code).toBe(0);
    expect(again.out).toContain('kafka: already running');
    expect(stackProcesses()).toHaveLength(2);
  });

  it('recovers a broker killed with SIGKILL and says the stored data was kept', async () => {
    const pid = pidOf('kafka');
    process.kill(pid, 'SIGKILL');
    const up = await stack('up');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain(`recorded as pid ${pid} is no longer running`);
    expect(up.out).toContain('keeping stored data');
    expect(pidOf('kafka')).not.toBe(pid);
  });

  it('down leaves no process of the stack running', async () => {
    const down = await stack('down');
    expect(down.code, down.out).toBe(0);
    expect(stackProcesses()).toEqual([]);
    const status = await stack('status');
    expect(status.code).toBe(1);
    expect(status.out).toMatch(/kafka\s+stopped/);
  });
});
