import { describe, expect, it } from 'vitest';
import { chunkBySize } from './send-chunks.ts';

describe('chunkBySize', () => {
  const size = (n: number): number => n;

  it('keeps order and caps records per chunk', () => {
    const items = [1, 1, 1, 1, 1];
    expect(chunkBySize(items, size, { maxRecords: 2, maxBytes: 100 })).toEqual([[1, 1], [1, 1], [1]]);
  });

  it('caps bytes per chunk', () => {
    expect(chunkBySize([4, 4, 4, 1], size, { maxRecords: 100, maxBytes: 9 })).toEqual([
      [4, 4],
      [4, 1],
    ]);
  });

  it('gives an item larger than the cap a chunk of its own', () => {
    expect(chunkBySize([2, 20, 2], size, { maxRecords: 100, maxBytes: 10 })).toEqual([[2], [20], [2]]);
  });

  it('returns no chunk for no items', () => {
    expect(chunkBySize([], size)).toEqual([]);
  });

  it('bounds a backlog of 14,000 summaries of ~350 bytes to sends under 1 MiB', () => {
    const chunks = chunkBySize(new Array<number>(14_000).fill(350), size);
    expect(chunks.every((c) => c.length <= 1_000 && c.reduce((a, b) => a + b, 0) <= 512 * 1_024)).toBe(true);
    expect(chunks.flat()).toHaveLength(14_000);
  });
});
