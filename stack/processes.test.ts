import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isGone, type ProcessRecord } from './processes.ts';

const record = (pid: number, marker: string): ProcessRecord => ({
  pid,
  marker,
  startedAt: new Date().toISOString(),
  command: [],
});

describe('isGone', () => {
  it('says a live process carrying the marker is not gone', () => {
    expect(isGone(record(process.pid, process.argv0))).toBe(false);
  });

  it('says a live PID whose command line lacks the marker is gone (a reused PID)', () => {
    expect(isGone(record(process.pid, 'no-such-marker-7f3a'))).toBe(true);
  });

  it('says a process that exited is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid as number;
    await once(child, 'exit');
    expect(isGone(record(pid, process.execPath))).toBe(true);
  });
});
