/**
 * The Kafka end of allocation events: an idempotent producer, acks=-1, connected on first use
 * and again after a failed connect, with few retries so a dead broker fails a send in seconds
 * (the emitter's circuit breaker and queue take it from there).
 */
import type { Kafka, Producer } from 'kafkajs';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import { createProducer } from '../../infra/kafka.ts';
import type { EncodedRecord } from './allocations.ts';

export interface AllocationProducer {
  send(records: readonly EncodedRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** How long a batch waits for the broker's acknowledgement before the send fails. */
export const ALLOCATION_ACK_TIMEOUT_MS = 5_000;

export function kafkaAllocationProducer(
  kafka: Kafka,
  topic: string,
  ackTimeoutMs = ALLOCATION_ACK_TIMEOUT_MS,
): AllocationProducer {
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  const connected = (): Promise<Producer> => {
    if (producer !== undefined) return Promise.resolve(producer);
    connecting ??= (async () => {
      const p = createProducer(kafka, {
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { retries: 2 },
      });
      try {
        await p.connect();
      } catch (cause) {
        await p.disconnect().catch(() => undefined);
        throw new PlayloopError(
          'KAFKA_UNAVAILABLE',
          `allocation producer cannot connect: ${errorMessage(cause)}`,
          {
            cause,
          },
        );
      } finally {
        connecting = undefined;
      }
      producer = p;
      return p;
    })();
    return connecting;
  };

  return {
    async send(records) {
      const p = await connected();
      try {
        await p.send({
          topic,
          acks: -1,
          timeout: ackTimeoutMs,
          messages: records.map((r) => ({ key: r.key, value: r.value })),
        });
      } catch (cause) {
        throw new PlayloopError(
          'KAFKA_UNAVAILABLE',
          `allocation batch not produced: ${errorMessage(cause)}`,
          {
            cause,
          },
        );
      }
    },
    async close() {
      await connecting?.catch(() => undefined);
      await producer?.disconnect();
      producer = undefined;
    },
  };
}
