import { describe, expect, it } from 'vitest';
import { ByteLru } from './lru.ts';

const lru = (capacity: number) => new ByteLru<Buffer>(capacity, (b) => b.length);
const bytes = (n: number) => Buffer.alloc(n);

describe('ByteLru', () => {
  it('evicts the least recently used objects until the new one fits', () => {
    const cache = lru(100);
    cache.set('a', bytes(40));
    cache.set('b', bytes(40));
    cache.get('a'); // b is now the least recently used
    const result = cache.set('c', bytes(30));
    expect(result).toEqual({ stored: true, evicted: [{ key: 'b', bytes: 40 }] });
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.bytes).toBe(70);
  });

  it('evicts several objects for one large one, and never exceeds capacity', () => {
    const cache = lru(100);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, bytes(25));
    expect(cache.set('big', bytes(60)).evicted.map((e) => e.key)).toEqual(['a', 'b', 'c']);
    expect(cache.bytes).toBe(85);
    expect(cache.bytes).toBeLessThanOrEqual(cache.capacityBytes);
  });

  it('does not store an object larger than the cache, and keeps what it had', () => {
    const cache = lru(100);
    cache.set('a', bytes(50));
    expect(cache.set('huge', bytes(101))).toEqual({ stored: false, evicted: [] });
    expect(cache.keys()).toEqual(['a']);
  });

  it('replaces an existing key without double counting', () => {
    const cache = lru(100);
    cache.set('a', bytes(50));
    cache.set('a', bytes(70));
    expect(cache.bytes).toBe(70);
    expect(cache.size).toBe(1);
  });

  it('peek does not refresh recency; delete frees bytes', () => {
    const cache = lru(100);
    cache.set('a', bytes(50));
    cache.set('b', bytes(50));
    cache.peek('a');
    expect(cache.set('c', bytes(10)).evicted.map((e) => e.key)).toEqual(['a']);
    expect(cache.delete('b')).toBe(true);
    expect(cache.bytes).toBe(10);
    expect(cache.delete('b')).toBe(false);
  });
});
