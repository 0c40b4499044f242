/**
 * A memo with a hard size bound, for per-request look-ups whose inputs repeat (client
 * addresses, User-Agent strings). When full it starts over rather than tracking recency:
 * hostile inputs can only cost a re-computation, never memory.
 */
export class BoundedCache<V> {
  private map = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, compute: (key: string) => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = compute(key);
    if (this.map.size >= this.maxEntries) this.map = new Map();
    this.map.set(key, value);
    return value;
  }

  get size(): number {
    return this.map.size;
  }
}
