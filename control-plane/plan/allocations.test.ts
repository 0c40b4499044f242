import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { pollUntil } from '../../core/retry.ts';
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import { AllocationEmitter, type EncodedRecord } from './allocations.ts';

function event(i: number): ExperimentAllocation {
  return {
    experimentKey: 'exp',
    cell: 'control',
    control: true,
    unitType: 'viewer',
    unitId: `v-${i}`,
    viewerId: `v-${i}`,
    sessionId: null,
    bucket: i,
    namespace: 'ns',
    hashVersion: 1,
    seed: 'seed',
    definitionDigest: '0123456789abcdef',
    allocatedAt: 1,
    source: 'control-plane',
    deviceClass: null,
    country: null,
    isp: null,
  };
}

const breaker = { timeoutMs: 1_000, errorThresholdPercentage: 50, resetTimeoutMs: 100, volumeThreshold: 2 };

function emitter(send: (records: readonly EncodedRecord[]) => Promise<void>, maxQueued = 10, maxBatch = 4) {
  return new AllocationEmitter({
    encode: (e) => Buffer.from(e.unitId),
    send,
    maxQueued,
    maxBatch,
    flushIntervalMs: 10,
    breaker,
    log: silentLogger,
  });
}

describe('allocation emitter', () => {
  it('sends in batches, keyed by unit id, in order', async () => {
    const batches: string[][] = [];
    const e = emitter(async (records) => {
      batches.push(records.map((r) => `${r.key}=${r.value.toString()}`));
    });
    for (let i = 0; i < 6; i++) expect(e.offer(event(i))).toBe(true);
    await e.flush();
    expect(batches).toEqual([
      ['v-0=v-0', 'v-1=v-1', 'v-2=v-2', 'v-3=v-3'],
      ['v-4=v-4', 'v-5=v-5'],
    ]);
    expect(e.stats()).toMatchObject({ queued: 0, sent: 6, failedSends: 0, breaker: 'closed' });
    await e.close();
  });

  it('drops and counts what exceeds the bound, keeps failed batches at the head, and recovers', async () => {
    let up = false;
    const sent: string[] = [];
    const e = emitter(async (records) => {
      if (!up) throw new Error('broker down');
      sent.push(...records.map((r) => r.key));
    });
    for (let i = 0; i < 12; i++) e.offer(event(i));
    expect(e.stats().dropped['queue-full']).toBe(2);
    await e.flush();
    await e.flush();
    // Two failures at volumeThreshold 2: the breaker is open and sends fail fast.
    expect(e.stats()).toMatchObject({ queued: 10, sent: 0, failedSends: 2, breaker: 'open' });
    await e.flush();
    expect(e.stats().failedSends).toBe(3);
    up = true;
    e.start();
    await pollUntil(async () => (e.stats().sent === 10 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'recovery',
    });
    expect(sent).toEqual(Array.from({ length: 10 }, (_, i) => `v-${i}`));
    expect(e.stats().breaker).toBe('closed');
    await e.close();
  });

  it('never blocks an offer on a slow send', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const e = emitter(() => gate, 100, 2);
    e.offer(event(0));
    e.offer(event(1));
    const flushing = e.flush();
    const started = performance.now();
    for (let i = 2; i < 50; i++) e.offer(event(i));
    expect(performance.now() - started).toBeLessThan(50);
    expect(e.queued).toBe(48);
    release();
    await flushing;
    await e.close();
    expect(e.stats().sent).toBe(50);
  });

  it('waits while not prepared, and counts what is left at shutdown', async () => {
    let ready = false;
    const e = new AllocationEmitter({
      prepare: async () => ready,
      encode: (x) => Buffer.from(x.unitId),
      send: async () => {},
      maxQueued: 10,
      maxBatch: 5,
      flushIntervalMs: 10,
      breaker,
      log: silentLogger,
    });
    e.offer(event(1));
    await e.flush();
    expect(e.stats()).toMatchObject({ queued: 1, sent: 0 });
    ready = true;
    await e.flush();
    expect(e.stats().sent).toBe(1);
    ready = false;
    e.offer(event(2));
    await e.close(50);
    expect(e.stats().dropped.shutdown).toBe(1);
    expect(e.offer(event(3))).toBe(false);
    expect(e.stats().dropped.shutdown).toBe(2);
  });
});
