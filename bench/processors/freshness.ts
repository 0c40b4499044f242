/**
 * Freshness: how long after a session's session_end is produced the session counts in the
 * window aggregate (`qoe_windows`, the smallest window size), at a steady event rate.
 *
 * Three processes: this child runs the processors role (as `playloop run` would) and watches
 * ClickHouse; a producer child plays workload sessions paced by the wall clock (each event
 * sent when its event time comes, so event time is now); a raw consumer child, the
 * baseline, consumes and decodes the same topic with plain kafkajs and notes when each
 * session_end arrives.
 *
 * Visible means a reader can see it: every 200 ms this child lists the window aggregates
 * written since the last look (each recomputation of a window is a new row with its
 * `materialized_at`). A session is in the aggregate from the first recomputation of its window
 * that started after its row was written to `sessions` (`written_at`, stamped by ClickHouse
 * on insert), and visible from the moment that recomputation was first seen. So a freshness
 * is at most one poll interval late, never early.
 *
 * The lower bound is the allowed lateness: a session is final only once its partition's
 * watermark (newest event time minus allowedLatenessMs) has passed its end.
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Histogram, Registry } from 'prom-client';
import { startRoles } from '../../cli/commands/run.ts';
import { createLogger } from '../../core/log.ts';
import { sleep } from '../../core/retry.ts';
import { openClickHouse, queryRows } from '../../infra/clickhouse.ts';
import { createKafka } from '../../infra/kafka.ts';
import { windowStartSec } from '../../processors/qoe/windows.ts';
import {
  configOf,
  cpuByThreadName,
  cpuMs,
  metricSum,
  monotonicUs,
  type Overrides,
  progress,
  startChild,
  type ThreadCpu,
  threadCpu,
  threadCpuSince,
} from './common.ts';
import type { ProducerResult, ProducerSpec, RawConsumerResult } from './feed.ts';

export interface FreshnessSpec {
  readonly overrides: Overrides;
  readonly eventsPerSecond: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Production goes on this long after the measured span, so its sessions close in-stream. */
  readonly tailMs: number;
  readonly seed: number;
  readonly pollIntervalMs: number;
}

export interface Quantiles {
  /** Sessions measured; `missing` of them never seen, which rank above every seen one. */
  readonly n: number;
  readonly missing: number;
  /** null: the percentile falls among the sessions never seen. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface FreshnessResult {
  readonly allowedLatenessMs: number;
  readonly targetEventsPerSecond: number;
  readonly windowSec: number;
  readonly producer: ProducerResult;
  /** Session_end produced -> session counted in the window aggregate. */
  readonly aggregate: Quantiles;
  /** Session_end produced -> session row in `sessions`. */
  readonly sessionRow: Quantiles;
  /** Session_end produced -> consumed and decoded by a plain kafkajs consumer. */
  readonly rawConsume: Quantiles;
  /** Measured sessions never seen in the aggregate (counted as infinitely late above). */
  readonly missing: number;
  /** Largest backlog seen (broker high watermarks minus records read), per processor. */
  readonly maxLag: { readonly sessionize: number; readonly qoe: number };
  /** CPU of the processors process over the production span, in cores. */
  readonly processorsCores: number;
  /** The same CPU split by thread kind (ms over the span); null where /proc is not there. */
  readonly processorsThreads: ThreadCpu | null;
  readonly rssMaxBytes: number;
  /** Monotonic µs of the production span, to cut a CPU profile to it. */
  readonly spanUs: { readonly from: number; readonly to: number };
  /** The watcher's own cost: its 200 ms looks at qoe_windows, and the rows they scan at the end. */
  readonly watcher: {
    readonly looks: number;
    readonly meanMs: number;
    readonly maxMs: number;
    readonly qoeWindowRows: number;
  };
  /** CPU ms over the span by thread name (/proc comm), largest first: which pools are busy. */
  readonly threadsByName: Readonly<Record<string, number>>;
  /** The qoe processor's cycles over the whole run (playloop_qoe_cycle_seconds), by kind. */
  readonly qoeCycles: Readonly<Record<string, CycleStats>>;
}

/** Cycles of one kind: how many and how long (ms) on average. */
export interface CycleStats {
  readonly count: number;
  readonly meanMs: number;
}

/** Count and mean of a histogram per value of its `kind` label; empty if it is not there. */
async function cycleStats(metrics: Registry): Promise<Record<string, CycleStats>> {
  const metric = metrics.getSingleMetric('playloop_qoe_cycle_seconds');
  if (!(metric instanceof Histogram)) return {};
  const sums = new Map<string, { sum: number; count: number }>();
  for (const v of (await metric.get()).values) {
    const kind = String(v.labels['kind'] ?? '');
    const entry = sums.get(kind) ?? { sum: 0, count: 0 };
    if (v.metricName?.endsWith('_sum')) entry.sum += v.value;
    else if (v.metricName?.endsWith('_count')) entry.count += v.value;
    sums.set(kind, entry);
  }
  const out: Record<string, CycleStats> = {};
  for (const [kind, { sum, count }] of sums) {
    out[kind] = { count, meanMs: count === 0 ? 0 : (1_000 * sum) / count };
  }
  return out;
}

const showCycles = (c: Readonly<Record<string, CycleStats>>): string =>
  Object.entries(c)
    .map(([kind, x]) => `${x.count} ${kind} cycles of ${x.meanMs.toFixed(0)} ms`)
    .join(', ');

function quantiles(values: number[], missing = 0): Quantiles {
  const sorted = values.sort((a, b) => a - b);
  const n = sorted.length + missing;
  // Nearest rank over seen and missing together; a rank past the seen ones is a missing one.
  const at = (q: number): number | null => {
    const rank = Math.max(1, Math.ceil(q * n));
    return rank <= sorted.length ? sorted[rank - 1]! : null;
  };
  return { n, missing, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: n === 0 ? null : at(1) };
}

export async function freshnessChild(spec: FreshnessSpec): Promise<FreshnessResult> {
  const config = configOf(spec.overrides);
  const log = createLogger({ level: 'warn', name: 'bench-processors' });
  const proc = await startRoles(config, 'processors', log);
  const role = proc.roles[0];
  const metrics =
    role !== undefined && 'metrics' in role && role.metrics instanceof Registry ? role.metrics : undefined;
  if (metrics === undefined) throw new Error('the processors role exposes no metrics registry');
  const ch = openClickHouse({ ...config.clickhouse, dataDir: config.dataDir });
  const db = ch.database;
  const windowSec = Math.min(...config.processors.windowSizesSec);
  const tag = `${process.pid}`;
  const endsFile = join(tmpdir(), `playloop-bench-ends-${tag}.tsv`);
  const rawFile = join(tmpdir(), `playloop-bench-raw-${tag}.tsv`);
  const raw = startChild<RawConsumerResult>('raw-consumer', { overrides: spec.overrides, file: rawFile });
  const producer = startChild<ProducerResult>('producer', {
    overrides: spec.overrides,
    eventsPerSecond: spec.eventsPerSecond,
    runMs: spec.warmupMs + spec.measureMs + spec.tailMs,
    seed: spec.seed,
    file: endsFile,
  } satisfies ProducerSpec);
  let produced: ProducerResult | undefined;
  let producerFailed = false;
  void producer.result.then(
    (r) => {
      produced = r;
    },
    () => {
      producerFailed = true;
    },
  );
  // Backlogs from the broker's high watermarks (the lag gauge only moves when a batch ends).
  const admin = createKafka(config.kafka).admin();
  await admin.connect();
  const backlog = async (topic: string, read: number): Promise<number> => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high), 0) - read;
  };

  // Recomputations of windows as a reader sees them: `${windowStart}:${materializedAtMs}` ->
  // when first seen.
  const seen = new Map<string, number>();
  const byWindow = new Map<number, Array<{ m: number; seenAt: number }>>();
  let since = 0;
  const looks = { n: 0, totalMs: 0, maxMs: 0 };
  const look = async (): Promise<void> => {
    const began = performance.now();
    // Integers written into the text, not query parameters: embedded chDB runs parameterised
    // queries one at a time for the whole process, so the look would queue behind the
    // processors' own (checkpoints, outcomes) and see recomputations late.
    const rows = await queryRows<{ ws: number; m: number }>(
      ch.client,
      `SELECT toUnixTimestamp(window_start) AS ws, toUnixTimestamp64Milli(materialized_at) AS m
       FROM ${db}.qoe_windows
       WHERE window_sec = ${Math.trunc(windowSec)} AND materialized_at >= fromUnixTimestamp64Milli(${Math.trunc(since)})
       GROUP BY ws, m`,
    );
    const now = Date.now();
    for (const r of rows) {
      const key = `${r.ws}:${r.m}`;
      if (seen.has(key)) continue;
      seen.set(key, now);
      let list = byWindow.get(r.ws);
      if (list === undefined) {
        list = [];
        byWindow.set(r.ws, list);
      }
      list.push({ m: r.m, seenAt: now });
      if (r.m > since) since = r.m;
    }
    const tookMs = performance.now() - began;
    looks.n++;
    looks.totalMs += tookMs;
    looks.maxMs = Math.max(looks.maxMs, tookMs);
  };

  const maxLag = { sessionize: 0, qoe: 0 };
  let rssMax = 0;
  let cpuStart = 0;
  let threadsStart: ThreadCpu | undefined;
  let threads: ThreadCpu | undefined;
  let namesStart = new Map<string, number>();
  const threadsByName: Record<string, number> = {};
  let wallStart = 0;
  let cpuEnd = 0;
  let wallEnd = 0;
  let fromUs = 0;
  let toUs = 0;
  let lastWritten = -1;
  let writtenStableSince = 0;
  let lastBacklogAt = 0;
  const lag = { sessionize: 0, qoe: 0 };
  let lastProgress = Date.now();
  const deadline = Date.now() + spec.warmupMs + spec.measureMs + spec.tailMs + 240_000;
  try {
    for (;;) {
      await look();
      const read = await metricSum(metrics, 'playloop_processor_records_total', { processor: 'sessionize' });
      const readQ = await metricSum(metrics, 'playloop_processor_records_total', { processor: 'qoe' });
      const written = await metricSum(metrics, 'playloop_qoe_session_rows_written_total');
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
      const now = Date.now();
      if (now - lastBacklogAt >= 1_000) {
        lastBacklogAt = now;
        lag.sessionize = await backlog(config.topics.events, read);
        lag.qoe = await backlog(config.topics.sessions, readQ);
        maxLag.sessionize = Math.max(maxLag.sessionize, lag.sessionize);
        maxLag.qoe = Math.max(maxLag.qoe, lag.qoe);
      }
      if (cpuStart === 0 && read > 0) {
        cpuStart = cpuMs();
        threadsStart = threadCpu();
        namesStart = cpuByThreadName();
        wallStart = now;
        fromUs = monotonicUs();
      }
      const done = produced !== undefined || producerFailed;
      if (done && cpuEnd === 0) {
        cpuEnd = cpuMs();
        threads = threadCpuSince(threadsStart);
        const names = [...cpuByThreadName()].map(([n, ms]): [string, number] => [
          n,
          ms - (namesStart.get(n) ?? 0),
        ]);
        for (const [n, ms] of names.sort((a, b) => b[1] - a[1])) if (ms > 0) threadsByName[n] = ms;
        wallEnd = now;
        toUs = monotonicUs();
      }
      if (now - lastProgress > 15_000) {
        lastProgress = now;
        progress(
          `freshness: ${read.toLocaleString('en-US')} events read, ${written.toLocaleString('en-US')} sessions written, ${seen.size} window recomputations seen; lag sessionize ${lag.sessionize} qoe ${lag.qoe}; ${showCycles(await cycleStats(metrics))}; load ${loadavg()[0]?.toFixed(1)}`,
        );
      }
      if (written !== lastWritten) {
        lastWritten = written;
        writtenStableSince = now;
      }
      // Done once sessionize has read every event and no session row has come for a while.
      if (
        producerFailed ||
        (produced !== undefined &&
          read >= produced.events &&
          now - writtenStableSince > 3 * config.processors.tickIntervalMs + 2_000)
      ) {
        break;
      }
      if (now > deadline) {
        progress('freshness: gave up waiting for the processors to catch up');
        break;
      }
      await sleep(spec.pollIntervalMs);
    }
    const producedResult = await producer.result;
    raw.kill('SIGTERM');
    const rawResult = await raw.result;

    // Sessions whose session_end was produced within the measured span.
    const measureFrom = producedResult.startedAtMs + spec.warmupMs;
    const measureTo = measureFrom + spec.measureMs;
    const ends = new Map<string, number>();
    for (const line of readFileSync(endsFile, 'utf8').split('\n')) {
      if (line === '') continue;
      const [id, at] = line.split('\t');
      const t = Number(at);
      if (id !== undefined && t >= measureFrom && t < measureTo) ends.set(id, t);
    }
    const rawAt = new Map<string, number>();
    for (const line of readFileSync(rawFile, 'utf8').split('\n')) {
      if (line === '') continue;
      const [id, at] = line.split('\t');
      if (id !== undefined && ends.has(id) && !rawAt.has(id)) rawAt.set(id, Number(at));
    }
    const rows = await queryRows<{ id: string; w: number; e: number }>(
      ch.client,
      `SELECT session_id AS id, toUnixTimestamp64Milli(min(written_at)) AS w,
              toUnixTimestamp64Milli(min(end_time)) AS e
       FROM ${db}.sessions GROUP BY session_id`,
    );
    const aggregate: number[] = [];
    const sessionRow: number[] = [];
    const rawConsume: number[] = [];
    let missing = 0;
    const visibleRow = new Map(rows.map((r) => [r.id, r]));
    for (const [id, producedAt] of ends) {
      const r = rawAt.get(id);
      if (r !== undefined) rawConsume.push(r - producedAt);
      const row = visibleRow.get(id);
      if (row === undefined) {
        missing++;
        continue;
      }
      sessionRow.push(row.w - producedAt);
      const recomputations = byWindow.get(windowStartSec(row.e, windowSec)) ?? [];
      let visibleAt = Number.POSITIVE_INFINITY;
      for (const x of recomputations) if (x.m >= row.w && x.seenAt < visibleAt) visibleAt = x.seenAt;
      if (Number.isFinite(visibleAt)) aggregate.push(visibleAt - producedAt);
      else missing++;
    }
    if (rawResult.records === 0) progress('freshness: the raw consumer saw nothing');
    const [windowRows] = await queryRows<{ n: number }>(
      ch.client,
      `SELECT count() AS n FROM ${db}.qoe_windows WHERE window_sec = ${Math.trunc(windowSec)}`,
    );
    return {
      allowedLatenessMs: config.processors.sessionize.allowedLatenessMs,
      targetEventsPerSecond: spec.eventsPerSecond,
      windowSec,
      producer: producedResult,
      aggregate: quantiles(aggregate, missing),
      sessionRow: quantiles(sessionRow),
      rawConsume: quantiles(rawConsume, ends.size - rawConsume.length),
      missing,
      maxLag,
      processorsCores: wallEnd > wallStart ? (cpuEnd - cpuStart) / (wallEnd - wallStart) : Number.NaN,
      processorsThreads: threads ?? null,
      rssMaxBytes: rssMax,
      spanUs: { from: fromUs, to: toUs },
      qoeCycles: await cycleStats(metrics),
      watcher: {
        looks: looks.n,
        meanMs: looks.n === 0 ? 0 : looks.totalMs / looks.n,
        maxMs: looks.maxMs,
        qoeWindowRows: Number(windowRows?.n ?? 0),
      },
      threadsByName,
    };
  } finally {
    raw.kill('SIGTERM');
    await admin.disconnect();
    await ch.close();
    await proc.stop();
    rmSync(endsFile, { force: true });
    rmSync(rawFile, { force: true });
  }
}
