/**
 * Coalesces concurrent requests into one Kafka send (group commit). A request hands its
 * records over and waits; the batcher sends whatever has queued as one `sendBatch`, and
 * each request's promise settles only when all its records are acknowledged (acks=-1), or
 * fails with the error of the send that failed.
 *
 * kafkajs' idempotent producer holds one produce request per broker at a time (its
 * eosManager broker lock), so one send per request would serialise every request behind a
 * round trip. Coalescing lets the batch grow with the load instead: at low rates a request
 * waits for one send; at high rates hundreds of requests share one.
 *
 * A send closes at `maxBatchBytes` or `maxBatchRecords`, splitting a request's records over
 * several sends when they do not fit: kafkajs writes one record batch per partition per send, and the broker
 * refuses a record batch over its message.max.bytes (1 MiB by default) as a whole, which
 * would turn one large request into 503s for everyone in the send.
 */
import type { OutRecord } from './encode.ts';

export type SendRecords = (records: readonly OutRecord[]) => Promise<void>;

interface Pending {
  readonly records: readonly OutRecord[];
  /** Records not yet taken into a send. */
  next: number;
  /** Sends holding some of this request's records that have not been acknowledged yet. */
  unsettledSends: number;
  failed: boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export function recordBytes(records: readonly OutRecord[]): number {
  let n = 0;
  for (const r of records) n += sizeOf(r);
  return n;
}

function sizeOf(r: OutRecord): number {
  return r.value.length + (r.key === null ? 0 : r.key.length);
}

export class ProduceBatcher {
  private queue: Pending[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly send: SendRecords,
    private readonly maxBatchBytes: number,
    private readonly maxBatchRecords = Number.POSITIVE_INFINITY,
  ) {}

  /** Resolves when every record is acknowledged; rejects with a send's error otherwise. */
  submit(records: readonly OutRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, next: 0, unsettledSends: 0, failed: false, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Requests read in the same poll phase all queue before the check phase runs.
        setImmediate(() => void this.run());
      }
    });
  }

  /** Resolves once nothing is queued or being sent. */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get queuedRequests(): number {
    return this.queue.length;
  }

  /** Records for one send (at least one), and the requests they belong to. */
  private takeBatch(): { records: OutRecord[]; owners: Pending[] } {
    const records: OutRecord[] = [];
    const owners: Pending[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const p = this.queue[0] as Pending;
      let took = false;
      while (p.next < p.records.length) {
        const r = p.records[p.next] as OutRecord;
        if (
          records.length > 0 &&
          (bytes + sizeOf(r) > this.maxBatchBytes || records.length >= this.maxBatchRecords)
        ) {
          break;
        }
        records.push(r);
        bytes += sizeOf(r);
        p.next++;
        took = true;
      }
      if (took) {
        p.unsettledSends++;
        owners.push(p);
      }
      if (p.next < p.records.length) break; // the send is full
      this.queue.shift();
    }
    return { records, owners };
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const { records, owners } = this.takeBatch();
      try {
        await this.send(records);
        for (const p of owners) {
          p.unsettledSends--;
          if (p.unsettledSends === 0 && p.next === p.records.length && !p.failed) p.resolve();
        }
      } catch (err) {
        for (const p of owners) this.fail(p, err);
        // The cause (Kafka down, most likely) affects what is queued too: fail it now with
        // the same error rather than make each request wait out another round of retries.
        const queued = this.queue;
        this.queue = [];
        for (const p of queued) this.fail(p, err);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private fail(p: Pending, err: unknown): void {
    if (p.failed) return;
    p.failed = true;
    p.reject(err);
  }
}
