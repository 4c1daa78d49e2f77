/**
 * Event: a flag tasks can wait for. `set()` wakes every waiter at once;
 * waiters that were cancelled meanwhile are simply skipped. As in asyncio,
 * `clear()` after `set()` does not un-wake tasks already woken.
 */
import type { Coro } from '../kernel/index.js';
import { Waiters } from './waiters.js';

/**
 * A flag that tasks can wait on until it is set.
 * @example
 * const ready = new Event();
 * createTask(function* () { yield* ready.wait(); console.log('go'); }());
 * ready.set();
 */
export class Event {
  #flag = false;
  #waiters = new Waiters<void>('Event.wait');

  /** True once `set()` was called (and `clear()` not since). */
  isSet(): boolean { return this.#flag; }

  /**
   * Set the flag and wake every waiting task.
   * @example
   * ev.set();
   */
  set(): void {
    if (this.#flag) return;
    this.#flag = true;
    this.#waiters.wakeAll(undefined);
  }

  /**
   * Reset the flag: later `wait()` calls block until the next `set()`.
   * @example
   * ev.clear();
   */
  clear(): void { this.#flag = false; }

  /**
   * Wait until the flag is set (at once if it already is).
   * @example
   * yield* ev.wait();
   */
  *wait(): Coro<void> {
    if (this.#flag) return;
    const f = this.#waiters.add();
    let ok = false;
    try {
      yield* f;
      ok = true;
    } finally {
      if (!ok && f.cancelled()) this.#waiters.discard();
    }
  }

  toString(): string { return `<Event ${this.#flag ? 'set' : 'unset'}>`; }
}
