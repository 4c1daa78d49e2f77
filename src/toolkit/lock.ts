/**
 * Lock: a FIFO-fair mutex. `release()` hands the lock straight to the
 * longest waiter (it stays locked), so a task that asks later cannot barge
 * in ahead of one that has waited, even if it runs first.
 *
 * Hand-off has one subtle case: the waiter's future already holds the lock
 * when its task is halted, before the task resumed. The waiter's `finally`
 * sees that outcome and releases the lock again, so a cancelled waiter
 * never holds it and never blocks the next one.
 */
import { InvalidStateError, toCoro, type Coro, type CoroOrFn, type Future, type Suspend } from '../kernel/index.js';
import { Waiters } from './waiters.js';

/**
 * A mutual-exclusion lock for tasks, FIFO-fair.
 * @example
 * const lock = new Lock();
 * function* worker() {
 *   yield* lock.withLock(function* () { yield* sleep(10); });
 * }
 */
export class Lock {
  /** @internal */ _locked = false;
  /** @internal */ readonly _waiters = new Waiters<void>('Lock.acquire');

  /**
   * True if some task holds the lock. Because `release()` hands the lock
   * straight to the longest waiter, `locked()` stays true right after a
   * `release()` that woke a waiter, before that waiter has run: the lock is
   * already its. (asyncio's `locked()` is false then, although an
   * `acquire()` would still wait behind the woken task: here the answer is
   * the one `acquire()` acts on.)
   */
  locked(): boolean { return this._locked; }

  /**
   * Wait until the lock is free (and every earlier waiter has had it), then take it.
   * @example
   * const lock = new Lock();
   * yield* lock.acquire();
   * try { yield* sleep(10); } finally { lock.release(); }
   */
  acquire(): Coro<void> {
    return new AcquireOp(this);
  }

  /**
   * Release the lock, handing it to the longest waiter if there is one.
   * Throws `InvalidStateError` if the lock is not held.
   * @example
   * const lock = new Lock();
   * yield* lock.acquire();
   * lock.release();
   */
  release(): void {
    if (!this._locked) throw new InvalidStateError('Lock.release(): the lock is not acquired');
    if (!this._waiters.wakeNext(undefined)) this._locked = false;
  }

  /**
   * Run `body` (a generator function or a coroutine) holding the lock; the
   * lock is released however `body` ends.
   * @example
   * const lock = new Lock();
   * let counter = 0;
   * const v = yield* lock.withLock(function* () { const n = counter; yield* sleep(1); counter = n + 1; return counter; });
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
  toString(): string { return `<Lock ${this._locked ? 'locked' : 'unlocked'}>`; }
}

/**
 * `acquire()` as a small iterator object (the hot path of every critical
 * section), driven by `yield*` exactly as this generator would be:
 * `if (free) take; else { try { yield* waiter } finally { if halted: leave
 * the line, or pass on a lock handed over meanwhile } }`.
 */
class AcquireOp implements Coro<void> {
  readonly #lock: Lock;
  #f: Future<void> | null = null;
  constructor(lock: Lock) { this.#lock = lock; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<Suspend, void> {
    const lock = this.#lock;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { lock._waiters.discard(); f.result(); }
      return { done: true, value: undefined };   // the lock was handed over
    }
    if (!lock._locked && !lock._waiters.hasPending()) {
      lock._locked = true;
      return { done: true, value: undefined };
    }
    const w = (this.#f = lock._waiters.add());
    return { done: false, value: w as unknown as Suspend };   // the task waits on the future (see the kernel's traps)
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<Suspend, void> {
    this.#leave();
    return { done: true, value };
  }
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    if (!f.done()) f.cancel();
    if (f.cancelled()) this.#lock._waiters.discard();
    else this.#lock.release();   // the lock was handed over, but this task was halted before it resumed
  }
}
