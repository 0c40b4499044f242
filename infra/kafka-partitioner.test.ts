import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyedPartitioner, murmur2 } from './kafka-partitioner.ts';

describe('keyed partitioner', () => {
  it("matches Kafka's murmur2 test vectors (UtilsTest.testMurmur2)", () => {
    const vectors: Array<[string, number]> = [
      ['21', -973_932_308],
      ['foobar', -790_332_482],
      ['a-little-bit-long-string', -985_981_536],
      ['a-little-bit-longer-string', -1_486_304_829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
      ['abc', 479_470_107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });

  it("places every key where kafkajs' DefaultPartitioner does", () => {
    const ours = keyedPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = ['', 'é', '😀', 'zuschauer-ä', '視聴者-🎬', 'x'.repeat(100)];
    for (let i = 0; i < 5_000; i++)
      keys.push(`6e2fb550-c457-11e9-${i.toString(36)}-${(i * 7_919).toString(16)}`);
    for (const partitions of [1, 2, 3, 4, 7, 12, 64]) {
      const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args), `${key} over ${partitions}`).toBe(theirs(args));
        const asBuffer = { ...args, message: { key: Buffer.from(key), value: 'v' } };
        expect(ours(asBuffer), `Buffer ${key} over ${partitions}`).toBe(theirs(asBuffer));
      }
    }
  });

  it('honours an explicit partition and spreads keyless records over live partitions', () => {
    const ours = keyedPartitioner();
    const partitionMetadata: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: partitionId === 1 ? -1 : 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 2 } })).toBe(2);
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++)
      seen.add(ours({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 2]);
  });
});
