/**
 * Issue 4's chaos test: while the known-truth workload flows, the processors process is
 * killed with SIGKILL at random points (at least 5 times) and restarted, and the broker is
 * restarted once. The final ClickHouse numbers must still equal the truth exactly: nothing
 * lost, nothing counted twice.
 *
 * The processors run as a child process (`playloop run --roles processors`) with embedded
 * ClickHouse in a data directory of its own; the test reads that directory once the child
 * has stopped for good.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { pollUntil, sleep } from '../core/retry.ts';
import { createRng } from '../experiments/stats/prng.ts';
import { openClickHouse, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { schema as eventSchema, type PlaybackEvent } from '../schemas/generated/playback-event.ts';
import { kafkaDown, kafkaUp } from '../stack/kafka.ts';
import { loadStackSettings } from '../stack/settings.ts';
import { deleteTopics, testConfig } from './support/stack.ts';
import { aggregateTruth, generateWorkload } from './support/workload.ts';

const SESSIONS = 20_000;
const KILLS = 5;
const dataDir = mkdtempSync(join(tmpdir(), 'playloop-chaos-'));
const config = testConfig('chaos', {
  processors: {
    windowSizesSec: [10, 60],
    tickIntervalMs: 500,
    sessionize: { checkpointIntervalMs: 1_000, idleAdvanceMs: 2_000 },
  },
});
const t = config.topics;
const configFile = join(dataDir, 'playloop.yaml');
writeFileSync(
  configFile,
  stringify({
    topics: { ...t },
    clickhouse: { database: config.clickhouse.database },
    processors: {
      groupPrefix: config.processors.groupPrefix,
      // 10 s windows too: the steering processor in the same role reads them.
      windowSizesSec: [10, 60],
      tickIntervalMs: 500,
      sessionize: { checkpointIntervalMs: 1_000, idleAdvanceMs: 2_000 },
    },
  }),
);
const log: string[] = [];
const say = (line: string): void => {
  log.push(`${new Date().toISOString()} ${line}`);
};

function startChild(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'run', '--roles', 'processors'], {
    env: {
      ...process.env,
      PLAYLOOP_CONFIG: configFile,
      PLAYLOOP_DATA_DIR: dataDir,
      PLAYLOOP_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => say(`child: ${d.toString().trim().slice(0, 300)}`));
  say(`started processors pid ${child.pid}`);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

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

describe('processors under kill -9 and a broker restart', () => {
  it('still produce exactly the known truth', { timeout: 480_000 }, async () => {
    const rng = createRng(2026);
    const workload = generateWorkload({
      sessions: SESSIONS,
      seed: 99,
      startMs: Date.UTC(2026, 10, 26, 13),
      spreadMs: 600_000,
      duplicateShare: 0.01,
      reorderJitterMs: 3_000,
    });
    const codec = await AvroCodec.register<PlaybackEvent>(
      createRegistry(config.registry.url),
      t.events,
      eventSchema,
    );
    const kafka = createKafka(config.kafka, { retry: { retries: 30, maxRetryTime: 2_000 } });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();

    let child = startChild();
    const chunks = 24;
    const per = Math.ceil(workload.events.length / chunks);
    // Kill points and the broker restart, spread over the production.
    const killAt = new Set<number>();
    while (killAt.size < KILLS) killAt.add(1 + Math.floor(rng.uniform() * (chunks - 2)));
    const brokerRestartAt = [...Array(chunks).keys()].find((c) => c > 3 && !killAt.has(c)) ?? 5;
    let kills = 0;
    for (let c = 0; c < chunks; c++) {
      const chunk = workload.events.slice(c * per, (c + 1) * per);
      await producer.send({
        topic: t.events,
        acks: -1,
        messages: chunk.map((e) => ({ key: e.sessionId, value: codec.encode(e) })),
      });
      if (killAt.has(c)) {
        // Let it work for a random moment, then kill it mid-flight.
        await sleep(500 + Math.floor(rng.uniform() * 3_000));
        child.kill('SIGKILL');
        await exited(child);
        kills += 1;
        say(`SIGKILL #${kills}`);
        child = startChild();
      }
      if (c === brokerRestartAt) {
        const stack = loadStackSettings();
        say('broker restart: down');
        await kafkaDown(stack, say);
        await sleep(2_000);
        await kafkaUp(stack, say);
        say('broker restart: up');
      }
      await sleep(300);
    }
    await producer.disconnect();
    say('all events produced');
    expect(kills).toBe(KILLS);

    // Done when both groups have committed everything and the sessions topic is still.
    const admin = kafka.admin();
    await admin.connect();
    const committed = async (groupId: string, topic: string): Promise<bigint> => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? []).reduce((n, p) => n + BigInt(Math.max(0, Number(p.offset))), 0n);
    };
    const high = async (topic: string): Promise<bigint> =>
      (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + BigInt(p.high), 0n);
    let stableSince = 0;
    let lastSessionsHigh = -1n;
    await pollUntil(
      async () => {
        const eventsDone =
          (await committed(`${config.processors.groupPrefix}.sessionize`, t.events)) ===
          (await high(t.events));
        const sessionsHigh = await high(t.sessions);
        const qoeDone =
          (await committed(`${config.processors.groupPrefix}.qoe`, t.sessions)) === sessionsHigh;
        if (sessionsHigh !== lastSessionsHigh) {
          lastSessionsHigh = sessionsHigh;
          stableSince = Date.now();
        }
        return eventsDone && qoeDone && Date.now() - stableSince > 5_000 ? true : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1_000, what: 'the processors to catch up after the chaos' },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${log.slice(-40).join('\n')}`);
    });
    await admin.disconnect();
    child.kill('SIGTERM');
    await exited(child);

    const ch = openClickHouse({ ...config.clickhouse, dataDir });
    const [count] = await queryRows<{ n: number }>(
      ch.client,
      `SELECT count() AS n FROM ${ch.database}.sessions FINAL`,
    );
    expect(count?.n).toBe(SESSIONS);
    const expected = aggregateTruth(workload.truth, 60);
    const rows = await queryRows<{ k: string; v: number[] }>(
      ch.client,
      `SELECT concat(toString(toUnixTimestamp(window_start)), '|', oca_id, '|', isp, '|', region, '|', device_class, '|', title_id) AS k,
              [sessions, attempts, plays, ebvs, vsf, vpf, startups, startup_ms_sum, play_ms, stall_ms, stalls, switches_up, switches_down] AS v
       FROM ${ch.database}.qoe_windows FINAL WHERE window_sec = 60`,
    );
    expect(rows.length).toBe(expected.size);
    let mismatches = 0;
    for (const row of rows) {
      const x = expected.get(row.k);
      const want = x && [
        x.sessions,
        x.attempts,
        x.plays,
        x.ebvs,
        x.vsf,
        x.vpf,
        x.startups,
        x.startupMsSum,
        x.playMs,
        x.stallMs,
        x.stalls,
        x.switchesUp,
        x.switchesDown,
      ];
      if (JSON.stringify(row.v.map(Number)) !== JSON.stringify(want)) mismatches += 1;
    }
    expect(mismatches, log.join('\n')).toBe(0);
    console.log(log.filter((l) => !l.includes('child:')).join('\n'));
    await ch.close();
  });
});
