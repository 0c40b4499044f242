/**
 * Pins assignment hash version 1 to golden-v1.json (written once by gen-golden.ts). If this
 * fails, version 1 changed: every running experiment would reshuffle its units and every
 * player port would disagree. Put a change in a new version instead (hash.ts).
 *
 * The file was also checked in full, once, by an independent implementation (PyPI mmh3
 * 5.3.1, Python 3.11): every `hash` equals mmh3.hash(input.encode('utf-8'), 0,
 * signed=False), every `utf8Hex` equals input.encode('utf-8').hex(), and a Python
 * re-implementation of the four assignment steps (README.md) gave every allocation.
 * A handful of those values are repeated in hash.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignOne } from './assign.ts';
import { GOLDEN_V1_FILE, goldenFileSchema } from './golden.ts';
import { bucketOf, hashInput, unitHash } from './hash.ts';

const golden = goldenFileSchema.parse(
  JSON.parse(readFileSync(join(import.meta.dirname, GOLDEN_V1_FILE), 'utf8')),
);

describe('golden-v1.json', () => {
  it('holds at least 1,000 hash vectors and allocations for fixed definitions', () => {
    expect(golden.hashVersion).toBe(1);
    expect(golden.hashes.length).toBeGreaterThanOrEqual(1000);
    expect(golden.definitions.length).toBeGreaterThanOrEqual(3);
    expect(golden.allocations.length).toBeGreaterThanOrEqual(1000);
    // The vectors cover every outcome, not only the common ones.
    const reasons = new Set(golden.allocations.map((a) => a.reason ?? `cell:${a.experimentKey}`));
    for (const reason of ['missing-unit', 'targeting', 'namespace', 'traffic'])
      expect(reasons).toContain(reason);
    for (const d of golden.definitions) expect(reasons).toContain(`cell:${d.key}`);
  });

  it('gives every hash vector: input string, UTF-8 bytes, 32-bit hash and bucket', () => {
    const mismatches = golden.hashes.filter(
      (c) =>
        hashInput(1, c.salt, c.unitId) !== c.input ||
        Buffer.from(c.input, 'utf8').toString('hex') !== c.utf8Hex ||
        unitHash(1, c.salt, c.unitId) !== c.hash ||
        bucketOf(1, c.salt, c.unitId) !== c.bucket,
    );
    expect(mismatches).toEqual([]);
  });

  it('gives every allocation: cell or reason, and the buckets on the way', () => {
    const byKey = new Map(golden.definitions.map((d) => [d.key, d]));
    const mismatches = golden.allocations.filter((expected) => {
      const definition = byKey.get(expected.experimentKey);
      if (definition === undefined) return true;
      const a = assignOne(definition, expected.unit);
      if (a.inExperiment) {
        return (
          expected.cell !== a.cell ||
          expected.reason !== null ||
          expected.bucket !== a.bucket ||
          expected.layerBucket !== a.layerBucket ||
          expected.trafficBucket !== a.trafficBucket
        );
      }
      return expected.cell !== null || expected.reason !== a.reason;
    });
    expect(mismatches).toEqual([]);
  });
});
