import { describe, expect, it, vi } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { startTicker } from './ticker.ts';

describe('ticker', () => {
  it('ticks one at a time, timer and out-of-turn ticks alike', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const ticker = startTicker(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return ++runs;
      },
      { intervalMs: 1, name: 'test', log: silentLogger },
    );
    const results = await Promise.all([ticker.tick(), ticker.tick(), ticker.tick()]);
    await ticker.stop();
    expect(maxRunning).toBe(1);
    expect(results[1]).toBe((results[0] as number) + 1);
    expect(results[2]).toBe((results[1] as number) + 1);
  });

  it('retries after a retriable failure and stops for good on any other', async () => {
    vi.useFakeTimers();
    try {
      const fatal: unknown[] = [];
      const failures = [
        new PlayloopError('KAFKA_UNAVAILABLE', 'broker away'),
        new PlayloopError('CONFIG_INVALID', 'bad'),
      ];
      let calls = 0;
      const ticker = startTicker(
        async () => {
          calls++;
          const err = failures.shift();
          if (err !== undefined) throw err;
          return calls;
        },
        { intervalMs: 100, name: 'test', log: silentLogger, onFatal: (err) => fatal.push(err) },
      );
      await vi.advanceTimersByTimeAsync(100);
      expect(calls).toBe(1);
      expect(ticker.failure()).toBeUndefined();
      await vi.advanceTimersByTimeAsync(100);
      expect(calls).toBe(2);
      expect(fatal).toHaveLength(1);
      expect(ticker.failure()).toBe(fatal[0]);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(calls).toBe(2);
      await ticker.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
