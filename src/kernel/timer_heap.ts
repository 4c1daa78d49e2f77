/**
 * A binary min-heap of timers ordered by (due time, scheduling order).
 *
 * Most timers never fire: they are timeouts that are cancelled when the work
 * finishes first. So cancelling is O(1): the timer stays in the heap, marked,
 * and is dropped when it reaches the top. When more than half the heap is
 * cancelled timers, it is compacted in one O(n) pass, so memory stays
 * proportional to live timers.
 */
/** What the heap orders: a TimerEntry, or a kernel object that is its own timer (a sleep). */
export interface TimerEntry {
  readonly _when: number;
  readonly _seq: number;
  _cancelled: boolean;
  _scheduled: boolean;
  _run(): void;
}

const COMPACT_MIN = 64;

function less(a: TimerEntry, b: TimerEntry): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

export class TimerHeap {
  #items: TimerEntry[] = [];
  #cancelled = 0;

  /** Timers in the heap, including cancelled ones not yet dropped. */
  get size(): number { return this.#items.length; }
  /** Live (not cancelled) timers. */
  get live(): number { return this.#items.length - this.#cancelled; }

  push(t: TimerEntry): void {
    const a = this.#items;
    a.push(t);
    this.#up(a.length - 1);
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): TimerEntry | undefined {
    const a = this.#items;
    while (a.length > 0 && a[0]!._cancelled) this.#popTop();
    return a[0];
  }

  /** Remove and return the earliest live timer. */
  pop(): TimerEntry | undefined {
    const t = this.peek();
    if (t !== undefined) this.#popTop();
    return t;
  }

  /** A timer in the heap was cancelled. */
  noteCancelled(): void {
    this.#cancelled++;
    const a = this.#items;
    if (a.length >= COMPACT_MIN && this.#cancelled * 2 > a.length) this.#compact();
  }

  clear(): void {
    for (const t of this.#items) t._scheduled = false;
    this.#items = [];
    this.#cancelled = 0;
  }

  #popTop(): void {
    const a = this.#items;
    const top = a[0]!;
    top._scheduled = false;
    if (top._cancelled) this.#cancelled--;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      this.#down(0);
    }
  }

  #compact(): void {
    const kept: TimerEntry[] = [];
    for (const t of this.#items) {
      if (t._cancelled) t._scheduled = false;
      else kept.push(t);
    }
    this.#items = kept;
    this.#cancelled = 0;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #up(i: number): void {
    const a = this.#items;
    const t = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!less(t, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = t;
  }

  #down(i: number): void {
    const a = this.#items;
    const n = a.length;
    const t = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && less(a[c + 1]!, a[c]!)) c++;
      if (!less(a[c]!, t)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = t;
  }
}
