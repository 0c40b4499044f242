/**
 * A binary min-heap of (key, tie, value), ordered by key then tie. Ties are broken by a
 * caller-given number (a session's creation ordinal) so the pop order is a total order and
 * the sessionizer's output does not depend on the heap's internal layout.
 *
 * Keys sit in a plain number array (V8 keeps it unboxed), values in a parallel array.
 * Entries are never removed from the middle: callers delete lazily by checking, on pop,
 * whether the entry still describes the value (see sessionizer.ts).
 */
export class DeadlineHeap<T> {
  private readonly keys: number[] = [];
  private readonly ties: number[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Smallest key, or +Infinity when empty. */
  peekKey(): number {
    return this.keys.length > 0 ? this.keys[0]! : Number.POSITIVE_INFINITY;
  }

  peekValue(): T | undefined {
    return this.values[0];
  }

  push(key: number, tie: number, value: T): void {
    const keys = this.keys;
    const ties = this.ties;
    const values = this.values;
    let i = keys.length;
    keys.push(key);
    ties.push(tie);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk < key || (pk === key && ties[parent]! <= tie)) break;
      keys[i] = pk;
      ties[i] = ties[parent]!;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    ties[i] = tie;
    values[i] = value;
  }

  /** Removes and returns the smallest entry's value; undefined when empty. */
  pop(): T | undefined {
    const keys = this.keys;
    const ties = this.ties;
    const values = this.values;
    const n = keys.length;
    if (n === 0) return undefined;
    const top = values[0];
    const lastKey = keys.pop()!;
    const lastTie = ties.pop()!;
    const lastValue = values.pop()!;
    const size = n - 1;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        let child = left;
        if (
          right < size &&
          (keys[right]! < keys[left]! || (keys[right] === keys[left] && ties[right]! < ties[left]!))
        ) {
          child = right;
        }
        const ck = keys[child]!;
        if (lastKey < ck || (lastKey === ck && lastTie <= ties[child]!)) break;
        keys[i] = ck;
        ties[i] = ties[child]!;
        values[i] = values[child]!;
        i = child;
      }
      keys[i] = lastKey;
      ties[i] = lastTie;
      values[i] = lastValue;
    }
    return top;
  }

  clear(): void {
    this.keys.length = 0;
    this.ties.length = 0;
    this.values.length = 0;
  }
}
