/**
 * The steering processor: timer-driven. Every `feedback.steering.intervalMs` it reads the
 * QoE windows and the segment evidence (segment-sink.ts writes it from playback.events, a
 * consumer this processor runs itself) of the windows that closed (and settled) since its
 * last tick, steps the health model
 * (steering.ts), publishes the documents that changed to config.steering and records each
 * change in ClickHouse `steering_changes`. Nothing is published when nothing changed: the
 * compacted topic keeps every scope's latest document.
 *
 * Restart: the latest document of each scope is read from the topic first, so versions stay
 * monotonic and OCAs keep their states (steeringStateFromDocs).
 *
 * Failure: the state advances only after its documents are published and its changes
 * recorded. A retriable failure (Kafka or ClickHouse away) leaves the state where it was and
 * the next tick recomputes the same versions; readers ignore a version they already hold,
 * and steering_changes replaces rows by (scope, version, OCA). Any other failure stops the
 * processor and reports it (`onFatal`), as the stream processors do.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { PlayloopConfig } from '../../core/config.ts';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { type ClickHouse, clickhouseFailure } from '../../infra/clickhouse.ts';
import { ConfigPublisher } from '../../infra/config-topic.ts';
import { ensureTopics, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec } from '../../infra/registry.ts';
import { schema as eventSchema, type PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { type SteeringConfig, schema as steeringSchema } from '../../schemas/generated/steering-config.ts';
import { ProcessorRunner } from '../runtime/partition-consumer.ts';
import { startTicker } from '../runtime/ticker.ts';
import { DEFAULT_HEALTH_PARAMS, type HealthParams } from './health.ts';
import { DEFAULT_SEGMENT_PARAMS, type SegmentParams } from './segment-health.ts';
import { SegmentSink } from './segment-sink.ts';
import { readSegmentCells } from './segments-source.ts';
import {
  EMPTY_STEERING_STATE,
  nextSteering,
  type SteeringChange,
  type SteeringParams,
  type SteeringState,
  steeringStateFromDocs,
} from './steering.ts';
import { latestByScope, readTopicHistory } from './topic-history.ts';
import { readWindows } from './windows-source.ts';

export const STEERING_CHANGES_TABLE = 'steering_changes';

/** A healthy OCA unseen for this many windows leaves its scope's document (an hour at 10 s). */
const FORGET_AFTER_WINDOWS = 360;

export interface SteeringProcessorDeps {
  readonly config: PlayloopConfig;
  readonly clickhouse: ClickHouse;
  readonly kafka: Kafka;
  readonly registry: SchemaRegistry;
  readonly log: Logger;
  /** Epoch ms. Date.now unless a test drives time. */
  readonly clock?: () => number;
  /** Model margins beyond what config holds (config wins for the settings it has). */
  readonly health?: Partial<HealthParams>;
  /** Segment-level margins beyond what config holds. */
  readonly segments?: Partial<SegmentParams>;
  /** Where the segment consumer's metrics go (lag, rows written); a private one if absent. */
  readonly metrics?: Registry;
  /** Called once if the processor stops on a failure retrying cannot fix. */
  readonly onFatal?: (err: unknown) => void;
}

export interface SteeringTickReport {
  readonly windows: number;
  readonly published: readonly SteeringConfig[];
  readonly changes: number;
}

export interface SteeringStatus {
  /** Start (epoch ms) of the last window processed. */
  readonly processedThrough: number | null;
  readonly ticks: number;
  readonly documentsPublished: number;
  readonly failure: unknown;
}

export interface SteeringProcessor {
  stop(): Promise<void>;
  /** Runs a tick now, serialised with the timer's. */
  tick(): Promise<SteeringTickReport>;
  status(): SteeringStatus;
}

/** The model's parameters: defaults, then config, then the deps' explicit margins. */
export function steeringParams(
  config: PlayloopConfig,
  health: Partial<HealthParams> = {},
  segments: Partial<SegmentParams> = {},
): SteeringParams {
  const s = config.feedback.steering;
  return {
    ...(s.segments.enabled
      ? {
          segments: {
            ...DEFAULT_SEGMENT_PARAMS,
            minSegments: s.segments.minSegmentsPerWindow,
            minSessions: s.segments.minSessionsPerWindow,
            ...segments,
          },
        }
      : {}),
    health: {
      ...DEFAULT_HEALTH_PARAMS,
      alpha: s.alpha,
      minSessions: s.minSessionsPerWindow,
      enterWindows: s.enterWindows,
      exitWindows: s.exitWindows,
      drainWindows: s.drainWindows,
      probeAfterWindows: s.probeAfterWindows,
      ...health,
    },
    ttlSec: s.ttlSec,
    forgetAfterWindows: FORGET_AFTER_WINDOWS,
  };
}

interface ChangeRow {
  changed_at: number;
  scope: string;
  version: number;
  kind: string;
  oca_id: string;
  from_state: string;
  to_state: string;
  score: number;
  reason: string;
  window_start: number;
  window_end: number;
  pathway_priority: string[];
  evidence: string;
}

function toRow(c: SteeringChange): ChangeRow {
  return {
    changed_at: c.changedAt,
    scope: c.scope,
    version: c.version,
    kind: c.kind,
    oca_id: c.ocaId,
    from_state: c.fromState,
    to_state: c.toState,
    score: c.score,
    reason: c.reason,
    window_start: c.windowStart,
    window_end: c.windowEnd,
    pathway_priority: [...c.pathwayPriority],
    evidence: JSON.stringify(c.evidence),
  };
}

export async function startSteeringProcessor(deps: SteeringProcessorDeps): Promise<SteeringProcessor> {
  const { config, kafka, log } = deps;
  const settings = config.feedback.steering;
  if (!config.processors.windowSizesSec.includes(settings.windowSec)) {
    throw new PlayloopError(
      'CONFIG_INVALID',
      `feedback.steering.windowSec ${settings.windowSec} is not a window the qoe processor materialises (processors.windowSizesSec: ${config.processors.windowSizesSec.join(', ')})`,
    );
  }
  const clock = deps.clock ?? Date.now;
  const params = steeringParams(config, deps.health, deps.segments);
  const topic = config.topics.steering;
  const db = deps.clickhouse.database;
  const client = deps.clickhouse.client;
  const windowMs = settings.windowSec * 1000;

  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, partitions: 1, compacted: true }]));
  const codec = await AvroCodec.register<SteeringConfig>(deps.registry, topic, steeringSchema);
  const history = await readTopicHistory(kafka, topic, codec, {
    timeoutMs: config.feedback.catchUpTimeoutMs,
    onUnreadable: (offset, err) =>
      log.error({ topic, offset, err: errorMessage(err) }, 'unreadable steering document skipped'),
  });
  let state: SteeringState =
    history.length === 0 ? EMPTY_STEERING_STATE : steeringStateFromDocs([...latestByScope(history).values()]);
  const publisher = new ConfigPublisher(kafka, topic, codec);

  // Segment-level evidence: this role's own consumer of playback.events (segment-sink.ts).
  let segmentRunner: ProcessorRunner | undefined;
  if (settings.segments.enabled) {
    const events = config.topics.events;
    await withAdmin(kafka, (admin) =>
      ensureTopics(admin, [{ topic: events, partitions: config.topics.partitions }]),
    );
    const eventCodec = await AvroCodec.register<PlaybackEvent>(deps.registry, events, eventSchema);
    const metrics = deps.metrics ?? new Registry();
    const sink = new SegmentSink({
      client,
      database: db,
      codec: eventCodec,
      maxBufferedRows: settings.segments.maxBufferedRows,
      metrics,
    });
    segmentRunner = new ProcessorRunner(kafka, sink, {
      groupId: `${config.processors.groupPrefix}.steering-segments`,
      topics: [events],
      tickIntervalMs: config.processors.tickIntervalMs,
      metrics,
      log: log.child({ consumer: 'steering-segments' }),
      onFatal: deps.onFatal,
    });
    await segmentRunner.start();
  }

  let ticks = 0;
  let documentsPublished = 0;

  async function runTick(): Promise<SteeringTickReport> {
    const now = clock();
    // The newest window [s, s + W) with s + W + settle <= now.
    const latest = Math.floor((now - settings.settleMs - windowMs) / windowMs) * windowMs;
    const earliest = latest - (settings.maxCatchUpWindows - 1) * windowMs;
    const from =
      state.processedThrough === null ? earliest : Math.max(state.processedThrough + windowMs, earliest);
    ticks++;
    if (from > latest) return { windows: 0, published: [], changes: 0 };
    const sessionWindows = await readWindows(client, db, {
      windowSec: settings.windowSec,
      fromMs: from,
      toMs: latest,
    });
    const cells =
      segmentRunner === undefined
        ? undefined
        : await readSegmentCells(client, db, {
            windowMs,
            fromMs: from,
            toMs: latest,
            lookbackMs: settings.segments.attributionLookbackMs,
          });
    const windows =
      cells === undefined
        ? sessionWindows
        : sessionWindows.map((w) => ({ ...w, segmentCells: cells.get(w.windowStart) ?? [] }));
    const step = nextSteering(state, { nowMs: now, windows }, params);
    for (const doc of step.docs) await publisher.publish(doc);
    if (step.changes.length > 0) {
      try {
        await client.insert({
          table: `${db}.${STEERING_CHANGES_TABLE}`,
          values: step.changes.map(toRow),
          format: 'JSONEachRow',
        });
      } catch (cause) {
        throw clickhouseFailure(`recording ${step.changes.length} steering changes`, cause);
      }
    }
    state = step.state;
    documentsPublished += step.docs.length;
    for (const doc of step.docs) {
      log.info(
        { scope: doc.scope, version: doc.version, pathwayPriority: doc.pathwayPriority },
        `steering ${doc.scope} v${doc.version}: ${doc.evidence.reason}`,
      );
    }
    return { windows: windows.length, published: step.docs, changes: step.changes.length };
  }

  const ticker = startTicker<SteeringTickReport>(runTick, {
    intervalMs: settings.intervalMs,
    name: 'steering',
    log,
    onFatal: deps.onFatal,
  });

  return {
    tick: ticker.tick,
    status: () => ({
      processedThrough: state.processedThrough,
      ticks,
      documentsPublished,
      // The segment consumer stopping on a failure stops segment evidence: report it too.
      failure: ticker.failure() ?? segmentRunner?.failure,
    }),
    stop: async () => {
      await ticker.stop();
      await segmentRunner?.stop();
      await publisher.stop();
    },
  };
}
