/** LifoQueue: a {@link Queue} that takes from the end it puts to (a stack). */
import { Queue } from './queue.js';

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
