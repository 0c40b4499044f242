import { describe, expect, it } from 'vitest';
import { randomClusterId } from './kafka.ts';

describe('randomClusterId', () => {
  it('draws 16 bytes of URL-safe base64 that never start with a dash', () => {
    const ids = Array.from({ length: 20_000 }, () => randomClusterId());
    // With 1 draw in 64 starting with '-', 20,000 draws would hold ~300 such ids.
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
