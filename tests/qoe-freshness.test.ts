/**
 * The qoe processor's fast path on the real broker, registry and ClickHouse: a batch's
 * sessions reach the smallest windows of `qoe_windows` without waiting for the runner's tick,
 * while everything else (`qoe_cells`, the 60 s windows rolled up from the 10 s ones) and the
 * committable offset wait for it, so the exactness argument of processor.ts still holds.
 */
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { QoeProcessor } from '../processors/qoe/processor.ts';
import { DeadLetterWriter } from '../processors/runtime/dead-letters.ts';
import { ProcessorRunner } from '../processors/runtime/partition-consumer.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { type SessionSummary, schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { sessionSummary } from './support/session-summary.ts';
import { createTopics, deleteTopics, testConfig, uniqueName } from './support/stack.ts';

const config = testConfig('qoefresh');
const topic = config.topics.sessions;
const dlq = `${topic}.dlq`;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0); // a 10 s and 60 s window boundary
const summary = (i: number, over: Partial<SessionSummary>): SessionSummary => sessionSummary(i, T0, over);

let ch: ClickHouse | undefined;

afterAll(async () => {
  await ch?.close();
  await deleteTopics(config, [topic, dlq]);
});

const sums = async (c: ClickHouse, table: string, windowSec: number): Promise<number> => {
  const [row] = await queryRows<{ n: number }>(
    c.client,
    `SELECT toUInt64(sum(sessions)) AS n FROM ${c.database}.${table} FINAL WHERE window_sec = ${windowSec}`,
  );
  return row?.n ?? 0;
};

describe('qoe processor fast path (real Kafka, registry, ClickHouse)', () => {
  it('shows a batch in the smallest windows before any tick, and commits only after one', async () => {
    const opened = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    const c = opened.ch;
    ch = c;
    const db = c.database;
    await createTopics(config, [topic, dlq], 1);
    const kafka = createKafka(config.kafka);
    const registry = createRegistry(config.registry.url);
    const codec = await AvroCodec.register<SessionSummary>(registry, topic, sessionSchema);
    const dlqCodec = await AvroCodec.register<DeadLetter>(registry, dlq, deadLetterSchema);
    const deadLetters = new DeadLetterWriter(kafka, new Map([[dlq, dlqCodec]]), (t) => `${t}.dlq`);
    const processor = new QoeProcessor({
      client: c.client,
      database: db,
      codec,
      deadLetters,
      windowSizesSec: [10, 60],
      maxBufferedRows: 1_000,
      minCycleIntervalMs: 50,
      metrics: new Registry(),
    });
    // A tick an hour away: whatever reaches ClickHouse during the test came from a batch.
    const runner = new ProcessorRunner(kafka, processor, {
      groupId: uniqueName('qoefresh'),
      topics: [topic],
      tickIntervalMs: 3_600_000,
      metrics: new Registry(),
      log: silentLogger,
    });
    await runner.start();
    try {
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      // Two sessions in the 10 s window at T0, one in the next (T0 + 15 s).
      const sessions = [summary(1, {}), summary(2, {}), summary(3, { endTime: T0 + 15_000 })];
      await producer.send({
        topic,
        acks: -1,
        messages: sessions.map((s) => ({ key: s.sessionId, value: codec.encode(s) })),
      });
      await producer.disconnect();

      await pollUntil(async () => ((await sums(c, 'qoe_windows', 10)) === 3 ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'the 10 s windows without a tick',
      });
      // Not yet: the 60 s windows, the cells, and any claim that the offsets are safe.
      expect(await sums(c, 'qoe_windows', 60)).toBe(0);
      expect(await sums(c, 'qoe_cells', 10)).toBe(0);
      expect(processor.committableOffset({ topic, partition: 0 })).toBeUndefined();
    } finally {
      // Stopping runs the tick's full cycle and commits.
      await runner.stop();
      await deadLetters.stop();
    }
    expect(runner.failure).toBeUndefined();
    expect(processor.committableOffset({ topic, partition: 0 })).toBe('3');
    expect(await sums(c, 'qoe_windows', 10)).toBe(3);
    expect(await sums(c, 'qoe_windows', 60)).toBe(3);
    expect(await sums(c, 'qoe_cells', 10)).toBe(3);
    expect(await sums(c, 'qoe_cells', 60)).toBe(3);
  });
});
