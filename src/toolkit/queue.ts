/**
 * Queue, PriorityQueue and LifoQueue, with asyncio's semantics: items stay
 * in the queue until a getter takes them in its own step, and a waiter's
 * future is only a wake-up ("look again"). So an item can never be lost
 * between a wake-up and the task that was meant to take it: a getter halted
 * after its wake-up leaves the item where it was and passes the wake-up on
 * to the next getter (likewise a putter, with the free slot). A cancelled
 * `get()` takes nothing, a cancelled `put()` adds nothing.
 *
 * Unfinished work is counted as in asyncio: every successful put adds one,
 * and `join()` waits until a `taskDone()` has been called for each.
 *
 * The hot paths (`get()`/`put()` that need not wait) allocate no future.
 */
import { Future, QueueEmpty, QueueFull, QueueShutDown, type Coro } from '../kernel/index.js';
import { Deque } from './deque.js';
import { Event } from './event.js';
import { Waiters } from './waiters.js';

/**
 * A FIFO queue for tasks, bounded if `maxsize > 0`.
 * @example
 * const q = new Queue<string>(10);
 * function* producer() { for (const url of urls) yield* q.put(url); }
 * function* consumer() { for (;;) { const url = yield* q.get(); try { yield* fetchIt(url); } finally { q.taskDone(); } } }
 */
export class Queue<T> {
  /** The capacity; 0 (or less) means unbounded. */
  readonly maxsize: number;
  /** @internal */ readonly _getters = new Waiters<void>('Queue.get');
  /** @internal */ readonly _putters = new Waiters<void>('Queue.put');
  #unfinished = 0;
  #finished = new Event();
  /** @internal */ _shutdown = false;

  constructor(maxsize = 0) {
    this.maxsize = maxsize;
    this.#finished.set();
    this._init();
  }

  // ---- storage: subclasses override these four --------------------------------
  /** @internal */ declare _items: Deque<T>;
  /** @internal */ _init(): void { this._items = new Deque<T>(); }
  /** @internal */ _put(v: T): void { this._items.push(v); }
  /** @internal */ _get(): T { return this._items.shift() as T; }
  /** @internal */ _qsize(): number { return this._items.length; }

  /** Number of items in the queue. */
  qsize(): number { return this._qsize(); }
  /** True if the queue holds no item. */
  empty(): boolean { return this._qsize() === 0; }
  /** True if the queue is bounded and holds `maxsize` items. */
  full(): boolean { return this.maxsize > 0 && this._qsize() >= this.maxsize; }

  /**
   * Add an item, waiting while the queue is full. Throws `QueueShutDown`
   * if the queue is (or gets) shut down.
   * @example
   * yield* q.put(job);
   */
  put(v: T): Coro<void> {
    return new PutOp(this, v);
  }

  /**
   * Add an item without waiting: `QueueFull` if there is no room,
   * `QueueShutDown` after `shutdown()`.
   * @example
   * try { q.putNowait(x); } catch (e) { if (e instanceof QueueFull) dropped++; }
   */
  putNowait(v: T): void {
    if (this._shutdown) throw new QueueShutDown();
    if (this.maxsize > 0 && this._qsize() >= this.maxsize) throw new QueueFull();
    this._put(v);
    if (this.#unfinished++ === 0) this.#finished.clear();
    this._getters.wakeNext(undefined);
  }

  /**
   * Remove and return the next item, waiting while the queue is empty.
   * Throws `QueueShutDown` once the queue is shut down and empty.
   * @example
   * const job = yield* q.get();
   */
  get(): Coro<T> {
    return new GetOp(this);
  }

  /**
   * Remove and return the next item without waiting: `QueueEmpty` if there
   * is none (`QueueShutDown` if the queue is also shut down).
   * @example
   * try { const x = q.getNowait(); } catch (e) { if (e instanceof QueueEmpty) idle(); }
   */
  getNowait(): T {
    if (this._qsize() === 0) throw this._shutdown ? new QueueShutDown() : new QueueEmpty();
    const v = this._get();
    this._putters.wakeNext(undefined);
    return v;
  }

  /**
   * Mark one item taken from the queue as processed. Throws `RangeError` if
   * called more times than items were put.
   * @example
   * const job = yield* q.get(); try { yield* run(job); } finally { q.taskDone(); }
   */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new RangeError('Queue.taskDone() called too many times');
    if (--this.#unfinished === 0) this.#wakeJoiners();
  }

  /**
   * Wait until every item ever put has been marked with `taskDone()`.
   * @example
   * yield* q.join();   // all work is processed
   */
  *join(): Coro<void> {
    if (this.#unfinished > 0) yield* this.#finished.wait();
  }

  /**
   * Shut the queue down: `put()` and `putNowait()` throw `QueueShutDown`
   * from now on, and so do `get()` and `getNowait()` once the queue is
   * empty. Blocked putters and getters wake and throw it. With `immediate`,
   * the items still queued are dropped (and counted done for `join()`).
   * @example
   * q.shutdown();          // consumers drain what is left, then get QueueShutDown
   * q.shutdown(true);      // consumers stop at once
   */
  shutdown(immediate = false): void {
    this._shutdown = true;
    if (immediate) {
      while (this._qsize() > 0) {
        this._get();
        if (this.#unfinished > 0) this.#unfinished--;
      }
      if (this.#unfinished === 0) this.#wakeJoiners();
    }
    this._getters.wakeAll(undefined);
    this._putters.wakeAll(undefined);
  }

  #wakeJoiners(): void { this.#finished.set(); }

  toString(): string {
    return `<${this.constructor.name} size=${this._qsize()} maxsize=${this.maxsize}${this._shutdown ? ' shut down' : ''}>`;
  }
}

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

/** A waiter leaves without using its wake-up: pass the wake-up on if what it was for is still there. */
function abandon(f: Future<void>, line: Waiters<void>, stillThere: boolean): void {
  if (!f.done()) f.cancel();
  if (f.cancelled()) line.discard();
  else if (stillThere) line.wakeNext(undefined);
}

/**
 * `get()` as a small iterator object rather than a generator: it is the hot
 * path of every pipeline. `yield*` drives it exactly as it would drive
 * `function* get() { while (empty) { yield* waiter } return getNowait() }`,
 * and its `return()`/`throw()` are that generator's `finally`.
 */
class GetOp<T> {
  readonly #q: Queue<T>;
  #f: Future<void> | null = null;
  constructor(q: Queue<T>) { this.#q = q; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<unknown, T> {
    const q = this.#q;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { abandon(f, q._getters, false); f.result(); }
    }
    if (q._qsize() > 0) return { done: true, value: q.getNowait() };
    if (q._shutdown) throw new QueueShutDown();
    const w = (this.#f = q._getters.add());
    return { done: false, value: w };
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<unknown, T> {
    this.#leave();
    return { done: true, value };
  }
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    abandon(f, this.#q._getters, this.#q._qsize() > 0);
  }
}

/** `put()` as a small iterator object; see {@link GetOp}. */
class PutOp<T> {
  readonly #q: Queue<T>;
  readonly #v: T;
  #f: Future<void> | null = null;
  constructor(q: Queue<T>, v: T) { this.#q = q; this.#v = v; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<unknown, void> {
    const q = this.#q;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { abandon(f, q._putters, false); f.result(); }
    }
    if (q.maxsize > 0 && q._qsize() >= q.maxsize) {
      if (q._shutdown) throw new QueueShutDown();
      const w = (this.#f = q._putters.add());
      return { done: false, value: w };
    }
    q.putNowait(this.#v);
    return { done: true, value: undefined };
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<unknown, void> {
    this.#leave();
    return { done: true, value };
  }
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    abandon(f, this.#q._putters, !this.#q.full());
  }
}

function defaultCompare(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/**
 * A queue that returns the most recently added item first.
 * @example
 * const q = new LifoQueue<number>();
 * q.putNowait(1); q.putNowait(2);
 * q.getNowait();   // 2
 */
export class LifoQueue<T> extends Queue<T> {
  /** @internal */ override _get(): T { return this._items.pop() as T; }
}
