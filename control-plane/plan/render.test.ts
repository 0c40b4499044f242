/**
 * The plan's JSON written from cached pieces must be exactly JSON.stringify of the plan
 * object, for every kind of plan, and must follow every change of the steering config, the
 * ABR config, the availability and the experiment list (its caches are keyed by the planner's
 * cached objects, which those changes replace).
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import type { AssignableExperiment } from '../../experiments/assignment/assign.ts';
import type { AbrConfig } from '../../schemas/generated/abr-config.ts';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import { sessionKeyring } from '../auth/session-token.ts';
import { keyringFromConfig } from '../signing/url-signing.ts';
import { type Availability, PRESUMED_AVAILABILITY } from './availability.ts';
import { Planner, type ViewerContext } from './planner.ts';
import type { OcaDescriptor } from './ranking.ts';
import type { PlaybackRequest } from './request.ts';
import { abrDoc, fakeCatalog, fakeOcas, MemoryConfig, ocaHealth, steeringDoc } from './testing.ts';

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
    {
      name: 'short',
      control: false,
      weight: 5_000,
      config: { abr: { maxBufferLength: 12, bandwidthSafetyFactor: 0.8 } },
    },
  ],
});
const steeringExperiment = Object.freeze<AssignableExperiment>({
  key: 'steering-policy',
  status: 'running',
  unit: 'session',
  seed: 'steering-policy-seed',
  hashVersion: 1,
  namespace: { name: 'steering', range: { start: 0, end: 10_000 } },
  targeting: { deviceClasses: [], countries: [], isps: [] },
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

const TV: PlaybackRequest = {
  device: { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1920, height: 1080 } },
  network: { throughputKbps: 4_000 },
};
const PHONE: PlaybackRequest = {
  device: {
    class: 'mobile',
    codecs: ['avc1.42c015', 'mp4a.40.2'],
    maxResolution: { width: 854, height: 480 },
  },
  network: {},
};

function setup(ocas: readonly OcaDescriptor[] = fakeOcas()) {
  const steering = new MemoryConfig<SteeringConfig>();
  const abr = new MemoryConfig<AbrConfig>();
  const experiments = { list: [abrExperiment, steeringExperiment] as readonly AssignableExperiment[] };
  const availability = { value: PRESUMED_AVAILABILITY as Availability };
  const clock = { now: 1_700_000_000_123 };
  let n = 0;
  const planner = new Planner({
    catalog: fakeCatalog(),
    ocas,
    steering,
    abr,
    experiments: () => experiments.list,
    availability: { current: () => availability.value },
    allocations: { offer: () => true },
    mediaKeyring: keyringFromConfig(['m1:a-media-signing-key-for-tests']),
    sessionRing: sessionKeyring(['k1:a-token-key-for-tests-only']),
    settings: {
      urlTtlSec: 600,
      steering: { ttlSec: 10, ttlFloorSec: 2, ttlCeilingSec: 300, defaultPolicy: 'health-weighted' },
    },
    log: silentLogger,
    nowMs: () => clock.now,
    // Each plan is made twice (object, then text) from one session id.
    newSessionId: () => `session-${Math.floor(n++ / 2)}`,
  });
  /** Both renderings of one plan: the object's JSON.stringify and the written text. */
  const both = (viewer: ViewerContext, request: PlaybackRequest, base = 'http://127.0.0.1:7071') => {
    const object = JSON.stringify(planner.plan('title-003', viewer, request, base));
    const { json, first } = planner.planJson('title-003', viewer, request, base);
    const parsed = JSON.parse(json) as { ocas: Array<{ id: string; proximity: string }> };
    expect(first.oca.id).toBe(parsed.ocas[0]?.id);
    expect(first.proximity).toBe(parsed.ocas[0]?.proximity);
    return { object, json };
  };
  return { planner, steering, abr, experiments, availability, both };
}

const viewers: ViewerContext[] = Array.from({ length: 24 }, (_, i) => ({
  viewerId: `viewer-${i}`,
  isp: i % 3 === 0 ? null : i % 3 === 1 ? 'AS3320' : 'AS7922',
  region: i % 4 === 0 ? null : i % 2 === 0 ? 'eu-central' : 'us-east',
  country: i % 5 === 0 ? null : 'DE',
}));

describe('plan JSON', () => {
  it('is JSON.stringify of the plan, byte for byte, across cohorts, cells and configs', () => {
    const { steering, abr, both } = setup();
    steering.apply(
      steeringDoc('global', 1, [
        ocaHealth('oca-storage-eu-central', 'healthy', 0.9),
        ocaHealth('oca-edge-as3320-a', 'degraded', 0.30000000000000004),
      ]),
    );
    steering.apply(steeringDoc('region:us-east', 2, [ocaHealth('oca-edge-as7922-b', 'drained', 0)], 7));
    abr.apply(abrDoc('global', 1, { abrBandWidthFactor: 0.9, abrEwmaDefaultEstimate: 1_500_000 }));
    abr.apply(abrDoc('device:tv', 3, { maxBufferLength: 40, bandwidthSafetyFactor: 0.85 }));
    abr.apply(
      abrDoc('cohort:mobile-de', 1, { startLevel: 0 }, { deviceClasses: ['mobile'], countries: ['DE'] }),
    );
    let withCells = 0;
    for (const viewer of viewers) {
      for (const request of [TV, PHONE]) {
        const { object, json } = both(viewer, request);
        expect(json).toBe(object);
        if (!json.includes('"experiments":[]')) withCells++;
      }
    }
    expect(withCells).toBeGreaterThan(10);
  });

  it('escapes what needs escaping: odd OCA URLs and a Host header with quotes', () => {
    const ocas = fakeOcas().map((o, i) =>
      i === 0 ? { ...o, url: 'http://cdn.example/"ünïcode"\\path\u2028' } : o,
    );
    const { both } = setup(ocas);
    const { object, json } = both(viewers[1] as ViewerContext, TV, 'http://evil"host\\');
    expect(json).toBe(object);
  });

  it('keeps the drained-only fallback and the exclusions', () => {
    const { steering, both } = setup();
    steering.apply(
      steeringDoc(
        'global',
        1,
        fakeOcas().map((o) => ocaHealth(o.id, 'drained', 0)),
      ),
    );
    const { object, json } = both(viewers[1] as ViewerContext, TV);
    expect(json).toBe(object);
    expect(JSON.parse(json).ocas).toHaveLength(fakeOcas().length);
  });

  it('follows changes of the steering config, the ABR config, the availability and the experiments', () => {
    const { steering, abr, experiments, availability, both } = setup();
    const viewer = viewers[1] as ViewerContext;
    const first = both(viewer, TV);
    expect(first.json).toBe(first.object);

    steering.apply(steeringDoc('isp:AS3320', 1, [ocaHealth('oca-edge-as3320-a', 'drained', 0)], 30));
    const steered = both(viewer, TV);
    expect(steered.json).toBe(steered.object);
    expect(steered.json).toContain('"ttlSec":30');
    expect(steered.json).toContain('{"id":"oca-edge-as3320-a","reason":"drained"}');

    abr.apply(abrDoc('device:tv', 1, { maxBufferLength: 45, abrBandWidthUpFactor: 0.5 }));
    const tuned = both(viewer, TV);
    expect(tuned.json).toBe(tuned.object);
    expect(tuned.json).toContain('"device:tv@1"');
    expect(tuned.json).toContain('"abrBandWidthUpFactor":0.5');

    availability.value = {
      source: 'clickhouse',
      asOfMs: 1_700_000_000_000,
      // Edge as3320-b holds other titles only: it drops out of the ranking.
      edgeTitles: new Map([['oca-edge-as3320-b', new Set(['title-001'])]]),
    };
    const placed = both(viewer, TV);
    expect(placed.json).toBe(placed.object);
    expect(placed.json).toContain('"source":"clickhouse"');
    expect(placed.json).toContain('{"id":"oca-edge-as3320-b","reason":"not-holding-title"}');

    experiments.list = [];
    const alone = both(viewer, TV);
    expect(alone.json).toBe(alone.object);
    expect(alone.json).toContain('"experiments":[]');
    expect(alone.json).toContain('"maxBufferLength":45');
    expect(alone.json).toContain('"policy":"health-weighted"');

    experiments.list = [
      {
        ...abrExperiment,
        cells: abrExperiment.cells.map((c) => ({ ...c, config: { abr: { maxBufferLength: 8 } } })),
      },
    ];
    const changed = both(viewer, TV);
    expect(changed.json).toBe(changed.object);
    expect(changed.json).toContain('"maxBufferLength":8');
  });
});
