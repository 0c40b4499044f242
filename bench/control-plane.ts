/**
 * `npm run bench -- control-plane [--duration 10] [--connections 32] [--rate 5000] [--rounds 2] [--no-kafka]
 *   [--in-thread-producer] [--no-profile] [--profile-out file.cpuprofile] [--generator-cpu N]`
 * `npm run bench -- control-plane --summarize file.cpuprofile [plans]`: the summary of a kept profile.
 *
 * Playback plans per second and their latency, beside a baseline measured in the same run:
 * a bare fastify route that takes the same JSON body and returns a static plan (the same
 * bytes a real plan has). The ratio says what planning costs over parsing and sending.
 *
 * The control plane is the real one (buildControlPlaneServer): viewer token checks, body
 * validation, experiment assignment with the repository's experiments/, ranking, HMAC URL
 * signing, session tokens, ABR resolution. Configs are in memory (as ConfigTable holds
 * them), the catalog is a ladder described by numbers (no encode). Allocation events go to
 * the real Kafka topic of this run (deleted at the end) unless --no-kafka.
 *
 * Load comes from a child process (this file run with --load) running the HTTP/1.1 client in
 * bench/control-plane/load.ts, so the load generator and the server do not share an event loop.
 * They do share the machine's cores (2 here, with other work on them), so the generator is
 * kept cheap: request bytes built once, answers framed by Content-Length, no per-request
 * objects beyond a timestamp. It costs ~18 µs of CPU per request closed loop and ~35 µs open
 * loop (each answer its own wake-up), mostly the kernel's loopback TCP, reported per run as
 * `generatorCpuUs`. Beside autocannon, used before, the same server code measured 211 µs of
 * CPU per plan; beside this client, 111-128 µs: the generator was taking the server's cores.
 * Two measures per server:
 *   1. throughput: closed loop, `connections` requests in flight, for `duration` s;
 *   2. latency: open loop at a fixed offered rate (`rate`, the 5,000 plans/s target) for
 *      `duration` s; each request's latency runs from the moment it was *due*, not from when
 *      it was sent, so a server stall counts against every request it delayed (coordinated
 *      omission; load.ts says why autocannon's rate mode could not measure this). The
 *      generator's own lateness is reported beside it (`sendLagP99Ms`), and counts against
 *      the server, so the figure errs on the side of too slow.
 * Requests rotate through 1,000 viewers, four device profiles and two networks. The machine
 * is shared, so the measures alternate between the two servers for `rounds` rounds and each
 * keeps its best round; server CPU time per request is reported too, being much less
 * sensitive to neighbours than wall-clock throughput. The load average is kept with the results.
 * `--generator-cpu N` runs the generator under `taskset -c N` (Linux), so it can take one core
 * at most and never the server's others; off by default, because on a machine shared with
 * other work a pinned generator cannot move off a busy core and its delays, counted against
 * the server by the open loop, grow instead.
 *
 * Then, unless --no-profile, one more saturated run of the control plane under the V8 CPU
 * profiler (the same sampler as `node --cpu-prof`, started through node:inspector so the
 * profile covers exactly that run and not the baseline or the warm-up): self time by module
 * and by function, and time with a function anywhere on the stack. `--profile-out` keeps the
 * .cpuprofile for Chrome DevTools.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { issueViewerToken, viewerKeyring } from '../control-plane/auth/viewer-token.ts';
import {
  ALLOCATION_ACK_TIMEOUT_MS,
  kafkaAllocationProducer,
} from '../control-plane/plan/allocation-producer.ts';
import { threadedAllocationProducer } from '../control-plane/plan/allocation-thread.ts';
import { AllocationEmitter, type AllocationSink } from '../control-plane/plan/allocations.ts';
import { PRESUMED_AVAILABILITY } from '../control-plane/plan/availability.ts';
import { buildControlPlaneServer } from '../control-plane/plan/server.ts';
import {
  abrDoc,
  fakeCatalog,
  fakeOcas,
  MemoryConfig,
  ocaHealth,
  steeringDoc,
} from '../control-plane/plan/testing.ts';
import { keyringFromConfig } from '../control-plane/signing/url-signing.ts';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { loadExperiments } from '../experiments/definitions/validate.ts';
import { createKafka, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import type { AbrConfig } from '../schemas/generated/abr-config.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../schemas/generated/experiment-allocation.ts';
import type { SteeringConfig } from '../schemas/generated/steering-config.ts';
import { type LoadResult, postRequest, runLoad } from './control-plane/load.ts';
import { type CpuProfile, isOwnCode, type ProfileSummary, printLines, summariseProfile } from './profile.ts';
import { type BenchRow, printTable, writeResults } from './report.ts';

interface LoadSpec {
  readonly url: string;
  readonly tokensFile: string;
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly durationSec: number;
  readonly rate?: number;
}

const DEVICES = [
  { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1920, height: 1080 } },
  { class: 'desktop', codecs: ['avc1', 'mp4a'], maxResolution: { width: 2560, height: 1440 } },
  {
    class: 'mobile',
    codecs: ['avc1.42c015', 'avc1.42c01e', 'mp4a.40.2'],
    maxResolution: { width: 854, height: 480 },
  },
  { class: 'tablet', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1280, height: 720 } },
];
const NETWORKS = [
  { isp: 'AS3320', region: 'eu-central', country: 'DE', throughputKbps: 8_000 },
  { isp: 'AS7922', region: 'us-east', country: 'US' },
];

/**
 * The child: load from bench/control-plane/load.ts against `spec`, one JSON line out. Request
 * k carries viewer k mod 1,000's token and body k mod 8, built once as bytes.
 */
async function runLoadChild(spec: LoadSpec): Promise<void> {
  const tokens = JSON.parse(readFileSync(spec.tokensFile, 'utf8')) as string[];
  const url = new URL(spec.url);
  const port = Number(url.port);
  const requests = tokens.map((token, i) =>
    postRequest(
      url.hostname,
      port,
      url.pathname,
      { authorization: `Bearer ${token}` },
      spec.bodies[i % spec.bodies.length] as string,
    ),
  );
  const out = await runLoad({
    host: url.hostname,
    port,
    requests,
    connections: spec.connections,
    durationSec: spec.durationSec,
    rate: spec.rate,
  });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** `--generator-cpu N`: the CPU the load generator is pinned to, if any. */
function generatorCpu(): number | undefined {
  const at = process.argv.indexOf('--generator-cpu');
  if (at === -1) return undefined;
  const cpu = Number(process.argv[at + 1]);
  if (!Number.isInteger(cpu) || cpu < 0) throw new RangeError('--generator-cpu takes a CPU number');
  return cpu;
}

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, '--import', 'tsx', import.meta.filename, '--load', JSON.stringify(spec)];
    const cpu = generatorCpu();
    const [command, ...args] = cpu === undefined ? node : ['taskset', '-c', String(cpu), ...node];
    const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || line === undefined) reject(new Error(`load generator exited with ${code}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The CPU profile of the control plane, summarised.

/** Parts of serving a plan, recognised by a frame on the stack (`function url`), in order. */
const AREAS = {
  list: [
    ['socket writes (writev, the same for any route)', /^writev /],
    ['garbage collection', /^\(garbage collector\) /],
    [
      'allocation events to Kafka (emitter, Avro, kafkajs)',
      /kafkajs|avsc|allocations\.ts|allocation-producer|partitioner\.ts|infra\/registry/,
    ],
    ['the plan (planner, ranking, assignment, signing, JSON)', /control-plane\/plan\/(planner|render)\.ts/],
    ['response serialization by fastify', /^serialize .*fastify\/lib\/reply/],
    ['request body check', /control-plane\/plan\/request\.ts/],
    ['viewer token check', /control-plane\/auth\/viewer-token\.ts/],
    ['metrics (prom-client)', /prom-client/],
  ],
  rest: 'the rest (HTTP parsing, fastify, node streams)',
} as const;

/** The control plane's summary of a profile: by module, and by part of serving a plan. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  return summariseProfile(profile, { areas: AREAS, inclusiveOf: isOwnCode, top });
}

function printProfile(
  summary: ProfileSummary,
  plans: number,
  base?: { readonly summary: ProfileSummary; readonly result: LoadResult },
): void {
  console.log(
    `\n  where the control plane's time goes (saturated, ${summary.busyMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle, ` +
      `${plans} plans: ${((summary.busyMs * 1_000) / Math.max(1, plans)).toFixed(1)} µs sampled per plan):`,
  );
  printLines('by part of the work (what is on the stack):', summary.areas, summary.areas.length);
  if (base !== undefined) {
    // Sampled time is wall-clock time on the JavaScript thread (a descheduled thread is still
    // sampled): on a loaded machine both inflate, so compare the two columns, not the values.
    const perRequest = (s: ProfileSummary, n: number, share: number): number =>
      (share * s.busyMs * 1_000) / Math.max(1, n);
    const baseAreas = new Map(base.summary.areas.map((a) => [a.name, a.share]));
    console.log(
      `  µs sampled per request, control plane / static route: ${perRequest(summary, plans, 1).toFixed(0)} / ${perRequest(base.summary, base.result.ok, 1).toFixed(0)}`,
    );
    for (const a of summary.areas) {
      const b = baseAreas.get(a.name);
      console.log(
        `    ${perRequest(summary, plans, a.share).toFixed(1).padStart(6)} / ${(b === undefined ? 0 : perRequest(base.summary, base.result.ok, b)).toFixed(1).padStart(6)}  ${a.name}`,
      );
    }
  }
  printLines('by module (self time):', summary.components, 16);
  printLines('top functions (self time):', summary.functions, 16);
  printLines("the repository's functions on the stack (inclusive):", summary.inclusive, 16);
}

interface ServerWatch {
  /** CPU time of this process (the servers) per answered request, µs. */
  readonly cpuUs: number;
  /**
   * Event-loop utilisation (performance.eventLoopUtilization): the share of the run the
   * servers' thread was not waiting for I/O. What a request queues behind is this thread, so
   * this, not the process's CPU (which counts other threads too), is the load it queues at.
   */
  readonly loopUtilization: number;
  /** The event loop's delay (node:perf_hooks monitorEventLoopDelay, 1 ms resolution), ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** V8 garbage collection pauses on this process's main thread during the run. */
  readonly gcPauses: number;
  readonly gcPauseMs: number;
  readonly gcPauseMaxMs: number;
}

type Measured = { readonly result: LoadResult } & ServerWatch;

/** Watches this process (the servers) from now until `stop`. */
function watchServer(): { stop(answered: number): ServerWatch } {
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let gcPauses = 0;
  let gcPauseMs = 0;
  let gcPauseMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauses++;
      gcPauseMs += entry.duration;
      gcPauseMaxMs = Math.max(gcPauseMaxMs, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop(answered) {
      const used = process.cpuUsage(cpuBefore);
      delay.disable();
      gc.disconnect();
      return {
        cpuUs: (used.user + used.system) / Math.max(1, answered),
        loopUtilization: performance.eventLoopUtilization(eluBefore).utilization,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
        gcPauses,
        gcPauseMs,
        gcPauseMaxMs,
      };
    },
  };
}

function describeServer(m: ServerWatch): string {
  return (
    `${m.cpuUs.toFixed(0)} µs CPU/request, loop ${(100 * m.loopUtilization).toFixed(0)}% busy, delay p99 ${m.loopDelayP99Ms.toFixed(1)} ms max ${m.loopDelayMaxMs.toFixed(1)} ms, ` +
    `${m.gcPauses} GC pauses ${m.gcPauseMs.toFixed(0)} ms (max ${m.gcPauseMaxMs.toFixed(1)} ms)`
  );
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

async function main(): Promise<void> {
  const durationSec = arg('duration', 10);
  const connections = arg('connections', 32);
  const rate = arg('rate', 5_000);
  const roundCount = Math.round(arg('rounds', 2));
  const useKafka = !process.argv.includes('--no-kafka');
  const useProfile = !process.argv.includes('--no-profile');
  const inThreadProducer = process.argv.includes('--in-thread-producer');
  const config = loadConfig({
    overrides: { topics: { allocations: `bench.control-plane.${Date.now().toString(36)}.allocations` } },
  });
  // Neighbours' load decides how far wall-clock figures can be trusted: kept from start to end.
  const loadAtStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'playloop-bench-cp-'));

  // Allocation events: to Kafka through the real emitter, or counted and dropped.
  let emitter: AllocationEmitter | undefined;
  let closeProducer = async (): Promise<void> => {};
  let allocations: AllocationSink & { stats?: AllocationEmitter['stats'] };
  if (useKafka) {
    const kafka = createKafka(config.kafka);
    await withAdmin(kafka, (admin) =>
      ensureTopics(admin, [{ topic: config.topics.allocations, partitions: config.topics.partitions }]),
    );
    const codec = await AvroCodec.register<ExperimentAllocation>(
      createRegistry(config.registry.url),
      config.topics.allocations,
      allocationSchema,
    );
    // As the role runs it: kafkajs on its own thread (control-plane/plan/allocation-thread.ts);
    // --in-thread-producer puts it back on the servers' event loop, to see what that costs.
    const producer = inThreadProducer
      ? kafkaAllocationProducer(kafka, config.topics.allocations)
      : threadedAllocationProducer({
          kafka: config.kafka,
          topic: config.topics.allocations,
          ackTimeoutMs: ALLOCATION_ACK_TIMEOUT_MS,
        });
    closeProducer = () => producer.close();
    emitter = new AllocationEmitter({
      encode: (e) => codec.encode(e),
      send: (records) => producer.send(records),
      ...config.controlPlane.allocations,
      breaker: config.controlPlane.breaker,
      log: silentLogger,
    });
    emitter.start();
    allocations = emitter;
  } else {
    let offered = 0;
    allocations = { offer: () => ++offered > 0 };
  }

  const ocas = fakeOcas();
  const steering = new MemoryConfig<SteeringConfig>([
    steeringDoc(
      'global',
      3,
      ocas.map((o, i) => ocaHealth(o.id, 'healthy', 0.9 - i / 50)),
    ),
    steeringDoc('isp:AS3320', 5, [ocaHealth('oca-edge-as3320-a', 'degraded', 0.4)]),
    steeringDoc('region:us-east', 2, [ocaHealth('oca-edge-as7922-b', 'drained', 0)]),
  ]);
  const abr = new MemoryConfig<AbrConfig>([
    abrDoc('global', 4, { abrBandWidthFactor: 0.95, abrBandWidthUpFactor: 0.7, maxBufferLength: 30 }),
    abrDoc('device:tv', 2, { maxBufferLength: 40 }),
    abrDoc('isp:AS7922', 1, { abrEwmaDefaultEstimate: 2_000_000 }),
    abrDoc('cohort:mobile-de', 1, { startLevel: 0 }, { deviceClasses: ['mobile'], countries: ['DE'] }),
  ]);
  const experiments = await loadExperiments(join(import.meta.dirname, '..', 'experiments'));
  const tokenKeys = config.controlPlane.tokenKeys;
  const cp = buildControlPlaneServer({
    settings: {
      tokenKeys,
      viewerTokenTtlSec: 3_600,
      devTokenIssuance: true,
      urlTtlSec: config.signing.urlTtlSec,
      steering: config.controlPlane.steering,
    },
    catalog: fakeCatalog(100),
    ocas,
    steering,
    abr,
    experiments: () => experiments,
    availability: { current: () => PRESUMED_AVAILABILITY },
    allocations,
    mediaKeyring: keyringFromConfig(config.signing.keys),
    log: silentLogger,
  });
  await cp.app.listen({ host: '127.0.0.1', port: 0 });
  const cpAddress = cp.app.server.address();
  if (cpAddress === null || typeof cpAddress === 'string') throw new TypeError('no TCP address');

  const ring = viewerKeyring(tokenKeys);
  const tokens = Array.from(
    { length: 1_000 },
    (_, i) => issueViewerToken(`bench-viewer-${i}`, ring, Date.now(), 3_600).token,
  );
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  const bodies = DEVICES.flatMap((device) => NETWORKS.map((network) => JSON.stringify({ device, network })));

  // The baseline: the same body parsed, one static plan (a real one's bytes) sent back.
  const sample = await cp.app.inject({
    method: 'POST',
    url: '/v1/playback/title-001',
    headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
    payload: bodies[0],
  });
  if (sample.statusCode !== 200) throw new Error(`sample plan failed: ${sample.body}`);
  const staticPlan = sample.body;
  const baseline = Fastify({ logger: false });
  baseline.post('/v1/playback/:titleId', async (_request, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(staticPlan),
  );
  await baseline.listen({ host: '127.0.0.1', port: 0 });
  const baseAddress = baseline.server.address();
  if (baseAddress === null || typeof baseAddress === 'string') throw new TypeError('no TCP address');

  const cpUrl = `http://127.0.0.1:${cpAddress.port}/v1/playback/title-042`;
  const baseUrl = `http://127.0.0.1:${baseAddress.port}/v1/playback/title-042`;
  const common = { tokensFile, bodies, connections };
  console.log(
    `control-plane bench: ${durationSec} s per measure, ${connections} connections, ${rate} req/s offered for latency`,
  );
  // Warm up both (JIT, caches), then measure each; same order for both measures.
  await load({ ...common, url: cpUrl, durationSec: 3 });
  await load({ ...common, url: baseUrl, durationSec: 3 });
  // CPU time of this process (the servers) per answered request: on a shared machine it
  // moves much less than wall-clock throughput does. With it, what the server's own thread
  // went through during the run (event-loop delay, GC pauses), which says whether a latency
  // tail was made in this process or in the queue in front of it.
  const measured = async (target: string, rateOf?: number): Promise<Measured> => {
    const watch = watchServer();
    const result = await load({ ...common, url: target, durationSec, rate: rateOf });
    return { result, ...watch.stop(result.ok) };
  };
  // The machine is shared: each measure alternates baseline and control plane `rounds`
  // times and keeps each one's best round (highest throughput, lowest p99), the estimate of
  // what each can do when not disturbed; every round is kept in the results file.
  const rounds: Array<{ base: Measured; cp: Measured; baseRate: Measured; cpRate: Measured }> = [];
  for (let round = 0; round < roundCount; round++) {
    const base = await measured(baseUrl);
    const cpRun = await measured(cpUrl);
    const baseRate = await measured(baseUrl, rate);
    const cpRate = await measured(cpUrl, rate);
    rounds.push({ base, cp: cpRun, baseRate, cpRate });
  }
  const bestMax = (pick: (r: (typeof rounds)[number]) => Measured): Measured =>
    rounds.map(pick).reduce((a, b) => (b.result.rps > a.result.rps ? b : a));
  const bestRate = (pick: (r: (typeof rounds)[number]) => Measured): Measured =>
    rounds.map(pick).reduce((a, b) => (b.result.p99Ms < a.result.p99Ms ? b : a));
  const { result: baseMax, cpuUs: baseCpuUs } = bestMax((r) => r.base);
  const { result: cpMax, cpuUs: cpCpuUs } = bestMax((r) => r.cp);
  const baseRateRun = bestRate((r) => r.baseRate);
  const cpRateRun = bestRate((r) => r.cpRate);
  const baseRate = baseRateRun.result;
  const cpRate = cpRateRun.result;
  // Every round's p99, not only the best: how far the same server's tail moves from one
  // round to the next on this machine (the static route's too) is part of the result.
  const roundP99s = (pick: (r: (typeof rounds)[number]) => Measured): string =>
    rounds.map((r) => pick(r).result.p99Ms.toFixed(1)).join(' / ');

  // The profiled runs: saturated, like the throughput measure, after every measured round so
  // the profiler's own cost touches none of them; the static route too, so each part of the
  // work can be read as µs per request beside what any route costs.
  let profile: { summary: ProfileSummary; result: LoadResult } | undefined;
  let baseProfile: { summary: ProfileSummary; result: LoadResult } | undefined;
  if (useProfile) {
    const profiled = async (url: string, out?: string) => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      // 200 µs between samples: a plan takes about that long, so most plans are seen.
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      const result = await load({ ...common, url, durationSec });
      const { profile: cpuProfile } = await session.post('Profiler.stop');
      session.disconnect();
      if (out !== undefined) writeFileSync(out, JSON.stringify(cpuProfile));
      return { summary: summarizeProfile(cpuProfile), result };
    };
    const keep = process.argv.indexOf('--profile-out');
    profile = await profiled(cpUrl, keep === -1 ? undefined : process.argv[keep + 1]);
    baseProfile = await profiled(
      baseUrl,
      keep === -1
        ? undefined
        : (process.argv[keep + 1] as string).replace(/(\.cpuprofile)?$/, '.static.cpuprofile'),
    );
  }

  await emitter?.flush();
  const emitted = emitter?.stats();
  await baseline.close();
  await cp.app.close();
  await emitter?.close();
  await closeProducer();
  if (useKafka) {
    const kafka = createKafka(config.kafka);
    await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [config.topics.allocations] })).catch(
      () => undefined,
    );
  }

  rmSync(dir, { recursive: true, force: true });
  const failures = rounds.reduce(
    (n, r) => n + r.cp.result.non2xx + r.cp.result.errors + r.cpRate.result.non2xx + r.cpRate.result.errors,
    (profile?.result.non2xx ?? 0) + (profile?.result.errors ?? 0),
  );
  const rows: BenchRow[] = [
    {
      name: 'plans per second (saturated)',
      value: cpMax.rps,
      unit: 'plans/s',
      baseline: { name: 'static route', value: baseMax.rps },
      higherIsBetter: true,
      target: { value: 5_000, met: cpMax.rps >= 5_000 },
      note: `${connections} connections; ${cpMax.ok} plans, ${cpMax.non2xx} non-2xx, ${cpMax.errors} errors`,
    },
    {
      name: 'server CPU per plan',
      value: cpCpuUs,
      unit: 'us',
      baseline: { name: 'static route', value: baseCpuUs },
      higherIsBetter: false,
      note: `1 core / CPU per plan = ${Math.round(1e6 / cpCpuUs)} plans/s if the server had a core to itself`,
    },
    {
      name: `p99 latency at ${rate} req/s`,
      value: cpRate.p99Ms,
      unit: 'ms',
      baseline: { name: 'static route', value: baseRate.p99Ms },
      higherIsBetter: false,
      target: { value: 20, met: cpRate.p99Ms < 20 && cpRate.rps >= rate * 0.95 },
      note:
        `open loop, from each request's due time; achieved ${Math.round(cpRate.rps)} plans/s (baseline ${Math.round(baseRate.rps)}); ` +
        `p99.9 ${cpRate.p999Ms.toFixed(1)} ms, max ${cpRate.maxMs.toFixed(1)} ms; from the send p99 ${cpRate.serviceP99Ms.toFixed(1)} ms; ` +
        `generator late p99 ${cpRate.sendLagP99Ms.toFixed(1)} ms, ${cpRate.generatorCpuUs.toFixed(1)} µs CPU/request; ` +
        `server ${describeServer(cpRateRun)} (static route: ${describeServer(baseRateRun)}); ` +
        `p99 of every round, control plane ${roundP99s((r) => r.cpRate)} ms, static route ${roundP99s((r) => r.baseRate)} ms; ` +
        `${cpRate.non2xx} non-2xx, ${cpRate.errors} errors`,
    },
    {
      name: `p50 latency at ${rate} req/s`,
      value: cpRate.p50Ms,
      unit: 'ms',
      baseline: { name: 'static route', value: baseRate.p50Ms },
      higherIsBetter: false,
    },
    {
      name: 'p99 latency (saturated)',
      value: cpMax.p99Ms,
      unit: 'ms',
      baseline: { name: 'static route', value: baseMax.p99Ms },
      higherIsBetter: false,
      note: 'queueing at saturation: connections / throughput dominates',
    },
  ];
  printTable('control plane: playback plans', rows);
  if (emitted !== undefined) {
    console.log(
      `  allocation events: ${emitted.sent} produced to Kafka, dropped ${JSON.stringify(emitted.dropped)}, breaker ${emitted.breaker}`,
    );
  }
  if (profile !== undefined) printProfile(profile.summary, profile.result.ok, baseProfile);
  const file = writeResults('control-plane', rows, {
    settings: {
      durationSec,
      connections,
      rate,
      rounds: roundCount,
      kafka: useKafka,
      allocationProducer: inThreadProducer ? 'event loop' : 'worker thread',
      profile: useProfile,
      generatorCpu: generatorCpu() ?? null,
      generator: 'bench/control-plane/load.ts (open loop from due times for the rate measure)',
      viewers: tokens.length,
      bodies: bodies.length,
    },
    loadAverage: loadavg(),
    loadAverageAtStart: loadAtStart,
    rounds,
    allocations: emitted ?? null,
    profile: profile === undefined ? null : { ...profile.summary, run: profile.result },
    baselineProfile: baseProfile === undefined ? null : { ...baseProfile.summary, run: baseProfile.result },
  });
  console.log(
    `\nload average (1, 5, 15 min) at start ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} on ${cpus().length} CPUs`,
  );
  console.log(`\nwrote ${file}`);
  if (failures > 0) {
    console.error(`${failures} failed requests`);
    process.exitCode = 1;
  }
}

// Run only as a program (bench/run.ts, or a child of this file); importing it runs nothing.
if (process.argv[1] === import.meta.filename) {
  if (process.argv[2] === '--load') {
    await runLoadChild(JSON.parse(process.argv[3] as string) as LoadSpec);
  } else if (process.argv[2] === '--summarize') {
    // A profile kept with --profile-out, summarised again (e.g. to compare two runs).
    const file = process.argv[3] as string;
    const plans = Number(process.argv[4] ?? 0);
    printProfile(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), plans);
  } else {
    await main();
  }
}
