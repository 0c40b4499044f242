import { describe, expect, it } from 'vitest';
import { SlotHeap } from './heap.ts';
import { Rng } from './random.ts';

describe('SlotHeap', () => {
  it('pops in time order, ties by slot index', () => {
    const h = new SlotHeap(5);
    h.set(3, 10);
    h.set(1, 5);
    h.set(4, 10);
    h.set(0, 10);
    h.set(2, 1);
    expect([h.pop(), h.pop(), h.pop(), h.pop(), h.pop(), h.pop()]).toEqual([2, 1, 0, 3, 4, -1]);
  });

  it('moves a slot when its time changes and removes it for an infinite time', () => {
    const h = new SlotHeap(3);
    h.set(0, 100);
    h.set(1, 200);
    h.set(2, 300);
    h.set(2, 50);
    expect(h.peekSlot()).toBe(2);
    h.set(2, 400);
    expect(h.peekSlot()).toBe(0);
    h.set(0, Number.POSITIVE_INFINITY);
    expect(h.has(0)).toBe(false);
    expect(h.size).toBe(2);
    expect(h.timeOf(1)).toBe(200);
    expect([h.pop(), h.pop()]).toEqual([1, 2]);
    expect(h.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it('agrees with sorting under random inserts, moves and removals', () => {
    const rng = new Rng(11);
    const n = 500;
    const h = new SlotHeap(n);
    const model = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const slot = rng.nextUint32() % n;
      const action = rng.nextUint32() % 4;
      if (action === 0) {
        h.remove(slot);
        model.delete(slot);
      } else {
        const t = rng.nextUint32() % 1_000;
        h.set(slot, t);
        model.set(slot, t);
      }
    }
    const expected = [...model.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([s]) => s);
    const got: number[] = [];
    while (h.size > 0) got.push(h.pop());
    expect(got).toEqual(expected);
  });
});
