/** Binary min-heap of numbers. */
export class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (p <= value) break;
      items[i] = p;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      let child = left;
      if (right < items.length && (items[right] as number) < (items[left] as number)) child = right;
      const c = items[child] as number;
      if (c >= last) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/** Counts intervals active at monotonically increasing instants and remembers the peak. */
export class ConcurrencyTracker {
  private readonly ends = new MinHeap();
  peak = 0;

  /** Records an interval starting at `start` (never earlier than previous starts) and ending at `end`. */
  add(start: number, end: number): number {
    while (this.ends.size > 0 && (this.ends.peek() as number) <= start) this.ends.pop();
    this.ends.push(end);
    if (this.ends.size > this.peak) this.peak = this.ends.size;
    return this.ends.size;
  }
}
