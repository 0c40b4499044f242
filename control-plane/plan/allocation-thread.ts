/**
 * The allocation producer on a thread of its own: the same AllocationProducer, with kafkajs
 * running in a worker thread instead of on the event loop that serves playbacks.
 *
 * Why: the control plane's event loop is what a plan waits for. kafkajs encodes a whole
 * produce request synchronously (record batch, varints, CRC-32C, buffer growth) and writes it
 * to the socket: measured in the control-plane bench's profile, ~10% of the thread's time at
 * 5,000 plans/s, arriving as one block per flush (every 100 ms, a few ms each). At the
 * utilisation a 5,000 plans/s open loop puts on one thread, every such block is a backlog of
 * requests that drains slowly, which is what a p99 is made of. On a worker thread the same
 * work runs beside the event loop, on another core when there is one. Encoding the events to
 * Avro stays with the emitter (~1 µs each, and the codec's schema registration lives there).
 *
 * The hand-over is one message per batch: the records packed into one buffer whose memory is
 * transferred, not copied (`pack`/`unpack`), and one answer per batch. Errors come back as
 * KAFKA_UNAVAILABLE, as from the in-thread producer, so the emitter's breaker and queue
 * behave the same. A thread that dies fails its pending sends and is started again on the
 * next send.
 */
import { Worker } from 'node:worker_threads';
import type { PlayloopConfig } from '../../core/config.ts';
import { PlayloopError } from '../../core/errors.ts';
import type { AllocationProducer } from './allocation-producer.ts';
import type { EncodedRecord } from './allocations.ts';

/** What the thread is started with (structured-cloned: plain data only). */
export interface AllocationThreadData {
  readonly kafka: PlayloopConfig['kafka'];
  readonly topic: string;
  readonly ackTimeoutMs: number;
}

/** Main thread -> allocation thread. */
export type ToThread =
  | { readonly kind: 'send'; readonly id: number; readonly packed: ArrayBuffer }
  | { readonly kind: 'close'; readonly id: number };

/** Allocation thread -> main thread: the answer to message `id`. */
export type FromThread =
  | { readonly id: number; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly message: string };

/**
 * Records as one buffer: per record a uint32 key length, the key's UTF-8 bytes, a uint32
 * value length, the value. Big-endian, like Kafka's own framing.
 */
export function pack(records: readonly EncodedRecord[]): ArrayBuffer {
  let size = 0;
  const keys: Buffer[] = [];
  for (const r of records) {
    const key = Buffer.from(r.key, 'utf8');
    keys.push(key);
    size += 8 + key.length + r.value.length;
  }
  // An ArrayBuffer of its own (not a slice of node's shared pool), so it can be transferred.
  const out = Buffer.from(new ArrayBuffer(size));
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const key = keys[i] as Buffer;
    const value = (records[i] as EncodedRecord).value;
    at = out.writeUInt32BE(key.length, at);
    at += key.copy(out, at);
    at = out.writeUInt32BE(value.length, at);
    at += value.copy(out, at);
  }
  return out.buffer as ArrayBuffer;
}

/** The records `pack` packed; values are views on the buffer, not copies. */
export function unpack(packed: ArrayBuffer): EncodedRecord[] {
  const buf = Buffer.from(packed);
  const records: EncodedRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new RangeError('packed records: truncated key length');
    const keyLength = buf.readUInt32BE(at);
    at += 4;
    if (at + keyLength + 4 > buf.length) throw new RangeError('packed records: truncated key');
    const key = buf.toString('utf8', at, at + keyLength);
    at += keyLength;
    const valueLength = buf.readUInt32BE(at);
    at += 4;
    if (at + valueLength > buf.length) throw new RangeError('packed records: truncated value');
    records.push({ key, value: buf.subarray(at, at + valueLength) });
    at += valueLength;
  }
  return records;
}

/** The bootstrap that loads the thread's TypeScript (worker threads do not inherit tsx). */
const ENTRY = new URL('./allocation-thread-entry.mjs', import.meta.url);

export function threadedAllocationProducer(data: AllocationThreadData): AllocationProducer {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  const failAll = (message: string): void => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new PlayloopError('KAFKA_UNAVAILABLE', message));
    }
  };

  const started = (): Worker => {
    if (worker !== undefined) return worker;
    const w = new Worker(ENTRY, { workerData: data });
    // The thread never keeps the process alive by itself: close() ends it, and a role that
    // exits without closing should not hang on it.
    w.unref();
    w.on('message', (answer: FromThread) => {
      const p = pending.get(answer.id);
      if (p === undefined) return;
      pending.delete(answer.id);
      if (answer.ok) p.resolve();
      else p.reject(new PlayloopError('KAFKA_UNAVAILABLE', answer.message));
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(`allocation thread failed: ${err.message}`);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      failAll(`allocation thread exited (${code})`);
    });
    worker = w;
    return w;
  };

  const call = (message: (id: number) => ToThread, transfer: ArrayBuffer[] = []): Promise<void> => {
    const w = started();
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage(message(id), transfer);
    });
  };

  return {
    send(records) {
      const packed = pack(records);
      return call((id) => ({ kind: 'send', id, packed }), [packed]);
    },
    async close() {
      const w = worker;
      if (w === undefined) return;
      try {
        await call((id) => ({ kind: 'close', id }));
      } finally {
        worker = undefined;
        await w.terminate();
      }
    },
  };
}
