/**
 * A least-recently-used cache bounded by bytes, as an edge OCA's disk would be: inserting
 * evicts the least recently used objects until the new one fits; an object larger than the
 * whole cache is never stored. Pure data structure, no I/O.
 *
 * A JavaScript Map iterates in insertion order, so re-inserting on access keeps the least
 * recently used entry first: O(1) get, set and eviction.
 */
export interface Eviction {
  readonly key: string;
  readonly bytes: number;
}

export class ByteLru<V> {
  readonly capacityBytes: number;
  readonly #sizeOf: (value: V) => number;
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(capacityBytes: number, sizeOf: (value: V) => number) {
    if (!Number.isFinite(capacityBytes) || capacityBytes < 0) {
      throw new RangeError(`capacityBytes must be a non-negative number, got ${capacityBytes}`);
    }
    this.capacityBytes = capacityBytes;
    this.#sizeOf = sizeOf;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** The value without touching its recency. */
  peek(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /**
   * Stores `value` as most recently used, evicting from the least recently used end until it
   * fits. Returns whether it was stored and what was evicted.
   */
  set(key: string, value: V): { stored: boolean; evicted: Eviction[] } {
    const bytes = this.#sizeOf(value);
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`size of ${key} is ${bytes}`);
    this.delete(key);
    if (bytes > this.capacityBytes) return { stored: false, evicted: [] };
    const evicted: Eviction[] = [];
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.capacityBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
      evicted.push({ key: oldest, bytes: entry.bytes });
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    return { stored: true, evicted };
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return true;
  }

  /** Keys from least to most recently used. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }
}
