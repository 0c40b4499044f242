/**
 * `npm run bench -- ingest [--duration 10] [--connections 48] [--records 300000] [--no-profile] [--no-java]
 *   [--profile-out file.cpuprofile] [--profile-only 1|100]`
 *
 * `--profile-only <batch>` runs only the profiled measure (batch 1 or 100) and prints where the
 * server's time goes, without baselines and without writing results.
 *
 * Events per second through HTTP into Kafka with acks (the real ingest role: auth, parse,
 * validate, enrich, Avro encode, one idempotent acks=-1 producer), with batches of 100 and of
 * 1, and the HTTP latency at half the 100,000 events/s target (50,000 events/s offered as 500
 * requests/s). Two baselines for the same records in the same run:
 *   - kafkajs alone: the Avro records ingest would have produced (same bytes, same keys),
 *     sent by an idempotent acks=-1 kafkajs producer with sendBatch, as fast as it goes;
 *   - Kafka's own `org.apache.kafka.tools.ProducerPerformance` (the kafka-tools jar of the
 *     local stack) with acks=all and idempotence, records of the same mean size and keys over
 *     the same number of sessions. (It reads payload files only as UTF-8 text, so it cannot
 *     send our binary Avro bodies byte for byte.)
 * Then, unless --no-profile, the batch-100 run again with the server under `node --cpu-prof`,
 * summarised by module and by function: where the time goes.
 *
 * Processes: the server, the load generator (autocannon) and each baseline run in processes
 * of their own, so none shares an event loop with another. The machine is 2 cores shared
 * with the broker, the registry and other work: the load average is recorded with the
 * numbers, and server CPU time per event is reported (less sensitive to neighbours).
 *
 * CPU accounting, for every measure: the server's CPU per event (its process_cpu_seconds),
 * the load generator's (process.cpuUsage in its child), the broker's per record
 * (/proc/<pid>/stat of the local stack's broker, all its threads), kafkajs' own per record
 * in the kafkajs-alone baseline, and how many of the machine's cores were busy (/proc/stat).
 * The row "CPU per event, server + broker" sets them against the budget: the machine's
 * cores over the target rate, 2 cores / 100,000 events/s = 20 µs per event for everything.
 *
 * Where 100,000 events/s stands (the last run is in bench/results/ingest.json):
 *   - The budget is 20 µs of CPU per event for server, broker and load generator together
 *     (2 cores / 100,000 events/s), even if all of the machine were ours and perfectly used.
 *   - The broker is not the limit: 1-2 µs per record at batch=100, and Kafka's own Java
 *     ProducerPerformance (acks=all, idempotent, same record size and keys) reaches
 *     77,000-134,000 records/s here.
 *   - kafkajs was. On 2026-11-26, before its record encoder, its partitioner and its send
 *     grouping were replaced (infra/kafkajs-record-encoder.ts, kafka-partitioner.ts,
 *     kafkajs-send-grouping.ts: a zero-filled 512-byte Encoder and Long arithmetic per record,
 *     BigInt murmur2 per key, an array copy per message per send), kafkajs alone spent 16-24
 *     µs of CPU per record of its own and reached 10,000-50,000 records/s; the server cost
 *     27-33 µs per event and server + broker + load generator 31-45 µs, twice the budget.
 *   - With them replaced (run of 2026-11-27): kafkajs alone 9.6 µs per record and 110,933
 *     records/s; the server 18.0 µs per event, server + broker + load generator 21.0 µs, just
 *     over the budget; 62,124 events/s at batch=100 from one event loop, which that CPU per
 *     event caps near 55,000 on its own thread (the rest runs on other threads).
 *   - Coalescing is not what is missing: at batch=100 a Kafka send already carries ~1,000
 *     records (the produce.maxBatchRecords cap), so a linger would gather nothing more.
 *   The way to the target is less CPU per event on the event loop (HTTP parsing, validation,
 *   Avro) with a second process (node:cluster) once the sum is inside the budget, or a native
 *   client (librdkafka, e.g. @confluentinc/kafka-javascript: encodes off the event loop).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { RoleContext } from '../cli/role.ts';
import { loadConfig, type PlayloopConfig } from '../core/config.ts';
import { PlayloopError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { createKafka, createProducer, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import type { WireEvent } from '../producers/client/wire.ts';
import { createTableLookup } from '../producers/ingest/ip-lookup.ts';
import { eventSteps, processEvents } from '../producers/ingest/process-events.ts';
import { startIngest } from '../producers/ingest/role.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { type PlaybackEvent, schema as playbackEventSchema } from '../schemas/generated/playback-event.ts';
import { isOurs, readRecord } from '../stack/processes.ts';
import { filesOf, loadStackSettings } from '../stack/settings.ts';
import { type CpuProfile, type ProfileSummary, printLines, summariseProfile } from './profile.ts';
import { type BenchRow, printTable, writeResults } from './report.ts';

const TARGET_EVENTS_PER_SEC = 100_000;
const TARGET_P99_MS = 50;
/** CPU time the machine has per event at the target rate: its cores over the rate. */
const CPU_BUDGET_MICROS = (os.cpus().length * 1e6) / TARGET_EVENTS_PER_SEC;
const SESSIONS = 2_000;
const KEY = 'bench-ingest-key-0001';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function benchConfig(id: string, brokers?: readonly string[]): PlayloopConfig {
  const config = loadConfig({
    overrides: {
      topics: { events: `bench.ingest.${id}.events`, eventsDlq: `bench.ingest.${id}.events.dlq` },
      ingest: {
        keys: [KEY],
        // The bench measures the pipeline, not the limiter.
        rateLimit: { eventsPerSecond: 100_000_000, burstEvents: 100_000_000 },
        maxInFlightBytes: 512 * 1_048_576,
      },
      ...(brokers === undefined ? {} : { kafka: { brokers } }),
    },
  });
  // Port 0: the system picks a free one (the config schema rightly refuses 0 for real use).
  return { ...config, ingest: { ...config.ingest, host: '127.0.0.1', port: 0 } };
}

/** Realistic player events: a deterministic mix over SESSIONS sessions (mulberry32 seed 7). */
export function benchEvents(count: number, now: number): WireEvent[] {
  let a = 7;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const seqs = new Array<number>(SESSIONS).fill(0);
  const ladder = [400, 800, 1_800, 3_200, 6_000];
  const out: WireEvent[] = [];
  for (let i = 0; i < count; i++) {
    const s = Math.floor(random() * SESSIONS);
    const seq = seqs[s] ?? 0;
    seqs[s] = seq + 1;
    const level = Math.floor(random() * ladder.length);
    const br = ladder[level] as number;
    const base: WireEvent = {
      sessionId: `6e2fb550-c457-11e9-bb97-${s.toString(16).padStart(12, '0')}`,
      seq,
      viewerId: `viewer-${(s * 7_919) % 100_000}`,
      titleId: `title-${s % 300}`,
      clientTs: now - Math.floor(random() * 60_000),
      kind: 'heartbeat',
      playheadMs: seq * 2_000,
      device: {
        deviceClass: s % 3 === 0 ? 'tv' : null,
        playerName: 'hls.js',
        playerVersion: '1.7.4',
        os: 'Tizen 6.0',
      },
    };
    const roll = random();
    if (roll < 0.55)
      out.push({
        ...base,
        heartbeat: { bufferMs: Math.floor(random() * 30_000), bitrateKbps: br, droppedFrames: 0 },
      });
    else if (roll < 0.9) {
      out.push({
        ...base,
        kind: 'segment_downloaded',
        segment: {
          ocaId: `oca-${s % 4}`,
          bytes: br * 250,
          downloadMs: 50 + Math.floor(random() * 900),
          bitrateKbps: br,
          durationMs: 2_000,
          level,
        },
        cmcd: {
          br,
          bl: Math.floor(random() * 300) * 100,
          mtp: 5_000 + Math.floor(random() * 400) * 100,
          ot: 'v',
          sf: 'h',
          st: 'v',
          d: 2_000,
          tb: 6_000,
        },
      });
    } else if (roll < 0.97) {
      out.push({
        ...base,
        kind: 'rendition_switch',
        renditionSwitch: {
          fromKbps: br,
          toKbps: ladder[(level + 1) % ladder.length] as number,
          level,
          height: 720,
        },
      });
    } else {
      out.push({
        ...base,
        kind: 'error',
        error: { type: 'NETWORK_ERROR', details: 'fragLoadError', fatal: false, httpStatus: 503 },
      });
    }
  }
  return out;
}

function bodies(events: readonly WireEvent[], batch: number, sentAt: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + batch <= events.length; i += batch) {
    out.push(JSON.stringify({ sentAt, events: events.slice(i, i + batch) }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: where the machine's two cores go while a measure runs.

/** Clock ticks per second of /proc times (USER_HZ): 100 on every Linux the stack runs on. */
const USER_HZ = 100;

/** The local stack's broker, when it runs here (not with KAFKA_BROKERS pointing elsewhere). */
function brokerPid(): number | undefined {
  const record = readRecord(filesOf(loadStackSettings(), 'kafka'));
  return record !== undefined && isOurs(record) ? record.pid : undefined;
}

/** CPU seconds a process has used (proc(5): utime + stime of /proc/<pid>/stat, its threads included). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields from after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** Busy and total CPU seconds of the whole machine (proc(5): the `cpu` line of /proc/stat). */
function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (t[3] ?? 0) + (t[4] ?? 0);
  return { busy: (total - idle) / USER_HZ, total: total / USER_HZ };
}

interface CpuSnapshot {
  readonly at: number;
  readonly broker: number | undefined;
  readonly machine: { busy: number; total: number };
}

function cpuSnapshot(pid: number | undefined): CpuSnapshot {
  return {
    at: performance.now(),
    broker: pid === undefined ? undefined : processCpuSeconds(pid),
    machine: machineCpuSeconds(),
  };
}

export interface CpuShares {
  /** Broker CPU per record written, µs (null when the broker is not the local stack's). */
  readonly brokerMicrosPerRecord: number | null;
  /** Cores the broker kept busy on average. */
  readonly brokerCores: number | null;
  /** Cores busy on the whole machine (everyone's work, the other engineers' included). */
  readonly machineBusyCores: number;
}

function cpuShares(
  before: CpuSnapshot,
  after: CpuSnapshot,
  pid: number | undefined,
  records: number,
): CpuShares {
  const seconds = (after.at - before.at) / 1_000;
  const broker =
    pid === undefined || before.broker === undefined || after.broker === undefined
      ? null
      : after.broker - before.broker;
  const cores = os.cpus().length;
  const machineTotal = after.machine.total - before.machine.total;
  return {
    brokerMicrosPerRecord: broker === null || records === 0 ? null : (broker * 1e6) / records,
    brokerCores: broker === null ? null : broker / seconds,
    machineBusyCores:
      machineTotal <= 0 ? 0 : ((after.machine.busy - before.machine.busy) / machineTotal) * cores,
  };
}

// ---------------------------------------------------------------------------------------------
// Child: the server.

async function serve(configJson: string): Promise<void> {
  const config = JSON.parse(configJson) as PlayloopConfig;
  const ctx: RoleContext = {
    config,
    log: silentLogger,
    clickhouse: () => Promise.reject(new PlayloopError('USAGE', 'no ClickHouse in this bench')),
    signal: new AbortController().signal,
  };
  const role = await startIngest(ctx);
  process.stdout.write(`listening ${role.addresses[0]}\n`);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (chunk.includes('stop')) {
      void role.stop().then(() => process.exit(0));
    }
  });
}

interface ServerHandle {
  readonly url: string;
  stop(): Promise<void>;
}

function startServer(config: PlayloopConfig, profileDir?: string): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    const flags = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
    const child = spawn(
      process.execPath,
      [...flags, '--import', 'tsx', import.meta.filename, '--serve', JSON.stringify(config)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let out = '';
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /listening (\S+)/.exec(out);
      if (m !== null) {
        out = '';
        resolve({
          url: (m[1] as string).replace(/\/v1\/events$/, ''),
          async stop() {
            child.stdin.write('stop\n');
            await exited;
          },
        });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`ingest server exited with ${code} before listening`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Child: the load generator.

interface LoadSpec {
  readonly url: string;
  readonly bodiesFile: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly rate?: number;
}

interface LoadResult {
  readonly requestsPerSec: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly durationSec: number;
  /** CPU seconds the load generator itself used (it shares the machine with the server). */
  readonly loadCpuSeconds: number;
}

async function runLoad(spec: LoadSpec): Promise<void> {
  const all = JSON.parse(readFileSync(spec.bodiesFile, 'utf8')) as string[];
  let n = 0;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: `${spec.url}/v1/events`,
    connections: spec.connections,
    duration: spec.durationSec,
    ...(spec.rate === undefined ? {} : { overallRate: spec.rate }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, body: all[n++ % all.length] }),
      },
    ],
  });
  const out: LoadResult = {
    requestsPerSec: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    durationSec: result.duration,
    loadCpuSeconds: ((u) => (u.user + u.system) / 1e6)(process.cpuUsage(cpu)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function childJson<T>(args: readonly string[], stdio: 'inherit' | 'ignore' = 'inherit'): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], {
      stdio: ['ignore', 'pipe', stdio],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || line === undefined || line === '')
        reject(new Error(`${args[0]} child exited with ${code}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Child: kafkajs alone.

interface RecordsSpec {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly recordsFile: string;
  readonly total: number;
  readonly chunk: number;
}

interface ThroughputResult {
  readonly recordsPerSec: number;
  readonly records: number;
  readonly seconds: number;
  /** CPU the producing client itself spent per record (kafkajs alone only). */
  readonly clientCpuMicrosPerRecord?: number;
}

function writeRecords(file: string, records: ReadonlyArray<{ key: string | null; value: Buffer }>): void {
  const parts: Buffer[] = [];
  for (const r of records) {
    const key = Buffer.from(r.key ?? '', 'utf8');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(key.length, 0);
    head.writeUInt32BE(r.value.length, 4);
    parts.push(head, key, r.value);
  }
  writeFileSync(file, Buffer.concat(parts));
}

function readRecords(file: string): Array<{ key: string; value: Buffer }> {
  const buf = readFileSync(file);
  const out: Array<{ key: string; value: Buffer }> = [];
  for (let p = 0; p < buf.length; ) {
    const k = buf.readUInt32BE(p);
    const v = buf.readUInt32BE(p + 4);
    p += 8;
    const key = buf.toString('utf8', p, p + k);
    p += k;
    out.push({ key, value: buf.subarray(p, p + v) });
    p += v;
  }
  return out;
}

async function kafkajsAlone(spec: RecordsSpec): Promise<void> {
  const records = readRecords(spec.recordsFile);
  const kafka = createKafka({ brokers: spec.brokers, clientId: 'bench-kafkajs' });
  const producer = createProducer(kafka, { idempotent: true });
  await producer.connect();
  // Warm-up: connections, metadata, producer id.
  await producer.sendBatch({
    acks: -1,
    topicMessages: [{ topic: spec.topic, messages: records.slice(0, 100) }],
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  let sent = 0;
  while (sent < spec.total) {
    const messages: Array<{ key: string; value: Buffer }> = [];
    for (let i = 0; i < spec.chunk && sent + i < spec.total; i++) {
      messages.push(records[(sent + i) % records.length] as { key: string; value: Buffer });
    }
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: spec.topic, messages }] });
    sent += messages.length;
  }
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  await producer.disconnect();
  const out: ThroughputResult = {
    recordsPerSec: sent / seconds,
    records: sent,
    seconds,
    clientCpuMicrosPerRecord: (used.user + used.system) / sent,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Kafka's own producer benchmark, from the kafka-tools jar of the local stack. */
function producerPerformance(
  brokers: readonly string[],
  topic: string,
  records: number,
  recordSize: number,
): Promise<ThroughputResult & { p99Ms: number; line: string }> {
  const stack = loadStackSettings();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'java',
      [
        '-Xmx512m',
        '-cp',
        `${stack.kafka.libDir}/*`,
        'org.apache.kafka.tools.ProducerPerformance',
        '--bootstrap-server',
        brokers.join(','),
        '--topic',
        topic,
        '--num-records',
        String(records),
        '--record-size',
        String(recordSize),
        '--throughput',
        '-1',
        '--key-distribution',
        'random',
        '--record-key-range',
        String(SESSIONS),
        '--reporting-interval',
        '60000',
        '--command-property',
        'acks=all',
        'enable.idempotence=true',
        'compression.type=none',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_LOG4J_OPTS: '' } },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
    });
    child.stderr.on('data', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      // "300000 records sent, 151515.2 records/sec (29.0 MB/sec), 95.1 ms avg latency, 400.0 ms max latency, 80 ms 50th, 200 ms 95th, 250 ms 99th, 300 ms 99.9th."
      const line = out.split('\n').find((l) => /records sent, .* records\/sec/.test(l) && /99th/.test(l));
      const m =
        line === undefined ? null : /^(\d+) records sent, ([\d.]+) records\/sec .*?(\d+) ms 99th/.exec(line);
      if (code !== 0 || m === null) {
        reject(new Error(`ProducerPerformance exited with ${code}: ${out.slice(-500)}`));
        return;
      }
      const n = Number(m[1]);
      const rate = Number(m[2]);
      resolve({
        recordsPerSec: rate,
        records: n,
        seconds: n / rate,
        p99Ms: Number(m[3]),
        line: (line ?? '').trim(),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Profile summary.

// Loading modules at start (tsx, zod schemas, requires) is left out of the percentages. pako:
// hdr-histogram-js (autocannon's, imported by this file) inflates its WASM at load.
const STARTUP_MODULES = /^(node:modules|node:bootstrap|node:deps|tsx|zod|esbuild|get-tsconfig|pako)$/;

/** Ingest's summary of a profile: by module, module loading at start set apart. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  return summariseProfile(profile, { exclude: (module) => STARTUP_MODULES.test(module), top: 25 });
}

const fmtMicros = (m: number | null): string => (m === null ? 'n/a' : m.toFixed(1));

function cpuNote(m: HttpMeasure): string {
  return `${m.recordsPerSend.toFixed(0)} records per Kafka send, broker ${fmtMicros(m.cpu.brokerMicrosPerRecord)} µs/record (${m.cpu.brokerCores?.toFixed(2) ?? 'n/a'} cores), load generator ${m.loadCpuMicrosPerEvent.toFixed(1)} µs/event, machine ${m.cpu.machineBusyCores.toFixed(2)} of ${os.cpus().length} cores busy`;
}

function printProfile(summary: ProfileSummary): void {
  console.log(
    `\n  where the server's time goes (${summary.busyMs.toFixed(0)} ms busy, under --cpu-prof; ${summary.excludedMs.toFixed(0)} ms loading modules left out):`,
  );
  printLines('by module (self time):', summary.components, 14);
  printLines('top functions (self time):', summary.functions, 16);
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

async function countRecords(config: PlayloopConfig, topic: string): Promise<number> {
  return withAdmin(createKafka(config.kafka), async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  });
}

interface HttpMeasure extends LoadResult {
  readonly eventsPerSec: number;
  readonly acceptedEvents: number;
  readonly serverCpuMicrosPerEvent: number;
  readonly loadCpuMicrosPerEvent: number;
  /** Records per coalesced Kafka send: how much the batcher gathered per round trip. */
  readonly recordsPerSend: number;
  readonly cpu: CpuShares;
}

const BROKER_PID = brokerPid();

async function measureHttp(
  server: ServerHandle,
  bodiesFile: string,
  batch: number,
  connections: number,
  durationSec: number,
  rate?: number,
): Promise<HttpMeasure> {
  const before = await metricValue(server.url, 'playloop_ingest_events_accepted_total');
  const cpuBefore = await metricValue(server.url, 'process_cpu_seconds_total');
  const sendsBefore = await metricValue(server.url, 'playloop_ingest_produce_latency_seconds_count');
  const spec: LoadSpec = {
    url: server.url,
    bodiesFile,
    connections,
    durationSec,
    ...(rate === undefined ? {} : { rate }),
  };
  const cpu0 = cpuSnapshot(BROKER_PID);
  const load = await childJson<LoadResult>(['--load', JSON.stringify(spec)]);
  const cpu1 = cpuSnapshot(BROKER_PID);
  // Requests still in flight when the load generator stopped are answered just after; wait
  // for them, so they count in this measure and not in the next one.
  await pollUntil(
    async () => ((await metricValue(server.url, 'playloop_ingest_in_flight_bytes')) === 0 ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 50, what: 'the ingest server to answer every request' },
  );
  const after = await metricValue(server.url, 'playloop_ingest_events_accepted_total');
  const cpuAfter = await metricValue(server.url, 'process_cpu_seconds_total');
  const sends =
    (await metricValue(server.url, 'playloop_ingest_produce_latency_seconds_count')) - sendsBefore;
  const acceptedEvents = after - before;
  // autocannon counts what was answered within the duration; requests still in flight then
  // are answered (and accepted) just after. Anything else is a failure of the bench.
  const answeredEvents = load.ok * batch;
  if (
    load.non2xx > 0 ||
    load.errors > 0 ||
    acceptedEvents < answeredEvents ||
    acceptedEvents > answeredEvents + connections * batch
  ) {
    throw new Error(
      `accounting: ${load.ok} 202s (${load.non2xx} other, ${load.errors} errors) of ${batch} events, ${acceptedEvents} accepted`,
    );
  }
  return {
    ...load,
    eventsPerSec: answeredEvents / load.durationSec,
    acceptedEvents,
    serverCpuMicrosPerEvent: acceptedEvents === 0 ? 0 : ((cpuAfter - cpuBefore) * 1e6) / acceptedEvents,
    loadCpuMicrosPerEvent: acceptedEvents === 0 ? 0 : (load.loadCpuSeconds * 1e6) / acceptedEvents,
    recordsPerSend: sends === 0 ? 0 : acceptedEvents / sends,
    cpu: cpuShares(cpu0, cpu1, BROKER_PID, acceptedEvents),
  };
}

/** Runs a baseline and notes the broker's and the machine's CPU while it ran. */
async function withCpu<T extends { records: number }>(
  run: () => Promise<T>,
): Promise<T & { cpu: CpuShares }> {
  const before = cpuSnapshot(BROKER_PID);
  const result = await run();
  return { ...result, cpu: cpuShares(before, cpuSnapshot(BROKER_PID), BROKER_PID, result.records) };
}

async function main(): Promise<void> {
  const durationSec = arg('duration', 10);
  const connections = Math.round(arg('connections', 48));
  const baselineRecords = Math.round(arg('records', 300_000));
  const profile = !process.argv.includes('--no-profile');
  // --profile-only <batch>: only the profiled run, with that batch size; writes no results.
  const profileOnly = process.argv.includes('--profile-only')
    ? Math.round(arg('profile-only', 100))
    : undefined;
  const java = !process.argv.includes('--no-java');
  const id = Date.now().toString(36);
  const config = benchConfig(id);
  const baselineTopics = { kafkajs: `bench.ingest.${id}.kafkajs`, java: `bench.ingest.${id}.java` };
  const allTopics = [
    config.topics.events,
    config.topics.eventsDlq,
    baselineTopics.kafkajs,
    baselineTopics.java,
  ];
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      allTopics.map((topic) => ({ topic, partitions: config.topics.partitions })),
    ),
  );
  const dir = mkdtempSync(join(tmpdir(), 'playloop-bench-ingest-'));
  const load0 = loadavg();
  try {
    // The same events for every measure: as JSON bodies for HTTP, as the Avro records ingest
    // makes of them for the baselines.
    const now = Date.now();
    const events = benchEvents(20_000, now);
    const file100 = join(dir, 'bodies-100.json');
    const file1 = join(dir, 'bodies-1.json');
    writeFileSync(file100, JSON.stringify(bodies(events, 100, now)));
    writeFileSync(file1, JSON.stringify(bodies(events, 1, now)));
    const registry = createRegistry(config.registry.url);
    const eventCodec = await AvroCodec.register<PlaybackEvent>(
      registry,
      baselineTopics.kafkajs,
      playbackEventSchema,
    );
    const dlqCodec = await AvroCodec.register<DeadLetter>(
      registry,
      config.topics.eventsDlq,
      deadLetterSchema,
    );
    const topics = { events: baselineTopics.kafkajs, eventsDlq: config.topics.eventsDlq };
    const processed = processEvents(
      events,
      eventSteps({
        validate: {
          receivedAt: now,
          clockSkewMs: 0,
          clock: config.ingest.clock,
          pathOf: (i) => `$.events[${i}]`,
        },
        enrich: {
          receivedAt: now,
          clockSkewMs: 0,
          userAgent: null,
          ip: createTableLookup().lookup('127.0.0.1'),
          ingestKeyId: 'k_bench',
        },
        eventEncoder: eventCodec,
        topics,
      }),
      {
        deadLetterEncoder: dlqCodec,
        topics,
        failedAt: now,
        ingestKeyId: 'k_bench',
        rawPayloadOf: () => Buffer.alloc(0),
      },
    );
    if (processed.rejections.length > 0)
      throw new Error(`bench events refused: ${JSON.stringify(processed.rejections[0])}`);
    const recordsFile = join(dir, 'records.bin');
    writeRecords(recordsFile, processed.records);
    const meanRecordBytes = Math.round(
      processed.records.reduce((n, r) => n + r.value.length, 0) / processed.records.length,
    );
    const meanJsonBytes = Math.round(
      events.reduce((n, e) => n + JSON.stringify(e).length, 0) / events.length,
    );
    console.log(
      `ingest bench: ${events.length} distinct events over ${SESSIONS} sessions, mean ${meanJsonBytes} B as JSON, ${meanRecordBytes} B as Avro; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
    );

    if (profileOnly !== undefined) {
      const profileDir = join(dir, 'profile');
      const s = await startServer(config, profileDir);
      const bodiesFile = profileOnly === 1 ? file1 : file100;
      if (profileOnly !== 1 && profileOnly !== 100) throw new Error('--profile-only takes 1 or 100');
      let m: HttpMeasure;
      try {
        await measureHttp(s, bodiesFile, profileOnly, connections, 2);
        m = await measureHttp(s, bodiesFile, profileOnly, connections, durationSec);
      } finally {
        await s.stop();
      }
      console.log(
        `  profiled batch=${profileOnly}: ${Math.round(m.eventsPerSec)} events/s, p99 ${m.p99Ms} ms, server CPU ${m.serverCpuMicrosPerEvent.toFixed(2)} µs/event; ${cpuNote(m)}`,
      );
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      const keep = process.argv.indexOf('--profile-out');
      if (file !== undefined && keep !== -1 && process.argv[keep + 1] !== undefined) {
        copyFileSync(join(profileDir, file), process.argv[keep + 1] as string);
      }
      if (file !== undefined) {
        printProfile(
          summarizeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile),
        );
      }
      return;
    }

    // HTTP measures, one server for all three.
    const server = await startServer(config);
    let b100: HttpMeasure;
    let b1: HttpMeasure;
    let paced: HttpMeasure;
    try {
      // Warm-up: JIT, connections, producer.
      await measureHttp(server, file100, 100, connections, 3);
      b100 = await measureHttp(server, file100, 100, connections, durationSec);
      console.log(
        `  HTTP batch=100: ${Math.round(b100.eventsPerSec)} events/s, p99 ${b100.p99Ms} ms; server ${b100.serverCpuMicrosPerEvent.toFixed(1)} µs/event, ${cpuNote(b100)}`,
      );
      b1 = await measureHttp(server, file1, 1, connections, durationSec);
      console.log(
        `  HTTP batch=1:   ${Math.round(b1.eventsPerSec)} events/s, p99 ${b1.p99Ms} ms; server ${b1.serverCpuMicrosPerEvent.toFixed(1)} µs/event, ${cpuNote(b1)}`,
      );
      const rate = TARGET_EVENTS_PER_SEC / 2 / 100;
      paced = await measureHttp(server, file100, 100, Math.max(connections, 64), durationSec, rate);
      console.log(
        `  HTTP batch=100 at ${rate * 100} events/s offered: p50 ${paced.p50Ms} ms, p99 ${paced.p99Ms} ms`,
      );
    } finally {
      await server.stop();
    }
    const accepted = await countRecords(config, config.topics.events);

    const kafkajs = await withCpu(() =>
      childJson<ThroughputResult>([
        '--kafkajs',
        JSON.stringify({
          brokers: config.kafka.brokers,
          topic: baselineTopics.kafkajs,
          recordsFile,
          total: baselineRecords,
          chunk: 1_000,
        } satisfies RecordsSpec),
      ]),
    );
    console.log(
      `  kafkajs alone:  ${Math.round(kafkajs.recordsPerSec)} records/s; kafkajs CPU ${fmtMicros(kafkajs.clientCpuMicrosPerRecord ?? null)} µs/record, broker ${fmtMicros(kafkajs.cpu.brokerMicrosPerRecord)} µs/record`,
    );
    const perf = java
      ? await withCpu(() =>
          producerPerformance(config.kafka.brokers, baselineTopics.java, baselineRecords, meanRecordBytes),
        )
      : undefined;
    if (perf)
      console.log(`  ProducerPerformance: ${Math.round(perf.recordsPerSec)} records/s (${perf.line})`);

    let summary: ProfileSummary | undefined;
    let profiled: HttpMeasure | undefined;
    if (profile) {
      const profileDir = join(dir, 'profile');
      const s = await startServer(config, profileDir);
      try {
        await measureHttp(s, file100, 100, connections, 2);
        profiled = await measureHttp(s, file100, 100, connections, durationSec);
      } finally {
        await s.stop();
      }
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      const keep = process.argv.indexOf('--profile-out');
      if (file !== undefined && keep !== -1 && process.argv[keep + 1] !== undefined) {
        copyFileSync(join(profileDir, file), process.argv[keep + 1] as string);
      }
      if (file !== undefined) {
        summary = summarizeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
        printProfile(summary);
      }
    }

    const kafkajsRow = { name: 'kafkajs alone', value: kafkajs.recordsPerSec };
    const rows: BenchRow[] = [
      {
        name: 'HTTP -> Kafka, batch=100',
        value: b100.eventsPerSec,
        unit: 'events/s',
        baseline: kafkajsRow,
        higherIsBetter: true,
        target: { value: TARGET_EVENTS_PER_SEC, met: b100.eventsPerSec >= TARGET_EVENTS_PER_SEC },
        note: `${connections} connections; p50 ${b100.p50Ms} ms, p99 ${b100.p99Ms} ms; server CPU ${b100.serverCpuMicrosPerEvent.toFixed(2)} µs/event; ${cpuNote(b100)}`,
      },
      {
        name: 'HTTP -> Kafka, batch=1',
        value: b1.eventsPerSec,
        unit: 'events/s',
        baseline: kafkajsRow,
        higherIsBetter: true,
        note: `p50 ${b1.p50Ms} ms, p99 ${b1.p99Ms} ms; server CPU ${b1.serverCpuMicrosPerEvent.toFixed(2)} µs/event; ${cpuNote(b1)}`,
      },
      {
        // The budget: at the target rate every event may cost the machine's cores / rate of
        // CPU, for the server, the broker and the load generator together.
        name: 'CPU per event, server + broker (batch=100)',
        value: b100.serverCpuMicrosPerEvent + (b100.cpu.brokerMicrosPerRecord ?? 0),
        unit: 'µs/event',
        higherIsBetter: false,
        target: {
          value: CPU_BUDGET_MICROS,
          met:
            b100.serverCpuMicrosPerEvent +
              (b100.cpu.brokerMicrosPerRecord ?? 0) +
              b100.loadCpuMicrosPerEvent <=
            CPU_BUDGET_MICROS,
        },
        note: `${os.cpus().length} cores / ${TARGET_EVENTS_PER_SEC} events/s = ${CPU_BUDGET_MICROS.toFixed(0)} µs per event for everything; server ${b100.serverCpuMicrosPerEvent.toFixed(1)}, broker ${fmtMicros(b100.cpu.brokerMicrosPerRecord)}, load generator ${b100.loadCpuMicrosPerEvent.toFixed(1)}; broker under ProducerPerformance ${fmtMicros(perf?.cpu.brokerMicrosPerRecord ?? null)} µs/record, under kafkajs alone ${fmtMicros(kafkajs.cpu.brokerMicrosPerRecord)}; kafkajs alone spends ${fmtMicros(kafkajs.clientCpuMicrosPerRecord ?? null)} µs/record of its own`,
      },
      {
        name: `HTTP p99 at ${TARGET_EVENTS_PER_SEC / 2} events/s offered`,
        value: paced.p99Ms,
        unit: 'ms',
        higherIsBetter: false,
        target: {
          value: TARGET_P99_MS,
          met: paced.p99Ms <= TARGET_P99_MS && paced.eventsPerSec >= 0.95 * (TARGET_EVENTS_PER_SEC / 2),
        },
        note: `batch=100 at ${TARGET_EVENTS_PER_SEC / 200} requests/s; achieved ${Math.round(paced.eventsPerSec)} events/s; p50 ${paced.p50Ms} ms`,
      },
      {
        name: 'kafkajs alone (same records)',
        value: kafkajs.recordsPerSec,
        unit: 'records/s',
        ...(perf === undefined
          ? {}
          : { baseline: { name: 'ProducerPerformance', value: perf.recordsPerSec } }),
        higherIsBetter: true,
        note: `idempotent, acks=-1, sendBatch of 1,000 records, one at a time; kafkajs CPU ${fmtMicros(kafkajs.clientCpuMicrosPerRecord ?? null)} µs/record, broker ${fmtMicros(kafkajs.cpu.brokerMicrosPerRecord)} µs/record, machine ${kafkajs.cpu.machineBusyCores.toFixed(2)} cores busy`,
      },
      ...(perf === undefined
        ? []
        : [
            {
              name: 'Kafka ProducerPerformance',
              value: perf.recordsPerSec,
              unit: 'records/s',
              higherIsBetter: true,
              note: `acks=all, idempotent, ${meanRecordBytes} B records, keys over ${SESSIONS}; broker ${fmtMicros(perf.cpu.brokerMicrosPerRecord)} µs/record, machine ${perf.cpu.machineBusyCores.toFixed(2)} cores busy; ${perf.line}`,
            } satisfies BenchRow,
          ]),
    ];
    printTable('ingest: events through HTTP into Kafka (acks=-1)', rows);
    const file = writeResults('ingest', rows, {
      loadAverageBefore: load0,
      loadAverageAfter: loadavg(),
      events: { distinct: events.length, sessions: SESSIONS, meanJsonBytes, meanAvroBytes: meanRecordBytes },
      http: { batch100: b100, batch1: b1, paced, profiled: profiled ?? null },
      baselines: { kafkajs, producerPerformance: perf ?? null },
      acceptedInKafka: accepted,
      profile: summary ?? null,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await withAdmin(kafka, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const present = allTopics.filter((t) => existing.has(t));
      if (present.length > 0) await admin.deleteTopics({ topics: present });
    }).catch(() => undefined);
  }
}

// Run only as a program (bench/run.ts, or a child of this file); importing it runs nothing.
if (process.argv[1] === import.meta.filename) {
  const mode = process.argv[2];
  if (mode === '--serve') await serve(process.argv[3] as string);
  else if (mode === '--load') await runLoad(JSON.parse(process.argv[3] as string) as LoadSpec);
  else if (mode === '--kafkajs') await kafkajsAlone(JSON.parse(process.argv[3] as string) as RecordsSpec);
  else await main();
}
