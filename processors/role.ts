/**
 * The `processors` role: every stream processor of the loop in this process, each on its own
 * consumer group so each can also run alone at scale. In embedded ClickHouse mode they share
 * the one chDB instance the role context opens.
 */

import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import type { PlayloopConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { loadExperiments } from '../experiments/definitions/validate.ts';
import type { ClickHouse } from '../infra/clickhouse.ts';
import { createKafka, ensureTopics, type TopicSpec, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../schemas/generated/experiment-allocation.ts';
import { schema as eventSchema, type PlaybackEvent } from '../schemas/generated/playback-event.ts';
import { type SessionSummary, schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { analysisDecisions } from './abr-tuning/decisions-analysis.ts';
import { startAbrTuning } from './abr-tuning/processor.ts';
import { createOutcomesProcessor } from './outcomes/start.ts';
import { QoeProcessor } from './qoe/processor.ts';
import { DeadLetterWriter } from './runtime/dead-letters.ts';
import { ProcessorRunner } from './runtime/partition-consumer.ts';
import { sessionizeOptionsFrom } from './sessionize/options.ts';
import { SessionizeProcessor } from './sessionize/processor.ts';
import { startSteeringProcessor } from './steering/processor.ts';

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

/** What sessionize and qoe are built from: one set per process, shared by both. */
export interface CoreProcessorDeps {
  readonly config: PlayloopConfig;
  readonly kafka: Kafka;
  readonly ch: ClickHouse;
  /** A connected admin client, for sessionize's cheap offset look-ups (idle detection). */
  readonly admin: Admin;
  readonly metrics: Registry;
  readonly deadLetters: DeadLetterWriter;
  readonly sessionCodec: AvroCodec<SessionSummary>;
  readonly eventCodec: AvroCodec<PlaybackEvent>;
}

/**
 * The codecs and the dead-letter writer sessionize and qoe share, registered with the schema
 * registry: each DLQ of `dlqSources` is its own subject (TopicNameStrategy), all with the
 * dead-letter schema. The processors benchmark builds them here too.
 */
export async function coreProcessorDeps(
  base: Omit<CoreProcessorDeps, 'deadLetters' | 'sessionCodec' | 'eventCodec'> & {
    readonly registry: SchemaRegistry;
  },
  dlqSources: readonly string[],
): Promise<CoreProcessorDeps> {
  const { config, kafka, registry } = base;
  const dlqTopicOf = (topic: string): string =>
    topic === config.topics.events ? config.topics.eventsDlq : dlqOf(topic);
  const deadLetterCodecs = new Map<string, AvroCodec<DeadLetter>>();
  for (const topic of dlqSources) {
    const dlq = dlqTopicOf(topic);
    deadLetterCodecs.set(dlq, await AvroCodec.register<DeadLetter>(registry, dlq, deadLetterSchema));
  }
  return {
    config,
    kafka,
    ch: base.ch,
    admin: base.admin,
    metrics: base.metrics,
    deadLetters: new DeadLetterWriter(kafka, deadLetterCodecs, dlqTopicOf),
    sessionCodec: await AvroCodec.register<SessionSummary>(registry, config.topics.sessions, sessionSchema),
    eventCodec: await AvroCodec.register<PlaybackEvent>(registry, config.topics.events, eventSchema),
  };
}

/**
 * The sessionize processor on its runner, as this role runs it. The processors benchmark
 * (bench/processors/throughput.ts) builds it here too, so it measures exactly this wiring.
 */
export function sessionizeRunner(
  d: CoreProcessorDeps,
  log: Logger,
  onFatal: (err: unknown) => void,
): ProcessorRunner {
  const { config } = d;
  const groupId = `${config.processors.groupPrefix}.sessionize`;
  const processor = new SessionizeProcessor({
    kafka: d.kafka,
    client: d.ch.client,
    database: d.ch.database,
    groupId,
    eventsTopic: config.topics.events,
    sessionsTopic: config.topics.sessions,
    eventCodec: d.eventCodec,
    sessionCodec: d.sessionCodec,
    deadLetters: d.deadLetters,
    sessionize: sessionizeOptionsFrom(config),
    checkpointIntervalMs: config.processors.sessionize.checkpointIntervalMs,
    idleAdvanceMs: config.processors.sessionize.idleAdvanceMs,
    highWatermarks: async (topic) => {
      const offsets = await d.admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    },
    metrics: d.metrics,
    log,
  });
  return new ProcessorRunner(d.kafka, processor, {
    groupId,
    topics: [config.topics.events],
    tickIntervalMs: config.processors.tickIntervalMs,
    metrics: d.metrics,
    log,
    onFatal,
  });
}

/** The qoe processor on its runner, as this role runs it (and the processors benchmark). */
export function qoeRunner(
  d: CoreProcessorDeps,
  log: Logger,
  onFatal: (err: unknown) => void,
): ProcessorRunner {
  const { config } = d;
  const processor = new QoeProcessor({
    client: d.ch.client,
    database: d.ch.database,
    codec: d.sessionCodec,
    deadLetters: d.deadLetters,
    windowSizesSec: config.processors.windowSizesSec,
    maxBufferedRows: config.processors.maxBufferedRows,
    metrics: d.metrics,
  });
  return new ProcessorRunner(d.kafka, processor, {
    groupId: `${config.processors.groupPrefix}.qoe`,
    topics: [config.topics.sessions],
    tickIntervalMs: config.processors.tickIntervalMs,
    metrics: d.metrics,
    log,
    onFatal,
  });
}

export async function startProcessors(ctx: RoleContext): Promise<RunningRole & { metrics: Registry }> {
  const { config, log } = ctx;
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) => ensureTopics(admin, processorTopics(ctx)));
  const registry = createRegistry(config.registry.url);
  const ch = await ctx.clickhouse();
  // A long-lived admin client for cheap offset look-ups (sessionize's idle detection).
  const admin = kafka.admin();
  await admin.connect();
  const metrics = new Registry();
  const shared = await coreProcessorDeps({ config, kafka, ch, admin, metrics, registry }, [
    config.topics.events,
    config.topics.sessions,
    config.topics.allocations,
  ]);
  const { deadLetters, sessionCodec } = shared;

  const runners: ProcessorRunner[] = [];
  const onFatal = (name: string) => (err: unknown) =>
    log.error(
      { processor: name, err: errorMessage(err) },
      'processor stopped; restart the role to resume from the last commit',
    );

  runners.push(
    sessionizeRunner(shared, log.child({ processor: 'sessionize' }), onFatal('sessionize')),
    qoeRunner(shared, log.child({ processor: 'qoe' }), onFatal('qoe')),
  );

  const allocationCodec = await AvroCodec.register<ExperimentAllocation>(
    registry,
    config.topics.allocations,
    allocationSchema,
  );
  const outcomes = createOutcomesProcessor({
    config,
    clickhouse: ch,
    allocationCodec,
    sessionCodec,
    deadLetters,
    metrics,
  });
  runners.push(
    new ProcessorRunner(kafka, outcomes, {
      groupId: `${config.processors.groupPrefix}.outcomes`,
      topics: [config.topics.allocations, config.topics.sessions],
      tickIntervalMs: config.processors.tickIntervalMs,
      metrics,
      log: log.child({ processor: 'outcomes' }),
      onFatal: onFatal('outcomes'),
    }),
  );

  for (const runner of runners) await runner.start();

  // Timer-driven feedback: QoE windows and segment evidence -> config.steering; experiment decisions -> config.abr.
  const steering = config.feedback.steering.enabled
    ? await startSteeringProcessor({
        config,
        clickhouse: ch,
        kafka,
        registry,
        log: log.child({ processor: 'steering' }),
        metrics,
        onFatal: onFatal('steering'),
      })
    : undefined;
  const experiments = () => loadExperiments(config.controlPlane.experimentsDir);
  const abrTuning = await startAbrTuning({
    config,
    clickhouse: ch,
    kafka,
    registry,
    log: log.child({ processor: 'abr-tuning' }),
    decisions: analysisDecisions(ch, async () => (await experiments()).map((e) => e.key)),
    experiments,
    onFatal: onFatal('abr-tuning'),
  });
  return {
    name: 'processors',
    addresses: [
      `sessionize ${config.topics.events} -> ${config.topics.sessions}`,
      `qoe ${config.topics.sessions} -> ClickHouse ${ch.database} (${ch.mode})`,
      `outcomes ${config.topics.allocations} + ${config.topics.sessions} -> ClickHouse experiment_*`,
      config.feedback.steering.segments.enabled
        ? `steering qoe_windows + ${config.topics.events} (segment evidence) -> ${config.topics.steering}`
        : `steering qoe_windows -> ${config.topics.steering}`,
      `abr-tuning experiment decisions -> ${config.topics.abr}`,
    ],
    metrics,
    stop: async () => {
      await abrTuning.stop();
      await steering?.stop();
      for (const runner of [...runners].reverse()) await runner.stop();
      await deadLetters.stop();
      await admin.disconnect();
    },
  };
}
