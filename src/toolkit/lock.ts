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
import { InvalidStateError, type Coro } from '../kernel/index.js';
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
  #locked = false;
  #waiters = new Waiters<void>('Lock.acquire');

  /** True if some task holds the lock. */
  locked(): boolean { return this.#locked; }

  /**
   * Wait until the lock is free (and every earlier waiter has had it), then take it.
   * @example
   * yield* lock.acquire();
   * try { yield* work(); } finally { lock.release(); }
   */
  *acquire(): Coro<void> {
    if (!this.#locked && !this.#waiters.hasPending()) { this.#locked = true; return; }
    const f = this.#waiters.add();
    let ok = false;
    try {
      yield* f;
      ok = true;
    } finally {
      if (!ok) {
        if (!f.done()) f.cancel();
        if (f.cancelled()) this.#waiters.discard();
        else this.release();   // the lock was handed over, but this task was halted before it resumed
      }
    }
  }

  /**
   * Release the lock, handing it to the longest waiter if there is one.
   * Throws `InvalidStateError` if the lock is not held.
   * @example
   * lock.release();
   */
  release(): void {
    if (!this.#locked) throw new InvalidStateError('Lock.release(): the lock is not acquired');
    if (!this.#waiters.wakeNext(undefined)) this.#locked = false;
  }

  /**
   * Run `body` holding the lock; the lock is released however `body` ends.
   * @example
   * const v = yield* lock.withLock(function* () { return yield* readCounter(); });
   */
  *withLock<T>(body: () => Coro<T>): Coro<T> {
    yield* this.acquire();
    try {
      return yield* body();
    } finally {
      this.release();
    }
  }

  toString(): string { return `<Lock ${this.#locked ? 'locked' : 'unlocked'}>`; }
}
