import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cpuByThreadName, findLibuvPool, threadCpu, threadCpuSince } from './common.ts';

const pbkdf2Async = promisify(pbkdf2);

describe.runIf(process.platform === 'linux')('thread CPU by kind', () => {
  it("finds libuv's pool and counts its work there, not as V8's", async () => {
    const pool = await findLibuvPool();
    const size = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
    expect(pool.size).toBeGreaterThan(0);
    expect(pool.size).toBeLessThanOrEqual(size);
    expect(pool.has(process.pid)).toBe(false);

    // Pool work after the calibration lands in libuvPool.
    const before = threadCpu();
    await Promise.all(
      Array.from({ length: size }, (_, i) => pbkdf2Async(`again ${i}`, 's', 60_000, 32, 'sha256')),
    );
    const spent = threadCpuSince(before)!;
    expect(spent.libuvPool).toBeGreaterThanOrEqual(50);
    expect(spent.libuvPool).toBeGreaterThan(spent.nodeHelpers);
    expect(cpuByThreadName().get('libuv pool')).toBeGreaterThan(0);
  });
});
