/**
 * Writes golden-v1.json: hash vectors and allocations for fixed definitions under
 * assignment hash version 1. Run ONCE, when version 1 was introduced:
 *
 *   npx tsx experiments/assignment/gen-golden.ts
 *
 * It refuses to overwrite an existing file: the vectors pin a shipped version, and a
 * change in the hash must fail golden.test.ts, not be written over. A new version gets a
 * new file (golden-v2.json) from a new script. Inputs are generated deterministically
 * (sha256 of a counter, no Math.random) so the script reproduces the same file.
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_CLASSES } from '../definitions/vocabulary.ts';
import { type AssignableExperiment, type AssignmentUnit, assignOne } from './assign.ts';
import { GOLDEN_V1_FILE, type GoldenFile } from './golden.ts';
import { bucketOf, hashInput, saltFor, unitHash } from './hash.ts';

const VERSION = 1;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A UUID-shaped id derived from a counter (the common shape of real viewer and session ids). */
function uuidFrom(label: string): string {
  const h = sha256Hex(label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Deterministic choice from a list, driven by sha256 of a label. */
function pick<T>(items: readonly T[], label: string): T {
  const n = Number.parseInt(sha256Hex(label).slice(0, 8), 16);
  return items[n % items.length] as T;
}

// Ids that exercise the byte recipe: every tail length (0-3 bytes past a 4-byte block),
// 2-, 3- and 4-byte UTF-8 sequences, the separator inside an id, an empty id, a long id.
const SPECIAL_IDS = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'abcdef',
  'abcdefg',
  'zoë',
  'Ωmega',
  '観客-42',
  '😀',
  'viewer-😀-ü',
  'id:with:colons',
  ' leading space',
  'UPPER-lower',
  '0',
  'x'.repeat(300),
];

function unitIds(): string[] {
  const ids = [...SPECIAL_IDS];
  for (let i = 0; i < 20; i++) ids.push(`viewer-${i}`);
  for (let i = 0; i < 112; i++) ids.push(uuidFrom(`golden-unit-${i}`));
  return ids;
}

const definitions: AssignableExperiment[] = [
  {
    key: 'golden-even',
    status: 'running',
    unit: 'viewer',
    seed: 'golden-even-v1',
    hashVersion: 1,
    namespace: { name: 'golden-open', range: { start: 0, end: 10000 } },
    targeting: { deviceClasses: [], countries: [], isps: [] },
    trafficShare: 1,
    cells: [
      { name: 'control', control: true, weight: 5000, config: { abr: { abrBandWidthFactor: 0.95 } } },
      { name: 'treatment', control: false, weight: 5000, config: { abr: { abrBandWidthFactor: 0.8 } } },
    ],
  },
  {
    key: 'golden-uneven',
    status: 'running',
    unit: 'viewer',
    seed: 'golden-uneven-v1',
    hashVersion: 1,
    namespace: { name: 'golden-buffer', range: { start: 2500, end: 7500 } },
    targeting: { deviceClasses: ['tv', 'desktop'], countries: [], isps: [] },
    trafficShare: 0.3,
    cells: [
      { name: 'control', control: true, weight: 2000, config: { abr: { maxBufferLength: 30 } } },
      { name: 'short', control: false, weight: 3000, config: { abr: { maxBufferLength: 10 } } },
      { name: 'long', control: false, weight: 5000, config: { abr: { maxBufferLength: 60 } } },
    ],
  },
  {
    key: 'golden-session',
    status: 'running',
    unit: 'session',
    seed: 'golden-session-v1',
    hashVersion: 1,
    namespace: { name: 'golden-steering', range: { start: 0, end: 5000 } },
    targeting: { deviceClasses: [], countries: ['US', 'DE'], isps: ['AS3320', 'AS7922'] },
    trafficShare: 1,
    cells: [
      { name: 'a', control: true, weight: 2500, config: { steering: { policy: 'proximity-only' } } },
      { name: 'b', control: false, weight: 2500, config: { steering: { policy: 'health-weighted' } } },
      { name: 'c', control: false, weight: 2500, config: { steering: { policy: 'health-weighted' } } },
      { name: 'd', control: false, weight: 2500, config: { steering: { policy: 'proximity-only' } } },
    ],
  },
  {
    // Same namespace as golden-session, the other half of it: no viewer is in both.
    key: 'golden-session-neighbour',
    status: 'running',
    unit: 'viewer',
    seed: 'golden-neighbour-v1',
    hashVersion: 1,
    namespace: { name: 'golden-steering', range: { start: 5000, end: 10000 } },
    targeting: { deviceClasses: [], countries: [], isps: [] },
    trafficShare: 0.0125,
    cells: [
      { name: 'control', control: true, weight: 9000, config: { steering: { policy: 'proximity-only' } } },
      {
        name: 'treatment',
        control: false,
        weight: 1000,
        config: { steering: { policy: 'health-weighted' } },
      },
    ],
  },
];

function units(): AssignmentUnit[] {
  const out: AssignmentUnit[] = [];
  for (let i = 0; i < 250; i++) {
    const label = `golden-allocation-${i}`;
    out.push({
      viewerId: i < 10 ? `viewer-${i}` : uuidFrom(`${label}-viewer`),
      sessionId: pick([true, true, true, false], `${label}-has-session`)
        ? uuidFrom(`${label}-session`)
        : null,
      deviceClass: pick([...DEVICE_CLASSES, null], `${label}-device`),
      country: pick(['US', 'DE', 'FR', 'BR', null], `${label}-country`),
      isp: pick(['AS3320', 'AS7922', 'AS12322', null], `${label}-isp`),
    });
  }
  return out;
}

function build(): GoldenFile {
  const salts = [
    'abr-bandwidth-factor-2026-11',
    'steering-health-weighted-2026-11',
    ...definitions.map((d) => d.seed),
    saltFor(VERSION, 'traffic', 'golden-uneven-v1'),
    saltFor(VERSION, 'layer', 'golden-steering'),
  ];
  const hashes: GoldenFile['hashes'] = [];
  for (const salt of salts) {
    for (const unitId of unitIds()) {
      const input = hashInput(VERSION, salt, unitId);
      hashes.push({
        salt,
        unitId,
        input,
        utf8Hex: Buffer.from(input, 'utf8').toString('hex'),
        hash: unitHash(VERSION, salt, unitId),
        bucket: bucketOf(VERSION, salt, unitId),
      });
    }
  }
  const allocations = units().flatMap((unit) =>
    definitions.map((d): GoldenFile['allocations'][number] => {
      const a = assignOne(d, unit);
      if (a.inExperiment) {
        return {
          unit,
          experimentKey: a.experimentKey,
          cell: a.cell,
          reason: null,
          layerBucket: a.layerBucket,
          trafficBucket: a.trafficBucket,
          bucket: a.bucket,
        };
      }
      // The buckets of the steps that ran before the decision, for ports to compare.
      const layer =
        a.reason === 'namespace' || a.reason === 'traffic'
          ? bucketOf(VERSION, saltFor(VERSION, 'layer', d.namespace.name), unit.viewerId)
          : null;
      const traffic =
        a.reason === 'traffic' && a.unitId !== null
          ? bucketOf(VERSION, saltFor(VERSION, 'traffic', d.seed), a.unitId)
          : null;
      return {
        unit,
        experimentKey: a.experimentKey,
        cell: null,
        reason: a.reason,
        layerBucket: layer,
        trafficBucket: traffic,
        bucket: null,
      };
    }),
  );
  return {
    hashVersion: 1,
    recipe:
      'bucket = MurmurHash3_x86_32(UTF-8(salt + ":" + unitId), seed 0) mod 10000; salts: cell = seed, traffic = "traffic/" + seed, layer = "layer/" + namespace (viewerId); see experiments/assignment/README.md',
    generatedBy: 'experiments/assignment/gen-golden.ts',
    hashes,
    definitions: definitions.map((d) => structuredClone(d) as GoldenFile['definitions'][number]),
    allocations,
  };
}

const target = join(import.meta.dirname, GOLDEN_V1_FILE);
if (existsSync(target)) {
  console.error(`${target} exists; golden vectors are written once and never regenerated`);
  process.exit(1);
}
/** One vector a line: readable, and a diff names the vector that changed. */
function serialise(golden: GoldenFile): string {
  const rows = (items: readonly unknown[]) => items.map((item) => `    ${JSON.stringify(item)}`).join(',\n');
  return [
    '{',
    `  "hashVersion": ${golden.hashVersion},`,
    `  "recipe": ${JSON.stringify(golden.recipe)},`,
    `  "generatedBy": ${JSON.stringify(golden.generatedBy)},`,
    '  "hashes": [',
    rows(golden.hashes),
    '  ],',
    '  "definitions": [',
    rows(golden.definitions),
    '  ],',
    '  "allocations": [',
    rows(golden.allocations),
    '  ]',
    '}',
    '',
  ].join('\n');
}

const golden = build();
writeFileSync(target, serialise(golden));
console.log(`wrote ${target}: ${golden.hashes.length} hash cases, ${golden.allocations.length} allocations`);
