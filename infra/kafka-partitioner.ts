/**
 * The partition of a keyed record (a session id, a viewer id), exactly as Kafka's Java producer
 * and kafkajs' DefaultPartitioner choose it: murmur2 of the key's UTF-8 bytes, made positive, modulo the
 * partition count (Kafka `Utils.murmur2` / `Utils.toPositive`, BuiltInPartitioner). Same
 * partitions, so every producer of a topic keeps one key on one partition.
 *
 * Why not kafkajs' own: it multiplies through a 64-bit Long emulation and allocates a Buffer
 * per key and an array of available partitions per message; with Math.imul (32-bit
 * multiplication, as Java's int arithmetic) and a scratch buffer it costs a few nanoseconds.
 */
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 over bytes [0, length) of `data`, as a signed 32-bit int. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24) |
      0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The last 1-3 bytes, mixed as Java's fall-through switch does.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest >= 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number): number => x & 0x7fffffff;

/** A kafkajs partitioner with the Java/kafkajs-default placement of keyed records. */
export const keyedPartitioner: ICustomPartitioner = () => {
  // Keys of up to 64 UTF-16 units fit 256 bytes of UTF-8; longer ones get their own buffer.
  const scratch = Buffer.allocUnsafe(256);
  let roundRobin = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const key = message.key;
    if (key !== undefined && key !== null) {
      let hash: number;
      if (typeof key === 'string' && key.length <= 64) hash = murmur2(scratch, scratch.write(key, 0, 'utf8'));
      else hash = murmur2(Buffer.isBuffer(key) ? key : Buffer.from(String(key)));
      return toPositive(hash) % partitionMetadata.length;
    }
    // Keyless records (e.g. dead letters of events without a session): spread over live partitions.
    const live = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = live.length > 0 ? live : partitionMetadata;
    roundRobin = (roundRobin + 1) & 0x7fffffff;
    return (pool[roundRobin % pool.length] as { partitionId: number }).partitionId;
  };
};
