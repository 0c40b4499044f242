/**
 * The control plane's HTTP contract through app.inject(): viewer tokens, plans (ranking,
 * renditions, signed URLs, ABR, experiments), the steered playlist and the steering
 * manifest, and every 4xx. In-memory configs and a ladder described by numbers: no I/O.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { type AssignableExperiment, assign } from '../../experiments/assignment/assign.ts';
import type { AbrConfig } from '../../schemas/generated/abr-config.ts';
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import { parseAttributeList } from '../media/hls.ts';
import { keyringFromConfig, verifyMediaPath } from '../signing/url-signing.ts';
import type { SteeringManifest } from '../steering/manifest.ts';
import type { SessionTelemetry } from '../steering/telemetry.ts';
import { type Availability, PRESUMED_AVAILABILITY } from './availability.ts';
import type { PlaybackPlan } from './planner.ts';
import { buildControlPlaneServer, type ControlPlaneServer } from './server.ts';
import { abrDoc, fakeCatalog, fakeOcas, MemoryConfig, ocaHealth, steeringDoc } from './testing.ts';

const NOW = 1_700_000_000_000;
const SIGNING = ['dev1:a-media-signing-key-for-tests'];
const mediaKeyring = keyringFromConfig(SIGNING);

const abrExperiment = Object.freeze<AssignableExperiment>({
  key: 'abr-buffer',
  status: 'running',
  unit: 'viewer',
  seed: 'abr-buffer-seed',
  hashVersion: 1,
  namespace: { name: 'abr-buffer', range: { start: 0, end: 10_000 } },
  targeting: { deviceClasses: ['tv'], countries: [], isps: [] },
  trafficShare: 1,
  cells: [
    { name: 'control', control: true, weight: 5_000, config: { abr: { maxBufferLength: 30 } } },
    { name: 'short', control: false, weight: 5_000, config: { abr: { maxBufferLength: 12 } } },
  ],
});
const steeringExperiment = Object.freeze<AssignableExperiment>({
  key: 'steering-policy',
  status: 'running',
  unit: 'session',
  seed: 'steering-policy-seed',
  hashVersion: 1,
  namespace: { name: 'steering', range: { start: 0, end: 10_000 } },
  targeting: { deviceClasses: ['mobile'], countries: [], isps: [] },
  trafficShare: 1,
  cells: [
    {
      name: 'proximity-only',
      control: true,
      weight: 5_000,
      config: { steering: { policy: 'proximity-only' } },
    },
    {
      name: 'health-weighted',
      control: false,
      weight: 5_000,
      config: { steering: { policy: 'health-weighted' } },
    },
  ],
});

interface Harness {
  server: ControlPlaneServer;
  steering: MemoryConfig<SteeringConfig>;
  abr: MemoryConfig<AbrConfig>;
  events: ExperimentAllocation[];
  clock: { now: number };
  availability: { value: Availability };
}

let open: ControlPlaneServer | undefined;
afterEach(async () => {
  await open?.app.close();
  open = undefined;
});

function harness(
  options: { devTokenIssuance?: boolean; experiments?: readonly AssignableExperiment[] } = {},
): Harness {
  const steering = new MemoryConfig<SteeringConfig>();
  const abr = new MemoryConfig<AbrConfig>();
  const events: ExperimentAllocation[] = [];
  const clock = { now: NOW };
  const availability = { value: PRESUMED_AVAILABILITY };
  let n = 0;
  const server = buildControlPlaneServer({
    settings: {
      tokenKeys: ['k1:a-token-key-for-tests-only'],
      viewerTokenTtlSec: 3_600,
      devTokenIssuance: options.devTokenIssuance ?? true,
      urlTtlSec: 600,
      steering: {
        ttlSec: 10,
        ttlFloorSec: 2,
        ttlCeilingSec: 300,
        defaultPolicy: 'health-weighted',
        telemetrySessions: 100,
      },
    },
    catalog: fakeCatalog(),
    ocas: fakeOcas(),
    steering,
    abr,
    experiments: () => options.experiments ?? [abrExperiment, steeringExperiment],
    availability: { current: () => availability.value },
    allocations: {
      offer: (e) => {
        events.push(e);
        return true;
      },
    },
    mediaKeyring,
    log: silentLogger,
    nowMs: () => clock.now,
    newSessionId: () => `session-${++n}`,
  });
  open = server;
  return { server, steering, abr, events, clock, availability };
}

const tv = {
  device: { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 854, height: 480 } },
  network: { isp: 'AS3320', region: 'eu-central', country: 'DE' },
};

async function token(h: Harness, viewerId = 'viewer-1'): Promise<string> {
  const res = await h.server.app.inject({ method: 'POST', url: '/v1/tokens', payload: { viewerId } });
  expect(res.statusCode).toBe(201);
  return (res.json() as { token: string }).token;
}

async function plan(
  h: Harness,
  body: unknown = tv,
  viewerId = 'viewer-1',
  title = 'title-001',
): Promise<PlaybackPlan> {
  const res = await h.server.app.inject({
    method: 'POST',
    url: `/v1/playback/${title}`,
    headers: { authorization: `Bearer ${await token(h, viewerId)}` },
    payload: body as Record<string, unknown>,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as PlaybackPlan;
}

function pathAndQuery(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

describe('viewer tokens', () => {
  it('issues a token for a viewer id; refuses bad ids and disabled issuance', async () => {
    const h = harness();
    const res = await h.server.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      payload: { viewerId: 'v-1' },
    });
    expect(res.json()).toMatchObject({
      tokenType: 'Bearer',
      viewerId: 'v-1',
      expiresAtSec: NOW / 1000 + 3_600,
    });
    const bad = await h.server.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      payload: { viewerId: 'a b' },
    });
    expect(bad.statusCode).toBe(400);
    const none = await h.server.app.inject({ method: 'POST', url: '/v1/tokens', payload: {} });
    expect(none.json()).toMatchObject({ error: { code: 'PLAYLOOP_BAD_REQUEST' } });
    const off = harness({ devTokenIssuance: false });
    const refused = await off.server.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      payload: { viewerId: 'v' },
    });
    expect(refused.statusCode).toBe(403);
  });
});

describe('POST /v1/playback/:titleId', () => {
  it('counts served plans and their first OCA in /metrics, with the JSON content type', async () => {
    const h = harness();
    const auth = { authorization: `Bearer ${await token(h)}` };
    const first = await h.server.app.inject({
      method: 'POST',
      url: '/v1/playback/title-001',
      headers: auth,
      payload: tv,
    });
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('no-store');
    const lead = (first.json() as PlaybackPlan).ocas[0] as PlaybackPlan['ocas'][number];
    await plan(h);
    const scrape = async (): Promise<string> =>
      (await h.server.app.inject({ method: 'GET', url: '/metrics' })).body;
    let text = await scrape();
    expect(text).toMatch(/playloop_control_plane_plans_total\{outcome="ok"\} 2\n/);
    expect(text).toContain(
      `playloop_control_plane_plan_first_oca_total{oca="${lead.id}",proximity="${lead.proximity}"} 2\n`,
    );
    // Counts keep adding up across scrapes (a counter, not the plans since the last scrape).
    await plan(h, { ...tv, network: { region: 'us-east' } }, 'viewer-2');
    text = await scrape();
    expect(text).toMatch(/playloop_control_plane_plans_total\{outcome="ok"\} 3\n/);
    expect(text).toContain(
      `playloop_control_plane_plan_first_oca_total{oca="${lead.id}",proximity="${lead.proximity}"} 2\n`,
    );
  });

  it('ranks OCAs by proximity, signs one media prefix, filters renditions and allocates', async () => {
    const h = harness();
    const p = await plan(h);
    expect(p.sessionId).toBe('session-1');
    expect(p.viewerId).toBe('viewer-1');
    expect(p.ocas.map((o) => o.proximity)).toEqual([
      'isp-edge',
      'isp-edge',
      'region-storage',
      'remote-storage',
      'remote-edge',
      'remote-edge',
    ]);
    expect(p.ocas.map((o) => o.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(p.steering.pathwayId).toBe(p.ocas[0]?.id);
    expect(p.steering.policy).toBe('health-weighted');
    expect(p.steering.ttlSec).toBe(10);
    // The device tops out at 480p.
    expect(p.renditions.map((r) => r.id)).toEqual(['240p', '480p']);
    expect(p.startRenditionId).toBeNull();
    // Every OCA's base URL is that OCA plus one signed prefix the OCAs verify.
    for (const oca of p.ocas) {
      const url = new URL(`${oca.baseUrl}240p/seg_00000.m4s`);
      expect(url.origin).toBe(fakeOcas().find((o) => o.id === oca.id)?.url);
      const verdict = verifyMediaPath(url.pathname, NOW, mediaKeyring);
      expect(verdict).toMatchObject({
        ok: true,
        titleId: 'title-001',
        sessionId: 'session-1',
        file: '240p/seg_00000.m4s',
      });
      expect(verdict.ok && verdict.expiresAtSec).toBe(p.expiresAtSec);
    }
    expect(p.expiresAtSec).toBe(NOW / 1000 + 600);
    // Allocation: the tv viewer is in the ABR experiment, not in the mobile-only steering one.
    const [expected] = assign([abrExperiment], {
      viewerId: 'viewer-1',
      sessionId: 'session-1',
      deviceClass: 'tv',
      country: 'DE',
      isp: 'AS3320',
    });
    expect(expected?.inExperiment).toBe(true);
    const cell = expected?.inExperiment ? expected.cell : '';
    expect(p.experiments).toEqual([{ key: 'abr-buffer', cell, control: cell === 'control' }]);
    expect(p.abr.hlsjs).toEqual({ maxBufferLength: cell === 'control' ? 30 : 12 });
    expect(p.abr.sources).toEqual({ maxBufferLength: `experiment:abr-buffer/${cell}` });
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      experimentKey: 'abr-buffer',
      cell,
      unitId: 'viewer-1',
      sessionId: 'session-1',
      source: 'control-plane',
      allocatedAt: NOW,
      deviceClass: 'tv',
      isp: 'AS3320',
    });
  });

  it('changes when the steering config changes: degraded edges drop, drained ones go', async () => {
    const h = harness();
    const before = await plan(h);
    expect(before.ocas[0]?.proximity).toBe('isp-edge');
    h.steering.apply(
      steeringDoc('isp:AS3320', 1, [
        ocaHealth('oca-edge-as3320-a', 'degraded', 0.3),
        ocaHealth('oca-edge-as3320-b', 'drained', 0),
      ]),
    );
    const after = await plan(h);
    expect(after.ocas[0]?.id).toBe('oca-storage-eu-central');
    expect(after.ocas.map((o) => o.id)).not.toContain('oca-edge-as3320-b');
    expect(after.excludedOcas).toEqual([{ id: 'oca-edge-as3320-b', reason: 'drained' }]);
    const a = after.ocas.find((o) => o.id === 'oca-edge-as3320-a');
    expect(a).toMatchObject({ state: 'degraded', score: 0.3, healthKnown: true });
    expect(after.config.steering.versions).toEqual(['isp:AS3320@1']);
    // Another ISP's viewers are not covered by that document.
    const other = await plan(h, { ...tv, network: { isp: 'AS7922', region: 'us-east' } });
    expect(other.ocas[0]?.id).toMatch(/^oca-edge-as7922-/);
  });

  it('respects availability: an edge that does not hold the title is left out', async () => {
    const h = harness();
    h.availability.value = {
      source: 'clickhouse',
      asOfMs: NOW,
      edgeTitles: new Map([
        ['oca-edge-as3320-a', new Set(['title-002'])],
        ['oca-edge-as3320-b', new Set(['title-001'])],
      ]),
    };
    const p = await plan(h);
    expect(p.ocas[0]?.id).toBe('oca-edge-as3320-b');
    expect(p.excludedOcas).toEqual([{ id: 'oca-edge-as3320-a', reason: 'not-holding-title' }]);
    expect(p.config.availability).toEqual({ source: 'clickhouse', asOfMs: NOW });
  });

  it('serves new ABR knobs on the next playback after config.abr changes', async () => {
    const h = harness();
    const body = { ...tv, device: { ...tv.device, class: 'desktop' } };
    expect((await plan(h, body)).abr.hlsjs).toEqual({});
    h.abr.apply(abrDoc('global', 1, { abrBandWidthFactor: 0.9, abrEwmaDefaultEstimate: 1_000_000 }));
    expect((await plan(h, body)).abr).toMatchObject({
      hlsjs: { abrBandWidthFactor: 0.9, abrEwmaDefaultEstimate: 1_000_000 },
      sources: { abrBandWidthFactor: 'global@1' },
    });
    h.abr.apply(abrDoc('device:desktop', 1, { abrBandWidthFactor: 0.8, bandwidthSafetyFactor: 0.7 }));
    const p = await plan(h, body);
    expect(p.abr.hlsjs).toEqual({ abrBandWidthFactor: 0.8, abrEwmaDefaultEstimate: 1_000_000 });
    expect(p.abr.dashjs).toEqual({ streaming: { abr: { bandwidthSafetyFactor: 0.7 } } });
    expect(p.config.abr.layers).toEqual(['global@1', 'device:desktop@1']);
  });

  it('uses the throughput hint for the first rendition and the cell’s steering policy', async () => {
    const h = harness();
    const mobile = {
      device: { class: 'mobile', codecs: ['avc1', 'mp4a'], maxResolution: { width: 1920, height: 1080 } },
      network: { isp: 'AS3320', region: 'eu-central', throughputKbps: 2_000 },
    };
    const p = await plan(h, mobile);
    expect(p.startRenditionId).toBe('480p');
    const [allocation] = assign([steeringExperiment], {
      viewerId: 'viewer-1',
      sessionId: p.sessionId,
      deviceClass: 'mobile',
      country: null,
      isp: 'AS3320',
    });
    expect(allocation?.inExperiment && allocation.cell).toBe(p.steering.policy);
  });

  it('plays without experiments, and counts it, when the experiment set is inconsistent', async () => {
    // Two running experiments overriding one knob for one viewer: validation of the set
    // forbids it; if it slips through, playback must still work.
    const clash = Object.freeze<AssignableExperiment>({
      ...abrExperiment,
      key: 'abr-buffer-2',
      seed: 'other',
    });
    const h = harness({ experiments: [abrExperiment, clash] });
    const p = await plan(h);
    expect(p.experiments).toEqual([]);
    expect(p.abr.hlsjs).toEqual({});
    expect(h.events).toEqual([]);
    const metrics = (await h.server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('playloop_control_plane_fallbacks_total{kind="experiments-skipped"} 1');
  });

  it('answers bad requests with precise 4xx errors', async () => {
    const h = harness();
    const auth = { authorization: `Bearer ${await token(h)}` };
    const inject = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
      h.server.app.inject({ method: 'POST', url, headers, payload: payload as string });

    const noToken = await inject('/v1/playback/title-001', tv, {});
    expect(noToken.statusCode).toBe(401);
    expect(noToken.headers['www-authenticate']).toBe('Bearer realm="playloop"');
    const badToken = await inject('/v1/playback/title-001', tv, { authorization: 'Bearer x.y.z' });
    expect(badToken.statusCode).toBe(401);
    expect(badToken.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    h.clock.now = NOW + 3_601_000;
    const expired = await inject('/v1/playback/title-001', tv);
    expect(expired.json()).toMatchObject({
      error: { code: 'PLAYLOOP_UNAUTHORIZED', details: { reason: 'expired' } },
    });
    h.clock.now = NOW;

    expect((await inject('/v1/playback/no-such-title', tv)).statusCode).toBe(404);
    expect((await inject('/v1/playback/bad$title', tv)).statusCode).toBe(400);
    const badBody = await inject('/v1/playback/title-001', { device: { ...tv.device, class: 'fridge' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json()).toMatchObject({
      error: { details: { issues: [expect.stringMatching(/^device\.class: /)] } },
    });
    const text = await h.server.app.inject({
      method: 'POST',
      url: '/v1/playback/title-001',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    const broken = await h.server.app.inject({
      method: 'POST',
      url: '/v1/playback/title-001',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"device":',
    });
    expect(broken.statusCode).toBe(400);
    const huge = await inject('/v1/playback/title-001', { device: tv.device, pad: 'x'.repeat(20_000) });
    expect(huge.statusCode).toBe(413);
    const hevcOnly = await inject('/v1/playback/title-001', {
      device: { ...tv.device, codecs: ['hvc1', 'mp4a'] },
    });
    expect(hevcOnly.statusCode).toBe(422);
    expect(hevcOnly.json()).toMatchObject({ error: { code: 'PLAYLOOP_NOT_PLAYABLE' } });

    const metrics = await h.server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/playloop_control_plane_plans_total\{outcome="PLAYLOOP_NOT_FOUND"\} 1/);
    expect(metrics.body).toMatch(
      /playloop_control_plane_auth_failures_total\{token="viewer",reason="expired"\} 1/,
    );
  });
});

describe('steered playlist and steering manifest', () => {
  it('serves a multivariant playlist with one Pathway per OCA and the steering tag', async () => {
    const h = harness();
    const p = await plan(h);
    const res = await h.server.app.inject({ method: 'GET', url: pathAndQuery(p.manifestUrl) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    const lines = res.body.split('\n');
    const steeringLine = lines.find((l) => l.startsWith('#EXT-X-CONTENT-STEERING:')) as string;
    const tag = parseAttributeList(steeringLine.slice('#EXT-X-CONTENT-STEERING:'.length));
    expect(tag.get('SERVER-URI')).toBe(p.steering.uri);
    expect(tag.get('PATHWAY-ID')).toBe(p.steering.pathwayId);
    const variants = lines.flatMap((l, i) =>
      l.startsWith('#EXT-X-STREAM-INF:')
        ? [{ attrs: parseAttributeList(l.slice(18)), uri: lines[i + 1] as string }]
        : [],
    );
    // Two renditions (480p cap) on each of the six OCAs.
    expect(variants).toHaveLength(12);
    for (const oca of p.ocas) {
      const mine = variants.filter((v) => v.attrs.get('PATHWAY-ID') === oca.id);
      expect(mine.map((v) => v.attrs.get('STABLE-VARIANT-ID'))).toEqual(['240p', '480p']);
      for (const v of mine) expect(v.uri.startsWith(oca.baseUrl)).toBe(true);
    }
  });

  it('answers hls.js with the ranking of now, a floored TTL, and records its telemetry', async () => {
    const h = harness();
    const p = await plan(h);
    const first = p.ocas[0]?.id as string;
    const url = `${pathAndQuery(p.steering.uri)}&_HLS_pathway=${first}&_HLS_throughput=4500000`;
    const res = await h.server.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const manifest = res.json() as SteeringManifest;
    expect(manifest).toEqual({
      VERSION: 1,
      TTL: 10,
      'RELOAD-URI': pathAndQuery(p.steering.uri),
      'PATHWAY-PRIORITY': p.ocas.map((o) => o.id),
    });

    // The steering processor drains the viewer's first OCA and asks for TTL 0.
    h.steering.apply(steeringDoc('region:eu-central', 1, [ocaHealth(first, 'drained', 0)], 0));
    const next = (await h.server.app.inject({ method: 'GET', url })).json() as SteeringManifest;
    expect(next.TTL).toBe(2);
    expect(next['PATHWAY-PRIORITY']).not.toContain(first);
    expect(next['PATHWAY-PRIORITY']).toHaveLength(5);

    const telemetry = await h.server.app.inject({
      method: 'GET',
      url: `/admin/steering/sessions/${p.sessionId}`,
    });
    expect(telemetry.json() as SessionTelemetry).toMatchObject({
      sessionId: p.sessionId,
      pathway: first,
      throughputBps: 4_500_000,
      requests: 2,
      servedFirst: next['PATHWAY-PRIORITY'][0],
    });
    const metrics = (await h.server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`playloop_control_plane_steering_requests_total{pathway="${first}"} 2`);
    expect(metrics).toMatch(/playloop_control_plane_steering_throughput_bps_count 2/);
  });

  it('refuses tampered tokens (403), and expired ones with 410 so hls.js stops polling', async () => {
    const h = harness();
    const p = await plan(h);
    const url = new URL(p.steering.uri);
    const st = url.searchParams.get('st') as string;
    const tampered = `${st.slice(0, -2)}${st.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(
      (await h.server.app.inject({ method: 'GET', url: `${url.pathname}?st=${tampered}` })).statusCode,
    ).toBe(403);
    expect((await h.server.app.inject({ method: 'GET', url: url.pathname })).statusCode).toBe(403);
    // A good token on another session's URL.
    expect(
      (await h.server.app.inject({ method: 'GET', url: `/v1/steering/session-9?st=${st}` })).statusCode,
    ).toBe(403);
    h.clock.now = NOW + 601_000;
    const gone = await h.server.app.inject({ method: 'GET', url: pathAndQuery(p.steering.uri) });
    expect(gone.statusCode).toBe(410);
    expect((await h.server.app.inject({ method: 'GET', url: pathAndQuery(p.manifestUrl) })).statusCode).toBe(
      403,
    );
  });

  it('reports readiness with where each config comes from', async () => {
    const h = harness();
    h.steering.apply(steeringDoc('global', 1, []));
    const res = await h.server.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toMatchObject({
      ready: true,
      config: { steering: { source: 'kafka', scopes: 1 }, abr: { source: 'empty', scopes: 0 } },
      availability: { source: 'presumed' },
      experiments: ['abr-buffer', 'steering-policy'],
    });
  });
});
