/**
 * `playloop demo` (`npm run demo`): the whole loop, end to end, in a few minutes.
 *
 * 1. Starts what is needed: the local stack (unless already up or external), every role in
 *    this process (processors, control plane with its OCAs, ingest, dashboard).
 * 2. Runs the player fleet (timing model, paced in real time, telemetry through ingest, plans
 *    from the control plane) while the experiments in experiments/ allocate viewers.
 * 3. Halfway through, degrades one edge OCA: for real on the OCA server and in the players'
 *    network model (the timing model downloads nothing).
 * 4. Measures the time from the degradation until the control plane serves a plan that no
 *    longer puts that OCA first, and QoE per OCA before and after.
 * 5. Runs the same scenario again with the feedback switched off (same seed, same
 *    degradation) and compares the viewers of the degraded OCA side by side.
 * 6. Prints the report and saves it as JSON, with the numbers read back from ClickHouse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFleetSpec } from '../../control-plane/oca/spec.ts';
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { sleep } from '../../core/retry.ts';
import { analyzeExperiment } from '../../experiments/analysis/analyze.ts';
import { formatResult } from '../../experiments/analysis/format.ts';
import type { ExperimentResult } from '../../experiments/analysis/result.ts';
import { loadExperiments } from '../../experiments/definitions/validate.ts';
import { openClickHouse, queryRows } from '../../infra/clickhouse.ts';
import { controlPlanePlanSource } from '../../producers/fleet/control-plane-source.ts';
import { runFleet } from '../../producers/fleet/fleet.ts';
import { httpSteeringSource } from '../../producers/fleet/http-sources.ts';
import { scheduledConditions } from '../../producers/fleet/network.ts';
import { DEFAULT_POPULATION, type PopulationInput } from '../../producers/fleet/population.ts';
import { createProgressDisplay } from '../../producers/fleet/progress.ts';
import { controlPlaneUrl, ingestSinkFromConfig } from '../../producers/fleet/wiring.ts';
import { kafkaStatus, kafkaUp } from '../../stack/kafka.ts';
import { registryStatus, registryUp } from '../../stack/registry.ts';
import { loadStackSettings } from '../../stack/settings.ts';
import { parseArgs, stringOption } from '../args.ts';
import { startRoles } from './run.ts';

interface DemoOptions {
  readonly minutes: number;
  readonly players: number;
  readonly seed: number;
  readonly degrade: boolean;
  readonly compare: boolean;
  readonly feedback: boolean;
}

interface OcaQoe {
  ocaId: string;
  sessions: number;
  rebufferRatio: number | null;
  startupMeanMs: number | null;
  avgBitrateKbps: number | null;
  vsfRate: number | null;
}

interface RunReport {
  label: string;
  feedback: boolean;
  database: string;
  degradedOca: string | null;
  degradedAtMs: number | null;
  steeringServedAtMs: number | null;
  degradationToSteeringMs: number | null;
  steeringChanges: number;
  qoeBefore: OcaQoe[];
  qoeAfter: OcaQoe[];
  /** Sessions that started on the degraded OCA after the degradation. */
  degradedViewers: OcaQoe | null;
  /**
   * Every session of the degraded OCA's ISP that started after the degradation, wherever it
   * was served: the viewers the degradation would hit if nothing steered them away.
   */
  affectedCohort: OcaQoe | null;
  fleet: { mode: string; pacing: string; players: number; sessionsEnded: number; eventsSent: number };
  /** The ABR experiment's analysis at the end of the run (intervals, decision, reasons). */
  experiment: ExperimentResult | null;
  experimentTable: string[];
  /** config.abr versions written during the run, with their audit trail. */
  abrChanges: Array<{ scope: string; version: number; action: string; reason: string }>;
}

const DEGRADATION = { latencyMs: 400, throughputKbps: 600, errorRate: 0.05 } as const;
/** The ABR experiment the demo reports on (experiments/abr-bandwidth-factor.yaml). */
const EXPERIMENT = 'abr-bandwidth-factor';

function demoConfig(base: PlayloopConfig, runId: string, label: string, feedback: boolean): PlayloopConfig {
  const prefix = `demo-${runId}-${label}`;
  return loadConfig({
    overrides: {
      topics: {
        events: `${prefix}.playback.events`,
        eventsDlq: `${prefix}.playback.events.dlq`,
        sessions: `${prefix}.playback.sessions`,
        allocations: `${prefix}.experiment.allocations`,
        steering: `${prefix}.config.steering`,
        abr: `${prefix}.config.abr`,
      },
      clickhouse: { database: `demo_${runId}_${label}`.replace(/[^A-Za-z0-9_]/g, '_') },
      processors: {
        groupPrefix: prefix,
        // 5 s windows so the steering model sees two bad windows soon after a degradation.
        windowSizesSec: [5, 10, 60],
        tickIntervalMs: 500,
        sessionize: { allowedLatenessMs: 3_000, idleAdvanceMs: 3_000, checkpointIntervalMs: 2_000 },
      },
      feedback: {
        steering: {
          enabled: feedback,
          intervalMs: 2_000,
          windowSec: 10,
          settleMs: 2_000,
          ttlSec: 2,
          minSessionsPerWindow: 5,
          enterWindows: 2,
          exitWindows: 3,
        },
      },
      // The fleet presents each player's ISP address in X-Forwarded-For to loopback ingest.
      ingest: { trustedProxies: ['127.0.0.1'] },
      dataDir: base.dataDir,
    },
  });
}

async function ensureStack(log: (line: string) => void): Promise<void> {
  const settings = loadStackSettings();
  const [k, r] = await Promise.all([kafkaStatus(settings), registryStatus(settings)]);
  if (k.state !== 'healthy') await kafkaUp(settings, log);
  if (r.state !== 'healthy') await registryUp(settings, log);
}

/**
 * A probe session on the degraded OCA's ISP, planned before the degradation: its Content
 * Steering manifest is exactly what a player polls, so the moment its PATHWAY-PRIORITY stops
 * starting with the degraded OCA is the moment the steering change is served.
 */
async function probeSteeringUri(
  config: PlayloopConfig,
  isp: string,
  region: string,
): Promise<string | undefined> {
  const base = controlPlaneUrl(config);
  // The steering experiment gives some sessions a proximity-only policy that ignores health;
  // probe with a session whose plan steers by health, as most viewers' do.
  for (let attempt = 0; attempt < 20; attempt++) {
    const viewerId = `demo-steering-probe-${attempt}`;
    const tokenRes = await fetch(`${base}/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ viewerId }),
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const res = await fetch(`${base}/v1/playback/title-001`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        device: { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1920, height: 1080 } },
        network: { isp, region },
      }),
    });
    if (!res.ok) continue;
    const plan = (await res.json()) as { steering: { uri: string; policy: string } | null };
    if (plan.steering && plan.steering.policy !== 'proximity-only') return plan.steering.uri;
  }
  return undefined;
}

async function firstPathway(uri: string): Promise<string | undefined> {
  const res = await fetch(uri);
  if (!res.ok) return undefined;
  const manifest = (await res.json()) as { 'PATHWAY-PRIORITY'?: string[] };
  return manifest['PATHWAY-PRIORITY']?.[0];
}

/** The default mix with short sessions, so viewers turn over within a few minutes. */
function demoPopulation(): PopulationInput {
  return {
    ...DEFAULT_POPULATION,
    devices: DEFAULT_POPULATION.devices.map((d) => ({ ...d, watchMedianMs: 20_000 })),
    viewer: { ...DEFAULT_POPULATION.viewer, thinkTimeMeanMs: 2_000, pausesPerHour: 0, seeksPerHour: 0 },
  };
}

async function qoePerOca(
  config: PlayloopConfig,
  fromMs: number,
  toMs: number,
  cohortIsp?: string,
): Promise<OcaQoe[]> {
  const ch = openClickHouse({ ...config.clickhouse, dataDir: config.dataDir });
  const rows = await queryRows<OcaQoe>(
    ch.client,
    `SELECT ${cohortIsp === undefined ? 'oca_id' : `concat('all OCAs, isp ', isp)`} AS ocaId, count() AS sessions,
            sum(stall_ms) / nullIf(sum(play_ms) + sum(stall_ms), 0) AS rebufferRatio,
            avgIf(startup_ms, startup_ms IS NOT NULL) AS startupMeanMs,
            sumIf(avg_bitrate_kbps * play_ms, avg_bitrate_kbps IS NOT NULL) / nullIf(sumIf(play_ms, avg_bitrate_kbps IS NOT NULL), 0) AS avgBitrateKbps,
            countIf(vsf = 1) / nullIf(countIf(play_attempt = 1), 0) AS vsfRate
     FROM ${ch.database}.sessions FINAL
     WHERE start_time >= fromUnixTimestamp64Milli({from:Int64}) AND start_time < fromUnixTimestamp64Milli({to:Int64})
       ${cohortIsp === undefined ? '' : 'AND isp = {isp:String}'}
     GROUP BY ocaId ORDER BY ocaId`,
    { from: fromMs, to: toMs, isp: cohortIsp ?? '' },
  );
  await ch.close();
  return rows;
}

async function runOnce(
  base: PlayloopConfig,
  runId: string,
  label: string,
  o: DemoOptions,
): Promise<RunReport> {
  const config = demoConfig(base, runId, label, o.feedback);
  const log = createLogger({ level: process.env['PLAYLOOP_LOG_LEVEL'] ?? 'warn' });
  console.log(
    `\n== ${label}: ${o.players} players for ${o.minutes} min, feedback ${o.feedback ? 'on' : 'off'} ==`,
  );
  const proc = await startRoles(config, undefined, log);
  const durationMs = Math.round(o.minutes * 60_000);
  const spec = defaultFleetSpec(config.oca);
  // The busiest ISP's first edge: most players start there.
  const target =
    spec.ocas.find((x) => x.tier === 'edge' && x.isp === 'AS3320') ??
    spec.ocas.find((x) => x.tier === 'edge');
  const targetPort = target ? config.oca.basePort + spec.ocas.indexOf(target) : undefined;
  const startedAt = Date.now();
  const degradeAtMs = Math.round(durationMs / 2);
  const report: RunReport = {
    label,
    feedback: o.feedback,
    database: config.clickhouse.database,
    degradedOca: o.degrade && target ? target.id : null,
    degradedAtMs: null,
    steeringServedAtMs: null,
    degradationToSteeringMs: null,
    steeringChanges: 0,
    qoeBefore: [],
    qoeAfter: [],
    degradedViewers: null,
    affectedCohort: null,
    fleet: { mode: 'timing', pacing: '', players: o.players, sessionsEnded: 0, eventsSent: 0 },
    experiment: null,
    experimentTable: [],
    abrChanges: [],
  };
  try {
    const sink = ingestSinkFromConfig(config);
    const fleetRun = runFleet({
      settings: {
        mode: 'timing',
        players: o.players,
        seed: o.seed,
        durationMs,
        rampUpMs: Math.min(30_000, durationMs / 4),
      },
      pacing: { kind: 'paced', speed: 1 },
      planSource: controlPlanePlanSource({
        baseUrl: controlPlaneUrl(config),
        durationMs: 600_000,
        segmentDurationMs: 2_000,
      }),
      steeringSource: httpSteeringSource(),
      population: demoPopulation(),
      sink,
      conditions: scheduledConditions(
        o.degrade && target
          ? [{ atMs: degradeAtMs, ocaId: target.id, degradation: { ...DEGRADATION, seed: o.seed } }]
          : [],
      ),
      progress: createProgressDisplay(process.stderr),
    });
    if (o.degrade && target && targetPort !== undefined) {
      const probe = await probeSteeringUri(config, target.isp, target.region);
      await sleep(Math.max(0, startedAt + degradeAtMs - Date.now()));
      await fetch(`http://127.0.0.1:${targetPort}/admin/degrade`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...DEGRADATION, seed: o.seed }),
      });
      report.degradedAtMs = Date.now();
      console.log(`\n${new Date().toISOString()} degraded ${target.id} (${JSON.stringify(DEGRADATION)})`);
      while (probe !== undefined && Date.now() - startedAt < durationMs) {
        const first = await firstPathway(probe).catch(() => undefined);
        if (first !== undefined && first !== target.id) {
          report.steeringServedAtMs = Date.now();
          report.degradationToSteeringMs = report.steeringServedAtMs - report.degradedAtMs;
          console.log(
            `\n${new Date().toISOString()} steering manifest now starts with ${first} (${report.degradationToSteeringMs} ms after the degradation)`,
          );
          break;
        }
        await sleep(250);
      }
    }
    const result = await fleetRun;
    await sink.flush();
    report.fleet = {
      mode: result.mode,
      pacing: result.pacing,
      players: result.players,
      sessionsEnded: result.progress.sessionsDone,
      eventsSent: result.progress.eventsSent,
    };
    // Let the last sessions close (lateness + idle advance) and land in ClickHouse.
    await sleep(15_000);
  } finally {
    await proc.stop();
  }
  const split = report.degradedAtMs ?? startedAt + degradeAtMs;
  report.qoeBefore = await qoePerOca(config, startedAt - 60_000, split);
  report.qoeAfter = await qoePerOca(config, split, Date.now());
  report.degradedViewers = report.qoeAfter.find((q) => q.ocaId === report.degradedOca) ?? null;
  if (target && report.degradedOca) {
    report.affectedCohort = (await qoePerOca(config, split, Date.now(), target.isp))[0] ?? null;
  }
  const ch = openClickHouse({ ...config.clickhouse, dataDir: config.dataDir });
  const changes = await queryRows<{ n: number }>(
    ch.client,
    `SELECT count() AS n FROM ${ch.database}.steering_changes`,
  ).catch(() => [{ n: 0 }]);
  report.steeringChanges = changes[0]?.n ?? 0;
  // The ABR experiment as the feedback loop reads it, and what ABR tuning did with it.
  const definition = (await loadExperiments(config.controlPlane.experimentsDir)).find(
    (d) => d.key === EXPERIMENT,
  );
  if (definition) {
    try {
      report.experiment = await analyzeExperiment(ch, definition);
      report.experimentTable = formatResult(report.experiment);
    } catch (err) {
      report.experimentTable = [`analysis failed: ${String(err)}`];
    }
  }
  report.abrChanges = await queryRows<{ scope: string; version: number; action: string; reason: string }>(
    ch.client,
    `SELECT scope, to_version AS version, action, reason FROM ${ch.database}.config_audit FINAL WHERE action != 'baseline' ORDER BY recorded_at`,
  ).catch(() => []);
  await ch.close();
  return report;
}

function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : Number(x).toFixed(digits);
}

function printQoe(title: string, rows: readonly OcaQoe[]): void {
  console.log(`  ${title}`);
  console.log(
    `    ${'oca'.padEnd(24)} ${'sessions'.padStart(8)} ${'rebuffer'.padStart(9)} ${'startup ms'.padStart(10)} ${'kbps'.padStart(7)} ${'vsf'.padStart(6)}`,
  );
  for (const r of rows) {
    console.log(
      `    ${r.ocaId.padEnd(24)} ${String(r.sessions).padStart(8)} ${fmt(r.rebufferRatio, 4).padStart(9)} ${fmt(r.startupMeanMs, 0).padStart(10)} ${fmt(r.avgBitrateKbps, 0).padStart(7)} ${fmt(r.vsfRate, 3).padStart(6)}`,
    );
  }
}

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    flags: ['feedback', 'degradation', 'compare'],
    values: ['minutes', 'players', 'seed'],
  });
  const options: DemoOptions = {
    minutes: Number(stringOption(args, 'minutes') ?? 2),
    players: Number(stringOption(args, 'players') ?? 300),
    seed: Number(stringOption(args, 'seed') ?? 7),
    degrade: args.options.get('degradation') !== false,
    feedback: args.options.get('feedback') !== false,
    compare: args.options.get('compare') !== false && args.options.get('feedback') !== false,
  };
  const base = loadConfig();
  await ensureStack((line) => console.log(line));
  const runId = new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);
  const runs: RunReport[] = [
    await runOnce(base, runId, options.feedback ? 'feedback' : 'nofeedback', options),
  ];
  if (options.compare && options.degrade) {
    runs.push(await runOnce(base, runId, 'nofeedback', { ...options, feedback: false }));
  }
  const dashboard = `http://${base.dashboard.host}:${base.dashboard.port}/dashboard`;
  console.log('\n==================== playloop demo report ====================');
  for (const r of runs) {
    console.log(
      `\n[${r.label}] feedback ${r.feedback ? 'on' : 'off'}; fleet: ${r.fleet.mode} model, ${r.fleet.pacing}, ${r.fleet.players} players, ${r.fleet.sessionsEnded} sessions, ${r.fleet.eventsSent} events; ClickHouse database ${r.database}`,
    );
    if (r.degradedOca) {
      console.log(
        `  degraded ${r.degradedOca}; steering change served ${r.degradationToSteeringMs === null ? 'NOT within the run' : `${(r.degradationToSteeringMs / 1000).toFixed(1)} s after the degradation`}; steering changes recorded: ${r.steeringChanges}`,
      );
    } else {
      console.log(`  no degradation; steering changes recorded: ${r.steeringChanges}`);
    }
    printQoe('QoE per OCA, sessions started before the degradation:', r.qoeBefore);
    printQoe('QoE per OCA, sessions started after it:', r.qoeAfter);
    console.log(`  Experiment ${EXPERIMENT}:`);
    for (const line of r.experimentTable) console.log(`    ${line}`);
    console.log(
      r.abrChanges.length === 0
        ? '  ABR config: no change followed (the decision did not ship a cell)'
        : `  ABR config changes: ${r.abrChanges.map((c) => `${c.scope} v${c.version} ${c.action} (${c.reason})`).join('; ')}`,
    );
  }
  const on = runs.find((r) => r.feedback);
  const off = runs.find((r) => !r.feedback);
  const value =
    on !== undefined && off !== undefined
      ? {
          degradedOca: on.degradedOca,
          affectedCohortWithFeedback: on.affectedCohort,
          affectedCohortWithoutFeedback: off.affectedCohort,
          onDegradedOcaWithFeedback: on.degradedViewers,
          onDegradedOcaWithoutFeedback: off.degradedViewers,
        }
      : null;
  if (value) {
    console.log(
      `\nThe value of the loop: the viewers of the degraded OCA's ISP, sessions started after the degradation (same seed, same degradation)`,
    );
    printQoe('with feedback', value.affectedCohortWithFeedback ? [value.affectedCohortWithFeedback] : []);
    printQoe(
      'without feedback',
      value.affectedCohortWithoutFeedback ? [value.affectedCohortWithoutFeedback] : [],
    );
  }
  console.log(`\nDashboard: ${dashboard} (while \`npm start\` runs)`);
  const dir = join(base.dataDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `report-${runId}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ runId, options, dashboard, runs, valueOfTheLoop: value }, null, 2)}\n`,
  );
  console.log(`Report saved: ${file}`);
  return 0;
}
