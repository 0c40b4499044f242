import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.ts';

describe('bounded cache', () => {
  it('computes once per key and never holds more than its bound', () => {
    let computed = 0;
    const cache = new BoundedCache<number>(3);
    const f = (k: string): number => {
      computed++;
      return k.length;
    };
    expect(cache.get('a', f)).toBe(1);
    expect(cache.get('a', f)).toBe(1);
    expect(computed).toBe(1);
    for (const k of ['bb', 'ccc', 'dddd', 'eeeee']) cache.get(k, f);
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.get('eeeee', f)).toBe(5);
  });
});
