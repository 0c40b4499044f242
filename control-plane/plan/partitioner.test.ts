/**
 * The fast partitioner must put every keyed record exactly where kafkajs' DefaultPartitioner
 * (Java-compatible murmur2) puts it: other producers of the topic use that one.
 */
import { createRequire } from 'node:module';
import { type PartitionerArgs, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner, murmur2 } from './partitioner.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

function keys(): string[] {
  // Lengths 0..64 (every tail case), ASCII ids like the real keys, and multi-byte UTF-8.
  const out = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    '6f1c1f39-8a4c-4f0e-9e7b-3b2a4c1d2e3f',
    'zuschauer-ä',
    '視聴者-🎬',
  ];
  let x = 7;
  for (let n = 0; n < 600; n++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    const length = x % 65;
    let s = '';
    for (let i = 0; i < length; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      s += String.fromCharCode(
        x % 3 === 0 ? 0x20 + (x % 95) : x % 3 === 1 ? 0xc0 + (x % 400) : 0x30 + (x % 10),
      );
    }
    out.push(s, `bench-viewer-${n}`);
  }
  return out;
}

describe('Java-compatible partitioner', () => {
  it("hashes like kafkajs' murmur2, which follows Kafka's Utils.murmur2", () => {
    // Kafka's own vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2).
    const vectors: Array<[string, number]> = [
      ['21', -973_932_308],
      ['foobar', -790_332_482],
      ['a-little-bit-long-string', -985_981_536],
      ['a-little-bit-longer-string', -1_486_304_829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
      ['abc', 479_470_107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key)), key).toBe(hash);
    for (const key of keys()) expect(murmur2(Buffer.from(key, 'utf8')), key).toBe(kafkajsMurmur2(key));
  });

  it("picks the DefaultPartitioner's partition for keyed records, and defers to it otherwise", () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 4, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (const key of keys()) {
        const args: PartitionerArgs = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args)).toBe(theirs(args));
        const asBuffer: PartitionerArgs = { ...args, message: { key: Buffer.from(key), value: 'v' } };
        expect(ours(asBuffer)).toBe(theirs(asBuffer));
      }
      const pinned: PartitionerArgs = {
        topic: 't',
        partitionMetadata,
        message: { key: 'k', value: 'v', partition: 0 },
      };
      expect(ours(pinned)).toBe(0);
      const keyless: PartitionerArgs = { topic: 't', partitionMetadata, message: { value: 'v' } };
      expect(ours(keyless)).toBeLessThan(partitions);
    }
  });
});
