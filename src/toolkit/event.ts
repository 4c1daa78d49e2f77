/**
 * AsyncEvent (asyncio's `Event`): a flag tasks can wait for. `set()` wakes every waiter at once;
 * waiters that were cancelled meanwhile are simply skipped. As in asyncio,
 * `clear()` after `set()` does not un-wake tasks already woken.
 */
import type { Coro } from '../kernel/index.js';
import { Waiters } from './waiters.js';

/**
 * A flag that tasks can wait on until it is set: asyncio's `Event`, named so
 * that it does not shadow the global `Event` of DOM events (also exported as
 * {@link Event}).
 * @example
 * const ready = new AsyncEvent();
 * createTask(function* () { yield* ready.wait(); console.log('go'); }());
 * ready.set();
 */
export class AsyncEvent {
  #flag = false;
  #waiters = new Waiters<void>('AsyncEvent.wait');

  /** True once `set()` was called (and `clear()` not since). */
  isSet(): boolean { return this.#flag; }

  /**
   * Set the flag and wake every waiting task.
   * @example
   * const ev = new AsyncEvent();
   * ev.set();
   * console.log(ev.isSet());   // true
   */
  set(): void {
    if (this.#flag) return;
    this.#flag = true;
    this.#waiters.wakeAll(undefined);
  }

  /**
   * Reset the flag: later `wait()` calls block until the next `set()`.
   * @example
   * const ev = new AsyncEvent();
   * ev.set();
   * ev.clear();
   * console.log(ev.isSet());   // false
   */
  clear(): void { this.#flag = false; }

  /**
   * Wait until the flag is set (at once if it already is).
   * @example
   * const ev = new AsyncEvent();
   * getRunningLoop().callLater(10, () => ev.set());
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

  /** A short description for logs and debugging. */
  toString(): string { return `<AsyncEvent ${this.#flag ? 'set' : 'unset'}>`; }
}

/**
 * asyncio's name for {@link AsyncEvent}: the same class, kept so that code
 * ported from asyncio reads as it did. Prefer `AsyncEvent`: importing `Event`
 * hides the global `Event` (DOM events, Node's `EventTarget`) in that module.
 * @example
 * const ready = new Event();
 * console.log(ready instanceof AsyncEvent);   // true
 */
export const Event = AsyncEvent;
/** The instance type of {@link AsyncEvent}, under asyncio's name. */
export type Event = AsyncEvent;
