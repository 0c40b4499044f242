/**
 * The versioned assignment hash: (version, salt, unit id) -> bucket in [0, 10000).
 *
 * Every consumer (control plane, processors, player fleet, a Kotlin or Swift player) must
 * compute the same bucket byte for byte, so a version, once shipped, never changes: a new
 * recipe is a new version beside the old one, and each experiment names the version it
 * was started with (`hashVersion`). golden-v1.json pins version 1.
 *
 * Version 1, byte for byte (also in README.md):
 *   1. input  = salt + ":" + unitId, as a string (":" is U+003A);
 *   2. bytes  = UTF-8 of input (RFC 3629; ids must be well-formed Unicode, so there is
 *               no replacement-character ambiguity between platforms);
 *   3. h      = MurmurHash3_x86_32(bytes, seed = 0), an unsigned 32-bit integer;
 *   4. bucket = h mod 10000.
 * 2^32 mod 10000 = 7296, so buckets 0..7295 are hit 429497 times in 2^32 and the rest
 * 429496 times: a relative bias of 2.3e-6, far below what any experiment can detect.
 *
 * Salts (version 1) keep the three decisions independent of one another:
 *   - cell:    the experiment's seed                 e.g. "abr-bandwidth-factor-v1"
 *   - traffic: "traffic/" + seed                      e.g. "traffic/abr-bandwidth-factor-v1"
 *   - layer:   "layer/" + namespace name              e.g. "layer/abr"
 * Seeds and namespace names may not contain "/" or ":" (definitions/schema.ts), so no
 * seed can spell another salt and the first ":" of an input always ends the salt.
 */
import { PlayloopError } from '../../core/errors.ts';
import { BUCKETS } from '../definitions/vocabulary.ts';
import { murmur3x86_32 } from './murmur3.ts';

export const HASH_VERSIONS = [1] as const;
export type HashVersion = (typeof HASH_VERSIONS)[number];

export function isHashVersion(value: number): value is HashVersion {
  return (HASH_VERSIONS as readonly number[]).includes(value);
}

/** What a bucket decides. Each purpose has its own salt, hence its own independent hash. */
export type BucketPurpose = 'cell' | 'traffic' | 'layer';

/**
 * The salt for a purpose under a version. `name` is the experiment seed for `cell` and
 * `traffic`, the namespace name for `layer`.
 */
export function saltFor(version: HashVersion, purpose: BucketPurpose, name: string): string {
  switch (version) {
    case 1:
      switch (purpose) {
        case 'cell':
          return name;
        case 'traffic':
          return `traffic/${name}`;
        case 'layer':
          return `layer/${name}`;
      }
  }
}

// Lone UTF-16 surrogates have no UTF-8 encoding: each platform would substitute something
// different (U+FFFD, "?"), so such ids are refused rather than hashed.
const LONE_SURROGATE = /\p{Cs}/u;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** UTF-8 of `text` in a reused buffer (valid until the next call): the hot path allocates nothing. */
function utf8(text: string): Uint8Array {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units).
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return scratch.subarray(0, written);
}

/** The exact string version 1 hashes, for documentation, golden vectors and debugging. */
export function hashInput(version: HashVersion, salt: string, unitId: string): string {
  switch (version) {
    case 1:
      return `${salt}:${unitId}`;
  }
}

/** The full 32-bit hash behind a bucket (golden vectors carry it so ports can debug). */
export function unitHash(version: number, salt: string, unitId: string): number {
  if (!isHashVersion(version)) {
    throw new PlayloopError('BAD_REQUEST', `unknown assignment hash version ${version}`, {
      details: { hashVersion: version, supported: [...HASH_VERSIONS] },
    });
  }
  if (LONE_SURROGATE.test(salt) || LONE_SURROGATE.test(unitId)) {
    throw new PlayloopError('BAD_REQUEST', 'unit id or salt is not well-formed Unicode (lone surrogate)', {
      details: { unitId },
    });
  }
  switch (version) {
    case 1:
      return murmur3x86_32(utf8(hashInput(version, salt, unitId)), 0);
  }
}

/** The bucket in [0, 10000) of `unitId` under `salt` and hash `version`. */
export function bucketOf(version: number, salt: string, unitId: string): number {
  return unitHash(version, salt, unitId) % BUCKETS;
}
