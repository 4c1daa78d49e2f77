/**
 * An outcome that happens once (a connection closed, a process exited) and
 * that any number of tasks may wait for. Each waiter gets a future of its
 * own: the kernel cancels the future a halted task waits on, so one future
 * shared by every waiter would be cancelled by the first one to give up
 * (a `moveOnAfter` around `waitClosed()`), and every later waiter would see
 * `CancelledError` although nobody cancelled it. A waiter that leaves is
 * dropped from the set at once, so a loop of timed-out waits keeps nothing.
 * Internal: not exported from the package.
 */
import { Future, type Coro, type EventLoop } from '../kernel/index.js';

/** @internal a one-time outcome with a future per waiter. */
export class Outcome<T> {
  #state: 0 | 1 | 2 = 0;   // pending, a result, an error
  #value: unknown = undefined;
  readonly #waiters = new Set<Future<T>>();
  readonly #opts: { loop: EventLoop; description: string };

  constructor(loop: EventLoop, description: string) { this.#opts = { loop, description }; }

  /** True once the outcome is set. */
  done(): boolean { return this.#state !== 0; }
  /** The error the outcome was set with, if any. */
  error(): unknown { return this.#state === 2 ? this.#value : undefined; }
  /** How many tasks wait now (for tests and introspection). */
  waiting(): number { return this.#waiters.size; }

  /** Set the result and wake every waiter; later calls do nothing. */
  setResult(value: T): void {
    if (this.#state !== 0) return;
    this.#state = 1;
    this.#value = value;
    for (const f of this.#waiters) if (!f.done()) f.setResult(value);
    this.#waiters.clear();
  }

  /** Set an error that every waiter (now and later) gets thrown; later calls do nothing. */
  setException(error: unknown): void {
    if (this.#state !== 0) return;
    this.#state = 2;
    this.#value = error;
    for (const f of this.#waiters) if (!f.done()) f.setException(error);
    this.#waiters.clear();
  }

  /** Wait for the outcome on a future of this waiter's own. */
  *wait(): Coro<T> {
    if (this.#state === 1) return this.#value as T;
    if (this.#state === 2) throw this.#value;
    const f = new Future<T>(this.#opts);
    this.#waiters.add(f);
    try {
      return yield* f;
    } finally {
      this.#waiters.delete(f);
    }
  }
}
