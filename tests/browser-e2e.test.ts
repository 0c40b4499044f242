/**
 * Issue 7, the whole loop with a real browser in it. hls.js (npm) in Debian's headless
 * Chromium plays a plan from the control plane: the steered multivariant playlist (one
 * Pathway per OCA), segments from real OCAs serving an ffmpeg-encoded ladder, Content
 * Steering polled every TTL. The page's reporter (producers/browser) turns hls.js and media
 * element events into playloop events and posts them to ingest. Then the OCA the player is
 * on is degraded (added latency and a per-connection throughput cap, applied for real by
 * the OCA server), and the chain must carry it all the way round:
 *
 *   OCA degraded -> players' sessions through ingest -> Kafka -> sessionize -> qoe ->
 *   ClickHouse qoe_windows -> steering processor -> config.steering (Kafka) -> control
 *   plane -> the session's steering manifest -> hls.js moves Pathway -> its later segment
 *   requests reach the other OCA (seen in the OCAs' own request logs and in hls.js events).
 *
 * Evidence for the health model: option (a) of the issue. One browser session is far too
 * few sessions for the steering model's minimum sample per window, so a simulated fleet
 * (producers/fleet, timing mode, paced at real time, ~100 players of the same ISP with
 * short sessions) plays alongside it through the same control plane (its plans rank the
 * same OCAs, and its players follow the same steering manifests) and sends its telemetry
 * through the same ingest. The timing mode models downloads rather than making them; the
 * OCA conditions it models are read from the degradation the test sets on the real OCA
 * (the very object the OCA server applies), so both meet the same degraded OCA. The model's
 * thresholds stay at their defaults (alpha 0.01, 3 windows to degrade); only the window
 * (5 s) and minimum sample (10 sessions) are scaled to a test-sized fleet.
 *
 * Runs in about a minute and a half; saves a screenshot under test-output/browser-e2e/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import { defaultTitleIds, sharedLadderCatalog } from '../control-plane/media/catalog.ts';
import { ensureLadder, type Ladder } from '../control-plane/media/ladder.ts';
import { type LadderSpec, SHORT_LADDER } from '../control-plane/media/ladder-spec.ts';
import type { Degradation } from '../control-plane/oca/degrade.ts';
import { type OcaFleet, startOcaFleet } from '../control-plane/oca/fleet.ts';
import { defaultFleetSpec, validateFleetSpec } from '../control-plane/oca/spec.ts';
import type { PlaybackPlan as ControlPlanePlan } from '../control-plane/plan/planner.ts';
import { startControlPlaneWith } from '../control-plane/role.ts';
import { keyringFromConfig } from '../control-plane/signing/url-signing.ts';
import { loadConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { startProcessors } from '../processors/role.ts';
import type { PageLog, StartOptions } from '../producers/browser/page/player.ts';
import { type PlayerPageServer, startPlayerPageServer } from '../producers/browser/server.ts';
import {
  type FleetRunResult,
  HEALTHY,
  httpSteeringSource,
  IngestSink,
  type OcaConditions,
  type PlanRequest,
  type PlanSource,
  type PopulationInput,
  parsePlaybackPlan,
  runFleet,
} from '../producers/fleet/index.ts';
import { startIngest } from '../producers/ingest/role.ts';
import { deleteTopics, testConfig } from './support/stack.ts';

/** Two tiny renditions, two minutes: long enough to play through the whole loop. */
const BROWSER_LADDER: LadderSpec = {
  ...SHORT_LADDER,
  name: 'browser-e2e',
  durationSec: 120,
  frameRate: 12,
  renditions: [
    { id: '144p', width: 256, height: 144, videoBitrateKbps: 150 },
    { id: '240p', width: 426, height: 240, videoBitrateKbps: 300 },
  ],
};
/** The player's OCA turns congested: slow first bytes and less bandwidth than the lowest rendition needs. */
const CONGESTION = { latencyMs: 300, throughputKbps: 150 } as const;
const FLEET_PLAYERS = 100;
const WINDOW_SEC = 5;
const TITLES = 8;
const VIEWER_NETWORK = { isp: 'AS3320', region: 'eu-central', country: 'DE' } as const;

const base = testConfig('browser', {
  processors: {
    windowSizesSec: [WINDOW_SEC],
    tickIntervalMs: 500,
    sessionize: { allowedLatenessMs: 2_000, idleAdvanceMs: 2_000, checkpointIntervalMs: 1_000 },
  },
  feedback: {
    steering: {
      intervalMs: 1_000,
      windowSec: WINDOW_SEC,
      settleMs: 3_000,
      ttlSec: 2,
      minSessionsPerWindow: 10,
    },
  },
  controlPlane: {
    port: 0,
    configCatchUpTimeoutMs: 5_000,
    steering: { ttlSec: 2 },
    // One availability read at start (no viewing history yet: edges presumed to hold all).
    availability: { refreshIntervalMs: 3_600_000 },
  },
  // The fleet presents its ISP's address through X-Forwarded-For from loopback.
  ingest: { trustedProxies: '127.0.0.1' },
});
const config = { ...base, ingest: { ...base.ingest, host: '127.0.0.1', port: 0 } };
const t = config.topics;
const mediaDir = loadConfig().dataDir;
const OUTPUT = join(import.meta.dirname, '..', 'test-output', 'browser-e2e');

let ladder: Ladder;
let ocaFleet: OcaFleet;
let chOpened: Promise<ClickHouse> | undefined;
const roles: RunningRole[] = [];
let cpUrl = '';
let ingestUrl = '';
let pageServer: PlayerPageServer | undefined;
let browser: BrowserContext | undefined;
// A fresh profile per run: nothing cached or remembered from another run.
const userDataDir = mkdtempSync(join(tmpdir(), 'playloop-chromium-'));
const stopAll = new AbortController();

const clickhouse = (): Promise<ClickHouse> => {
  chOpened ??= openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }).then((r) => r.ch);
  return chOpened;
};

function addressOf(role: RunningRole, suffix: RegExp): string {
  const address = role.addresses[0];
  if (address === undefined) throw new TypeError(`${role.name} reported no address`);
  return address.replace(suffix, '');
}

async function viewerToken(viewerId: string): Promise<string> {
  const res = await fetch(`${cpUrl}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ viewerId }),
  });
  if (res.status !== 201) throw new Error(`token for ${viewerId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function requestPlan(
  titleId: string,
  viewerId: string,
  deviceClass: string,
  network: { isp: string; region: string; country: string },
  token?: string,
): Promise<ControlPlanePlan> {
  const res = await fetch(`${cpUrl}/v1/playback/${encodeURIComponent(titleId)}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token ?? (await viewerToken(viewerId))}`,
    },
    body: JSON.stringify({
      device: {
        class: deviceClass,
        codecs: ['avc1', 'mp4a.40.2'],
        maxResolution: { width: 1920, height: 1080 },
      },
      network,
    }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`plan for ${titleId}: ${res.status} ${text}`);
  return JSON.parse(text) as ControlPlanePlan;
}

/**
 * The fleet's PlanSource on the control plane's real API: a viewer token per viewer, then
 * POST /v1/playback/:titleId, mapped onto the fleet's plan shape (which also needs the
 * content durations: the timing mode reads no playlist).
 */
function controlPlanePlans(): PlanSource {
  const tokens = new Map<string, Promise<string>>();
  return {
    async getPlan(request: PlanRequest) {
      try {
        let token = tokens.get(request.viewerId);
        if (token === undefined) {
          token = viewerToken(request.viewerId);
          token.catch(() => tokens.delete(request.viewerId));
          tokens.set(request.viewerId, token);
        }
        const p = await requestPlan(
          request.titleId,
          request.viewerId,
          request.deviceClass,
          { isp: request.isp, region: request.region, country: request.country },
          await token,
        );
        const plan = parsePlaybackPlan({
          planId: p.sessionId,
          titleId: p.titleId,
          ocas: p.ocas.map((o) => ({ id: o.id, baseUrl: o.baseUrl, region: o.region, isp: o.isp })),
          multivariant: p.manifestUrl,
          renditions: p.renditions.map((r) => ({
            id: r.id,
            bandwidthBps: r.bandwidth,
            averageBandwidthBps: r.averageBandwidth,
            width: r.width,
            height: r.height,
            playlist: r.playlist,
          })),
          durationMs: ladder.durationSec * 1_000,
          segmentDurationMs: ladder.segmentDurationSec * 1_000,
          abr: p.abr.hlsjs,
          steering: { uri: p.steering.uri, pathwayId: p.steering.pathwayId },
          experiments: p.experiments.map((e) => ({ key: e.key, cell: e.cell })),
        });
        if ('error' in plan) return { ok: false, failure: { httpStatus: 200, message: plan.error } };
        return { ok: true, plan };
      } catch (err) {
        return { ok: false, failure: { httpStatus: null, message: errorMessage(err) } };
      }
    },
  };
}

/** Desktop viewers of one ISP on fibre, short sessions, nothing but watching. */
function fleetPopulation(titles: readonly string[]): PopulationInput {
  return {
    isps: [
      {
        ...VIEWER_NETWORK,
        clientAddress: '79.192.0.10',
        weight: 1,
        access: { fiber: 1 },
      },
    ],
    devices: [
      {
        deviceClass: 'desktop',
        weight: 1,
        os: 'Linux',
        model: 'browser',
        watchMedianMs: 8_000,
        startupOverheadMs: 200,
      },
    ],
    abr: { throughput: 1 },
    titles: { ids: [...titles], zipfExponent: 0 },
    viewer: {
      watchSigma: 0.3,
      resumeShare: 0,
      seeksPerHour: 0,
      pausesPerHour: 0,
      fatalMediaErrorsPerHour: 0,
      thinkTimeMeanMs: 1_000,
      stallPatienceMeanMs: 10_000,
    },
  };
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  ladder = await ensureLadder(mediaDir, BROWSER_LADDER, { log: silentLogger });
  const catalog = sharedLadderCatalog(defaultTitleIds(TITLES), ladder);
  ocaFleet = await startOcaFleet(validateFleetSpec({ ...defaultFleetSpec(config.oca), basePort: 0 }), {
    catalog,
    keyring: keyringFromConfig(config.signing.keys),
    log: silentLogger,
  });
  const ctx: RoleContext = { config, log: silentLogger, clickhouse, signal: stopAll.signal };
  // Consumers before the endpoints that feed them (cli/roles.ts START_ORDER).
  roles.push(await startProcessors(ctx));
  const cp = await startControlPlaneWith(ctx, { ocas: ocaFleet.ocas, catalog, experiments: [] });
  roles.push(cp);
  cpUrl = addressOf(cp, /\/v1\/playback\/:titleId$/);
  const ingest = await startIngest(ctx);
  roles.push(ingest);
  ingestUrl = addressOf(ingest, /\/v1\/events$/);
  pageServer = await startPlayerPageServer();
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 420 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

afterAll(async () => {
  stopAll.abort();
  await browser?.close();
  rmSync(userDataDir, { recursive: true, force: true });
  await pageServer?.close();
  for (const role of [...roles].reverse()) await role.stop().catch(() => undefined);
  await ocaFleet?.stop();
  await (await chOpened)?.close();
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

const pageLog = (page: Page): Promise<PageLog> => page.evaluate(() => window.playloop.log());

interface SessionRow {
  startup_outcome: string;
  end_reason: string;
  first_oca_id: string;
  plan_oca_id: string;
  player_name: string;
  segments: number;
  play_ms: number;
  event_count: number;
  vsf: number;
  vpf: number;
}

describe('a real player in the loop', () => {
  it('moves hls.js to another Pathway when its OCA degrades, from QoE alone', async () => {
    const viewerId = 'browser-viewer';
    const plan = await requestPlan('title-001', viewerId, 'desktop', VIEWER_NETWORK);
    const ocaA = plan.steering.pathwayId;
    expect(plan.ocas[0]?.id).toBe(ocaA);
    expect(plan.ocas[0]?.proximity).toBe('isp-edge');
    // The other edge in the viewer's ISP: where steering should send the player.
    const ocaB = plan.ocas.find((o) => o.id !== ocaA && o.proximity === 'isp-edge')?.id as string;
    expect(ocaB).toBeDefined();

    // Titles land on OCAs by rendezvous hashing per title: the fleet watches titles of
    // both edges, so each edge and its rest-of-fleet baseline have sessions every window.
    const firstOf = new Map<string, string>();
    for (const title of defaultTitleIds(TITLES)) {
      const p = await requestPlan(title, 'fleet-probe', 'desktop', VIEWER_NETWORK);
      firstOf.set(title, p.ocas[0]?.id as string);
    }
    const onA = [...firstOf].filter(([, oca]) => oca === ocaA).map(([title]) => title);
    const onB = [...firstOf].filter(([, oca]) => oca === ocaB).map(([title]) => title);
    expect(onA.length).toBeGreaterThan(0);
    expect(onB.length).toBeGreaterThan(0);
    const share = Math.min(onA.length, onB.length);
    const fleetTitles = [...onA.slice(0, share), ...onB.slice(0, share)];

    // The degradation the real OCA applies is what the simulated players meet on it.
    const degraded = new Map<string, Degradation>();
    const conditions: OcaConditions = { at: (ocaId) => degraded.get(ocaId) ?? HEALTHY };
    const sink = new IngestSink({
      endpoint: ingestUrl,
      key: config.ingest.keys[0] as string,
      flushIntervalMs: 500,
    });
    const fleetStop = new AbortController();
    const fleetRun: Promise<FleetRunResult> = runFleet({
      settings: { mode: 'timing', players: FLEET_PLAYERS, seed: 7, durationMs: 170_000, rampUpMs: 4_000 },
      pacing: { kind: 'paced', speed: 1 },
      population: fleetPopulation(fleetTitles),
      planSource: controlPlanePlans(),
      steeringSource: httpSteeringSource(),
      sink,
      conditions,
      signal: fleetStop.signal,
    });

    const page = await (browser as BrowserContext).newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    try {
      await page.goto(pageServer?.url as string);
      await page.waitForFunction(() => window.playloop !== undefined);
      const start: StartOptions = {
        plan: {
          sessionId: plan.sessionId,
          titleId: plan.titleId,
          viewerId,
          manifestUrl: plan.manifestUrl,
          steering: { pathwayId: plan.steering.pathwayId },
          ocas: plan.ocas.map((o) => ({ id: o.id, baseUrl: o.baseUrl })),
          abr: { hlsjs: { ...plan.abr.hlsjs } },
          experiments: plan.experiments.map((e) => ({ key: e.key, cell: e.cell })),
        },
        ingest: { endpoint: ingestUrl, key: config.ingest.keys[0] as string },
        heartbeatIntervalMs: 5_000,
      };
      // As JSON: playwright's argument typing does not reach through hls.js's config type.
      await page.evaluate(
        (json: string) => window.playloop.start(JSON.parse(json) as StartOptions),
        JSON.stringify(start),
      );

      // Playing from OCA A: a first frame and a few segments, polling the steering server.
      const before = await pollUntil(
        async () => {
          const log = await pageLog(page);
          const fromA = log.fragments.filter((f) => f.ocaId === ocaA).length;
          return log.firstFrameAtMs !== null && fromA >= 4 && log.steering.length >= 1 ? log : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'first frame and segments from the first OCA' },
      );
      expect(before.fragments.every((f) => f.ocaId === ocaA)).toBe(true);
      expect(before.steering[0]?.priority[0]).toBe(ocaA);

      // Congestion on OCA A, applied by the OCA server itself.
      const degradedAt = Date.now();
      degraded.set(ocaA, ocaFleet.degrade(ocaA, CONGESTION));

      // The loop: QoE windows -> steering processor -> config.steering -> the session's
      // steering manifest, as hls.js itself loads it (STEERING_MANIFEST_LOADED) every TTL.
      const steered = await pollUntil(
        async () => {
          const log = await pageLog(page);
          return log.steering.find((s) => s.atMs >= degradedAt && s.priority[0] !== ocaA);
        },
        {
          timeoutMs: 60_000,
          intervalMs: 250,
          what: `a steering manifest that moves the session off ${ocaA}`,
        },
      );
      expect(steered.priority[0]).toBe(ocaB);
      expect(steered.ttlSec).toBe(2);

      // hls.js follows: its later segment requests go to OCA B.
      const after = await pollUntil(
        async () => {
          const log = await pageLog(page);
          const fromB = log.fragments.filter((f) => f.ocaId === ocaB && f.atMs >= degradedAt);
          return fromB.length >= 3 ? log : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `segments from ${ocaB}` },
      );
      const movedAt = after.fragments.find((f) => f.ocaId === ocaB)?.atMs as number;
      expect(movedAt - degradedAt).toBeLessThan(60_000);
      await page.screenshot({ path: join(OUTPUT, 'player.png') });

      // hls.js's own account: a level switch onto B's Pathway after the manifest that put B
      // first, no fatal error, and nothing from A once it moved.
      expect(after.levelSwitching.some((l) => l.pathwayId === ocaB && l.atMs >= steered.atMs)).toBe(true);
      expect(after.errors.filter((e) => e.fatal)).toEqual([]);
      const lastFromA = after.fragments.filter((f) => f.ocaId === ocaA).at(-1)?.atMs ?? 0;
      expect(after.fragments.filter((f) => f.atMs > movedAt).every((f) => f.ocaId === ocaB)).toBe(true);
      expect(lastFromA).toBeLessThan(movedAt);
      expect(consoleErrors).toEqual([]);

      // The OCAs' own request logs: this session's segments came from A before the
      // degradation and from B after the move, and B served it nothing before.
      const segmentsOf = (oca: string) =>
        ocaFleet
          .recentCmcd(oca, 1_000)
          .filter((r) => r.kind === 'segment' && r.grantSessionId === plan.sessionId);
      expect(segmentsOf(ocaA).filter((r) => r.atMs < degradedAt).length).toBeGreaterThanOrEqual(4);
      expect(segmentsOf(ocaB).filter((r) => r.atMs < degradedAt)).toEqual([]);
      expect(
        segmentsOf(ocaB).filter((r) => r.atMs >= degradedAt && r.status === 200).length,
      ).toBeGreaterThanOrEqual(3);
      // The player's CMCD reached the OCA that serves it now, and its steering requests now
      // tell the steering server it is on B (`_HLS_pathway`, with `_HLS_throughput`).
      expect(segmentsOf(ocaB).some((r) => r.cmcd['sid'] === plan.sessionId)).toBe(true);
      const telemetry = await pollUntil(
        async () => {
          const res = await fetch(`${cpUrl}/admin/steering/sessions/${plan.sessionId}`);
          const body = (await res.json()) as { pathway?: string; throughputBps?: number };
          return body.pathway === ocaB ? body : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250, what: `_HLS_pathway=${ocaB} from hls.js` },
      );
      expect(telemetry.throughputBps).toBeGreaterThan(0);

      // Why it moved: the steering processor's recorded change for OCA A, from QoE windows.
      const ch = await clickhouse();
      const changes = await queryRows<{ scope: string; to_state: string; reason: string }>(
        ch.client,
        `SELECT scope, to_state, reason FROM ${ch.database}.steering_changes FINAL
         WHERE oca_id = {oca:String} AND kind = 'state' AND to_state IN ('degraded', 'drained')`,
        { oca: ocaA },
      );
      expect(changes.length).toBeGreaterThan(0);
      // Each names the evidence, e.g. "startup p90 4752 ms vs fleet 606 (ratio 7.84, ...)".
      expect(changes.every((c) => c.reason.includes('vs fleet'))).toBe(true);

      // The viewer leaves: session_end, flushed to ingest; the fleet stops too.
      const ended = await page.evaluate(() => window.playloop.end('viewer_exit'));
      expect(ended.givenUp).toBe(0);
      fleetStop.abort();
      const fleetResult = await fleetRun;
      expect(fleetResult.mode).toBe('timing');
      expect(fleetResult.progress.sessionsDone).toBeGreaterThan(FLEET_PLAYERS);

      // The player's session, through Kafka, sessionize and qoe, in ClickHouse.
      const row = await pollUntil(
        async () => {
          const [r] = await queryRows<SessionRow>(
            ch.client,
            `SELECT startup_outcome, end_reason, first_oca_id, plan_oca_id, player_name, segments,
                    play_ms, event_count, vsf, vpf
             FROM ${ch.database}.sessions FINAL WHERE session_id = {sid:String}`,
            { sid: plan.sessionId },
          );
          return r;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: "the browser's session in ClickHouse" },
      );
      expect(row).toMatchObject({
        startup_outcome: 'started',
        end_reason: 'viewer_exit',
        first_oca_id: ocaA,
        plan_oca_id: ocaA,
        player_name: 'hls.js',
        vsf: 0,
        vpf: 0,
      });
      const final = await pageLog(page);
      expect(Number(row.segments)).toBe(final.events['segment_downloaded']);
      expect(Number(row.event_count)).toBe(Object.values(final.events).reduce((a, b) => a + b, 0));
      expect(Number(row.play_ms)).toBeGreaterThan(10_000);
    } finally {
      // The fleet goes down even when an assertion failed.
      fleetStop.abort();
      await fleetRun.catch(() => undefined);
      await page.close();
    }
  });
});
