/**
 * Wiring of the outcomes processor: `createOutcomesProcessor` builds it from adapters a role
 * already holds (codecs, dead-letter writer, metrics); `startOutcomesProcessor` does
 * everything from (config, kafka, registry, clickhouse) and runs it on its own consumer
 * group, `<groupPrefix>.outcomes`.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { PlayloopConfig } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { type Logger, silentLogger } from '../../core/log.ts';
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { ensureTopics, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec } from '../../infra/registry.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../../schemas/generated/dead-letter.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../../schemas/generated/experiment-allocation.ts';
import { type SessionSummary, schema as sessionSchema } from '../../schemas/generated/playback-session.ts';
import { DeadLetterWriter } from '../runtime/dead-letters.ts';
import { ProcessorRunner } from '../runtime/partition-consumer.ts';
import { OutcomesProcessor } from './processor.ts';
import type { RecomputeSettings } from './recompute.ts';

const DAY_MS = 86_400_000;

/** Dead letters of a topic go to `<topic>.dlq`, as for every processor. */
export const outcomesDlqOf = (topic: string): string => `${topic}.dlq`;

export function outcomesRecomputeSettings(config: PlayloopConfig): RecomputeSettings {
  const o = config.processors.outcomes;
  return {
    exposureGraceMs: o.exposureGraceSec * 1_000,
    prePeriodMs: o.prePeriodDays * DAY_MS,
    batchViewers: o.recomputeBatchViewers,
  };
}

export interface OutcomesProcessorDeps {
  readonly config: PlayloopConfig;
  readonly clickhouse: ClickHouse;
  readonly allocationCodec: AvroCodec<ExperimentAllocation>;
  readonly sessionCodec: AvroCodec<SessionSummary>;
  readonly deadLetters: DeadLetterWriter;
  readonly metrics: Registry;
}

export function createOutcomesProcessor(deps: OutcomesProcessorDeps): OutcomesProcessor {
  const { config } = deps;
  return new OutcomesProcessor({
    client: deps.clickhouse.client,
    database: deps.clickhouse.database,
    allocationsTopic: config.topics.allocations,
    sessionsTopic: config.topics.sessions,
    allocationCodec: deps.allocationCodec,
    sessionCodec: deps.sessionCodec,
    deadLetters: deps.deadLetters,
    recompute: outcomesRecomputeSettings(config),
    maxBufferedRows: config.processors.maxBufferedRows,
    metrics: deps.metrics,
  });
}

export interface StartOutcomesOptions {
  readonly log?: Logger;
  /** Where the processor's and its consumer's metrics are registered. Default: a new registry. */
  readonly metrics?: Registry;
  /** Called once if the consumer stops on an error it must not retry past. */
  readonly onFatal?: (err: unknown) => void;
}

export interface RunningOutcomesProcessor {
  readonly processor: OutcomesProcessor;
  readonly runner: ProcessorRunner;
  readonly metrics: Registry;
  /** Flushes, recomputes, commits what is safe, and disconnects. */
  stop(): Promise<void>;
}

/**
 * Starts the outcomes processor on `<groupPrefix>.outcomes`, reading the allocations and
 * sessions topics from the beginning of what the group has not committed. Creates the two
 * dead-letter topics if missing. The ClickHouse tables come from the migrations
 * (0300_experiment_outcomes.sql), applied by openAndMigrate.
 */
export async function startOutcomesProcessor(
  config: PlayloopConfig,
  kafka: Kafka,
  registry: SchemaRegistry,
  clickhouse: ClickHouse,
  options: StartOutcomesOptions = {},
): Promise<RunningOutcomesProcessor> {
  const log = options.log ?? silentLogger;
  const metrics = options.metrics ?? new Registry();
  const topics = [config.topics.allocations, config.topics.sessions];
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      topics.map((t) => ({ topic: outcomesDlqOf(t), partitions: 1 })),
    ),
  );
  const allocationCodec = await AvroCodec.register<ExperimentAllocation>(
    registry,
    config.topics.allocations,
    allocationSchema,
  );
  const sessionCodec = await AvroCodec.register<SessionSummary>(
    registry,
    config.topics.sessions,
    sessionSchema,
  );
  // The dead-letter schema, registered under each DLQ topic's own subject.
  const dlqCodecs = new Map<string, AvroCodec<DeadLetter>>();
  for (const t of topics) {
    const dlq = outcomesDlqOf(t);
    dlqCodecs.set(dlq, await AvroCodec.register<DeadLetter>(registry, dlq, deadLetterSchema));
  }
  const deadLetters = new DeadLetterWriter(kafka, dlqCodecs, outcomesDlqOf);
  const processor = createOutcomesProcessor({
    config,
    clickhouse,
    allocationCodec,
    sessionCodec,
    deadLetters,
    metrics,
  });
  const runner = new ProcessorRunner(kafka, processor, {
    groupId: `${config.processors.groupPrefix}.outcomes`,
    topics,
    tickIntervalMs: config.processors.tickIntervalMs,
    metrics,
    log: log.child({ processor: 'outcomes' }),
    onFatal:
      options.onFatal ??
      ((err) =>
        log.error(
          { processor: 'outcomes', err: errorMessage(err) },
          'processor stopped; restart to resume from the last commit',
        )),
  });
  await runner.start();
  return {
    processor,
    runner,
    metrics,
    stop: async () => {
      await runner.stop();
      await deadLetters.stop();
    },
  };
}
