/**
 * Allocation events leave the control plane asynchronously: a playback puts its events in a
 * bounded in-memory queue and returns; a flusher sends them to `experiment.allocations` in
 * batches (keyed by unit id, so one unit's events stay in order on one partition). Kafka
 * being slow or away never blocks or fails a playback:
 *
 * - the queue is bounded (`maxQueued`); past it new events are dropped and counted, the
 *   standard trade for exposure logging (an experiment loses a few exposures, playback loses
 *   nothing), and the drop counter says exactly how many;
 * - sends go through a circuit breaker: while Kafka fails, sends fail fast and the batch
 *   goes back to the head of the queue (order kept), to be retried when the breaker lets a
 *   trial call through;
 * - encoding (Avro) happens in the flusher, off the request path.
 *
 * Why the linger is long (config controlPlane.allocations.flushIntervalMs, 100 ms) rather than
 * a few ms: kafkajs's cost is per record *and* per send, and per event it falls steeply with the
 * batch. Measured with this emitter and the real producer against the local stack (Node 20,
 * Kafka 4, 4 partitions): ~15 µs CPU per event in batches of 225 (5,000 plans/s x 0.45
 * allocations per plan x 100 ms), 27-45 µs in batches of 20 (a 5 ms linger at that rate);
 * Avro encoding is ~2 µs of it. Exposures are joined to sessions minutes later
 * (processors/outcomes), so 100 ms of delay costs nothing, while a short linger would add
 * 10+ µs to every plan. The role's producer runs kafkajs on a worker thread
 * (allocation-thread.ts), so a flush holds the event loop only for the Avro encoding and one
 * buffer copy; in-thread, kafkajs held it a few ms every 100 ms, and at 5,000 plans/s each of
 * those blocks became a backlog that took far longer than itself to drain.
 */
import type CircuitBreaker from 'opossum';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import { type BreakerSettings, type BreakerState, breakerState, createBreaker } from './breaker.ts';

export interface EncodedRecord {
  readonly key: string;
  readonly value: Buffer;
}

export interface AllocationEmitterOptions {
  /**
   * Called before each flush; false keeps everything queued (e.g. the schema is not
   * registered yet, so nothing can be encoded).
   */
  readonly prepare?: () => Promise<boolean>;
  readonly encode: (event: ExperimentAllocation) => Buffer;
  /** Sends one batch; resolves when Kafka acknowledged it. */
  readonly send: (records: readonly EncodedRecord[]) => Promise<void>;
  readonly maxQueued: number;
  readonly maxBatch: number;
  readonly flushIntervalMs: number;
  readonly breaker: BreakerSettings;
  readonly log: Logger;
}

export type DropReason = 'queue-full' | 'unencodable' | 'shutdown';

export interface AllocationEmitterStats {
  readonly queued: number;
  readonly sent: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly failedSends: number;
  readonly breaker: BreakerState;
}

/** Where a playback hands its allocation events; `offer` never throws and never waits. */
export interface AllocationSink {
  offer(event: ExperimentAllocation): boolean;
}

export class AllocationEmitter implements AllocationSink {
  private queue: ExperimentAllocation[] = [];
  private readonly breaker: CircuitBreaker<[readonly EncodedRecord[]], void>;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private sentCount = 0;
  private failedSends = 0;
  private readonly dropped: Record<DropReason, number> = { 'queue-full': 0, unencodable: 0, shutdown: 0 };

  constructor(private readonly options: AllocationEmitterOptions) {
    if (options.maxBatch > options.maxQueued) throw new RangeError('maxBatch must not exceed maxQueued');
    this.breaker = createBreaker('kafka-allocations', options.send, options.breaker, options.log);
  }

  /** Starts the periodic flush. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  offer(event: ExperimentAllocation): boolean {
    if (this.closed || this.queue.length >= this.options.maxQueued) {
      this.dropped[this.closed ? 'shutdown' : 'queue-full']++;
      return false;
    }
    this.queue.push(event);
    // A full batch need not wait for the timer.
    if (this.queue.length >= this.options.maxBatch && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  get queued(): number {
    return this.queue.length;
  }

  stats(): AllocationEmitterStats {
    return {
      queued: this.queue.length,
      sent: this.sentCount,
      dropped: { ...this.dropped },
      failedSends: this.failedSends,
      breaker: breakerState(this.breaker),
    };
  }

  /** Sends what is queued, batch by batch, until the queue is empty or a send fails. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    if (this.queue.length === 0) return;
    if (this.options.prepare !== undefined && !(await this.options.prepare())) return;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      const records: EncodedRecord[] = [];
      for (const event of batch) {
        try {
          records.push({ key: event.unitId, value: this.options.encode(event) });
        } catch (err) {
          this.dropped.unencodable++;
          this.options.log.error(
            { err: errorMessage(err), experiment: event.experimentKey },
            'allocation event unencodable',
          );
        }
      }
      if (records.length === 0) continue;
      try {
        await this.breaker.fire(records);
        this.sentCount += records.length;
      } catch (err) {
        this.failedSends++;
        if (!this.breaker.opened) {
          this.options.log.warn(
            { err: errorMessage(err), events: batch.length },
            'allocation batch not sent; kept',
          );
        }
        // Back to the head, order kept; if new events filled the room meanwhile, the newest go.
        this.queue = batch.concat(this.queue);
        const over = this.queue.length - this.options.maxQueued;
        if (over > 0) {
          this.queue.length = this.options.maxQueued;
          this.dropped['queue-full'] += over;
        }
        return;
      }
    }
  }

  /**
   * Stops taking events and tries, for at most `timeoutMs`, to send what is queued. What is
   * still queued after that is counted as dropped (`shutdown`).
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const drainAll = async (): Promise<void> => {
      while (this.queue.length > 0 && Date.now() < deadline && !this.breaker.opened) {
        const before = this.queue.length;
        await this.flush();
        if (this.queue.length >= before) break;
      }
    };
    await Promise.race([drainAll(), timeout]);
    clearTimeout(timer);
    this.dropped.shutdown += this.queue.length;
    this.queue = [];
    this.breaker.shutdown();
  }
}
