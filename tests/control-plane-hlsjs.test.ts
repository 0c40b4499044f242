/**
 * A real player steered by the control plane: hls.js (npm) in Debian's headless Chromium
 * plays a plan's steered multivariant playlist from real OCAs, polls the session's Content
 * Steering manifest (with _HLS_pathway and _HLS_throughput), and, when the steering config
 * drains the OCA it is playing from, moves its segment requests to the next Pathway.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTitleIds, sharedLadderCatalog } from '../control-plane/media/catalog.ts';
import { ensureLadder } from '../control-plane/media/ladder.ts';
import { type LadderSpec, SHORT_LADDER } from '../control-plane/media/ladder-spec.ts';
import { type OcaFleet, startOcaFleet } from '../control-plane/oca/fleet.ts';
import { defaultFleetSpec, validateFleetSpec } from '../control-plane/oca/spec.ts';
import { PRESUMED_AVAILABILITY } from '../control-plane/plan/availability.ts';
import type { PlaybackPlan } from '../control-plane/plan/planner.ts';
import { MemoryConfig, ocaHealth, steeringDoc } from '../control-plane/plan/testing.ts';
import { buildControlPlaneServer, type ControlPlaneServer } from '../control-plane/role.ts';
import { keyringFromConfig } from '../control-plane/signing/url-signing.ts';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import type { AbrConfig } from '../schemas/generated/abr-config.ts';
import type { SteeringConfig } from '../schemas/generated/steering-config.ts';

/** Long enough to steer mid-play, small enough to encode in seconds: 60 s, two tiny renditions. */
const STEERING_LADDER: LadderSpec = {
  ...SHORT_LADDER,
  name: 'steering-e2e',
  durationSec: 60,
  frameRate: 12,
  renditions: [
    { id: '144p', width: 256, height: 144, videoBitrateKbps: 150 },
    { id: '240p', width: 426, height: 240, videoBitrateKbps: 300 },
  ],
};
const config = loadConfig();
const hlsPath = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

let fleet: OcaFleet;
let cp: ControlPlaneServer;
let cpUrl: string;
let steering: MemoryConfig<SteeringConfig>;
let pageServer: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  const ladder = await ensureLadder(config.dataDir, STEERING_LADDER, { log: silentLogger });
  const catalog = sharedLadderCatalog(defaultTitleIds(3), ladder);
  const keyring = keyringFromConfig(config.signing.keys);
  fleet = await startOcaFleet(validateFleetSpec({ ...defaultFleetSpec(config.oca), basePort: 0 }), {
    catalog,
    keyring,
    log: silentLogger,
  });
  steering = new MemoryConfig<SteeringConfig>([
    steeringDoc(
      'global',
      1,
      fleet.ocas.map((o) => ocaHealth(o.id, 'healthy', 0.9)),
      2,
    ),
  ]);
  cp = buildControlPlaneServer({
    settings: {
      tokenKeys: config.controlPlane.tokenKeys,
      viewerTokenTtlSec: 3_600,
      devTokenIssuance: true,
      urlTtlSec: 3_600,
      steering: config.controlPlane.steering,
    },
    catalog,
    ocas: fleet.ocas,
    steering,
    abr: new MemoryConfig<AbrConfig>(),
    experiments: () => [],
    availability: { current: () => PRESUMED_AVAILABILITY },
    allocations: { offer: () => true },
    mediaKeyring: keyring,
    log: silentLogger,
  });
  await cp.app.listen({ host: '127.0.0.1', port: 0 });
  const address = cp.app.server.address();
  if (address === null || typeof address === 'string') throw new TypeError('no port');
  cpUrl = `http://127.0.0.1:${address.port}`;

  // The page and hls.js come from an origin of their own, as a player's web app would.
  const hls = await readFile(hlsPath);
  pageServer = createServer((request, response) => {
    if (request.url === '/hls.min.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(hls);
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script>',
        );
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const pageAddress = pageServer.address();
  if (pageAddress === null || typeof pageAddress === 'string') throw new TypeError('no port');
  pageUrl = `http://127.0.0.1:${pageAddress.port}/`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
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
  await browser?.close();
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
  await cp?.app.close();
  await fleet?.stop();
});

interface PlayerLog {
  readonly fragments: string[];
  readonly steering: string[][];
  readonly errors: string[];
}

async function playerLog(page: Page): Promise<PlayerLog> {
  return (await page.evaluate('window.playerLog')) as PlayerLog;
}

describe('hls.js steered by the control plane', () => {
  it('plays from the first Pathway and moves to the next when steering drains it', async () => {
    const token = (
      (await (
        await fetch(`${cpUrl}/v1/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ viewerId: 'browser-viewer' }),
        })
      ).json()) as { token: string }
    ).token;
    const res = await fetch(`${cpUrl}/v1/playback/title-001`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        device: {
          class: 'desktop',
          codecs: ['avc1', 'mp4a.40.2'],
          maxResolution: { width: 1920, height: 1080 },
        },
        network: { isp: 'AS3320', region: 'eu-central', country: 'DE' },
      }),
    });
    expect(res.status).toBe(200);
    const plan = (await res.json()) as PlaybackPlan;
    const [first, second] = plan.ocas;
    expect(first?.proximity).toBe('isp-edge');
    expect(second?.proximity).toBe('isp-edge');
    const ocaOfUrl = (url: string): string | undefined =>
      fleet.ocas.find((o) => new URL(url).origin === o.url)?.id;

    const page = await browser.newPage();
    try {
      await page.goto(pageUrl);
      await page.evaluate(`(() => {
        const log = { fragments: [], steering: [], errors: [] };
        window.playerLog = log;
        const hls = new Hls({
          maxBufferLength: 4,
          maxMaxBufferLength: 6,
          cmcd: { sessionId: ${JSON.stringify(plan.sessionId)}, contentId: ${JSON.stringify(plan.titleId)} },
        });
        hls.on(Hls.Events.FRAG_LOADED, (_e, data) => log.fragments.push(data.frag.url));
        hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_e, data) =>
          log.steering.push(data.steeringManifest['PATHWAY-PRIORITY']));
        hls.on(Hls.Events.ERROR, (_e, data) => log.errors.push(data.type + ':' + data.details + (data.fatal ? ':fatal' : '')));
        hls.loadSource(${JSON.stringify(plan.manifestUrl)});
        hls.attachMedia(document.getElementById('v'));
      })()`);

      // Playing from the first Pathway, and polling the steering server.
      await pollUntil(
        async () => {
          const log = await playerLog(page);
          const fromFirst = log.fragments.filter((u) => ocaOfUrl(u) === first?.id).length;
          return fromFirst >= 2 && log.steering.length >= 1 ? true : undefined;
        },
        { timeoutMs: 30_000, what: 'fragments from the first OCA and a steering manifest' },
      );
      const before = await playerLog(page);
      expect(before.steering[0]?.[0]).toBe(first?.id);
      expect(new Set(before.fragments.map(ocaOfUrl))).toEqual(new Set([first?.id]));
      const telemetry = (await (
        await fetch(`${cpUrl}/admin/steering/sessions/${plan.sessionId}`)
      ).json()) as {
        pathway: string;
        throughputBps: number;
      };
      expect(telemetry.pathway).toBe(first?.id);
      expect(telemetry.throughputBps).toBeGreaterThan(0);

      // The steering processor drains that OCA: within a TTL (2 s) plus a segment, hls.js
      // asks the next Pathway for its segments.
      steering.apply(steeringDoc('isp:AS3320', 1, [ocaHealth(first?.id as string, 'drained', 0)], 2));
      const moved = await pollUntil(
        async () => {
          const log = await playerLog(page);
          const later = log.fragments.slice(before.fragments.length);
          return later.some((u) => ocaOfUrl(u) === second?.id) ? log : undefined;
        },
        { timeoutMs: 20_000, what: 'fragments from the second OCA' },
      );
      expect(moved.steering.at(-1)?.[0]).toBe(second?.id);
      expect(moved.steering.at(-1)).not.toContain(first?.id);
      expect(moved.errors.filter((e) => e.endsWith(':fatal'))).toEqual([]);
      // The OCA that now serves the session sees the player's CMCD with the session id.
      const cmcd = fleet.recentCmcd(second?.id as string);
      expect(cmcd.some((r) => r.cmcd['sid'] === plan.sessionId)).toBe(true);
    } finally {
      await page.close();
    }
  });
});
