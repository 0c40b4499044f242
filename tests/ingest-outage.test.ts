/**
 * Kafka dies in the middle of the traffic: ingest answers 503 with Retry-After (never a
 * hang, never another 5xx), recovers by itself when the broker is back, and no event it
 * answered 202 for is missing afterwards. Then a graceful stop under load: every 202 it
 * gave is in Kafka.
 *
 * The broker here is a private one, started from the shared stack's jars in a temp folder
 * on free ports and killed with SIGKILL: the shared broker serves other tests and cannot be
 * stopped, and a TCP proxy in front of it would not cut the traffic (the broker advertises
 * its own address in metadata, and kafkajs connects there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type PlayloopConfig } from '../core/config.ts';
import { pollUntil } from '../core/retry.ts';
import { IngestClient } from '../producers/client/client.ts';
import type { WireAccepted } from '../producers/client/wire.ts';
import { sampleEvent } from '../producers/ingest/testing.ts';
import type { PlaybackEvent } from '../schemas/generated/playback-event.ts';
import {
  consumeDecoded,
  countRecords,
  type PrivateKafka,
  type StartedIngest,
  startPrivateKafka,
  startTestIngest,
} from './ingest-support.ts';
import { testConfig } from './support/stack.ts';

let kafka: PrivateKafka;
let config: PlayloopConfig;
let ingest: StartedIngest | undefined;

beforeAll(async () => {
  kafka = await startPrivateKafka();
  const shared = testConfig('ingest_outage');
  config = loadConfig({
    env: {},
    overrides: {
      kafka: { brokers: kafka.brokers },
      registry: { url: shared.registry.url },
      topics: { ...shared.topics, partitions: 2 },
      ingest: { produce: { retries: 3, ackTimeoutMs: 3_000, probeIntervalMs: 250 } },
    },
  });
}, 120_000);

afterAll(async () => {
  await ingest?.role.stop().catch(() => undefined);
  await kafka?.destroy();
}, 60_000);

interface Traffic {
  readonly statuses: Map<number, number>;
  /** `${sessionId}/${seq}` of every event a 202 accepted. */
  readonly accepted: Set<string>;
  readonly retryAfterSeen: Set<string>;
  stop(): Promise<void>;
}

/** `workers` loops posting batches of 5 events with unique (sessionId, seq) until stopped. */
function traffic(base: string, key: string, prefix: string, workers = 3): Traffic {
  const statuses = new Map<number, number>();
  const accepted = new Set<string>();
  const retryAfterSeen = new Set<string>();
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; running; n++) {
      const events = Array.from({ length: 5 }, (_, i) =>
        sampleEvent('heartbeat', { sessionId: `${prefix}-${w}`, seq: n * 5 + i }),
      );
      let status = 0;
      try {
        const res = await fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events, sentAt: Date.now() }),
        });
        status = res.status;
        const retryAfter = res.headers.get('retry-after');
        if (retryAfter !== null) retryAfterSeen.add(retryAfter);
        const body = (await res.json()) as WireAccepted;
        if (status === 202) {
          expect(body.accepted).toBe(5);
          for (const e of events) accepted.add(`${e.sessionId}/${e.seq}`);
        }
      } catch {
        status = -1; // connection refused: the server is stopped
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== 202) await new Promise((r) => setTimeout(r, 50));
    }
  });
  return {
    statuses,
    accepted,
    retryAfterSeen,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function storedIds(): Promise<Set<string>> {
  const total = await countRecords(config, config.topics.events);
  const records = await consumeDecoded<PlaybackEvent>(config, config.topics.events, total);
  return new Set(records.map((r) => `${r.value.sessionId}/${r.value.seq}`));
}

describe('ingest when Kafka goes away', () => {
  it('answers 503 while the broker is dead, recovers on its own, and loses no accepted event', async () => {
    ingest = await startTestIngest(config);
    const key = config.ingest.keys[0] as string;
    const base = ingest.base;
    // The client library rides out the outage with its own retries.
    const client = new IngestClient({
      endpoint: base,
      key,
      maxBatchEvents: 20,
      flushIntervalMs: 20,
      retry: { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 200 },
      requestTimeoutMs: 10_000,
    });
    const load = traffic(base, key, 'outage');
    await pollUntil(async () => (load.accepted.size >= 200 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'traffic before the outage',
    });
    for (let i = 0; i < 100; i++)
      client.track(sampleEvent('heartbeat', { sessionId: 'client-before', seq: i }));

    await kafka.kill();
    await pollUntil(async () => ((load.statuses.get(503) ?? 0) >= 10 ? true : undefined), {
      timeoutMs: 30_000,
      what: '503s while Kafka is dead',
    });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    const metricsDown = await (await fetch(`${base}/metrics`)).text();
    expect(metricsDown).toMatch(/^playloop_ingest_kafka_up 0$/m);
    const acceptedDuringOutage = load.accepted.size;
    for (let i = 0; i < 100; i++)
      client.track(sampleEvent('heartbeat', { sessionId: 'client-during', seq: i }));
    const clientDone = client.close();

    await kafka.start();
    await pollUntil(async () => (load.accepted.size >= acceptedDuringOutage + 200 ? true : undefined), {
      timeoutMs: 60_000,
      what: '202s again after Kafka came back',
    });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await load.stop();
    expect(await clientDone).toMatchObject({ givenUp: 0 });

    // Only 202 and the designed 503 (with Retry-After); no other 5xx, no hang.
    expect([...load.statuses.keys()].sort()).toEqual([202, 503]);
    expect([...load.retryAfterSeen]).toEqual(['1']);

    const stored = await storedIds();
    const lost = [...load.accepted].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    for (const session of ['client-before', 'client-during']) {
      const missing = Array.from({ length: 100 }, (_, i) => `${session}/${i}`).filter(
        (id) => !stored.has(id),
      );
      expect(missing).toEqual([]);
    }
  });

  it('stops gracefully under load: every 202 it gave is in Kafka', async () => {
    const running = ingest ?? (await startTestIngest(config));
    const key = config.ingest.keys[0] as string;
    const load = traffic(running.base, key, 'shutdown', 6);
    await pollUntil(async () => (load.accepted.size >= 300 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'traffic',
    });
    await running.role.stop();
    ingest = undefined;
    await load.stop();
    // Requests after the stop find nothing listening, or a 503 while it drained.
    expect([...load.statuses.keys()].filter((s) => s !== 202 && s !== 503 && s !== -1)).toEqual([]);
    const stored = await storedIds();
    expect([...load.accepted].filter((id) => !stored.has(id))).toEqual([]);
  });
});
