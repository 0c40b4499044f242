import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import { ProduceBatcher, recordBytes } from './batcher.ts';
import type { OutRecord } from './encode.ts';

const rec = (n: number, bytes = 10): OutRecord => ({
  topic: 't',
  key: `k${n}`,
  value: Buffer.alloc(bytes, n),
});

function gatedSink() {
  const sends: OutRecord[][] = [];
  const gates: Array<{ open: () => void; fail: (err: unknown) => void }> = [];
  const send = (records: readonly OutRecord[]): Promise<void> => {
    sends.push([...records]);
    return new Promise<void>((resolve, reject) => gates.push({ open: resolve, fail: reject }));
  };
  return { sends, gates, send };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('produce batcher', () => {
  it('sends concurrent submissions as one batch, and what queues meanwhile as the next', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 1_000_000);
    const a = batcher.submit([rec(1)]);
    const b = batcher.submit([rec(2), rec(3)]);
    await tick();
    expect(sink.sends.map((s) => s.map((r) => r.key))).toEqual([['k1', 'k2', 'k3']]);
    const c = batcher.submit([rec(4)]);
    const d = batcher.submit([rec(5)]);
    await tick();
    expect(sink.sends).toHaveLength(1); // one send at a time
    sink.gates[0]?.open();
    await Promise.all([a, b]);
    await tick();
    expect(sink.sends[1]?.map((r) => r.key)).toEqual(['k4', 'k5']);
    sink.gates[1]?.open();
    await Promise.all([c, d]);
    await batcher.drain();
  });

  it('settles a submission only when its send is acknowledged', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 1_000_000);
    let settled = false;
    void batcher.submit([rec(1)]).then(() => {
      settled = true;
    });
    await tick();
    await tick();
    expect(settled).toBe(false);
    sink.gates[0]?.open();
    await batcher.drain();
    expect(settled).toBe(true);
  });

  it('fails the batch and everything queued behind it with the send error', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 1_000_000);
    const a = batcher.submit([rec(1)]);
    await tick();
    const b = batcher.submit([rec(2)]);
    const err = new PlayloopError('KAFKA_UNAVAILABLE', 'gone');
    sink.gates[0]?.fail(err);
    await expect(a).rejects.toBe(err);
    await expect(b).rejects.toBe(err);
    expect(sink.sends).toHaveLength(1);
    expect(batcher.queuedRequests).toBe(0);
    // And it works again afterwards.
    const c = batcher.submit([rec(3)]);
    await tick();
    sink.gates[1]?.open();
    await c;
  });

  it('closes a send at maxBatchBytes, splitting a large request over sends', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 100);
    let bigDone = false;
    const small = batcher.submit([rec(1, 60)]);
    const big = batcher.submit([rec(2, 30), rec(3, 60), rec(4, 60)]).then(() => {
      bigDone = true;
    });
    const after = batcher.submit([rec(5, 10)]);
    await tick();
    expect(sink.sends.map((s) => s.map((r) => r.key))).toEqual([['k1', 'k2']]);
    sink.gates[0]?.open();
    await small;
    await tick();
    expect(sink.sends[1]?.map((r) => r.key)).toEqual(['k3']);
    sink.gates[1]?.open();
    await tick();
    await tick();
    expect(sink.sends[2]?.map((r) => r.key)).toEqual(['k4', 'k5']);
    expect(bigDone).toBe(false); // k4 is not acknowledged yet
    sink.gates[2]?.open();
    await Promise.all([big, after]);
    expect(bigDone).toBe(true);
  });

  it('also closes a send at maxBatchRecords', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 1_000_000, 2);
    const all = batcher.submit([rec(1), rec(2), rec(3)]);
    await tick();
    expect(sink.sends.map((s) => s.length)).toEqual([2]);
    sink.gates[0]?.open();
    await tick();
    await tick();
    expect(sink.sends.map((s) => s.length)).toEqual([2, 1]);
    sink.gates[1]?.open();
    await all;
  });

  it('fails a split request when any of its sends fails, once', async () => {
    const sink = gatedSink();
    const batcher = new ProduceBatcher(sink.send, 50);
    const big = batcher.submit([rec(1, 40), rec(2, 40)]);
    await tick();
    sink.gates[0]?.open();
    await tick();
    await tick();
    const err = new PlayloopError('KAFKA_UNAVAILABLE', 'gone');
    sink.gates[1]?.fail(err);
    await expect(big).rejects.toBe(err);
  });

  it('resolves an empty submission at once and counts key and value bytes', async () => {
    const batcher = new ProduceBatcher(() => Promise.reject(new Error('not called')), 10);
    await batcher.submit([]);
    await batcher.drain();
    expect(recordBytes([rec(1, 7), { topic: 't', key: null, value: Buffer.alloc(3) }])).toBe(7 + 2 + 3);
  });
});
