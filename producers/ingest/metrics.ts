/**
 * Prometheus metrics of one ingest server, on a registry of its own (never prom-client's
 * global one), so two servers in one process, as in tests, do not collide.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REJECTION_CODES } from './pipeline.ts';

export interface IngestMetrics {
  readonly registry: Registry;
  readonly accepted: Counter;
  readonly rejected: Counter<'reason'>;
  readonly deadLettered: Counter;
  readonly produceLatency: Histogram;
  readonly inFlightBytes: Gauge;
  readonly requests: Counter<'route' | 'status'>;
  readonly kafkaUp: Gauge;
}

export function createIngestMetrics(
  sample: { inFlightBytes: () => number; kafkaUp: () => boolean },
  registry: Registry = new Registry(),
): IngestMetrics {
  const rejected = new Counter({
    name: 'playloop_ingest_events_rejected_total',
    help: 'Events refused by validation or encoding, by reason code; each is dead-lettered.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason shows from the start, at 0, so a rate() over it never sees a missing series.
  for (const reason of REJECTION_CODES) rejected.inc({ reason }, 0);
  return {
    registry,
    accepted: new Counter({
      name: 'playloop_ingest_events_accepted_total',
      help: 'Events produced to the events topic and acknowledged by Kafka (acks=-1).',
      registers: [registry],
    }),
    rejected,
    deadLettered: new Counter({
      name: 'playloop_ingest_events_dead_lettered_total',
      help: 'Refused events written to the dead-letter topic and acknowledged by Kafka.',
      registers: [registry],
    }),
    produceLatency: new Histogram({
      name: 'playloop_ingest_produce_latency_seconds',
      help: 'Time of one coalesced Kafka send, from sendBatch to the acks of all records.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inFlightBytes: new Gauge({
      name: 'playloop_ingest_in_flight_bytes',
      help: 'Request bytes held between parse and the Kafka ack.',
      registers: [registry],
      collect() {
        this.set(sample.inFlightBytes());
      },
    }),
    requests: new Counter({
      name: 'playloop_ingest_requests_total',
      help: 'HTTP requests to the ingest endpoints, by route and status code.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    kafkaUp: new Gauge({
      name: 'playloop_ingest_kafka_up',
      help: '1 while ingest can produce to Kafka, 0 while it answers 503 and probes for recovery.',
      registers: [registry],
      collect() {
        this.set(sample.kafkaUp() ? 1 : 0);
      },
    }),
  };
}
