/**
 * The list of futures that tasks wait on inside a primitive (a lock's
 * acquirers, a queue's getters). A waiter whose task is halted has its
 * future cancelled by the kernel; rather than search the list for it (O(n)
 * per cancellation), cancelled futures stay in place and are skipped when
 * the list is woken, and the list is compacted when they pile up (a loop of
 * timed-out waits on an event that is never set must not leak).
 * Internal: not exported from the package.
 */
import { Future } from '../kernel/index.js';
import { Deque } from './deque.js';

/** @internal FIFO waiters of a primitive. */
export class Waiters<T = void> {
  #q = new Deque<Future<T>>();
  #stale = 0;
  /** Shared by every waiter of this list: a future reads it in its constructor and keeps nothing of it. */
  readonly #opts: { description: string };

  constructor(description: string) { this.#opts = { description }; }

  /** Make a new waiter future at the back of the line. */
  add(): Future<T> {
    const f = new Future<T>(this.#opts);
    this.#q.push(f);
    return f;
  }

  /** Put `f` (a new pending future) at the front of the line. */
  addFirst(): Future<T> {
    const f = new Future<T>(this.#opts);
    this.#q.unshift(f);
    return f;
  }

  /** Is any waiter still pending? Drops cancelled ones from the front. */
  hasPending(): boolean {
    const q = this.#q;
    for (let f = q.peekFirst(); f !== undefined && f.done(); f = q.peekFirst()) q.shift();
    return q.length > 0;
  }

  /** How many waiters are pending (O(n): for introspection only). */
  countPending(): number {
    let n = 0;
    for (const f of this.#q) if (!f.done()) n++;
    return n;
  }

  /** Wake the longest waiter with `value`; false if none is pending. */
  wakeNext(value: T): boolean {
    const q = this.#q;
    for (let f = q.shift(); f !== undefined; f = q.shift()) {
      if (!f.done()) { f.setResult(value); return true; }
    }
    return false;
  }

  /** Wake every pending waiter with `value`; returns how many. */
  wakeAll(value: T): number {
    let n = 0;
    while (this.wakeNext(value)) n++;
    return n;
  }

  /** A waiter's future was cancelled while in the line: compact the list when such futures pile up. */
  discard(): void {
    if (++this.#stale < 32 || this.#stale * 2 < this.#q.length) return;
    this.#stale = 0;
    const kept = new Deque<Future<T>>(this.#q.length);
    for (const f of this.#q) if (!f.done()) kept.push(f);
    this.#q = kept;
  }
}
