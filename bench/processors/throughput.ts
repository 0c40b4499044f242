/**
 * Throughput of sessionize + qoe, and where the time goes.
 *
 * The parent pre-produces the events once (Avro, keyed by sessionId, to a fresh topic with
 * the configured partitions) and keeps the same bytes in a file. Then, each in a process of
 * its own so its CPU time is its own:
 *   baseline  a plain kafkajs consumer that consumes and Avro-decodes every record;
 *   pipeline  sessionize + qoe on their runners, wired as processors/role.ts wires them,
 *             until every session is in ClickHouse `sessions` FINAL and in `qoe_windows`;
 *   fold      the same bytes from the file: Avro decode, then Sessionizer.add + drain, then
 *             what happens per summary (Avro encode and decode, row, JSON), each timed alone.
 *
 * Per core: events divided by the CPU seconds (user + system, all threads) of the process
 * that did the work, i.e. the rate one fully busy core would sustain. The broker, a separate
 * JVM shared with other users of the stack, is not counted.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import avro from 'avsc';
import { Registry } from 'prom-client';
import type { PlayloopConfig } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { sleep } from '../../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../../infra/clickhouse.ts';
import { createKafka, createProducer, ensureTopics, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../../infra/registry.ts';
import { toSessionRow } from '../../processors/qoe/rows.ts';
import { eventTimeMs } from '../../processors/qoe-core/event-time.ts';
import { coreProcessorDeps, dlqOf, qoeRunner, sessionizeRunner } from '../../processors/role.ts';
import { sessionizeOptionsFrom } from '../../processors/sessionize/options.ts';
import { Sessionizer, type SessionizerStats } from '../../processors/sessionize/sessionizer.ts';
import { schema as eventSchema, type PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { type SessionSummary, schema as sessionSchema } from '../../schemas/generated/playback-session.ts';
import {
  configOf,
  cpuMs,
  metricSum,
  monotonicUs,
  type Overrides,
  progress,
  type ThreadCpu,
  threadCpu,
  threadCpuSince,
} from './common.ts';
import {
  materialise,
  meanEventsPerSession,
  partitionOf,
  restamp,
  SessionStream,
  sessionTemplates,
  TEMPLATE_SESSIONS,
} from './workload.ts';

// ---------------------------------------------------------------------------------------
// Pre-production (parent)

export interface Produced {
  /** Records on the topic: workload events plus one watermark flush per partition. */
  readonly records: number;
  readonly workloadEvents: number;
  readonly sessions: number;
  readonly partitions: number;
  readonly bytes: number;
  readonly meanEventsPerSession: number;
  readonly sessionsPerSecond: number;
  readonly eventTimeSpanMs: number;
  readonly produceWallMs: number;
  readonly file: string;
}

/**
 * Produces about `events` events: sessions started at `eventsPerSecond` (of event time,
 * the freshness rate) until their events add up to `events`, every session played to its
 * end. Then, per partition, one play_intent of a session that never ends, timed past the
 * allowed lateness: it moves every partition's watermark beyond the last real session's end,
 * so all of them close without waiting on the wall clock (idle advance).
 */
export async function preproduce(
  config: PlayloopConfig,
  o: { events: number; eventsPerSecond: number; seed: number; file: string },
): Promise<Produced> {
  const t = config.topics;
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic: t.events, partitions: t.partitions }]));
  const codec = await AvroCodec.register<PlaybackEvent>(
    createRegistry(config.registry.url),
    t.events,
    eventSchema,
  );
  const templates = sessionTemplates(TEMPLATE_SESSIONS, o.seed);
  const mean = meanEventsPerSession(templates);
  const sessionsPerSecond = o.eventsPerSecond / mean;
  const sessions = Math.ceil(o.events / mean);
  const startMs = Date.now() - 3_600_000;
  const stream = new SessionStream({
    templates,
    startMs,
    sessionsPerSecond,
    idPrefix: `tp${o.seed}`,
    maxSessions: sessions,
  });
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  const fd = openSync(o.file, 'w');
  const began = performance.now();
  let records = 0;
  let bytes = 0;
  let maxTime = Number.NEGATIVE_INFINITY;
  const send = async (batch: Array<{ key: string; value: Buffer; partition: number }>): Promise<void> => {
    // The file keeps exactly what Kafka got, in order: [partition u8][length u32le][value].
    const parts: Buffer[] = [];
    for (const m of batch) {
      const head = Buffer.allocUnsafe(5);
      head.writeUInt8(m.partition, 0);
      head.writeUInt32LE(m.value.length, 1);
      parts.push(head, m.value);
      bytes += m.value.length;
    }
    writeSync(fd, Buffer.concat(parts));
    await producer.send({ topic: t.events, acks: -1, messages: batch });
    records += batch.length;
  };
  let batch: Array<{ key: string; value: Buffer; partition: number }> = [];
  for (let s = stream.next(); s !== undefined; s = stream.next()) {
    const event = materialise(s);
    const time = eventTimeMs(event);
    if (time > maxTime) maxTime = time;
    batch.push({
      key: event.sessionId,
      value: codec.encode(event),
      partition: partitionOf(event.sessionId, t.partitions),
    });
    if (batch.length === 1_000) {
      await send(batch);
      batch = [];
      if (records % 200_000 === 0) progress(`produced ${records.toLocaleString('en-US')} events`);
    }
  }
  const workloadEvents = records + batch.length;
  // The watermark flush: one never-ending session per partition, past the allowed lateness.
  const intent = templates[0]!;
  const flushAt = maxTime + config.processors.sessionize.allowedLatenessMs + 1_000;
  for (let p = 0; p < t.partitions; p++) {
    let id = '';
    for (let i = 0; ; i++) {
      id = `tp${o.seed}-flush-${p}-${i}`;
      if (partitionOf(id, t.partitions) === p) break;
    }
    const event = restamp(intent.events[0]!, id, flushAt - intent.firstTimeMs);
    batch.push({ key: id, value: codec.encode(event), partition: p });
  }
  await send(batch);
  closeSync(fd);
  const produceWallMs = performance.now() - began;
  await producer.disconnect();
  return {
    records,
    workloadEvents,
    sessions,
    partitions: t.partitions,
    bytes,
    meanEventsPerSession: mean,
    sessionsPerSecond,
    eventTimeSpanMs: maxTime - startMs,
    produceWallMs,
    file: o.file,
  };
}

// ---------------------------------------------------------------------------------------
// Baseline child: consume and decode

export interface ConsumeSpec {
  readonly overrides: Overrides;
  readonly records: number;
}

export interface StageResult {
  readonly records: number;
  /** From the consumer group joined (ready to fetch) to the end of the stage. */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** From start to the consumer group joined (connect, registry, ClickHouse, join). */
  readonly startupMs: number;
  readonly rssMaxBytes: number;
  /** CPU of the measured span by thread kind (JS thread, libuv pool, V8 helpers, chDB), ms. */
  readonly threads: ThreadCpu | null;
}

export interface BaselineResult extends StageResult {
  /** CPU inside the decode loops (the rest is kafkajs fetching and parsing). */
  readonly decodeCpuMs: number;
}

export async function baselineChild(spec: ConsumeSpec): Promise<BaselineResult> {
  const config = configOf(spec.overrides);
  const kafka = createKafka(config.kafka);
  const codec = await AvroCodec.register<PlaybackEvent>(
    createRegistry(config.registry.url),
    config.topics.events,
    eventSchema,
  );
  // The processors' own consumer settings (processors/runtime/partition-consumer.ts).
  const consumer = kafka.consumer({
    groupId: `${config.processors.groupPrefix}.baseline`,
    sessionTimeout: 15_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 4 * 1_048_576,
  });
  const started = performance.now();
  let count = 0;
  let seqSum = 0;
  let decodeCpu = 0;
  let rssMax = 0;
  let finish: (at: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.events, fromBeginning: true });
  // The clock starts when the group is joined (kafkajs run() resolves after join and sync):
  // what follows is fetching and decoding, as for the processors role below.
  let firstAt = Number.NaN;
  let cpuAtFirst = Number.NaN;
  const running = consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      const c0 = cpuMs();
      for (const m of batch.messages) {
        if (m.value === null) continue;
        const event = codec.decodeOwn(m.value) ?? (await codec.decode(m.value));
        seqSum += event.seq;
        count++;
      }
      decodeCpu += cpuMs() - c0;
      if (count >= spec.records) finish(performance.now());
    },
  });
  await running;
  firstAt = performance.now();
  cpuAtFirst = cpuMs();
  const threadsAtFirst = threadCpu();
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }, 250);
  const endedAt = await done;
  const cpu = cpuMs() - cpuAtFirst;
  const threads = threadCpuSince(threadsAtFirst) ?? null;
  clearInterval(sampler);
  await consumer.disconnect();
  if (seqSum < 0) throw new Error('unreachable: keeps the decode observable');
  return {
    records: count,
    wallMs: endedAt - firstAt,
    cpuMs: cpu,
    startupMs: firstAt - started,
    rssMaxBytes: rssMax,
    threads,
    decodeCpuMs: decodeCpu,
  };
}

// ---------------------------------------------------------------------------------------
// Pipeline child: the processors role end to end

export interface PipelineSpec extends ConsumeSpec {
  readonly sessions: number;
}

export interface PipelineResult extends StageResult {
  readonly sessions: number;
  /** ms after the start: sessionize has read every record. */
  readonly consumedMs: number;
  /** ms after the start: every session is in `sessions` FINAL. */
  readonly sessionsVisibleMs: number;
  /** ms after the start: the smallest window size's aggregates count every session. */
  readonly windowsVisibleMs: number;
  /** Monotonic µs of the measured span, to cut a CPU profile to it. */
  readonly spanUs: { readonly from: number; readonly to: number };
  readonly sessionsRowsWritten: number;
}

interface Wired {
  readonly metrics: Registry;
  readonly ch: ClickHouse;
  /** Starts the sessionize runner; resolves once its consumer group is joined. */
  startSessionize(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * sessionize and qoe on their runners, built by processors/role.ts's own builders (same
 * classes, options, codecs, dead-letter writer and shared ClickHouse), without the role's timer-driven
 * feedback processors and in the other start order: qoe first, so that the clock can start
 * when sessionize is ready to fetch a backlog no one has touched yet. (The role starts
 * sessionize first; it would be through part of the backlog before the role is up.)
 */
async function wireSessionizeAndQoe(config: PlayloopConfig, log: Logger): Promise<Wired> {
  const kafka = createKafka(config.kafka);
  const registry = createRegistry(config.registry.url);
  const { ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
  const admin = kafka.admin();
  await admin.connect();
  const metrics = new Registry();
  await ensureTopics(admin, [
    { topic: config.topics.sessions, partitions: config.topics.partitions },
    { topic: config.topics.eventsDlq, partitions: 1 },
    { topic: dlqOf(config.topics.sessions), partitions: 1 },
  ]);
  const shared = await coreProcessorDeps({ config, kafka, ch, admin, metrics, registry }, [
    config.topics.events,
    config.topics.sessions,
  ]);
  const { deadLetters } = shared;
  const onFatal = (name: string) => (err: unknown) =>
    log.error({ processor: name, err: errorMessage(err) }, 'processor stopped');
  const qoe = qoeRunner(shared, log, onFatal('qoe'));
  const sessionize = sessionizeRunner(shared, log, onFatal('sessionize'));
  await qoe.start();
  let sessionizeStarted = false;
  return {
    metrics,
    ch,
    startSessionize: async () => {
      sessionizeStarted = true;
      await sessionize.start();
    },
    stop: async () => {
      if (sessionizeStarted) await sessionize.stop();
      await qoe.stop();
      await deadLetters.stop();
      await admin.disconnect();
      await ch.close();
    },
  };
}

export async function pipelineChild(spec: PipelineSpec): Promise<PipelineResult> {
  const config = configOf(spec.overrides);
  const log = createLogger({ level: 'warn', name: 'bench-processors' });
  const started = performance.now();
  const wired = await wireSessionizeAndQoe(config, log);
  const { metrics, ch } = wired;
  const db = ch.database;
  const windowSec = Math.min(...config.processors.windowSizesSec);
  await wired.startSessionize();
  // kafkajs run() resolves once the group is joined and synced: fetching starts now.
  const firstAt = performance.now();
  const cpuAtFirst = cpuMs();
  const threadsAtFirst = threadCpu();
  const fromUs = monotonicUs();
  let consumedAt = 0;
  let sessionsAt = 0;
  let windowsAt = 0;
  let rssMax = 0;
  let lastProgress = performance.now();
  let lastCount = -1;
  let lastChangeAt = performance.now();
  try {
    for (;;) {
      const now = performance.now();
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
      const read = await metricSum(metrics, 'playloop_processor_records_total', { processor: 'sessionize' });
      if (consumedAt === 0 && read >= spec.records) consumedAt = now;
      const written = await metricSum(metrics, 'playloop_qoe_session_rows_written_total');
      if (sessionsAt === 0 && written >= spec.sessions) {
        const [row] = await queryRows<{ n: number }>(
          ch.client,
          `SELECT count() AS n FROM ${db}.sessions FINAL`,
        );
        if ((row?.n ?? 0) >= spec.sessions) sessionsAt = performance.now();
      }
      if (sessionsAt > 0) {
        const [row] = await queryRows<{ n: number }>(
          ch.client,
          `SELECT sum(sessions) AS n FROM ${db}.qoe_windows FINAL WHERE window_sec = {w:UInt32}`,
          { w: windowSec },
        );
        if ((row?.n ?? 0) >= spec.sessions) {
          windowsAt = performance.now();
          break;
        }
      }
      if (read + written !== lastCount) {
        lastCount = read + written;
        lastChangeAt = now;
      } else if (now - lastChangeAt > 60_000) {
        throw new Error(
          `pipeline stalled: sessionize read ${read} of ${spec.records} records, qoe wrote ${written} of ${spec.sessions} sessions`,
        );
      }
      if (now - lastProgress > 10_000) {
        lastProgress = now;
        progress(
          `pipeline: ${read.toLocaleString('en-US')} events read, ${written.toLocaleString('en-US')} sessions written`,
        );
      }
      await sleep(sessionsAt > 0 ? 50 : 100);
    }
    const cpu = cpuMs() - cpuAtFirst;
    const threads = threadCpuSince(threadsAtFirst) ?? null;
    const toUs = monotonicUs();
    const written = await metricSum(metrics, 'playloop_qoe_session_rows_written_total');
    return {
      records: spec.records,
      sessions: spec.sessions,
      wallMs: windowsAt - firstAt,
      cpuMs: cpu,
      startupMs: firstAt - started,
      rssMaxBytes: rssMax,
      consumedMs: consumedAt - firstAt,
      sessionsVisibleMs: sessionsAt - firstAt,
      windowsVisibleMs: windowsAt - firstAt,
      threads,
      spanUs: { from: fromUs, to: toUs },
      sessionsRowsWritten: written,
    };
  } finally {
    await wired.stop();
  }
}

// ---------------------------------------------------------------------------------------
// Fold child: the same bytes, in memory, stage by stage

export interface FoldSpec {
  readonly overrides: Overrides;
  readonly file: string;
  /** Events handed to the sessionizer between two drains (a Kafka batch's worth). */
  readonly drainEvery: number;
}

export interface Timed {
  readonly cpuMs: number;
  readonly wallMs: number;
}

export interface FoldResult {
  readonly records: number;
  /** The codec's decode (the compiled reader, infra/avro-reader.ts), as the processors use it. */
  readonly decode: Timed;
  /** avsc's own `fromBuffer` of the same bytes: what the compiled reader replaced. */
  readonly decodeAvsc: Timed;
  readonly fold: Timed;
  readonly summaries: number;
  /** Per summary: Avro encode (sessionize) + decode (qoe) + row + JSON (the insert body). */
  readonly summaryPath: Timed;
  readonly stats: SessionizerStats;
}

function readRecords(file: string): Array<{ partition: number; offset: number; value: Buffer }> {
  const data = readFileSync(file);
  const out: Array<{ partition: number; offset: number; value: Buffer }> = [];
  const next = new Map<number, number>();
  for (let at = 0; at < data.length; ) {
    const partition = data.readUInt8(at);
    const length = data.readUInt32LE(at + 1);
    const offset = next.get(partition) ?? 0;
    next.set(partition, offset + 1);
    out.push({ partition, offset, value: data.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** Decodes every record with avsc, holding the values until the end (as the fold does). */
function decodeAllWithAvsc(type: avro.Type, chunk: ReadonlyArray<{ value: Buffer }>): number {
  const values = chunk.map((r) => type.fromBuffer(r.value.subarray(5)) as PlaybackEvent);
  return values.length;
}

export async function foldChild(spec: FoldSpec): Promise<FoldResult> {
  const config = configOf(spec.overrides);
  const registry = createRegistry(config.registry.url);
  const eventCodec = await AvroCodec.register<PlaybackEvent>(registry, config.topics.events, eventSchema);
  const sessionCodec = await AvroCodec.register<SessionSummary>(
    registry,
    config.topics.sessions,
    sessionSchema,
  );
  const records = readRecords(spec.file);
  const sessionizer = new Sessionizer(sessionizeOptionsFrom(config));
  const summaries: SessionSummary[] = [];
  const decode = { cpuMs: 0, wallMs: 0 };
  const decodeAvsc = { cpuMs: 0, wallMs: 0 };
  const fold = { cpuMs: 0, wallMs: 0 };
  const avscType = avro.Type.forSchema(eventSchema as object as avro.Schema);
  const CHUNK = 20_000;
  for (let from = 0; from < records.length; from += CHUNK) {
    const chunk = records.slice(from, from + CHUNK);
    // The reference first, kept alive like the codec's output below, and dead before that.
    let c = cpuMs();
    let w = performance.now();
    if (decodeAllWithAvsc(avscType, chunk) !== chunk.length) throw new Error('unreachable');
    decodeAvsc.cpuMs += cpuMs() - c;
    decodeAvsc.wallMs += performance.now() - w;
    c = cpuMs();
    w = performance.now();
    const events = chunk.map((r) => {
      const e = eventCodec.decodeOwn(r.value);
      if (e === undefined) throw new Error('record not written with this run’s schema id');
      return e;
    });
    decode.cpuMs += cpuMs() - c;
    decode.wallMs += performance.now() - w;
    c = cpuMs();
    w = performance.now();
    for (let i = 0; i < events.length; i++) {
      const r = chunk[i]!;
      sessionizer.add(events[i]!, { partition: r.partition, offset: r.offset });
      if ((i + 1) % spec.drainEvery === 0) for (const s of sessionizer.drain()) summaries.push(s);
    }
    for (const s of sessionizer.drain()) summaries.push(s);
    fold.cpuMs += cpuMs() - c;
    fold.wallMs += performance.now() - w;
  }
  const c = cpuMs();
  const w = performance.now();
  let bodyChars = 0;
  for (const s of summaries) {
    const decoded = sessionCodec.decodeOwn(sessionCodec.encode(s));
    if (decoded === undefined) throw new Error('summary round trip failed');
    bodyChars += JSON.stringify(toSessionRow(decoded)).length + 1;
  }
  const summaryPath = { cpuMs: cpuMs() - c, wallMs: performance.now() - w };
  if (bodyChars <= 0) throw new Error('unreachable: keeps the serialisation observable');
  return {
    records: records.length,
    decode,
    decodeAvsc,
    fold,
    summaries: summaries.length,
    summaryPath,
    stats: sessionizer.stats(),
  };
}
