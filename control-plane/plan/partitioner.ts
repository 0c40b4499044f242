/**
 * The partition of a keyed record, as Kafka's Java client and kafkajs' DefaultPartitioner
 * choose it: murmur2 of the key's bytes, made positive, modulo the partition count
 * (org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey,
 * `Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`).
 *
 * Why not kafkajs' own: it emulates 32-bit integer arithmetic with Long objects, several per
 * 4 bytes of key, which made it one of the larger costs of producing an allocation event.
 * Math.imul is that arithmetic. Records without a key, or with a partition set, go to the
 * kafkajs partitioner unchanged; keyed ones land exactly where it would put them
 * (partitioner.test.ts checks against kafkajs' murmur2), so every producer of a topic keeps
 * one key on one partition.
 */
import { type ICustomPartitioner, Partitioners } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2, after Austin Appleby's MurmurHash2), as a signed 32-bit int. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1-3 bytes (Java's switch falls through from case 3 to case 1).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[tail + 2] as number) << 16;
    if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  let scratch = new Uint8Array(256);
  return (args) => {
    const { message, partitionMetadata } = args;
    const key = message.key;
    if (
      (message.partition !== undefined && message.partition !== null) ||
      key === undefined ||
      key === null
    ) {
      return fallback(args);
    }
    let bytes: Uint8Array;
    let length: number;
    if (typeof key === 'string') {
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (key.length * 3 > scratch.length) scratch = new Uint8Array(key.length * 3);
      bytes = scratch;
      length = encoder.encodeInto(key, scratch).written;
    } else {
      bytes = key;
      length = key.length;
    }
    return (murmur2(bytes, length) & 0x7fffffff) % partitionMetadata.length;
  };
};
