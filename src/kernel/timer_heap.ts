/**
 * The loop's timers, ordered by (due time, scheduling order).
 *
 * Timers come in crowds that share a due time: the clock is read once per
 * batch, so every `sleep(10)` set in one batch falls due at the same loop
 * time. So timers are kept in buckets, one per due time, each a FIFO in
 * scheduling order, and a binary min-heap orders the buckets. Adding a
 * timer to an existing bucket or taking the next one from it is O(1); the
 * heap only moves when a due time is new or used up (Node's own timers,
 * listed per duration, make the same bet).
 *
 * Most timers never fire: they are timeouts cancelled when the work finishes
 * first. So cancelling is O(1): the timer stays where it is, marked, and is
 * skipped when its turn comes. When more than half of the timers held are
 * cancelled, they are compacted in one O(n) pass, so memory stays
 * proportional to live timers.
 */
/** What the heap orders: a TimerHandle, or a kernel object that is its own timer (a sleep). */
export interface TimerEntry {
  readonly _when: number;
  readonly _seq: number;
  _cancelled: boolean;
  _scheduled: boolean;
  _run(): void;
}

const COMPACT_MIN = 64;

/** The timers due at one time, in the order they were scheduled. */
class Bucket {
  items: TimerEntry[] = [];
  head = 0;
  constructor(readonly when: number) {}
}

export class TimerHeap {
  #heap: Bucket[] = [];
  #byWhen = new Map<number, Bucket>();
  #size = 0;
  #cancelled = 0;

  /** Timers held, including cancelled ones not yet dropped. */
  get size(): number { return this.#size; }
  /** Live (not cancelled) timers. */
  get live(): number { return this.#size - this.#cancelled; }

  push(t: TimerEntry): void {
    let b = this.#byWhen.get(t._when);
    if (b === undefined) {
      b = new Bucket(t._when);
      this.#byWhen.set(t._when, b);
      this.#heap.push(b);
      this.#up(this.#heap.length - 1);
    }
    b.items.push(t);   // same due time: scheduling order is arrival order (sequence numbers only grow)
    this.#size++;
  }

  /** The earliest live timer, dropping cancelled ones on the way. */
  peek(): TimerEntry | undefined {
    const heap = this.#heap;
    while (heap.length > 0) {
      const b = heap[0]!;
      const items = b.items;
      while (b.head < items.length) {
        const t = items[b.head]!;
        if (!t._cancelled) return t;
        this.#drop(b);
      }
      this.#removeTop();
    }
    return undefined;
  }

  /** Remove and return the earliest live timer. */
  pop(): TimerEntry | undefined {
    const t = this.peek();
    if (t !== undefined) this.#drop(this.#heap[0]!);
    return t;
  }

  /** A timer held here was cancelled. */
  noteCancelled(): void {
    this.#cancelled++;
    if (this.#size >= COMPACT_MIN && this.#cancelled * 2 > this.#size) this.#compact();
  }

  clear(): void {
    for (const b of this.#heap) for (let i = b.head; i < b.items.length; i++) b.items[i]!._scheduled = false;
    this.#heap = [];
    this.#byWhen.clear();
    this.#size = 0;
    this.#cancelled = 0;
  }

  /** Take the head of bucket `b` out. */
  #drop(b: Bucket): void {
    const t = b.items[b.head]!;
    b.items[b.head] = undefined as unknown as TimerEntry;
    b.head++;
    t._scheduled = false;
    this.#size--;
    if (t._cancelled) this.#cancelled--;
  }

  #removeTop(): void {
    const heap = this.#heap;
    const top = heap[0]!;
    if (this.#byWhen.get(top.when) === top) this.#byWhen.delete(top.when);
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#down(0);
    }
  }

  #compact(): void {
    const buckets: Bucket[] = [];
    this.#byWhen.clear();
    let size = 0;
    for (const b of this.#heap) {
      const kept = new Bucket(b.when);
      for (let i = b.head; i < b.items.length; i++) {
        const t = b.items[i]!;
        if (t._cancelled) t._scheduled = false;
        else kept.items.push(t);
      }
      if (kept.items.length === 0) continue;
      buckets.push(kept);
      this.#byWhen.set(kept.when, kept);
      size += kept.items.length;
    }
    this.#heap = buckets;
    this.#size = size;
    this.#cancelled = 0;
    for (let i = (buckets.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #up(i: number): void {
    const a = this.#heap;
    const b = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!(b.when < parent.when)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = b;
  }

  #down(i: number): void {
    const a = this.#heap;
    const n = a.length;
    const b = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.when < a[c]!.when) c++;
      if (!(a[c]!.when < b.when)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = b;
  }
}
