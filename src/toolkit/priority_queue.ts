/**
 * PriorityQueue: a {@link Queue} over a binary heap. Each item carries the
 * order it was put in, used to break ties, so items that compare equal come
 * out first in, first out (Python's heapq gives no such promise; asyncio
 * users add a counter to their tuples by hand for it).
 */
import { Queue } from './queue.js';

/**
 * A queue that returns the smallest item first (by `compare`, default `<`);
 * items that compare equal come out in the order they were put.
 * @example
 * const q = new PriorityQueue<[number, string]>(0, (a, b) => a[0] - b[0]);
 * q.putNowait([2, 'later']); q.putNowait([1, 'first']);
 * q.getNowait();   // [1, 'first']
 */
export class PriorityQueue<T> extends Queue<T> {
  #compare: (a: T, b: T) => number;
  #heap: T[] = [];
  #seqs: number[] = [];
  #seq = 0;

  constructor(maxsize = 0, compare?: (a: T, b: T) => number) {
    super(maxsize);
    this.#compare = compare ?? defaultCompare;
  }

  /** @internal */ override _init(): void { /* the heap is a field */ }
  /** @internal */ override _qsize(): number { return this.#heap.length; }

  #less(i: number, j: number): boolean {
    const c = this.#compare(this.#heap[i]!, this.#heap[j]!);
    return c < 0 || (c === 0 && this.#seqs[i]! < this.#seqs[j]!);
  }

  #swap(i: number, j: number): void {
    const h = this.#heap, s = this.#seqs;
    const t = h[i]!; h[i] = h[j]!; h[j] = t;
    const u = s[i]!; s[i] = s[j]!; s[j] = u;
  }

  /** @internal */
  override _put(v: T): void {
    this.#heap.push(v);
    this.#seqs.push(this.#seq++);
    let i = this.#heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  /** @internal */
  override _get(): T {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.length - 1;
    this.#swap(0, last);
    h.pop();
    this.#seqs.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.#less(l, m)) m = l;
      if (r < h.length && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }
}

function defaultCompare(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

