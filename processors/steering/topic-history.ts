/**
 * Reads every document a config topic still holds, from the beginning up to the end it had
 * when the read started, and says so only once it got there: a writer that resumes its
 * version numbers from the topic must not start from a partial view (a reader ignores any
 * version at or below the one it holds, so a writer that restarted from a stale version
 * would publish into the void). ConfigTable (infra/config-topic.ts) serves a snapshot when
 * Kafka is away; a writer must wait for Kafka instead, which this does.
 *
 * The topic is compacted, so older versions of a scope disappear over time; the latest of
 * each scope is always there. Callers that need older versions fall back on the audit table.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { PlayloopError } from '../../core/errors.ts';
import { withAdmin } from '../../infra/kafka.ts';
import type { AvroCodec } from '../../infra/registry.ts';

export interface TopicRecord<T> {
  readonly partition: number;
  readonly offset: string;
  readonly value: T;
}

export async function readTopicHistory<T>(
  kafka: Kafka,
  topic: string,
  codec: AvroCodec<T>,
  options: { readonly timeoutMs: number; readonly onUnreadable?: (offset: string, err: unknown) => void },
): Promise<TopicRecord<T>[]> {
  const ends = await withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  });
  const pending = new Set(ends.filter((e) => e.high > e.low).map((e) => e.partition));
  if (pending.size === 0) return [];
  const high = new Map(ends.map((e) => [e.partition, e.high]));
  const records: TopicRecord<T>[] = [];
  const consumer = kafka.consumer({
    // A throwaway group: this reader sees the whole topic and commits nothing.
    groupId: `playloop-history-${topic}-${randomUUID()}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  let done: () => void = () => {};
  const caughtUp = new Promise<void>((resolve) => {
    done = resolve;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const end = high.get(partition) ?? 0n;
        if (BigInt(message.offset) >= end) return; // written after the read started
        if (message.value !== null) {
          try {
            records.push({ partition, offset: message.offset, value: await codec.decode(message.value) });
          } catch (err) {
            options.onUnreadable?.(message.offset, err);
          }
        }
        if (BigInt(message.offset) + 1n >= end && pending.delete(partition) && pending.size === 0) done();
      },
    });
    const outcome = await Promise.race([caughtUp.then(() => 'ok' as const), timedOut]);
    if (outcome === 'timeout') {
      throw new PlayloopError(
        'KAFKA_UNAVAILABLE',
        `could not read ${topic} to its end within ${options.timeoutMs} ms (${pending.size} partition(s) behind)`,
      );
    }
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** The newest document of each scope among `records` (by version). */
export function latestByScope<T extends { readonly scope: string; readonly version: number }>(
  records: readonly TopicRecord<T>[],
): Map<string, T> {
  const latest = new Map<string, T>();
  for (const { value } of records) {
    const current = latest.get(value.scope);
    if (current === undefined || value.version > current.version) latest.set(value.scope, value);
  }
  return latest;
}
