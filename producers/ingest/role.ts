/**
 * The `ingest` role: creates its topics, registers its schemas (once, at start), connects
 * an idempotent acks=-1 producer, and serves POST /v1/events, /v1/cmcd, /healthz, /readyz
 * and /metrics. `stop()` stops taking requests, waits until every request it took has its
 * answer (that is, every accepted record is acknowledged by Kafka), then disconnects.
 */
import { collectDefaultMetrics } from 'prom-client';
import type { RoleContext, RunningRole } from '../../cli/role.ts';
import { configSchema } from '../../core/config.ts';
import { createKafka, ensureTopics, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../../infra/registry.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../../schemas/generated/dead-letter.ts';
import { type PlaybackEvent, schema as playbackEventSchema } from '../../schemas/generated/playback-event.ts';
import { SlabAvroEncoder } from './avro-encoder.ts';
import { KafkaSink } from './kafka-sink.ts';
import { buildIngestServer } from './server.ts';

export async function startIngest(ctx: RoleContext): Promise<RunningRole> {
  const { config } = ctx;
  const settings = config.ingest;
  const log = ctx.log.child({ role: 'ingest' });
  const kafka = createKafka({
    ...config.kafka,
    clientId: `${config.kafka.clientId}-ingest`,
    // A produce request must not outlive its ack timeout by much: past it, the request is 503.
    requestTimeoutMs: Math.min(config.kafka.requestTimeoutMs, settings.produce.ackTimeoutMs + 2_000),
  });
  const topics = { events: config.topics.events, eventsDlq: config.topics.eventsDlq };
  await withAdmin(kafka, (admin) =>
    ensureTopics(admin, [
      { topic: topics.events, partitions: config.topics.partitions },
      { topic: topics.eventsDlq, partitions: config.topics.partitions },
    ]),
  );
  const registry = createRegistry(config.registry.url);
  const eventCodec = await AvroCodec.register<PlaybackEvent>(registry, topics.events, playbackEventSchema);
  // Same bytes as eventCodec.encode, without two copies per record on the hot path.
  const eventEncoder = new SlabAvroEncoder<PlaybackEvent>(
    playbackEventSchema,
    eventCodec.schemaId,
    eventCodec.subject,
  );
  const deadLetterCodec = await AvroCodec.register<DeadLetter>(registry, topics.eventsDlq, deadLetterSchema);

  const sink = new KafkaSink(kafka, {
    ackTimeoutMs: settings.produce.ackTimeoutMs,
    retries: settings.produce.retries,
    probeIntervalMs: settings.produce.probeIntervalMs,
    probeTopic: topics.events,
    log,
  });
  await sink.connect();

  const server = buildIngestServer({
    settings,
    topics,
    eventEncoder,
    deadLetterEncoder: deadLetterCodec,
    sink,
    log,
  });
  collectDefaultMetrics({ register: server.metrics.registry });
  try {
    await server.app.listen({ host: settings.host, port: settings.port });
  } catch (err) {
    await sink.close();
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  const base = `http://${settings.host}:${port}`;

  const defaultKeys = configSchema.parse({}).ingest.keys;
  if (settings.keys.length === defaultKeys.length && settings.keys.every((k, i) => k === defaultKeys[i])) {
    // Only the well-known local key is ever printed; configured keys are secrets.
    log.info(
      `ingest: using the local default key "${defaultKeys[0]}" (set PLAYLOOP_INGEST_KEYS for anything but local use)`,
    );
  }
  log.info(
    { keyIds: settings.keys.length, events: topics.events, dlq: topics.eventsDlq },
    `ingest: listening on ${base}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    name: 'ingest',
    addresses: [`${base}/v1/events`, `${base}/v1/cmcd`, `${base}/metrics`],
    metrics: server.metrics.registry,
    stop() {
      stopping ??= (async () => {
        await server.app.close();
        await sink.close();
        log.info('ingest: stopped; every accepted event was acknowledged by Kafka');
      })();
      return stopping;
    },
  };
}
