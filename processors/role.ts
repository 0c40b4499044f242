/**
 * The `processors` role: every stream processor of the loop in this process, each on its own
 * consumer group so each can also run alone at scale. In embedded ClickHouse mode they share
 * the one chDB instance the role context opens.
 */
import { Registry } from 'prom-client';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import { errorMessage } from '../core/errors.ts';
import { createKafka, ensureTopics, type TopicSpec, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { type SessionSummary, schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { QoeProcessor } from './qoe/processor.ts';
import { DeadLetterWriter } from './runtime/dead-letters.ts';
import { ProcessorRunner } from './runtime/partition-consumer.ts';

export const dlqOf = (topic: string): string => `${topic}.dlq`;

/** Every topic the processors read or write, created with its intended shape. */
export function processorTopics(ctx: RoleContext): TopicSpec[] {
  const t = ctx.config.topics;
  return [
    { topic: t.events, partitions: t.partitions },
    { topic: t.eventsDlq, partitions: 1 },
    { topic: t.sessions, partitions: t.partitions },
    { topic: dlqOf(t.sessions), partitions: 1 },
    { topic: t.allocations, partitions: t.partitions },
    { topic: dlqOf(t.allocations), partitions: 1 },
    { topic: t.steering, partitions: 1, compacted: true },
    { topic: t.abr, partitions: 1, compacted: true },
  ];
}

export async function startProcessors(ctx: RoleContext): Promise<RunningRole & { metrics: Registry }> {
  const { config, log } = ctx;
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) => ensureTopics(admin, processorTopics(ctx)));
  const registry = createRegistry(config.registry.url);
  const ch = await ctx.clickhouse();
  const metrics = new Registry();
  const deadLetterCodecs = new Map<string, AvroCodec<DeadLetter>>();
  for (const topic of [config.topics.sessions, config.topics.allocations]) {
    deadLetterCodecs.set(
      topic,
      await AvroCodec.register<DeadLetter>(registry, dlqOf(topic), deadLetterSchema),
    );
  }
  // One dead-letter schema for every DLQ subject: the codec of any of them encodes the same bytes.
  const anyDeadLetterCodec = deadLetterCodecs.get(config.topics.sessions) as AvroCodec<DeadLetter>;
  const deadLetters = new DeadLetterWriter(kafka, anyDeadLetterCodec, dlqOf);
  const sessionCodec = await AvroCodec.register<SessionSummary>(
    registry,
    config.topics.sessions,
    sessionSchema,
  );

  const runners: ProcessorRunner[] = [];
  const onFatal = (name: string) => (err: unknown) =>
    log.error(
      { processor: name, err: errorMessage(err) },
      'processor stopped; restart the role to resume from the last commit',
    );

  const qoe = new QoeProcessor({
    client: ch.client,
    database: ch.database,
    codec: sessionCodec,
    deadLetters,
    windowSizesSec: config.processors.windowSizesSec,
    maxBufferedRows: config.processors.maxBufferedRows,
    metrics,
  });
  runners.push(
    new ProcessorRunner(kafka, qoe, {
      groupId: `${config.processors.groupPrefix}.qoe`,
      topics: [config.topics.sessions],
      tickIntervalMs: config.processors.tickIntervalMs,
      metrics,
      log: log.child({ processor: 'qoe' }),
      onFatal: onFatal('qoe'),
    }),
  );

  for (const runner of runners) await runner.start();
  return {
    name: 'processors',
    addresses: [`consuming ${config.topics.sessions} -> ClickHouse ${ch.database} (${ch.mode})`],
    metrics,
    stop: async () => {
      for (const runner of [...runners].reverse()) await runner.stop();
      await deadLetters.stop();
    },
  };
}
