/**
 * The steering processor on the real broker, registry and ClickHouse: simulated sessions go
 * through the qoe processor's own window SQL (materialize) into qoe_windows; the processor,
 * ticking on its timer against a test clock, reads them, publishes config.steering, and the
 * documents are read back with ConfigTable as the control plane reads them.
 *
 * oca-b turns congested for 6 windows: it must be steered away from exactly when its third
 * bad window closes (enterWindows = 3), and brought back after the degradation ends
 * (exitWindows = 3), each exactly once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { ConfigTable } from '../infra/config-topic.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { materialize } from '../processors/qoe/materialize.ts';
import { type SteeringProcessor, startSteeringProcessor } from '../processors/steering/processor.ts';
import {
  CONGESTED_PATH,
  createRng,
  HEALTHY_PATH,
  type PathQuality,
  simulateSessionRows,
} from '../processors/steering/testing.ts';
import { type SteeringConfig, schema as steeringSchema } from '../schemas/generated/steering-config.ts';
import { deleteTopics, steeringTestConfig } from './support/stack.ts';

const config = steeringTestConfig('steer');
const W = 10_000;
// Recent enough for the tables' TTLs, on a window boundary.
const T0 = Math.floor((Date.now() - 3_600_000) / W) * W;
const OCAS = ['oca-a', 'oca-b', 'oca-c'];

let ch: ClickHouse | undefined;
let processor: SteeringProcessor | undefined;
let table: ConfigTable<SteeringConfig> | undefined;

afterAll(async () => {
  await processor?.stop();
  await table?.stop();
  await ch?.close();
  await deleteTopics(config, [config.topics.steering, config.topics.events]);
});

describe('steering processor (real Kafka, registry, ClickHouse)', () => {
  it('steers away from a degraded OCA once its windows show it, and back after it recovers, without flapping', async () => {
    const opened = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    ch = opened.ch;
    const kafka = createKafka(config.kafka);
    const registry = createRegistry(config.registry.url);
    let now = T0;
    processor = await startSteeringProcessor({
      config,
      clickhouse: ch,
      kafka,
      registry,
      log: silentLogger,
      clock: () => now,
    });
    const codec = await AvroCodec.register<SteeringConfig>(registry, config.topics.steering, steeringSchema);
    table = new ConfigTable(
      kafka,
      config.topics.steering,
      codec,
      join(mkdtempSync(join(tmpdir(), 'playloop-steer-')), 'snapshot.json'),
      silentLogger,
    );
    await table.start();
    const docs = table;
    const client = ch.client;
    const db = ch.database;
    const rng = createRng(2026);
    const running = processor;

    /** Sessions of window w land, the window is materialised, the clock passes its end. */
    async function window(w: number, pathOf: (ocaId: string) => PathQuality): Promise<void> {
      const fromMs = T0 + w * W;
      const rows = OCAS.flatMap((ocaId) =>
        simulateSessionRows(
          rng,
          40,
          pathOf(ocaId),
          { ocaId, isp: 'AS3320', region: 'eu-central', country: 'DE', deviceClass: 'tv' },
          { fromMs, toMs: fromMs + W, idPrefix: `w${w}-${ocaId}` },
        ),
      );
      await client.insert({ table: `${db}.sessions`, values: rows, format: 'JSONEachRow' });
      await materialize(client, db, [{ windowSec: 10, fromSec: fromMs / 1000, toSec: (fromMs + W) / 1000 }]);
      now = fromMs + W;
      await pollUntil(async () => (running.status().processedThrough === fromMs ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: `window ${w} processed`,
      });
    }
    /**
     * The global document once every published version has reached the reader: versions
     * count up from 1 per scope, so the reader has them all when its latest versions add up
     * to the number of documents the processor published.
     */
    async function globalDoc(): Promise<SteeringConfig> {
      const published = running.status().documentsPublished;
      return pollUntil(
        async () => {
          const all = docs.all();
          const versions = all.reduce((n, d) => n + d.version, 0);
          return versions >= published ? docs.get('global') : undefined;
        },
        { timeoutMs: 15_000, what: 'published documents on the topic' },
      );
    }

    const healthy = (): PathQuality => HEALTHY_PATH;
    const bIsCongested = (ocaId: string): PathQuality => (ocaId === 'oca-b' ? CONGESTED_PATH : HEALTHY_PATH);

    for (let w = 0; w < 4; w++) await window(w, healthy);
    let doc = await globalDoc();
    expect(doc.version).toBe(1);
    expect(doc.pathwayPriority).toEqual(['oca-a', 'oca-b', 'oca-c']);
    expect(doc.ocas.map((o) => o.state)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(docs.get('isp:AS3320')?.version).toBe(1);
    expect(docs.get('region:eu-central')?.version).toBe(1);

    // Congestion on oca-b: two bad windows are not enough...
    await window(4, bIsCongested);
    await window(5, bIsCongested);
    expect((await globalDoc()).version).toBe(1);
    // ...the third one is.
    await window(6, bIsCongested);
    doc = await globalDoc();
    expect(doc.version).toBe(2);
    expect(doc.pathwayPriority).toEqual(['oca-a', 'oca-c', 'oca-b']);
    const b = doc.ocas.find((o) => o.ocaId === 'oca-b');
    expect(b?.state).toBe('degraded');
    expect(b?.since).toBe(T0 + 7 * W);
    expect(b?.rebufferRatio).toBeGreaterThan(0.05);
    expect(b?.sessions).toBe(40);
    expect(doc.evidence.windowStart).toBe(T0 + 4 * W);
    expect(doc.evidence.windowEnd).toBe(T0 + 7 * W);
    expect(doc.evidence.reason).toMatch(/^oca-b degraded \(was healthy\): .+ vs fleet .+ for 3 windows$/);
    for (let w = 7; w < 10; w++) await window(w, bIsCongested);
    expect((await globalDoc()).version).toBe(2);

    // oca-b recovers: back after exitWindows good windows, and then it stays put.
    for (let w = 10; w < 13; w++) await window(w, healthy);
    doc = await globalDoc();
    expect(doc.version).toBe(3);
    expect(doc.pathwayPriority).toEqual(['oca-a', 'oca-b', 'oca-c']);
    expect(doc.ocas.find((o) => o.ocaId === 'oca-b')?.state).toBe('healthy');
    for (let w = 13; w < 16; w++) await window(w, healthy);
    expect((await globalDoc()).version).toBe(3);
    expect(processor.status().failure).toBeUndefined();

    const changes = await queryRows<{
      scope: string;
      version: number;
      kind: string;
      oca_id: string;
      to_state: string;
      reason: string;
    }>(
      client,
      `SELECT scope, version, kind, oca_id, to_state, reason FROM ${db}.steering_changes FINAL
       WHERE scope = 'global' ORDER BY version, oca_id`,
    );
    expect(changes.map((c) => [c.version, c.kind, c.oca_id, c.to_state])).toEqual([
      [1, 'initial', '', ''],
      [2, 'state', 'oca-b', 'degraded'],
      [3, 'state', 'oca-b', 'healthy'],
    ]);
    expect(changes[1]?.reason).toContain('vs fleet');
  });
});
