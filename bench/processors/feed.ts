/**
 * The freshness run's two feeders, each a process of its own: the producer plays workload
 * sessions paced by the wall clock (each event sent when its event time comes, so event time
 * is now), and the raw consumer, the baseline, consumes and decodes the same topic with plain
 * kafkajs and notes when each session_end arrives.
 */
import { createWriteStream } from 'node:fs';
import { sleep } from '../../core/retry.ts';
import { createKafka, createProducer } from '../../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../../infra/registry.ts';
import { schema as eventSchema, type PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { configOf, cpuMs, type Overrides, percentile } from './common.ts';
import {
  materialise,
  meanEventsPerSession,
  partitionOf,
  SessionStream,
  sessionTemplates,
  TEMPLATE_SESSIONS,
} from './workload.ts';

// ---------------------------------------------------------------------------------------
// Producer child: workload sessions paced by the wall clock

/** Records per send (kafkajs groups a send by partition in quadratic time) and sends in flight. */
const RECORDS_PER_SEND = 1_000;
const MAX_SENDS_IN_FLIGHT = 4;

export interface ProducerSpec {
  readonly overrides: Overrides;
  readonly eventsPerSecond: number;
  readonly runMs: number;
  readonly seed: number;
  /** Written at the end: `<sessionId>\t<produced at ms>` for each session's session_end. */
  readonly file: string;
}

export interface ProducerResult {
  readonly startedAtMs: number;
  readonly events: number;
  readonly sessionEnds: number;
  readonly wallMs: number;
  readonly eventsPerSecond: number;
  /** How far behind its due time an event was sent: p99 and max over sends. */
  readonly sendLagP99Ms: number;
  readonly sendLagMaxMs: number;
  readonly cpuCores: number;
}

export async function producerChild(spec: ProducerSpec): Promise<ProducerResult> {
  const config = configOf(spec.overrides);
  const partitions = config.topics.partitions;
  const kafka = createKafka(config.kafka);
  const codec = await AvroCodec.register<PlaybackEvent>(
    createRegistry(config.registry.url),
    config.topics.events,
    eventSchema,
  );
  const templates = sessionTemplates(TEMPLATE_SESSIONS, spec.seed);
  const sessionsPerSecond = spec.eventsPerSecond / meanEventsPerSession(templates);
  // acks=-1 like ingest, but several sends in flight: with one at a time the rate is capped at
  // one send's records per broker round trip, which a busy shared broker stretches past what
  // 20,000 events/s needs. The broker handles a connection's requests in order, so each
  // partition's order holds (kafkajs allows only one in flight when idempotent).
  const producer = createProducer(kafka, { allowAutoTopicCreation: false });
  await producer.connect();
  // Sessions began long enough ago that the rate is steady from the first second: the
  // stream starts two minutes back and skips what was due before now (those sessions
  // arrive mid-way, as after a restart, and close as continuations).
  const startedAtMs = Date.now() + 500;
  const stream = new SessionStream({
    templates,
    startMs: startedAtMs - 120_000,
    sessionsPerSecond,
    idPrefix: `fr${process.pid}`,
  });
  while (stream.peekDueMs() < startedAtMs) stream.next();
  const endAt = startedAtMs + spec.runMs;
  const out = createWriteStream(spec.file);
  const lags: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let events = 0;
  let ends = 0;
  let nextProgress = startedAtMs + 15_000;
  const c0 = cpuMs();
  await sleep(Math.max(0, startedAtMs - Date.now()));
  // Everything due before endAt is sent, late if the machine cannot keep up: the measured
  // sessions then still close in-stream.
  for (;;) {
    if (failure !== undefined) throw failure;
    const due = stream.peekDueMs();
    if (due >= endAt) break;
    const now = Date.now();
    if (due > now) {
      await sleep(Math.min(20, due - now));
      continue;
    }
    if (inFlight.size >= MAX_SENDS_IN_FLIGHT) {
      await Promise.race(inFlight);
      continue;
    }
    const messages: Array<{ key: string; value: Buffer; partition: number }> = [];
    const endIds: string[] = [];
    while (stream.peekDueMs() <= now && stream.peekDueMs() < endAt && messages.length < RECORDS_PER_SEND) {
      const s = stream.next()!;
      messages.push({
        key: s.sessionId,
        value: codec.encode(materialise(s)),
        partition: partitionOf(s.sessionId, partitions),
      });
      if (s.isFirstEnd) endIds.push(s.sessionId);
    }
    const sentAt = Date.now();
    lags.push(sentAt - due);
    const send: Promise<void> = producer
      .send({ topic: config.topics.events, acks: -1, messages })
      .then(
        () => {
          events += messages.length;
          ends += endIds.length;
          for (const id of endIds) out.write(`${id}\t${sentAt}\n`);
        },
        (err: unknown) => {
          failure = err;
        },
      )
      .finally(() => inFlight.delete(send));
    inFlight.add(send);
    if (now > nextProgress) {
      nextProgress += 15_000;
      process.stderr.write(
        `  producer: ${events.toLocaleString('en-US')} events, ${Math.round((events * 1_000) / (now - startedAtMs))}/s, ${sentAt - due} ms behind\n`,
      );
    }
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  const wallMs = Date.now() - startedAtMs;
  const cpu = cpuMs() - c0;
  await new Promise<void>((resolve) => out.end(resolve));
  await producer.disconnect();
  lags.sort((a, b) => a - b);
  return {
    startedAtMs,
    events,
    sessionEnds: ends,
    wallMs,
    eventsPerSecond: (events * 1_000) / wallMs,
    sendLagP99Ms: percentile(lags, 0.99),
    sendLagMaxMs: lags.at(-1) ?? 0,
    cpuCores: cpu / wallMs,
  };
}

// ---------------------------------------------------------------------------------------
// Raw consumer child: the freshness baseline

export interface RawConsumerSpec {
  readonly overrides: Overrides;
  /** Written on SIGTERM: `<sessionId>\t<decoded at ms>` for each session_end. */
  readonly file: string;
}

export interface RawConsumerResult {
  readonly records: number;
}

export async function rawConsumerChild(spec: RawConsumerSpec): Promise<RawConsumerResult> {
  const config = configOf(spec.overrides);
  const kafka = createKafka(config.kafka);
  const codec = await AvroCodec.register<PlaybackEvent>(
    createRegistry(config.registry.url),
    config.topics.events,
    eventSchema,
  );
  const consumer = kafka.consumer({
    groupId: `${config.processors.groupPrefix}.raw-baseline`,
    sessionTimeout: 15_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 4 * 1_048_576,
  });
  const out = createWriteStream(spec.file);
  let records = 0;
  const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.events, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (m.value === null) continue;
        const event = codec.decodeOwn(m.value) ?? (await codec.decode(m.value));
        records++;
        if (event.kind === 'session_end') out.write(`${event.sessionId}\t${Date.now()}\n`);
      }
    },
  });
  await stopped;
  await consumer.disconnect();
  await new Promise<void>((resolve) => out.end(resolve));
  return { records };
}
