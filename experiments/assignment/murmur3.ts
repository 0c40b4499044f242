/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain reference `MurmurHash3_x86_32` in
 * smhasher/src/MurmurHash3.cpp), over bytes. This is the function behind assignment hash
 * version 1; see README.md in this folder for the byte-level recipe other players follow.
 *
 * Why MurmurHash3 rather than FNV-1a: its finaliser (`fmix32`) makes every output bit
 * depend on every input bit, so ids that differ only in their last character
 * (`viewer-1`, `viewer-2`, ...) and the same id under two salts land in unrelated buckets.
 * FNV-1a's last step is a multiply, which carries a change in the last byte only towards
 * the high bits; GrowthBook had to move from one FNV-1a pass (its hash v1, "biased") to two
 * (v2) for that reason. MurmurHash3 is also available off the shelf where players live:
 * Python `mmh3.hash(b, 0, signed=False)`, Guava `Hashing.murmur3_32_fixed()` on the JVM
 * (Kotlin/Android), and a few lines of Swift.
 *
 * Arithmetic: all of it is on unsigned 32-bit words. `Math.imul` gives the low 32 bits of
 * the product (what C's uint32_t multiply gives); `>>> 0` turns the result back to unsigned.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** The 32-bit finaliser: forces all bits of a hash block to avalanche. */
function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(input: number): number {
  let k = Math.imul(input, C1);
  k = rotl32(k, 15);
  return Math.imul(k, C2);
}

/** MurmurHash3_x86_32(bytes, seed) as an unsigned 32-bit integer. */
export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blocks = length - (length % 4);
  let h = seed >>> 0;
  // Body: 4-byte blocks read little-endian, whatever the machine's own byte order.
  for (let i = 0; i < blocks; i += 4) {
    const k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    h ^= mixK(k);
    h = rotl32(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  // Tail: the last 1-3 bytes, little-endian, mixed in without the rotate-and-add step
  // (the reference code's fall-through switch, written without fall-through).
  const rest = length & 3;
  if (rest > 0) {
    let tail = 0;
    if (rest === 3) tail ^= (bytes[blocks + 2] as number) << 16;
    if (rest >= 2) tail ^= (bytes[blocks + 1] as number) << 8;
    tail ^= bytes[blocks] as number;
    h ^= mixK(tail);
  }
  // The length is the byte count mod 2^32 (ids are far shorter than 4 GiB).
  h ^= length;
  return fmix32(h);
}
