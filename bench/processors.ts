/**
 * `npm run bench -- processors [--events 1000000] [--rate 20000] [--duration 60] [--warmup 15]
 *   [--sessions 1000000] [--lateness 30000,2000] [--only throughput,memory,freshness] [--profile]
 *   [--checkpoint-interval 5000] [--seed 1] [--pipeline-node-args '--trace-gc']`
 *
 * Issue 4's measures of the stream processors, against the real broker and registry and the
 * configured ClickHouse (embedded chDB by default, in a fresh data directory per run):
 *
 * 1. Throughput: ~`events` workload events pre-produced (Avro, keyed by sessionId, to a fresh
 *    topic with the configured partitions), then consumed by (a) the baseline, a plain
 *    kafkajs consumer that decodes every record, and (b) sessionize + qoe on their runners,
 *    wired as the processors role wires them, from the moment sessionize has joined its
 *    group until every session is in `sessions` FINAL and in `qoe_windows`. Events/s per core
 *    = events / CPU seconds of the process (user + system, every thread, embedded ClickHouse
 *    included): the rate one fully busy core would sustain. Wall-clock events/s is shown too,
 *    but the machine is shared and CPU time is the steadier measure. (c) The same bytes in
 *    memory, stage by stage (decode, Sessionizer.add + drain, the per-summary path) show
 *    where the time goes. `--profile` adds a V8 CPU profile of (b), summarised.
 * 2. Memory: a child holding `sessions` open sessions in one Sessionizer (RSS after a forced
 *    GC, against its own RSS before adding them), then one checkpoint of that state.
 * 3. Freshness: the processors role (all of it, as `playloop run --roles processors` starts it)
 *    at a steady `rate` events/s of sessions that end
 *    throughout; for every session ending in the `duration` measured seconds, session_end
 *    produced -> counted in the smallest window aggregate; p50 and p99, once per allowed
 *    lateness in `--lateness` (the lateness is a floor: a session is final only once the
 *    watermark passed its end). Baseline: the same events consumed and decoded by plain
 *    kafkajs, produce -> decoded.
 *
 * `--checkpoint-interval` overrides processors.sessionize.checkpointIntervalMs (a what-if).
 * `--pipeline-node-args '<flags>'` passes Node flags to the throughput pipeline's process, for
 * diagnosis (`--trace-gc`, `--import <a heap-sampling preload>`).
 * About eight minutes with the defaults on a 2-core machine.
 *
 * Results: a table (each row against a baseline measured in this run) and
 * bench/results/processors.json with the raw numbers and settings.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { createKafka, withAdmin } from '../infra/kafka.ts';
import {
  answer,
  configOf,
  findLibuvPool,
  type Overrides,
  progress,
  runOverrides,
  runTopics,
  startChild,
} from './processors/common.ts';
import type { ProducerSpec, RawConsumerSpec } from './processors/feed.ts';
import type { FreshnessResult, FreshnessSpec } from './processors/freshness.ts';
import type { MemoryResult, MemorySpec } from './processors/memory.ts';
import { summariseProcessorsProfile } from './processors/profile.ts';
import type {
  BaselineResult,
  ConsumeSpec,
  FoldResult,
  FoldSpec,
  PipelineResult,
  PipelineSpec,
  Produced,
  StageResult,
} from './processors/throughput.ts';
import { type CpuProfile, type ProfileSummary, printLines } from './profile.ts';
import { type BenchRow, printTable, writeResults } from './report.ts';

const PHASES = ['throughput', 'memory', 'freshness'] as const;
type Phase = (typeof PHASES)[number];

const MiB = 1_048_576;
const EVENTS_PER_CORE_TARGET = 100_000;
const RSS_TARGET_MIB = 1_024;
const FRESHNESS_P99_TARGET_S = 5;

function numberArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number`);
  return value;
}

function listArg(name: string): string[] | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return undefined;
  return (process.argv[at + 1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function deleteRunTopics(overrides: Overrides): Promise<void> {
  const config = configOf(overrides);
  const topics = runTopics(config);
  await withAdmin(createKafka(config.kafka), async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  }).catch((err: unknown) => progress(`could not delete topics: ${String(err)}`));
}

/** The CPU profile a child wrote into `dir` (its only one), cut to `span`. */
function readProfile(dir: string, span: { from: number; to: number }): ProfileSummary | null {
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (name === undefined) return null;
  const raw = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
  return summariseProcessorsProfile(raw, { fromUs: span.from, toUs: span.to });
}

/** Copies a child's raw CPU profile out of its run directory (deleted after the run), for DevTools. */
function keepProfile(dir: string, name: string): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return;
  const to = join(tmpdir(), `playloop-bench-${name}.cpuprofile`);
  copyFileSync(join(dir, file), to);
  progress(`raw CPU profile kept at ${to}`);
}

interface ThroughputOutcome {
  readonly produced: Produced;
  readonly baseline: BaselineResult;
  readonly pipeline: PipelineResult;
  readonly fold: FoldResult;
  readonly profile: ProfileSummary | null;
  readonly loadAverage: readonly number[];
}

async function throughput(
  id: string,
  o: {
    events: number;
    rate: number;
    seed: number;
    profile: boolean;
    nodeArgs: readonly string[];
    sessionize: Record<string, number>;
  },
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'playloop-bench-proc-'));
  const overrides = runOverrides(`${id}_tp`, dataDir, { sessionize: o.sessionize });
  const config = configOf(overrides);
  const file = join(dataDir, 'events.bin');
  const profileDir = join(dataDir, 'profile');
  const loadAverage = loadavg();
  try {
    progress(
      `throughput: producing ~${fmt(o.events)} events to ${config.topics.events} (${config.topics.partitions} partitions)`,
    );
    const { preproduce } = await import('./processors/throughput.ts');
    const produced = await preproduce(config, {
      events: o.events,
      eventsPerSecond: o.rate,
      seed: o.seed,
      file,
    });
    progress(
      `throughput: ${fmt(produced.records)} records (${fmt(produced.sessions)} sessions) produced in ${(produced.produceWallMs / 1_000).toFixed(1)} s`,
    );
    progress('throughput: baseline (kafkajs consume + Avro decode)');
    const baseline = await startChild<BaselineResult>('baseline', {
      overrides,
      records: produced.records,
    } satisfies ConsumeSpec).result;
    progress(`throughput: processors role (sessionize + qoe)${o.profile ? ', CPU-profiled' : ''}`);
    const pipeline = await startChild<PipelineResult>(
      'pipeline',
      { overrides, records: produced.records, sessions: produced.sessions } satisfies PipelineSpec,
      { nodeArgs: [...(o.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...o.nodeArgs] },
    ).result;
    progress('throughput: in-memory decode, fold and summary path');
    const fold = await startChild<FoldResult>('fold', {
      overrides,
      file,
      drainEvery: 1_000,
    } satisfies FoldSpec).result;
    const profile = o.profile ? readProfile(profileDir, pipeline.spanUs) : null;
    return { produced, baseline, pipeline, fold, profile, loadAverage } satisfies ThroughputOutcome;
  } finally {
    await deleteRunTopics(overrides);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function memory(id: string, o: { sessions: number; seed: number }): Promise<MemoryResult> {
  progress(`memory: ${fmt(o.sessions)} open sessions in one Sessionizer (child process, --expose-gc)`);
  return startChild<MemoryResult>(
    'memory',
    {
      overrides: runOverrides(`${id}_mem`, tmpdir()),
      sessions: o.sessions,
      eventsPerSession: 6,
      seed: o.seed,
    } satisfies MemorySpec,
    { nodeArgs: ['--expose-gc'] },
  ).result;
}

async function freshness(
  id: string,
  o: {
    rate: number;
    warmupMs: number;
    measureMs: number;
    latenessMs: number;
    seed: number;
    sessionize: Record<string, number>;
    profile: boolean;
  },
): Promise<FreshnessResult & { loadAverage: readonly number[]; profile: ProfileSummary | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'playloop-bench-proc-'));
  const overrides = runOverrides(`${id}_fr${o.latenessMs}`, dataDir, {
    sessionize: { ...o.sessionize, allowedLatenessMs: o.latenessMs },
  });
  const loadAverage = loadavg();
  const profileDir = join(dataDir, 'profile');
  progress(
    `freshness: ${fmt(o.rate)} events/s for ${(o.warmupMs + o.measureMs) / 1_000} s (+ tail), allowed lateness ${o.latenessMs} ms`,
  );
  try {
    const result = await startChild<FreshnessResult>(
      'freshness',
      {
        overrides,
        eventsPerSecond: o.rate,
        warmupMs: o.warmupMs,
        measureMs: o.measureMs,
        // Sessions ending at the end of the measured span close in-stream, not by idle advance.
        tailMs: o.latenessMs + 5_000,
        seed: o.seed,
        pollIntervalMs: 200,
      } satisfies FreshnessSpec,
      { nodeArgs: o.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [] },
    ).result;
    const profile = o.profile ? readProfile(profileDir, result.spanUs) : null;
    if (o.profile) keepProfile(profileDir, `freshness-${o.latenessMs}`);
    return { ...result, loadAverage, profile };
  } finally {
    await deleteRunTopics(overrides);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function throughputRows(t: ThroughputOutcome): BenchRow[] {
  const { baseline, pipeline, fold } = t;
  const perCore = (records: number, cpu: number): number => (records * 1_000) / cpu;
  const pipelinePerCore = perCore(pipeline.records, pipeline.cpuMs);
  return [
    {
      name: 'sessionize+qoe events/s per core',
      value: pipelinePerCore,
      unit: 'events/s/core',
      baseline: { name: 'kafkajs consume+decode', value: perCore(baseline.records, baseline.cpuMs) },
      higherIsBetter: true,
      target: { value: EVENTS_PER_CORE_TARGET, met: pipelinePerCore >= EVENTS_PER_CORE_TARGET },
      note: `events / process CPU seconds (all threads, embedded ClickHouse included; the broker not): ${fmt(pipeline.records)} events, ${(pipeline.cpuMs / 1_000).toFixed(1)} CPU s over ${(pipeline.wallMs / 1_000).toFixed(1)} s wall = ${(pipeline.cpuMs / pipeline.wallMs).toFixed(2)} cores busy; ${threadSplit(pipeline)} (baseline: ${threadSplit(baseline)})`,
    },
    {
      name: 'sessionize+qoe events/s (wall)',
      value: (pipeline.records * 1_000) / pipeline.wallMs,
      unit: 'events/s',
      baseline: { name: 'kafkajs consume+decode', value: (baseline.records * 1_000) / baseline.wallMs },
      higherIsBetter: true,
      note: `consumer groups joined -> every session in qoe_windows; all events read at ${(pipeline.consumedMs / 1_000).toFixed(1)} s, all sessions FINAL at ${(pipeline.sessionsVisibleMs / 1_000).toFixed(1)} s, windows at ${(pipeline.windowsVisibleMs / 1_000).toFixed(1)} s; load average ${t.loadAverage.map((x) => x.toFixed(1)).join(' ')} (shared machine)`,
    },
    {
      name: 'Sessionizer.add+drain in memory, per core',
      value: perCore(fold.records, fold.fold.cpuMs),
      unit: 'events/s/core',
      baseline: { name: 'Avro decode in memory', value: perCore(fold.records, fold.decode.cpuMs) },
      higherIsBetter: true,
      note: `${fmt(fold.summaries)} summaries from ${fmt(fold.records)} records; ${fold.stats.duplicates} duplicates dropped, ${fold.stats.late} late`,
    },
    {
      name: 'Avro decode of events in memory, per core',
      value: perCore(fold.records, fold.decode.cpuMs),
      unit: 'events/s/core',
      baseline: { name: 'avsc fromBuffer in memory', value: perCore(fold.records, fold.decodeAvsc.cpuMs) },
      higherIsBetter: true,
      note: 'the codec (infra/avro-reader.ts, compiled from the schema) against avsc on the same bytes, both kept alive per 20,000-event chunk',
    },
  ];
}

function breakdown(t: ThroughputOutcome): Record<string, number> {
  const us = (cpu: number, n: number): number => (cpu * 1_000) / n;
  const n = t.pipeline.records;
  const fold = us(t.fold.fold.cpuMs, t.fold.records);
  const summaryPath = us(t.fold.summaryPath.cpuMs, t.fold.records);
  const baseline = us(t.baseline.cpuMs, t.baseline.records);
  const pipeline = us(t.pipeline.cpuMs, n);
  return {
    pipelineUsPerEvent: pipeline,
    // Both from the baseline process, measured together (decode timed around its loops).
    kafkaConsumeUsPerEvent: baseline - us(t.baseline.decodeCpuMs, t.baseline.records),
    avroDecodeUsPerEvent: us(t.baseline.decodeCpuMs, t.baseline.records),
    avroDecodeInMemoryUsPerEvent: us(t.fold.decode.cpuMs, t.fold.records),
    sessionizerFoldUsPerEvent: fold,
    summaryPathUsPerEvent: summaryPath,
    restUsPerEvent: pipeline - baseline - fold - summaryPath,
  };
}

function memoryRows(m: MemoryResult): BenchRow[] {
  const rss = m.after.rssBytes / MiB;
  return [
    {
      name: `RSS with ${fmt(m.sessions)} open sessions`,
      value: rss,
      unit: 'MiB',
      baseline: { name: 'same process before', value: m.before.rssBytes / MiB },
      higherIsBetter: false,
      target: { value: RSS_TARGET_MIB, met: rss <= RSS_TARGET_MIB },
      note: `after a forced GC; ${fmt((m.after.rssBytes - m.before.rssBytes) / m.sessions)} bytes RSS per session, ${m.partitions} partitions, ${m.stats.evictions} evictions`,
    },
    {
      name: `heap used with ${fmt(m.sessions)} open sessions`,
      value: m.after.heapUsedBytes / MiB,
      unit: 'MiB',
      baseline: { name: 'same process before', value: m.before.heapUsedBytes / MiB },
      higherIsBetter: false,
      note: `${fmt((m.after.heapUsedBytes - m.before.heapUsedBytes) / m.sessions)} bytes of heap per open session`,
    },
    {
      name: 'RSS during one checkpoint of them',
      value: m.checkpoint.rssPeakBytes / MiB,
      unit: 'MiB',
      baseline: { name: 'RSS before the checkpoint', value: rss },
      higherIsBetter: false,
      target: { value: RSS_TARGET_MIB, met: m.checkpoint.rssPeakBytes / MiB <= RSS_TARGET_MIB },
      note: `full checkpoint, streamed in binary chunks (the processor's path for a large change set): ${fmt(m.checkpoint.cpuMs)} ms of JavaScript CPU in all (the event loop is blocked per partition), ${fmt(m.checkpoint.stateChars / 1e6)} M chars of state; largest insert body ${m.checkpoint.insertBodyError ?? `${fmt(m.checkpoint.maxInsertBodyChars / 1e6)} M chars`}`,
    },
  ];
}

function freshnessRows(f: FreshnessResult): BenchRow[] {
  // null: the percentile falls among sessions never seen in the aggregate.
  const s = (ms: number | null): number => (ms === null ? Number.POSITIVE_INFINITY : ms / 1_000);
  const label = `lateness ${s(f.allowedLatenessMs)} s`;
  const p99 = s(f.aggregate.p99Ms);
  const common = `${fmt(f.aggregate.n)} sessions ending in the measured span, ${f.aggregate.missing} never seen; producer ${fmt(f.producer.eventsPerSecond)} events/s of ${fmt(f.targetEventsPerSecond)} (send lag p99 ${fmt(f.producer.sendLagP99Ms)} ms); max consumer lag sessionize ${fmt(f.maxLag.sessionize)} qoe ${fmt(f.maxLag.qoe)}; processors used ${f.processorsCores.toFixed(2)} cores${threadsOf(f)}`;
  return [
    {
      name: `freshness p99, ${label}`,
      value: p99,
      unit: 's',
      baseline: { name: 'raw consume p99', value: s(f.rawConsume.p99Ms) },
      higherIsBetter: false,
      target: { value: FRESHNESS_P99_TARGET_S, met: p99 <= FRESHNESS_P99_TARGET_S },
      note: `session_end produced -> counted in qoe_windows (${f.windowSec} s windows); ${common}; session row p99 ${s(f.sessionRow.p99Ms).toFixed(2)} s, max ${s(f.aggregate.maxMs).toFixed(2)} s`,
    },
    {
      name: `freshness p50, ${label}`,
      value: s(f.aggregate.p50Ms),
      unit: 's',
      baseline: { name: 'raw consume p50', value: s(f.rawConsume.p50Ms) },
      higherIsBetter: false,
      note: `session row p50 ${s(f.sessionRow.p50Ms).toFixed(2)} s; floor: the allowed lateness, ${s(f.allowedLatenessMs)} s`,
    },
  ];
}

/** The freshness run's CPU by thread kind, in cores. */
function threadsOf(f: FreshnessResult): string {
  const t = f.processorsThreads;
  const wallMs = (f.spanUs.to - f.spanUs.from) / 1_000;
  if (t === null || !(wallMs > 0)) return '';
  const cores = (ms: number): string => (ms / wallMs).toFixed(2);
  return ` (JS thread ${cores(t.main)}, V8 helpers ${cores(t.nodeHelpers)}, embedded ClickHouse ${cores(t.libuvPool + t.other)} of which ${cores(t.libuvPool)} on libuv's pool)`;
}

function threadSplit(stage: StageResult): string {
  const t = stage.threads;
  if (t === null) return 'per-thread CPU not available';
  const total = t.main + t.libuvPool + t.nodeHelpers + t.other;
  const pct = (x: number): string => `${((100 * x) / total).toFixed(0)}%`;
  return (
    `JS thread ${pct(t.main)}, V8 helper threads (GC, compiler) ${pct(t.nodeHelpers)}, ` +
    `libuv pool (embedded ClickHouse's queries) ${pct(t.libuvPool)}, embedded ClickHouse's own threads ${pct(t.other)}`
  );
}

function printBreakdown(b: Record<string, number>): void {
  console.log(
    '\nCPU per event (µs): the baseline and in-memory stages measured alone, the rest by difference',
  );
  const lines: Array<[string, number]> = [
    ['kafkajs fetch + parse (baseline process, decode excluded)', b['kafkaConsumeUsPerEvent'] ?? Number.NaN],
    ['Avro decode of the event (baseline process)', b['avroDecodeUsPerEvent'] ?? Number.NaN],
    ['Sessionizer.add + drain', b['sessionizerFoldUsPerEvent'] ?? Number.NaN],
    ['summary: Avro encode + decode, row, JSON (amortised)', b['summaryPathUsPerEvent'] ?? Number.NaN],
    ['rest: summaries to and from Kafka, ClickHouse, checkpoints, GC', b['restUsPerEvent'] ?? Number.NaN],
    ['= processors role, total', b['pipelineUsPerEvent'] ?? Number.NaN],
  ];
  for (const [name, v] of lines) console.log(`  ${name.padEnd(62)} ${v.toFixed(2).padStart(8)}`);
}

function shortProfile(p: ProfileSummary): Record<string, unknown> {
  return {
    busyMs: p.busyMs,
    idleMs: p.idleMs,
    components: p.components.slice(0, 10),
    functions: p.functions.slice(0, 10),
    inclusive: p.inclusive.slice(0, 15),
  };
}

function printProfile(what: string, p: ProfileSummary): void {
  console.log(`\nCPU profile of ${what}, main thread (${fmt(p.busyMs)} ms busy, ${fmt(p.idleMs)} ms idle)`);
  printLines('by component (self time):', p.components, p.components.length);
  printLines('top functions (self time):', p.functions, 20);
  printLines('top named functions (inclusive, synchronous part):', p.inclusive, 20);
}

async function main(): Promise<void> {
  const defaults = loadConfig();
  const events = Math.round(numberArg('events', 1_000_000));
  const rate = numberArg('rate', 20_000);
  const measureMs = numberArg('duration', 60) * 1_000;
  const warmupMs = numberArg('warmup', 15) * 1_000;
  const sessions = Math.round(numberArg('sessions', 1_000_000));
  const seed = Math.round(numberArg('seed', 1));
  const latenesses = (
    listArg('lateness') ?? [String(defaults.processors.sessionize.allowedLatenessMs), '2000']
  ).map(Number);
  if (latenesses.some((l) => !Number.isInteger(l) || l < 0))
    throw new Error('--lateness wants ms, e.g. 30000,2000');
  const only = listArg('only');
  const phases = new Set<Phase>(only === undefined ? PHASES : PHASES.filter((p) => only.includes(p)));
  const profile = process.argv.includes('--profile');
  // Diagnosis: Node flags for the throughput pipeline's process, e.g. '--trace-gc'.
  const nodeArgsAt = process.argv.indexOf('--pipeline-node-args');
  const nodeArgs =
    nodeArgsAt === -1 ? [] : (process.argv[nodeArgsAt + 1] ?? '').split(' ').filter((a) => a !== '');
  // What-if knob: the sessionize checkpoint interval (default: the config's).
  const checkpointIntervalMs = numberArg(
    'checkpoint-interval',
    defaults.processors.sessionize.checkpointIntervalMs,
  );
  const sessionize = { checkpointIntervalMs };
  const id = `benchproc_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const began = Date.now();
  console.log(
    `processors bench: ${[...phases].join(', ')}; ${defaults.topics.partitions} partitions; ClickHouse ${defaults.clickhouse.url ?? 'embedded (chDB)'}`,
  );

  const rows: BenchRow[] = [];
  const extra: Record<string, unknown> = {
    settings: {
      events,
      rate,
      measureMs,
      warmupMs,
      sessions,
      latenessesMs: latenesses,
      checkpointIntervalMs,
      seed,
      partitions: defaults.topics.partitions,
      windowSizesSec: defaults.processors.windowSizesSec,
      tickIntervalMs: defaults.processors.tickIntervalMs,
      clickhouse: defaults.clickhouse.url === undefined ? 'embedded' : 'server',
      profile,
    },
    definitions: {
      perCore:
        'events / CPU seconds (user + system, all threads) of the process doing the stage; the Kafka broker is a separate shared JVM and not counted',
      freshness:
        'session_end produced (producer send) -> first seen (200 ms polls) recomputation of its qoe_windows window that started after the session row was written',
    },
  };
  let breakdownNumbers: Record<string, number> | undefined;
  let profileSummary: ProfileSummary | null = null;
  const freshnessProfiles: Array<{ latenessMs: number; profile: ProfileSummary }> = [];

  if (phases.has('throughput')) {
    const t = await throughput(id, { events, rate, seed, profile, nodeArgs, sessionize });
    rows.push(...throughputRows(t));
    breakdownNumbers = breakdown(t);
    profileSummary = t.profile;
    extra['throughput'] = {
      produced: t.produced,
      baseline: t.baseline,
      pipeline: t.pipeline,
      fold: t.fold,
      cpuPerEventUs: breakdownNumbers,
      loadAverage: t.loadAverage,
    };
    if (t.profile !== null) extra['profile'] = shortProfile(t.profile);
  }
  if (phases.has('memory')) {
    const m = await memory(id, { sessions, seed });
    rows.push(...memoryRows(m));
    extra['memory'] = m;
  }
  if (phases.has('freshness')) {
    const runs = [];
    for (const latenessMs of latenesses) {
      const f = await freshness(id, { rate, warmupMs, measureMs, latenessMs, seed, sessionize, profile });
      rows.push(...freshnessRows(f));
      runs.push({ ...f, profile: f.profile === null ? null : shortProfile(f.profile) });
      if (f.profile !== null) freshnessProfiles.push({ latenessMs, profile: f.profile });
    }
    extra['freshness'] = runs;
  }

  printTable('processors: sessionize + qoe', rows);
  if (breakdownNumbers !== undefined) printBreakdown(breakdownNumbers);
  if (profileSummary !== null) printProfile('the throughput run (sessionize + qoe)', profileSummary);
  for (const f of freshnessProfiles) {
    printProfile(`the freshness run at lateness ${f.latenessMs / 1_000} s (the processors role)`, f.profile);
  }
  extra['totalWallMs'] = Date.now() - began;
  const file = writeResults('processors', rows, extra);
  console.log(`\nwrote ${file} (${((Date.now() - began) / 1_000).toFixed(0)} s)`);
}

/**
 * A child runs one stage. Its module is imported here, not at the top, so a child loads only
 * what its stage needs (the memory child's RSS is the Sessionizer's, not chDB's library).
 */
async function child(name: string, specJson: string): Promise<void> {
  switch (name) {
    case 'baseline': {
      const { baselineChild } = await import('./processors/throughput.ts');
      answer(await baselineChild(JSON.parse(specJson) as ConsumeSpec));
      break;
    }
    case 'pipeline': {
      const { pipelineChild } = await import('./processors/throughput.ts');
      answer(await pipelineChild(JSON.parse(specJson) as PipelineSpec));
      break;
    }
    case 'fold': {
      const { foldChild } = await import('./processors/throughput.ts');
      answer(await foldChild(JSON.parse(specJson) as FoldSpec));
      break;
    }
    case 'memory': {
      const { memoryChild } = await import('./processors/memory.ts');
      answer(memoryChild(JSON.parse(specJson) as MemorySpec));
      break;
    }
    case 'freshness': {
      const { freshnessChild } = await import('./processors/freshness.ts');
      answer(await freshnessChild(JSON.parse(specJson) as FreshnessSpec));
      break;
    }
    case 'producer': {
      const { producerChild } = await import('./processors/feed.ts');
      answer(await producerChild(JSON.parse(specJson) as ProducerSpec));
      break;
    }
    case 'raw-consumer': {
      const { rawConsumerChild } = await import('./processors/feed.ts');
      answer(await rawConsumerChild(JSON.parse(specJson) as RawConsumerSpec));
      break;
    }
    default:
      throw new Error(`unknown child ${name}`);
  }
  // kafkajs and chDB may keep handles open a while after disconnecting; the answer is out.
  process.exit(0);
}

if (process.argv[2] === '--child') {
  // Before anything is measured: which "node" threads are libuv's, so their CPU is not
  // taken for V8's (common.ts findLibuvPool).
  await findLibuvPool();
  await child(process.argv[3] ?? '', process.argv[4] ?? '{}');
} else {
  await main();
}
