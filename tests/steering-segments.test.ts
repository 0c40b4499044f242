/**
 * Segment-level steering evidence on the real broker, registry and ClickHouse: playback
 * events go to the events topic as ingest writes them; the steering processor's own consumer
 * copies them into steering_segments, and its tick (test clock) judges OCAs from them alone
 * (no sessions at all: no QoE window evidence).
 *
 * oca-b turns slow and erroring from window 3, and each of its sessions then fails over to
 * oca-c for its last segments. Checked against sums tallied here while generating the events:
 * the per-window cells the tick reads (errors attributed to the OCA that failed, not to the
 * one the session ended on), oca-b degraded exactly when its third bad window closes, oca-c
 * never moved, and a replay of the topic by a second consumer changes no number.
 */

import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { ProcessorRunner } from '../processors/runtime/partition-consumer.ts';
import { type SteeringProcessor, startSteeringProcessor } from '../processors/steering/processor.ts';
import type { SegmentSums } from '../processors/steering/segment-health.ts';
import { SegmentSink } from '../processors/steering/segment-sink.ts';
import { readSegmentCells } from '../processors/steering/segments-source.ts';
import { fragErrorPayload, playbackEvent, segmentPayload } from '../processors/steering/testing.ts';
import { schema as eventSchema, type PlaybackEvent } from '../schemas/generated/playback-event.ts';
import { deleteTopics, steeringTestConfig } from './support/stack.ts';

const config = steeringTestConfig('steerseg');
const W = 10_000;
const T0 = Math.floor((Date.now() - 3_600_000) / W) * W;
const OCAS = ['oca-a', 'oca-b', 'oca-c'] as const;
const ISP = 'AS3320';
const REGION = 'eu-central';
// Above the default minimum of 20 sessions per side for the segment signals.
const SESSIONS_PER_OCA = 24;
const SEGMENT_BYTES = 750_000;

let ch: ClickHouse | undefined;
let processor: SteeringProcessor | undefined;
let replay: ProcessorRunner | undefined;

afterAll(async () => {
  await replay?.stop();
  await processor?.stop();
  await ch?.close();
  await deleteTopics(config, [config.topics.steering, config.topics.events]);
});

/** OCA -> session -> what that session did on that OCA in the window. */
type Tally = Record<
  string,
  Record<string, { segments: number; failures: number; bytes: number; downloadMs: number }>
>;

/** The cell a tally says the reader must return: sums, sessions and log throughputs. */
function expectedCell(bySession: Tally[string]): SegmentSums {
  const sessions = Object.values(bySession);
  const logs = sessions.filter((x) => x.downloadMs > 0).map((x) => Math.log((x.bytes * 8) / x.downloadMs));
  return {
    segments: sessions.reduce((a, x) => a + x.segments, 0),
    failures: sessions.reduce((a, x) => a + x.failures, 0),
    bytes: sessions.reduce((a, x) => a + x.bytes, 0),
    downloadMs: sessions.reduce((a, x) => a + x.downloadMs, 0),
    sessions: sessions.length,
    tputSessions: logs.length,
    logKbpsSum: logs.reduce((a, x) => a + x, 0),
    logKbpsSumSq: logs.reduce((a, x) => a + x * x, 0),
  };
}

/**
 * One window of events. Each session: a play intent naming its OCA, then 5 segment
 * downloads. A degraded oca-b session: one load error (before its first download or after
 * its last oca-b one), 3 slow downloads from oca-b, then 2 downloads from oca-c (its
 * failover), so the session ends on oca-c.
 */
function windowEvents(w: number, bDegraded: boolean): { events: PlaybackEvent[]; tally: Tally } {
  const tally: Tally = {};
  const add = (oca: string, session: string, s: Partial<SegmentSums>): void => {
    const byOca = tally[oca] ?? {};
    tally[oca] = byOca;
    const t = byOca[session] ?? { segments: 0, failures: 0, bytes: 0, downloadMs: 0 };
    byOca[session] = {
      segments: t.segments + (s.segments ?? 0),
      failures: t.failures + (s.failures ?? 0),
      bytes: t.bytes + (s.bytes ?? 0),
      downloadMs: t.downloadMs + (s.downloadMs ?? 0),
    };
  };
  const events: PlaybackEvent[] = [];
  for (const oca of OCAS) {
    for (let i = 0; i < SESSIONS_PER_OCA; i++) {
      const sessionId = `w${w}-${oca}-${i}`;
      let seq = 0;
      // Spread over the window; every event of a session lies inside it.
      let t = T0 + w * W + 100 + i * 350;
      const at = () => ({ sessionId, seq: seq++, atMs: t, isp: ISP, region: REGION });
      events.push(
        playbackEvent(at(), {
          kind: 'play_intent',
          playIntent: { autoplay: true, startPositionMs: 0, planId: null, ocaId: oca },
        }),
      );
      const download = (from: string, ms: number): void => {
        t += 50;
        events.push(playbackEvent(at(), segmentPayload(from, SEGMENT_BYTES, ms)));
        add(from, sessionId, { segments: 1, bytes: SEGMENT_BYTES, downloadMs: ms });
      };
      const fail = (on: string): void => {
        t += 50;
        events.push(playbackEvent(at(), fragErrorPayload(503)));
        add(on, sessionId, { failures: 1 });
      };
      if (oca === 'oca-b' && bDegraded) {
        // Every other session fails before its first download (attributed through the play
        // intent), the others after their oca-b downloads (through the latest download).
        if (i % 2 === 0) fail('oca-b');
        // ~2 Mbit/s against ~6 Mbit/s: a third of the rest's throughput.
        for (let k = 0; k < 3; k++) download('oca-b', 3_000 + 100 * k);
        if (i % 2 === 1) fail('oca-b');
        download('oca-c', 1_000);
        download('oca-c', 1_000);
      } else {
        for (let k = 0; k < 5; k++) download(oca, 900 + 40 * ((i + k) % 5));
      }
    }
  }
  return { events, tally };
}

describe('segment-level steering evidence (real Kafka, registry, ClickHouse)', () => {
  it('judges OCAs from segments at download time, attributes failures to the OCA that failed, and is exact under replay', async () => {
    const opened = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    ch = opened.ch;
    const client = ch.client;
    const db = ch.database;
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
    const running = processor;
    const codec = await AvroCodec.register<PlaybackEvent>(registry, config.topics.events, eventSchema);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let produced = 0;
    const tallies: Tally[] = [];

    const rowsInClickHouse = async (): Promise<number> =>
      Number(
        (await queryRows<{ n: number }>(client, `SELECT count() AS n FROM ${db}.steering_segments FINAL`))[0]
          ?.n ?? 0,
      );

    async function window(w: number, bDegraded: boolean): Promise<void> {
      const { events, tally } = windowEvents(w, bDegraded);
      tallies[w] = tally;
      await producer.send({
        topic: config.topics.events,
        acks: -1,
        messages: events.map((e) => ({ key: e.sessionId, value: codec.encode(e) })),
      });
      produced += events.length;
      await pollUntil(async () => ((await rowsInClickHouse()) === produced ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: `window ${w}'s ${events.length} rows in steering_segments`,
      });
      now = T0 + (w + 1) * W;
      await pollUntil(async () => (running.status().processedThrough === T0 + w * W ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: `window ${w} processed`,
      });
    }

    for (let w = 0; w < 3; w++) await window(w, false);
    await window(3, true);
    await window(4, true);
    const globalVersion = async (): Promise<
      Array<{ version: number; kind: string; oca_id: string; to_state: string }>
    > =>
      queryRows(
        client,
        `SELECT version, kind, oca_id, to_state FROM ${db}.steering_changes FINAL WHERE scope = 'global' ORDER BY version, oca_id`,
      );
    // Two bad windows: not yet.
    expect((await globalVersion()).map((c) => c.kind)).toEqual(['initial']);
    await window(5, true);
    const changes = await globalVersion();
    expect(changes.map((c) => [c.version, c.kind, c.oca_id, c.to_state])).toEqual([
      [1, 'initial', '', ''],
      [2, 'state', 'oca-b', 'degraded'],
    ]);
    const reason = (
      await queryRows<{ reason: string; window_start: number }>(
        client,
        `SELECT reason, toUnixTimestamp64Milli(window_start) AS window_start FROM ${db}.steering_changes FINAL WHERE scope = 'isp:${ISP}' AND kind = 'state'`,
      )
    )[0];
    expect(reason?.reason).toMatch(
      /^oca-b degraded \(was healthy\): segment (throughput|failure rate) .+ for 3 windows$/,
    );
    expect(Number(reason?.window_start)).toBe(T0 + 3 * W);

    // The cells the tick reads are the tallies, errors on the OCA that failed.
    const cells = await readSegmentCells(client, db, {
      windowMs: W,
      fromMs: T0,
      toMs: T0 + 5 * W,
      lookbackMs: config.feedback.steering.segments.attributionLookbackMs,
    });
    for (let w = 0; w <= 5; w++) {
      const got = cells.get(T0 + w * W) ?? [];
      const tally = tallies[w] ?? {};
      expect(got.map((c) => c.ocaId)).toEqual(Object.keys(tally).sort());
      for (const c of got) {
        const want = expectedCell(tally[c.ocaId] ?? {});
        expect([c.isp, c.region]).toEqual([ISP, REGION]);
        expect([c.segments, c.failures, c.bytes, c.downloadMs, c.sessions, c.tputSessions]).toEqual([
          want.segments,
          want.failures,
          want.bytes,
          want.downloadMs,
          want.sessions,
          want.tputSessions,
        ]);
        expect(c.logKbpsSum).toBeCloseTo(want.logKbpsSum, 9);
        expect(c.logKbpsSumSq).toBeCloseTo(want.logKbpsSumSq, 9);
      }
    }
    const last = tallies[5] ?? {};
    expect(expectedCell(last['oca-b'] ?? {}).failures).toBe(SESSIONS_PER_OCA);
    expect(expectedCell(last['oca-c'] ?? {}).failures).toBe(0);
    // oca-c served its own sessions and every failed-over one.
    expect(expectedCell(last['oca-c'] ?? {}).sessions).toBe(2 * SESSIONS_PER_OCA);

    // A replay: a second consumer reads the whole topic again and writes every row again.
    const before = await queryRows<{ k: string; n: number; b: number }>(
      client,
      `SELECT kind AS k, count() AS n, sum(bytes) AS b FROM ${db}.steering_segments FINAL GROUP BY k ORDER BY k`,
    );
    const metrics = new Registry();
    const sink = new SegmentSink({ client, database: db, codec, maxBufferedRows: 1_000, metrics });
    replay = new ProcessorRunner(kafka, sink, {
      groupId: `${config.processors.groupPrefix}.replay`,
      topics: [config.topics.events],
      tickIntervalMs: 200,
      metrics,
      log: silentLogger,
    });
    await replay.start();
    const written = async (): Promise<number> =>
      Number(
        (await metrics.getSingleMetricAsString('playloop_steering_segment_rows_written_total'))
          .split(' ')
          .at(-1),
      );
    await pollUntil(async () => ((await written()) >= produced ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'the replay to write every row again',
    });
    const after = await queryRows<{ k: string; n: number; b: number }>(
      client,
      `SELECT kind AS k, count() AS n, sum(bytes) AS b FROM ${db}.steering_segments FINAL GROUP BY k ORDER BY k`,
    );
    expect(after).toEqual(before);
    expect(await rowsInClickHouse()).toBe(produced);
    expect(running.status().failure).toBeUndefined();
    await producer.disconnect();
  });
});
