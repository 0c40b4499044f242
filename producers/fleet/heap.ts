/**
 * The simulator's one event queue: an indexed binary min-heap of player slots keyed by the
 * simulated time each slot next needs attention (Williams' binary heap, CACM 7(6), 1964,
 * with a position index so a key can move in O(log n), as in Dijkstra's decrease-key).
 *
 * Each slot has at most one entry, the earliest of everything it waits for, so the heap
 * never holds stale entries and its size is bounded by the number of players. Ties on time
 * go to the lower slot index: the order in which players act at one instant is fixed, which
 * keeps a run reproducible. Keys and positions live in typed arrays (no object per entry).
 */
export class SlotHeap {
  private readonly times: Float64Array;
  private readonly slots: Int32Array;
  /** Position of each slot in the heap, -1 when absent. */
  private readonly positions: Int32Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.slots = new Int32Array(capacity);
    this.positions = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  has(slot: number): boolean {
    return this.positions[slot] !== -1;
  }

  /** The key of a slot in the heap (Infinity when absent). */
  timeOf(slot: number): number {
    const p = this.positions[slot] as number;
    return p === -1 ? Number.POSITIVE_INFINITY : (this.times[p] as number);
  }

  /** Earliest time in the heap, Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  /** Slot with the earliest time, -1 when empty. */
  peekSlot(): number {
    return this.count === 0 ? -1 : (this.slots[0] as number);
  }

  /** Inserts, moves or (for an infinite time) removes a slot's entry. */
  set(slot: number, time: number): void {
    if (time === Number.POSITIVE_INFINITY) {
      this.remove(slot);
      return;
    }
    const p = this.positions[slot] as number;
    if (p === -1) {
      const at = this.count++;
      this.times[at] = time;
      this.slots[at] = slot;
      this.positions[slot] = at;
      this.up(at);
      return;
    }
    const old = this.times[p] as number;
    this.times[p] = time;
    if (time < old) this.up(p);
    else if (time > old) this.down(p);
  }

  remove(slot: number): void {
    const p = this.positions[slot] as number;
    if (p === -1) return;
    const last = --this.count;
    this.positions[slot] = -1;
    if (p === last) return;
    const moved = this.slots[last] as number;
    this.move(last, p);
    this.up(p);
    this.down(this.positions[moved] as number);
  }

  /** Removes and returns the earliest slot (-1 when empty). */
  pop(): number {
    if (this.count === 0) return -1;
    const slot = this.slots[0] as number;
    this.remove(slot);
    return slot;
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i] as number;
    const tj = this.times[j] as number;
    return ti < tj || (ti === tj && (this.slots[i] as number) < (this.slots[j] as number));
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number;
    const slot = this.slots[from] as number;
    this.slots[to] = slot;
    this.positions[slot] = to;
  }

  private swap(i: number, j: number): void {
    const ti = this.times[i] as number;
    const si = this.slots[i] as number;
    this.move(j, i);
    this.times[j] = ti;
    this.slots[j] = si;
    this.positions[si] = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.count) return;
      const r = l + 1;
      const c = r < this.count && this.less(r, l) ? r : l;
      if (!this.less(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }
}
