/**
 * Issue 4's ground truth: 20,000 sessions whose QoE is known by construction go through the
 * real pipeline (Kafka -> sessionize -> playback.sessions -> qoe -> ClickHouse), delivered
 * out of order and with duplicates, and every number in the window aggregates must equal
 * the truth exactly (sums and counts; the time-weighted bitrate to float precision).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startRoles } from '../cli/commands/run.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { openClickHouse, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { schema as eventSchema, type PlaybackEvent } from '../schemas/generated/playback-event.ts';
import { deleteTopics, testConfig } from './support/stack.ts';
import { aggregateTruth, generateWorkload } from './support/workload.ts';

const SESSIONS = 20_000;
const config = testConfig('truth', {
  processors: {
    windowSizesSec: [10, 60],
    tickIntervalMs: 500,
    sessionize: { checkpointIntervalMs: 1_000, idleAdvanceMs: 2_000 },
  },
});
const t = config.topics;

afterAll(async () => {
  await deleteTopics(config, [
    t.events,
    t.eventsDlq,
    t.sessions,
    `${t.sessions}.dlq`,
    t.allocations,
    `${t.allocations}.dlq`,
    t.steering,
    t.abr,
  ]);
});

interface Row {
  k: string;
  sessions: number;
  attempts: number;
  plays: number;
  ebvs: number;
  vsf: number;
  vpf: number;
  startups: number;
  startup_ms_sum: number;
  play_ms: number;
  stall_ms: number;
  stalls: number;
  bitrate_kbps_ms: number;
  switches_up: number;
  switches_down: number;
}

describe('processors against a known truth (real Kafka, registry, ClickHouse)', () => {
  it(`turns ${SESSIONS} sessions into exactly the expected aggregates`, async () => {
    const workload = generateWorkload({
      sessions: SESSIONS,
      seed: 42,
      startMs: Date.UTC(2026, 10, 26, 12),
      spreadMs: 600_000,
      duplicateShare: 0.01,
      reorderJitterMs: 3_000,
    });
    const proc = await startRoles(config, 'processors', silentLogger);
    try {
      const codec = await AvroCodec.register<PlaybackEvent>(
        createRegistry(config.registry.url),
        t.events,
        eventSchema,
      );
      const producer = createKafka(config.kafka).producer({ idempotent: true });
      await producer.connect();
      for (let i = 0; i < workload.events.length; i += 5_000) {
        const chunk = workload.events.slice(i, i + 5_000);
        await producer.send({
          topic: t.events,
          acks: -1,
          messages: chunk.map((e) => ({ key: e.sessionId, value: codec.encode(e) })),
        });
      }
      await producer.disconnect();

      const ch = openClickHouse({ ...config.clickhouse, dataDir: config.dataDir });
      const db = ch.database;
      await pollUntil(
        async () => {
          const [row] = await queryRows<{ n: number }>(
            ch.client,
            `SELECT count() AS n FROM ${db}.sessions FINAL`,
          );
          return row?.n === SESSIONS ? true : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 1_000, what: `${SESSIONS} sessions in ClickHouse` },
      );
      // The last windows are recomputed on the tick after their sessions land.
      const expected = aggregateTruth(workload.truth, 60);
      const read = async (): Promise<Row[]> =>
        queryRows<Row>(
          ch.client,
          `SELECT concat(toString(toUnixTimestamp(window_start)), '|', oca_id, '|', isp, '|', region, '|', device_class, '|', title_id) AS k,
                  sessions, attempts, plays, ebvs, vsf, vpf, startups, startup_ms_sum, play_ms, stall_ms, stalls,
                  bitrate_kbps_ms, switches_up, switches_down
           FROM ${db}.qoe_windows FINAL WHERE window_sec = 60`,
        );
      const rows = await pollUntil(
        async () => {
          const r = await read();
          return r.reduce((n, x) => n + x.sessions, 0) === SESSIONS ? r : undefined;
        },
        { timeoutMs: 30_000, what: 'every session in a 60 s window' },
      );
      expect(rows.length).toBe(expected.size);
      for (const row of rows) {
        const truth = expected.get(row.k);
        expect(truth, row.k).toBeDefined();
        if (!truth) continue;
        expect(
          [
            row.sessions,
            row.attempts,
            row.plays,
            row.ebvs,
            row.vsf,
            row.vpf,
            row.startups,
            row.startup_ms_sum,
            row.play_ms,
            row.stall_ms,
            row.stalls,
            row.switches_up,
            row.switches_down,
          ],
          row.k,
        ).toEqual([
          truth.sessions,
          truth.attempts,
          truth.plays,
          truth.ebvs,
          truth.vsf,
          truth.vpf,
          truth.startups,
          truth.startupMsSum,
          truth.playMs,
          truth.stallMs,
          truth.stalls,
          truth.switchesUp,
          truth.switchesDown,
        ]);
        // Float sums in a different order: equal to 1e-9 relative.
        expect(Math.abs(row.bitrate_kbps_ms - truth.bitrateKbpsMs)).toBeLessThanOrEqual(
          1e-9 * Math.max(1, truth.bitrateKbpsMs),
        );
      }
      // Headline totals, as a reader would check them.
      const [totals] = await queryRows<{ ebvs: number; vsf: number; vpf: number; attempts: number }>(
        ch.client,
        `SELECT sum(ebvs) AS ebvs, sum(vsf) AS vsf, sum(vpf) AS vpf, sum(attempts) AS attempts FROM ${db}.qoe_windows FINAL WHERE window_sec = 10`,
      );
      expect(totals).toEqual({
        ebvs: workload.truth.filter((x) => x.ebvs).length,
        vsf: workload.truth.filter((x) => x.vsf).length,
        vpf: workload.truth.filter((x) => x.vpf).length,
        attempts: SESSIONS,
      });
      await ch.close();
      // Nothing in this workload is later than the allowed lateness: no dead letters.
      const admin = createKafka(config.kafka).admin();
      await admin.connect();
      const dlq = await admin.fetchTopicOffsets(t.eventsDlq);
      await admin.disconnect();
      expect(dlq.map((p) => p.high)).toEqual(['0']);
    } finally {
      await proc.stop();
    }
  });
});
