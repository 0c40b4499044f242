/**
 * Test and benchmark helpers: an in-memory config table, a ladder described by numbers
 * rather than encoded, the default fleet's shape with made-up URLs, and config documents.
 * No I/O.
 */
import type { Source, VersionedDoc } from '../../infra/config-topic.ts';
import type { AbrConfig, AbrKnobs, Cohort } from '../../schemas/generated/abr-config.ts';
import type { OcaHealth, SteeringConfig } from '../../schemas/generated/steering-config.ts';
import { type Catalog, sharedLadderCatalog } from '../media/catalog.ts';
import type { Ladder, LadderFile, Rendition } from '../media/ladder.ts';
import { SHORT_LADDER } from '../media/ladder-spec.ts';
import type { ConfigReader } from './planner.ts';
import type { OcaDescriptor } from './ranking.ts';

/** A config table held in memory, with the same newer-version-wins rule as ConfigTable. */
export class MemoryConfig<T extends VersionedDoc> implements ConfigReader<T> {
  private readonly docs = new Map<string, T>();
  private readonly listeners = new Set<(doc: T) => void>();
  source: Source = 'empty';

  constructor(docs: readonly T[] = []) {
    for (const doc of docs) this.apply(doc);
  }

  apply(doc: T): boolean {
    const current = this.docs.get(doc.scope);
    if (current !== undefined && current.version >= doc.version) return false;
    this.docs.set(doc.scope, doc);
    this.source = 'kafka';
    for (const listener of this.listeners) listener(doc);
    return true;
  }

  get(scope: string): T | undefined {
    return this.docs.get(scope);
  }

  all(): T[] {
    return [...this.docs.values()];
  }

  health(): { source: Source; scopes: number; lastUpdateAt: number } {
    return { source: this.source, scopes: this.docs.size, lastUpdateAt: 0 };
  }

  onChange(listener: (doc: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const RENDITIONS = [
  {
    id: '240p',
    width: 426,
    height: 240,
    bandwidth: 502_588,
    averageBandwidth: 487_472,
    codecs: 'avc1.42c015,mp4a.40.2',
  },
  {
    id: '480p',
    width: 854,
    height: 480,
    bandwidth: 1_159_292,
    averageBandwidth: 1_087_888,
    codecs: 'avc1.42c01e,mp4a.40.2',
  },
  {
    id: '720p',
    width: 1280,
    height: 720,
    bandwidth: 2_893_492,
    averageBandwidth: 2_611_513,
    codecs: 'avc1.42c01f,mp4a.40.2',
  },
] as const;

/** A three-rendition ladder of five 2 s segments each, sizes made up, nothing on disk. */
export function fakeLadder(id = 'fake-ladder'): Ladder {
  const files = new Map<string, LadderFile>();
  const renditions: Rendition[] = RENDITIONS.map((r) => {
    const playlist = `${r.id}/index.m3u8`;
    const init = `${r.id}/init.mp4`;
    const segments = Array.from({ length: 5 }, (_, i) => ({
      path: `${r.id}/seg_${String(i).padStart(5, '0')}.m4s`,
      durationSec: 2,
      bytes: Math.round((r.averageBandwidth * 2) / 8),
    }));
    files.set(playlist, {
      path: playlist,
      bytes: 400,
      kind: 'playlist',
      renditionId: r.id,
      contentType: 'application/vnd.apple.mpegurl',
    });
    files.set(init, { path: init, bytes: 800, kind: 'init', renditionId: r.id, contentType: 'video/mp4' });
    for (const s of segments) {
      files.set(s.path, {
        path: s.path,
        bytes: s.bytes,
        kind: 'segment',
        renditionId: r.id,
        contentType: 'video/iso.segment',
      });
    }
    return { ...r, frameRate: 24, playlist, init, segments };
  });
  let totalBytes = 0;
  for (const f of files.values()) totalBytes += f.bytes;
  return {
    id,
    dir: '/nonexistent',
    spec: SHORT_LADDER,
    durationSec: 10,
    segmentDurationSec: 2,
    renditions,
    files,
    totalBytes,
  };
}

export function fakeCatalog(titles = 20, ladder: Ladder = fakeLadder()): Catalog {
  return sharedLadderCatalog(
    Array.from({ length: titles }, (_, i) => `title-${String(i + 1).padStart(3, '0')}`),
    ladder,
  );
}

/** The default fleet's shape (oca/spec.ts defaultFleetSpec) on made-up ports. */
export function fakeOcas(capacityBytes = 64 * 1024 * 1024): OcaDescriptor[] {
  const at = (i: number): string => `http://127.0.0.1:${17_100 + i}`;
  return [
    { id: 'oca-storage-eu-central', tier: 'storage', region: 'eu-central', isp: 'ix-fra', url: at(0) },
    { id: 'oca-storage-us-east', tier: 'storage', region: 'us-east', isp: 'ix-nyc', url: at(1) },
    { id: 'oca-edge-as3320-a', tier: 'edge', region: 'eu-central', isp: 'AS3320', url: at(2), capacityBytes },
    { id: 'oca-edge-as3320-b', tier: 'edge', region: 'eu-central', isp: 'AS3320', url: at(3), capacityBytes },
    { id: 'oca-edge-as7922-a', tier: 'edge', region: 'us-east', isp: 'AS7922', url: at(4), capacityBytes },
    { id: 'oca-edge-as7922-b', tier: 'edge', region: 'us-east', isp: 'AS7922', url: at(5), capacityBytes },
  ];
}

export function ocaHealth(ocaId: string, state: OcaHealth['state'], score: number): OcaHealth {
  return {
    ocaId,
    state,
    score,
    sessions: 100,
    rebufferRatio: null,
    vsfRate: null,
    startupP90Ms: null,
    throughputKbps: null,
    since: 1_700_000_000_000,
  };
}

export function steeringDoc(
  scope: string,
  version: number,
  ocas: readonly OcaHealth[],
  ttlSec = 10,
): SteeringConfig {
  return {
    scope,
    version,
    generatedAt: 1_700_000_000_000 + version,
    ttlSec,
    ocas: [...ocas],
    pathwayPriority: ocas.filter((o) => o.state !== 'drained').map((o) => o.ocaId),
    evidence: {
      windowStart: 1_700_000_000_000,
      windowEnd: 1_700_000_060_000,
      reason: `v${version}`,
      experimentKey: null,
    },
  };
}

export const NO_KNOBS: AbrKnobs = Object.freeze({
  abrBandWidthFactor: null,
  abrBandWidthUpFactor: null,
  abrEwmaDefaultEstimate: null,
  maxBufferLength: null,
  startLevel: null,
  bandwidthSafetyFactor: null,
});

export function abrDoc(
  scope: string,
  version: number,
  knobs: Partial<AbrKnobs>,
  targeting: Partial<Cohort> = {},
): AbrConfig {
  return {
    scope,
    version,
    generatedAt: 1_700_000_000_000 + version,
    knobs: { ...NO_KNOBS, ...knobs },
    targeting: { deviceClasses: [], countries: [], isps: [], ...targeting },
    action: 'manual',
    previousVersion: version > 1 ? version - 1 : null,
    evidence: {
      reason: `v${version}`,
      experimentKey: null,
      cell: null,
      windowStart: null,
      windowEnd: null,
      metrics: {},
    },
  };
}
