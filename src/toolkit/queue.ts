/**
 * Queue, PriorityQueue and LifoQueue, with asyncio's semantics except in
 * one place, where a FIFO `Queue` behaves as Go's and Trio's channels do:
 * an item put while a getter waits is handed straight to that getter (the
 * longest waiting), not stored. So the producer does not block on an item
 * that a consumer is about to take, and a producer/consumer pair switches
 * tasks once per two items instead of once per item. The item is never
 * counted by `qsize()`, and `maxsize` bounds the items nobody is waiting
 * for. (A PriorityQueue or LifoQueue, whose getter must pick the best item
 * when it resumes, and a subclass with its own storage, wake the getter as
 * asyncio does and leave the item in the queue until it takes it.)
 *
 * Nothing is lost to a cancellation: a getter halted after an item was
 * handed to it, before it resumed, gives the item back to the next waiting
 * getter or to the front of the queue (which then may hold one item more
 * than `maxsize` until it is taken). A waiter's wake-up that it does not
 * use (a "look again" for a putter, or for a getter of the queues that do
 * not hand over) passes to the next waiter. A cancelled `get()` takes
 * nothing, a cancelled `put()` adds nothing.
 *
 * Unfinished work is counted as in asyncio: every successful put adds one,
 * and `join()` waits until a `taskDone()` has been called for each.
 *
 * The hot paths (`get()`/`put()` that need not wait) allocate no future.
 */
import { Future, QueueEmpty, QueueFull, QueueShutDown, getEventLoop, type Coro, type Suspend } from '../kernel/index.js';
import { asyncIteratorOf, type CoroIterator, coroIterator } from './async_iter.js';
import { Deque } from './deque.js';
import { AsyncEvent } from './event.js';
import { Waiters } from './waiters.js';

/**
 * A FIFO queue for tasks, bounded if `maxsize > 0`. An item put while a
 * getter waits goes straight to that getter (see the module comment).
 * @example
 * const q = new Queue<string>(10);
 * function* producer(urls: string[]): Coro<void> { for (const url of urls) yield* q.put(url); }
 * function* consumer(): Coro<void> {
 *   for (;;) { const url = yield* q.get(); try { yield* fromPromise((signal) => fetch(url, { signal })); } finally { q.taskDone(); } }
 * }
 */
export class Queue<T> {
  /** The capacity; 0 (or less) means unbounded. */
  readonly maxsize: number;
  /** @internal a getter's future gets an item (handed over) or LOOK (look again) */
  readonly _getters = new Waiters<unknown>('Queue.get');
  /** @internal */ readonly _putters = new Waiters<void>('Queue.put');
  #unfinished = 0;
  #finished = new AsyncEvent();
  /** @internal */ _shutdown = false;
  #dropAll = false;
  /** @internal items go straight to waiting getters (FIFO storage only: see the module comment) */
  readonly _handOff: boolean;

  constructor(maxsize = 0) {
    this.maxsize = maxsize;
    this.#finished.set();
    this._init();
    const base = Queue.prototype;
    this._handOff = this._put === base._put && this._get === base._get && this._qsize === base._qsize;
  }

  // ---- storage: subclasses override these four --------------------------------
  /** @internal */ declare _items: Deque<T>;
  /** @internal */ _init(): void { this._items = new Deque<T>(); }
  /** @internal */ _put(v: T): void { this._items.push(v); }
  /** @internal */ _get(): T { return this._items.shift() as T; }
  /** @internal */ _qsize(): number { return this._items.length; }

  /** Number of items in the queue (an item handed straight to a waiting getter never is). */
  qsize(): number { return this._qsize(); }
  /** True if the queue holds no item. */
  empty(): boolean { return this._qsize() === 0; }
  /** True if the queue is bounded and holds `maxsize` items. */
  full(): boolean { return this.maxsize > 0 && this._qsize() >= this.maxsize; }

  /**
   * Add an item, waiting while the queue is full. Throws `QueueShutDown`
   * if the queue is (or gets) shut down.
   * @example
   * const q = new Queue<string>(10);
   * yield* q.put('job');   // waits while the queue is full
   */
  put(v: T): Coro<void> {
    return new PutOp(this, v);
  }

  /**
   * Add an item without waiting: `QueueFull` if there is no room,
   * `QueueShutDown` after `shutdown()`.
   * @example
   * const q = new Queue<number>(10);
   * let dropped = 0;
   * try { q.putNowait(1); } catch (e) { if (e instanceof QueueFull) dropped++; }
   */
  putNowait(v: T): void {
    if (this._shutdown) throw new QueueShutDown();
    // A getter waits only while the queue is empty: a queue that hands over gives it the item, no room needed.
    if (this._handOff && this._getters.wakeNext(v)) {
      // A putter woken for a free slot may have handed its item over instead: the slot is free still.
      if (!this.full()) this._putters.wakeNext(undefined);
    } else {
      if (this.full()) throw new QueueFull();
      this._put(v);
      if (!this._handOff) this._getters.wakeNext(LOOK);
    }
    if (this.#unfinished++ === 0) this.#finished.clear();
  }

  /**
   * Remove and return the next item, waiting while the queue is empty.
   * Throws `QueueShutDown` once the queue is shut down and empty.
   * @example
   * const q = new Queue<string>();
   * q.putNowait('job');
   * const job = yield* q.get();
   */
  get(): Coro<T> {
    return new GetOp(this);
  }

  /**
   * Remove and return the next item without waiting: `QueueEmpty` if there
   * is none (`QueueShutDown` if the queue is also shut down).
   * @example
   * const q = new Queue<number>();
   * try { console.log(q.getNowait()); } catch (e) { if (e instanceof QueueEmpty) console.log('nothing yet'); }
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
   * const q = new Queue<number>();
   * q.putNowait(100);
   * const ms = yield* q.get();
   * try { yield* sleep(ms); } finally { q.taskDone(); }
   */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new RangeError('Queue.taskDone() called too many times');
    if (--this.#unfinished === 0) this.#wakeJoiners();
  }

  /**
   * Wait until every item ever put has been marked with `taskDone()`.
   * @example
   * const q = new Queue<number>();
   * createTask(function* () { for (;;) { yield* q.get(); q.taskDone(); } }());
   * q.putNowait(1);
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
   * const q = new Queue<number>();
   * q.shutdown();          // consumers drain what is left, then get QueueShutDown
   * q.shutdown(true);      // consumers stop at once
   */
  shutdown(immediate = false): void {
    this._shutdown = true;
    if (immediate) {
      this.#dropAll = true;
      while (this._qsize() > 0) {
        this._get();
        if (this.#unfinished > 0) this.#unfinished--;
      }
      if (this.#unfinished === 0) this.#wakeJoiners();
    }
    this._getters.wakeAll(LOOK);
    this._putters.wakeAll(undefined);
  }

  /** @internal a getter halted after `v` was handed to it gives it back: to the next waiting getter, or to the front. */
  _giveBack(v: T): void {
    if (this._getters.wakeNext(v)) return;
    if (this.#dropAll) { this.taskDone(); return; }   // shut down with `immediate`: dropped, as the queued items were
    this._items.unshift(v);
  }

  /**
   * The items as they come, for `each()`: the loop ends once the queue is
   * shut down and empty. Leaving the loop early leaves the queue as it is
   * (a halted wait takes nothing).
   * @example
   * const q = new Queue<string>();
   * for (const job of yield* each(q)) { console.log(job); q.taskDone(); yield* each.next(); }
   */
  [coroIterator](): CoroIterator<T> { return { next: () => nextItem(this) }; }

  /**
   * `for await` in async functions while the loop runs: each `get()` is a
   * task; `break` leaves every item not yet handed out in the queue.
   * @example
   * async function consume(q: Queue<string>): Promise<void> {
   *   for await (const job of q) { if (job === 'stop') break; console.log(job); }
   * }
   */
  [Symbol.asyncIterator](): AsyncIterator<T> { return asyncIteratorOf(getEventLoop(), this[coroIterator](), 'Queue.get'); }

  #wakeJoiners(): void { this.#finished.set(); }

  /** A short description for logs and debugging. */
  toString(): string {
    return `<${this.constructor.name} size=${this._qsize()} maxsize=${this.maxsize}${this._shutdown ? ' shut down' : ''}>`;
  }
}

function* nextItem<T>(q: Queue<T>): Coro<IteratorResult<T, undefined>> {
  try {
    return { done: false, value: yield* q.get() };
  } catch (e) {
    if (e instanceof QueueShutDown) return { done: true, value: undefined };
    throw e;
  }
}

/** "Look again": a getter's wake-up that carries no item (from a queue that does not hand over, or shutdown). */
const LOOK: unique symbol = Symbol('Queue: look again');

/** A waiter leaves without using its wake-up: pass the wake-up (`wake`) on if what it was for is still there. */
function abandon<W>(f: Future<W>, line: Waiters<W>, stillThere: boolean, wake: W): void {
  if (!f.done()) f.cancel();
  if (f.cancelled()) line.discard();
  else if (stillThere) line.wakeNext(wake);
}

/**
 * `get()` as a small iterator object rather than a generator: it is the hot
 * path of every pipeline. `yield*` drives it exactly as it would drive
 * `function* get() { for (;;) { if (nonEmpty) return take(); v = yield* wait(); if (v !== LOOK) return v } }`,
 * and its `return()`/`throw()` are that generator's `finally`.
 */
class GetOp<T> implements Coro<T> {
  readonly #q: Queue<T>;
  #f: Future<unknown> | null = null;
  constructor(q: Queue<T>) { this.#q = q; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<Suspend, T> {
    const q = this.#q;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { q._getters.discard(); f.result(); }
      const v = f.result();
      if (v !== LOOK) return { done: true, value: v as T };   // handed over
    }
    if (q._qsize() > 0) return { done: true, value: q.getNowait() };
    if (q._shutdown) throw new QueueShutDown();
    const w = (this.#f = q._getters.add());
    return { done: false, value: w as unknown as Suspend };   // the task waits on the future (see the kernel's traps)
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<Suspend, T> {
    this.#leave();
    return { done: true, value };
  }
  /** Halted while waiting: take nothing, and pass on what came for this getter. */
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    const q = this.#q;
    if (f.done() && !f.cancelled() && f.result() !== LOOK) q._giveBack(f.result() as T);   // an item was handed over
    else abandon(f, q._getters, q._qsize() > 0, LOOK);
  }
}

/** `put()` as a small iterator object; see {@link GetOp}. A putter's wake-up means "look again". */
class PutOp<T> implements Coro<void> {
  readonly #q: Queue<T>;
  readonly #v: T;
  #f: Future<void> | null = null;
  constructor(q: Queue<T>, v: T) { this.#q = q; this.#v = v; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<Suspend, void> {
    const q = this.#q;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { q._putters.discard(); f.result(); }
    }
    if (q.full()) {   // (a full queue has no waiting getter to hand the item to)
      if (q._shutdown) throw new QueueShutDown();
      const w = (this.#f = q._putters.add());
      return { done: false, value: w as unknown as Suspend };
    }
    q.putNowait(this.#v);
    return { done: true, value: undefined };
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<Suspend, void> {
    this.#leave();
    return { done: true, value };
  }
  /** Halted while waiting: add nothing, and pass the wake-up on if the room it was for is still there. */
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    abandon(f, this.#q._putters, !this.#q.full(), undefined);
  }
}
