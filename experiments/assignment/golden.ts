/**
 * The shape of golden-v1.json, the vectors that pin assignment hash version 1 for every
 * implementation (this one, the fleet, Kotlin and Swift players). gen-golden.ts wrote the
 * file once; golden.test.ts checks this implementation against it.
 */
import { z } from 'zod';
import { experimentSchema } from '../definitions/schema.ts';

export const GOLDEN_V1_FILE = 'golden-v1.json';

export const goldenHashCaseSchema = z.strictObject({
  /** The salt: an experiment seed, or a derived salt (`traffic/<seed>`, `layer/<namespace>`). */
  salt: z.string(),
  unitId: z.string(),
  /** The exact string hashed (salt + ":" + unitId); its UTF-8 bytes are the hash input. */
  input: z.string(),
  /** UTF-8 of `input`, hex, so a port can compare bytes before it compares hashes. */
  utf8Hex: z.string(),
  /** MurmurHash3_x86_32(utf8, seed 0), unsigned. */
  hash: z.number().int().min(0),
  /** hash mod 10000. */
  bucket: z.number().int().min(0).max(9999),
});

export const goldenDefinitionSchema = experimentSchema.pick({
  key: true,
  status: true,
  unit: true,
  seed: true,
  hashVersion: true,
  namespace: true,
  targeting: true,
  trafficShare: true,
  cells: true,
});

export const goldenUnitSchema = z.strictObject({
  viewerId: z.string(),
  sessionId: z.string().nullable(),
  deviceClass: z.string().nullable(),
  country: z.string().nullable(),
  isp: z.string().nullable(),
});

/** One unit in one of the fixed definitions. */
export const goldenAllocationSchema = z.strictObject({
  unit: goldenUnitSchema,
  experimentKey: z.string(),
  /** The cell, or null when the unit is not in the experiment. */
  cell: z.string().nullable(),
  /** Why the unit is not in the experiment, or null when it is. */
  reason: z.enum(['missing-unit', 'targeting', 'namespace', 'traffic']).nullable(),
  /** Buckets computed before the decision (null where assignment stopped earlier). */
  layerBucket: z.number().int().nullable(),
  trafficBucket: z.number().int().nullable(),
  bucket: z.number().int().nullable(),
});

export const goldenFileSchema = z.strictObject({
  hashVersion: z.literal(1),
  recipe: z.string(),
  generatedBy: z.string(),
  hashes: z.array(goldenHashCaseSchema),
  definitions: z.array(goldenDefinitionSchema),
  allocations: z.array(goldenAllocationSchema),
});

export type GoldenFile = z.output<typeof goldenFileSchema>;
