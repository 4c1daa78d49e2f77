/**
 * Condition: asyncio's condition variable over a {@link Lock}.
 *
 * `wait()` releases the lock, waits for a notification and re-acquires the
 * lock before returning, and also before a cancellation unwinds past it:
 * the caller's `finally` blocks always run holding the lock, as they would
 * after a normal return. A second cancel during that re-acquisition does
 * not leave it unlocked: the re-acquisition starts over. A waiter that was
 * notified but is halted before it resumes passes the notification on to
 * the next waiter (a spurious wake-up is allowed; a lost one is not).
 */
import { InvalidStateError, rehalt, type Coro, type CoroOrFn } from '../kernel/index.js';
import { Lock } from './lock.js';
import { Waiters } from './waiters.js';

/**
 * Take `lock`, starting over whenever the attempt is interrupted; `onInterrupted` runs (holding it)
 * after each restart. Returns true (undefined if it was interrupted: see rehalt()).
 */
function* reacquire(lock: Lock, onInterrupted: () => void): Coro<boolean> {
  let ok = false;
  try {
    yield* lock.acquire();
    ok = true;
  } finally { // eslint-disable-line tulip/require-rehalt -- interrupted, this returns undefined: Condition.wait re-halts
    if (!ok) {
      yield* reacquire(lock, onInterrupted);
      onInterrupted();
    }
  }
  return true;
}

/**
 * A condition variable: tasks wait until another task notifies them.
 * @example
 * const cond = new Condition();
 * const items: number[] = [];
 * function* consumer() {
 *   yield* cond.withLock(function* () {
 *     yield* cond.waitFor(() => items.length > 0);
 *     console.log(items.shift());
 *   });
 * }
 * function* producer() { yield* cond.withLock(function* () { items.push(1); cond.notify(); }); }
 */
export class Condition {
  readonly #lock: Lock;
  readonly #waiters: Waiters<void>;

  /** `waitDescription` (internal) names the waiters' futures, for `DeadlockError`: a Barrier's say 'Barrier.wait'. */
  constructor(lock?: Lock, waitDescription = 'Condition.wait') {
    this.#lock = lock ?? new Lock();
    this.#waiters = new Waiters<void>(waitDescription);
  }

  /** Acquire the underlying lock. @example const cond = new Condition(); yield* cond.acquire(); cond.release(); */
  acquire(): Coro<void> { return this.#lock.acquire(); }
  /** Release the underlying lock. @example const cond = new Condition(); yield* cond.acquire(); cond.release(); */
  release(): void { this.#lock.release(); }
  /** True if the underlying lock is held. @example const cond = new Condition(); console.log(cond.locked()); // false */
  locked(): boolean { return this.#lock.locked(); }
  /** Run `body` (a generator function or a coroutine) holding the underlying lock. @example const cond = new Condition(); yield* cond.withLock(function* () { cond.notifyAll(); }); */
  withLock<T>(body: CoroOrFn<T>): Coro<T> { return this.#lock.withLock(body); }

  /**
   * Release the lock, wait until notified, then re-acquire the lock. The
   * lock must be held (else `InvalidStateError`). If the task is cancelled
   * while waiting, the lock is re-acquired before the cancellation goes on.
   * @example
   * const cond = new Condition();
   * let ready = false;
   * createTask(cond.withLock(function* () { ready = true; cond.notifyAll(); }));
   * yield* cond.withLock(function* () { while (!ready) yield* cond.wait(); });
   */
  *wait(): Coro<void> {
    if (!this.#lock.locked()) throw new InvalidStateError('Condition.wait(): the lock is not acquired');
    const f = this.#waiters.add();
    this.#lock.release();
    let normal = false;
    let passed = false;
    const passOn = (): void => {
      if (passed || !f.done() || f.cancelled()) return;
      passed = true;
      this.notify(1);
    };
    try {
      yield* f;
      normal = true;
    } finally {
      if (!f.done()) f.cancel();
      if (f.cancelled()) this.#waiters.discard();
      const clean = yield* reacquire(this.#lock, passOn);
      if (!normal) passOn();
      // A halt (while waiting, or while re-acquiring) must be delivered again after this suspending cleanup.
      if (!normal || clean !== true) yield* rehalt();
    }
  }

  /**
   * Wait until `pred()` is truthy and return its value; `pred` is checked
   * first, then after each notification, always holding the lock.
   * @example
   * const cond = new Condition();
   * const queue: number[] = [];
   * createTask(cond.withLock(function* () { queue.push(1); cond.notify(); }));
   * const item = yield* cond.withLock(() => cond.waitFor(() => queue.shift()));   // 1
   */
  *waitFor<T>(pred: () => T): Coro<T> {
    let r = pred();
    while (!r) {
      yield* this.wait();
      r = pred();
    }
    return r;
  }

  /**
   * Wake up to `n` waiting tasks (default 1). The lock must be held.
   * @example
   * const cond = new Condition();
   * const items: number[] = [];
   * yield* cond.withLock(function* () { items.push(1); cond.notify(); });
   */
  notify(n = 1): void {
    if (!this.#lock.locked()) throw new InvalidStateError('Condition.notify(): the lock is not acquired');
    for (let i = 0; i < n && this.#waiters.wakeNext(undefined); i++);
  }

  /**
   * Wake every waiting task. The lock must be held.
   * @example
   * const cond = new Condition();
   * let done = false;
   * yield* cond.withLock(function* () { done = true; cond.notifyAll(); });
   */
  notifyAll(): void {
    if (!this.#lock.locked()) throw new InvalidStateError('Condition.notifyAll(): the lock is not acquired');
    this.#waiters.wakeAll(undefined);
  }
}
