/**
 * Semaphore and BoundedSemaphore. Like {@link Lock}, a release hands its
 * permit straight to the longest waiter, so permits cannot be stolen by a
 * task that asks later; and a waiter halted after a permit was handed to
 * it gives the permit back, so a cancelled acquire never loses one.
 *
 * A waiter that was handed a permit but has not run yet is still ahead in
 * the line (asyncio counts it until it resumes): until every such waiter has
 * run, `acquire()` waits even if a permit is free, so a task that releases
 * and at once re-acquires cannot pass a waiter woken before it. The free
 * permits go to the waiters in the line when the last woken one runs.
 */
import { toCoro, type Coro, type CoroOrFn } from '../kernel/index.js';
import { Waiters } from './waiters.js';

/**
 * A counter of permits: `acquire()` takes one (waiting while there are
 * none), `release()` gives one back.
 * @example
 * const sem = new Semaphore(3);   // at most 3 downloads at a time
 * function* download(url: string): Coro<string> {
 *   return yield* sem.withLock(function* () { const res = yield* fromPromise((signal) => fetch(url, { signal })); return yield* fromPromise(res.text()); });
 * }
 */
export class Semaphore {
  /** @internal */ _value: number;
  /** Permits handed to waiters that have not resumed yet. */
  #handed = 0;
  #waiters = new Waiters<void>('Semaphore.acquire');

  constructor(value = 1) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`Semaphore initial value must be an integer >= 0, got ${value}`);
    this._value = value;
  }

  /** True if `acquire()` would have to wait. */
  locked(): boolean { return this._value === 0 || this.#handed > 0 || this.#waiters.hasPending(); }

  /**
   * Take a permit, waiting (in FIFO order) while there is none.
   * @example
   * const sem = new Semaphore(2);
   * yield* sem.acquire();
   * try { yield* sleep(10); } finally { sem.release(); }
   */
  *acquire(): Coro<void> {
    if (this._value > 0 && this.#handed === 0 && !this.#waiters.hasPending()) { this._value--; return; }
    const f = this.#waiters.add();
    let ok = false;
    try {
      yield* f;
      ok = true;
      this.#handed--;
      this.#dispatch();
    } finally {
      if (!ok) {
        if (!f.done()) f.cancel();
        if (f.cancelled()) this.#waiters.discard();
        else { this.#handed--; this.release(); }   // a permit was handed over, but this task was halted before it resumed
      }
    }
  }

  /**
   * Give a permit back, to the longest waiter if there is one.
   * @example
   * const sem = new Semaphore(0);
   * sem.release();   // now one acquire() passes
   */
  release(): void {
    if (this.#waiters.wakeNext(undefined)) this.#handed++;
    else this._value++;
  }

  /** Once no woken waiter is left to run, hand the free permits to the line. */
  #dispatch(): void {
    if (this.#handed > 0) return;
    while (this._value > 0 && this.#waiters.wakeNext(undefined)) { this._value--; this.#handed++; }
  }

  /**
   * Run `body` (a generator function or a coroutine) holding a permit.
   * @example
   * const sem = new Semaphore(2);
   * yield* sem.withLock(function* () { yield* sleep(10); });
   */
  *withLock<T>(body: CoroOrFn<T>): Coro<T> {
    yield* this.acquire();
    try {
      return yield* toCoro(body);
    } finally {
      this.release();
    }
  }

  /** A short description for logs and debugging. */
  toString(): string { return `<${this.constructor.name} value=${this._value}>`; }
}

/**
 * A semaphore whose `release()` throws `RangeError` if it would raise the
 * count above the initial value (a release without an acquire is a bug).
 * @example
 * const sem = new BoundedSemaphore(1);
 * sem.release();   // RangeError: released too many times
 */
export class BoundedSemaphore extends Semaphore {
  readonly #bound: number;
  constructor(value = 1) {
    super(value);
    this.#bound = value;
  }

  override release(): void {
    if (this._value >= this.#bound) throw new RangeError('BoundedSemaphore released too many times');
    super.release();
  }
}
