/**
 * The control plane on the real stack: Kafka config topics (config.steering, config.abr),
 * the schema registry, ClickHouse (embedded chDB) for availability, a real OCA fleet serving
 * an encoded ladder, and the allocation topic.
 *
 * - a plan is ranked by proximity, health and availability, and changes when the steering
 *   config changes (published to Kafka, followed by the control plane);
 * - the OCA accepts the plan's signed URLs; tampered or expired ones get 403;
 * - the steered playlist and the steering manifest work over real sockets;
 * - new ABR knobs are served on the next playback after config.abr changes;
 * - allocation events reach the allocations topic;
 * - with Kafka and ClickHouse gone, the control plane serves the last good config.
 */
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import { type Catalog, defaultTitleIds, sharedLadderCatalog } from '../control-plane/media/catalog.ts';
import { parseVariantStreams } from '../control-plane/media/hls.ts';
import { ensureLadder } from '../control-plane/media/ladder.ts';
import { SHORT_LADDER } from '../control-plane/media/ladder-spec.ts';
import { type OcaFleet, startOcaFleet } from '../control-plane/oca/fleet.ts';
import { defaultFleetSpec, validateFleetSpec } from '../control-plane/oca/spec.ts';
import type { PlaybackPlan } from '../control-plane/plan/planner.ts';
import { abrDoc, MemoryConfig, ocaHealth, steeringDoc } from '../control-plane/plan/testing.ts';
import { buildControlPlaneServer, startControlPlaneWith } from '../control-plane/role.ts';
import { keyringFromConfig } from '../control-plane/signing/url-signing.ts';
import type { SteeringManifest } from '../control-plane/steering/manifest.ts';
import { loadConfig, type PlayloopConfig } from '../core/config.ts';
import { PlayloopError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import type { AssignableExperiment } from '../experiments/assignment/assign.ts';
import { type ClickHouse, openAndMigrate } from '../infra/clickhouse.ts';
import { ConfigPublisher } from '../infra/config-topic.ts';
import { createKafka, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { type AbrConfig, schema as abrSchema } from '../schemas/generated/abr-config.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../schemas/generated/experiment-allocation.ts';
import { type SteeringConfig, schema as steeringSchema } from '../schemas/generated/steering-config.ts';
import { deleteTopics, testConfig } from './support/stack.ts';

const base = testConfig('cp');
// Port 0: the role listens on an ephemeral port and reports it. Short catch-up so the
// Kafka-less restart below does not wait long.
const config: PlayloopConfig = loadConfig({
  overrides: {
    dataDir: base.dataDir,
    topics: { ...base.topics },
    clickhouse: { database: base.clickhouse.database },
    controlPlane: { port: 0, configCatchUpTimeoutMs: 3_000, availability: { refreshIntervalMs: 500 } },
  },
});
const topics = [config.topics.steering, config.topics.abr, config.topics.allocations];
// The encoded ladder is cached in the default data directory (as tests/oca-media.test.ts
// does): the same spec is encoded once per machine.
const mediaDir = loadConfig().dataDir;

const tvExperiment = Object.freeze<AssignableExperiment>({
  key: 'cp-it-buffer',
  status: 'running',
  unit: 'viewer',
  seed: 'cp-it-buffer-seed',
  hashVersion: 1,
  namespace: { name: 'cp-it', range: { start: 0, end: 10_000 } },
  targeting: { deviceClasses: ['tv'], countries: [], isps: [] },
  trafficShare: 1,
  cells: [
    { name: 'control', control: true, weight: 5_000, config: {} },
    { name: 'treatment', control: false, weight: 5_000, config: {} },
  ],
});

let catalog: Catalog;
let fleet: OcaFleet;
let ch: ClickHouse;
let role: RunningRole | undefined;
let url: string;
let steeringPublisher: ConfigPublisher<SteeringConfig>;
let abrPublisher: ConfigPublisher<AbrConfig>;
const stopAll = new AbortController();

function context(cfg: PlayloopConfig, clickhouse: () => Promise<ClickHouse>): RoleContext {
  return { config: cfg, log: silentLogger, clickhouse, signal: stopAll.signal };
}

async function viewerToken(baseUrl: string, viewerId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ viewerId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

const tv = {
  device: { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1920, height: 1080 } },
  network: { isp: 'AS3320', region: 'eu-central', country: 'DE' },
};

async function playback(
  baseUrl: string,
  titleId: string,
  viewerId = 'viewer-it',
  body: unknown = tv,
): Promise<PlaybackPlan> {
  const res = await fetch(`${baseUrl}/v1/playback/${titleId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await viewerToken(baseUrl, viewerId)}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as PlaybackPlan;
}

beforeAll(async () => {
  const ladder = await ensureLadder(mediaDir, SHORT_LADDER, { log: silentLogger });
  catalog = sharedLadderCatalog(defaultTitleIds(20), ladder);
  fleet = await startOcaFleet(validateFleetSpec({ ...defaultFleetSpec(config.oca), basePort: 0 }), {
    catalog,
    keyring: keyringFromConfig(config.signing.keys),
    log: silentLogger,
  });
  ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
  // Viewing history: in eu-central, title-001 and title-003 are watched; nothing else is.
  const now = Date.now();
  const rows = [
    ...Array.from({ length: 30 }, (_, i) => ['title-001', i]),
    ...Array.from({ length: 10 }, (_, i) => ['title-003', i]),
  ].map(([title, i]) => {
    const at = new Date(now - 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
    return `('${title}-${i}', 's-${title}-${i}', '${title}', '${at}', 'eu-central')`;
  });
  await ch.client.command({
    query: `INSERT INTO ${ch.database}.sessions (summary_id, session_id, title_id, start_time, region) VALUES ${rows.join(',')}`,
  });

  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) =>
    ensureTopics(admin, [
      { topic: config.topics.steering, partitions: 1, compacted: true },
      { topic: config.topics.abr, partitions: 1, compacted: true },
      { topic: config.topics.allocations, partitions: 2 },
    ]),
  );
  const registry = createRegistry(config.registry.url);
  steeringPublisher = new ConfigPublisher(
    kafka,
    config.topics.steering,
    await AvroCodec.register<SteeringConfig>(registry, config.topics.steering, steeringSchema),
  );
  abrPublisher = new ConfigPublisher(
    kafka,
    config.topics.abr,
    await AvroCodec.register<AbrConfig>(registry, config.topics.abr, abrSchema),
  );
  // Published before the control plane starts: it must catch up with it.
  await steeringPublisher.publish(
    steeringDoc(
      'global',
      1,
      fleet.ocas.map((o) => ocaHealth(o.id, 'healthy', 0.95)),
      6,
    ),
  );

  role = await startControlPlaneWith(
    context(config, async () => ch),
    {
      ocas: fleet.ocas,
      catalog,
      experiments: [tvExperiment],
    },
  );
  url = (role.addresses[0] as string).replace(/\/v1\/playback\/:titleId$/, '');
  // Availability comes from ClickHouse in the background: wait until it has.
  await pollUntil(
    async () => {
      const ready = (await (await fetch(`${url}/readyz`)).json()) as { availability: { source: string } };
      return ready.availability.source === 'clickhouse' ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'availability from ClickHouse' },
  );
});

afterAll(async () => {
  stopAll.abort();
  await role?.stop();
  await steeringPublisher?.stop();
  await abrPublisher?.stop();
  await fleet?.stop();
  await ch?.close();
  await deleteTopics(config, topics);
});

describe('control plane on the real stack', () => {
  it('ranks by proximity, health and availability, and follows config.steering', async () => {
    const ready = (await (await fetch(`${url}/readyz`)).json()) as {
      config: { steering: { source: string; scopes: number } };
    };
    expect(ready.config.steering).toMatchObject({ source: 'kafka', scopes: 1 });

    // title-001 is popular in eu-central: the viewer's ISP edges hold it and come first.
    const popular = await playback(url, 'title-001');
    expect(popular.ocas.map((o) => o.proximity)).toEqual([
      'isp-edge',
      'isp-edge',
      'region-storage',
      'remote-storage',
      'remote-edge',
      'remote-edge',
    ]);
    expect(popular.steering.ttlSec).toBe(6);
    expect(popular.config.availability.source).toBe('clickhouse');
    // title-002 was never watched there: the eu-central edges do not hold it; storage leads.
    // (us-east has no viewing data, so its edges are presumed to fill on a miss.)
    const cold = await playback(url, 'title-002');
    expect(cold.ocas[0]?.id).toBe('oca-storage-eu-central');
    expect(cold.excludedOcas).toEqual([
      { id: 'oca-edge-as3320-a', reason: 'not-holding-title' },
      { id: 'oca-edge-as3320-b', reason: 'not-holding-title' },
    ]);

    // The steering processor degrades one ISP edge and drains the other.
    await steeringPublisher.publish(
      steeringDoc('isp:AS3320', 1, [
        ocaHealth('oca-edge-as3320-a', 'degraded', 0.2),
        ocaHealth('oca-edge-as3320-b', 'drained', 0),
      ]),
    );
    const steered = await pollUntil(
      async () => {
        const p = await playback(url, 'title-001');
        return p.ocas[0]?.id === 'oca-storage-eu-central' ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'a plan under the new steering config' },
    );
    expect(steered.ocas.map((o) => o.id)).not.toContain('oca-edge-as3320-b');
    expect(steered.excludedOcas).toContainEqual({ id: 'oca-edge-as3320-b', reason: 'drained' });
    expect(steered.config.steering.versions).toEqual(['isp:AS3320@1', 'global@1']);

    // The session planned before the change is steered too, on its next reload.
    const manifestUrl = new URL(popular.steering.uri);
    manifestUrl.searchParams.set('_HLS_pathway', popular.steering.pathwayId);
    manifestUrl.searchParams.set('_HLS_throughput', '3000000');
    const res = await fetch(manifestUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const manifest = (await res.json()) as SteeringManifest;
    expect(manifest.VERSION).toBe(1);
    // The TTL of the most specific document: the ISP one (10 s), no longer global's 6 s.
    expect(manifest.TTL).toBe(10);
    expect(manifest['PATHWAY-PRIORITY'][0]).toBe('oca-storage-eu-central');
    expect(manifest['PATHWAY-PRIORITY']).not.toContain('oca-edge-as3320-b');
    const telemetry = await fetch(`${url}/admin/steering/sessions/${popular.sessionId}`);
    expect(await telemetry.json()).toMatchObject({
      pathway: popular.steering.pathwayId,
      throughputBps: 3_000_000,
    });
  });

  it('hands out signed URLs the OCAs accept, and the OCAs refuse tampered or expired ones', async () => {
    const plan = await playback(url, 'title-003');
    const first = plan.ocas[0];
    expect(first).toBeDefined();
    const rendition = plan.renditions[0];
    const playlist = await fetch(`${first?.baseUrl}${rendition?.playlist}`);
    expect(playlist.status).toBe(200);
    const segment = (await playlist.text()).split('\n').find((l) => l.endsWith('.m4s')) as string;
    const media = await fetch(`${first?.baseUrl}${rendition?.id}/${segment}`);
    expect(media.status).toBe(200);
    expect((await media.arrayBuffer()).byteLength).toBeGreaterThan(0);

    // Tampered: one character of the signature changed.
    const signed = first?.baseUrl as string;
    const sig = signed.slice(signed.lastIndexOf('~') + 1, -1);
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    const tampered = await fetch(`${signed.replace(sig, flipped)}${rendition?.playlist}`);
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ reason: 'tampered' });
    // Another session id under the same signature.
    const stolen = await fetch(`${signed.replace(plan.sessionId, 'someone-else')}${rendition?.playlist}`);
    expect(stolen.status).toBe(403);

    // Expired: a control plane whose clock reads seven hours ago signs URLs valid for six.
    const past = buildControlPlaneServer({
      settings: {
        tokenKeys: config.controlPlane.tokenKeys,
        viewerTokenTtlSec: 86_400,
        devTokenIssuance: true,
        urlTtlSec: config.signing.urlTtlSec,
        steering: config.controlPlane.steering,
      },
      catalog,
      ocas: fleet.ocas,
      steering: new MemoryConfig<SteeringConfig>(),
      abr: new MemoryConfig<AbrConfig>(),
      experiments: () => [],
      availability: { current: () => ({ source: 'presumed', asOfMs: 0, edgeTitles: new Map() }) },
      allocations: { offer: () => true },
      mediaKeyring: keyringFromConfig(config.signing.keys),
      log: silentLogger,
      nowMs: () => Date.now() - 7 * 3_600_000,
    });
    await past.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const pastAddress = past.app.server.address();
      if (pastAddress === null || typeof pastAddress === 'string') throw new TypeError('no port');
      const old = await playback(`http://127.0.0.1:${pastAddress.port}`, 'title-003');
      const expired = await fetch(`${old.ocas[0]?.baseUrl}${old.renditions[0]?.playlist}`);
      expect(expired.status).toBe(403);
      expect(await expired.json()).toMatchObject({ reason: 'expired' });
    } finally {
      await past.app.close();
    }
    const forbidden = fleet.stats().reduce((n, s) => n + s.forbidden.tampered + s.forbidden.expired, 0);
    expect(forbidden).toBe(3);
  });

  it('serves a steered multivariant playlist whose every Pathway plays from its OCA', async () => {
    const plan = await playback(url, 'title-001');
    const res = await fetch(plan.manifestUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const text = await res.text();
    expect(text).toContain(
      `#EXT-X-CONTENT-STEERING:SERVER-URI="${plan.steering.uri}",PATHWAY-ID="${plan.steering.pathwayId}"`,
    );
    const variants = parseVariantStreams(text);
    const pathways = new Set(variants.map((v) => v.attributes.get('PATHWAY-ID')));
    // Ranked OCAs plus the drained one (kept so steering can bring the session back).
    expect(pathways.size).toBe(6);
    for (const pathway of pathways) {
      const variant = variants.find((v) => v.attributes.get('PATHWAY-ID') === pathway);
      const media = await fetch(variant?.uri as string);
      expect(media.status, `${pathway}: ${variant?.uri}`).toBe(200);
      expect(media.headers.get('x-oca-id')).toBe(pathway);
    }
  });

  it('serves the new ABR knobs on the next playback after config.abr changes', async () => {
    await abrPublisher.publish(abrDoc('global', 1, { abrBandWidthFactor: 0.9, maxBufferLength: 20 }));
    const first = await pollUntil(
      async () => {
        const p = await playback(url, 'title-001');
        return p.abr.hlsjs.abrBandWidthFactor === 0.9 ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'ABR v1' },
    );
    expect(first.abr.hlsjs).toEqual({ abrBandWidthFactor: 0.9, maxBufferLength: 20 });
    await abrPublisher.publish(abrDoc('device:tv', 1, { abrBandWidthFactor: 0.8 }));
    await abrPublisher.publish(abrDoc('global', 2, { abrBandWidthFactor: 0.9, maxBufferLength: 24 }));
    const next = await pollUntil(
      async () => {
        const p = await playback(url, 'title-001');
        return p.abr.hlsjs.maxBufferLength === 24 && p.abr.hlsjs.abrBandWidthFactor === 0.8 ? p : undefined;
      },
      { timeoutMs: 20_000, what: 'ABR v2' },
    );
    expect(next.abr.sources).toEqual({ abrBandWidthFactor: 'device:tv@1', maxBufferLength: 'global@2' });
  });

  it('produces allocation events to the allocations topic', async () => {
    const plan = await playback(url, 'title-001', 'viewer-alloc');
    expect(plan.experiments).toHaveLength(1);
    const codec = await AvroCodec.register<ExperimentAllocation>(
      createRegistry(config.registry.url),
      config.topics.allocations,
      allocationSchema,
    );
    const kafka = createKafka(config.kafka);
    const consumer: Consumer = kafka.consumer({ groupId: `${config.topics.allocations}-reader` });
    const seen: ExperimentAllocation[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: config.topics.allocations, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value) seen.push(await codec.decode(message.value));
        },
      });
      const mine = await pollUntil(async () => seen.find((e) => e.sessionId === plan.sessionId), {
        timeoutMs: 30_000,
        what: 'the allocation event',
      });
      expect(mine).toMatchObject({
        experimentKey: 'cp-it-buffer',
        cell: plan.experiments[0]?.cell,
        unitId: 'viewer-alloc',
        viewerId: 'viewer-alloc',
        source: 'control-plane',
        deviceClass: 'tv',
        isp: 'AS3320',
        country: 'DE',
      });
    } finally {
      await consumer.disconnect();
    }
  });

  it('serves the last good config when Kafka and ClickHouse are away', async () => {
    // Stop the role: its config tables write their snapshots under dataDir.
    await role?.stop();
    role = undefined;
    const offline = loadConfig({
      overrides: {
        dataDir: config.dataDir,
        topics: { ...config.topics },
        kafka: { brokers: '127.0.0.1:1', connectionTimeoutMs: 300, requestTimeoutMs: 1_000 },
        controlPlane: { port: 0, configCatchUpTimeoutMs: 1_500 },
      },
    });
    const down = await startControlPlaneWith(
      context(offline, () =>
        Promise.reject(new PlayloopError('CLICKHOUSE_UNAVAILABLE', 'ClickHouse is away')),
      ),
      { ocas: fleet.ocas, catalog, experiments: [tvExperiment] },
    );
    try {
      const downUrl = (down.addresses[0] as string).replace(/\/v1\/playback\/:titleId$/, '');
      const ready = (await (await fetch(`${downUrl}/readyz`)).json()) as {
        config: { steering: { source: string }; abr: { source: string } };
        availability: { source: string; lastError?: string };
      };
      expect(ready.config.steering.source).toBe('snapshot');
      expect(ready.config.abr.source).toBe('snapshot');
      const plan = await playback(downUrl, 'title-001');
      // The last good steering config: ISP edge degraded and drained, storage first.
      expect(plan.ocas[0]?.id).toBe('oca-storage-eu-central');
      expect(plan.config.steering.source).toBe('snapshot');
      expect(plan.abr.hlsjs).toEqual({ abrBandWidthFactor: 0.8, maxBufferLength: 24 });
      // ClickHouse is away: availability stays presumed, playback goes on.
      expect(plan.config.availability.source).toBe('presumed');
      expect(ready.availability.lastError).toMatch(/ClickHouse is away/);
    } finally {
      await down.stop();
    }
  });
});
