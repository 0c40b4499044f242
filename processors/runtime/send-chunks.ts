/**
 * Splits the records of one logical send into several Kafka sends. kafkajs writes one record
 * batch per partition per send, and the broker refuses a batch larger than its
 * `message.max.bytes` (1 MiB by default) with MESSAGE_TOO_LARGE, on every retry alike: a
 * sessionize batch that closes thousands of sessions at once (catching up on a backlog) could
 * never be produced. Capping each send's records and bytes bounds it (ingest caps its sends
 * the same way). kafkajs' own grouping of a send by partition was quadratic in the send's
 * size too; infra/kafkajs-send-grouping.ts replaces it with a linear one.
 */

export interface SendLimits {
  readonly maxRecords: number;
  /** Key and value bytes; below the broker's 1 MiB even if every record goes to one partition. */
  readonly maxBytes: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = Object.freeze({ maxRecords: 1_000, maxBytes: 512 * 1_024 });

/**
 * Consecutive, order-keeping chunks of `items`: each holds at least one item and, unless one
 * item alone is larger, at most `maxRecords` items and `maxBytes` bytes.
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: SendLimits = DEFAULT_SEND_LIMITS,
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && (chunk.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
