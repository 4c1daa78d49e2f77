/**
 * Every way a coroutine suspends lives here (curio's traps, Trio's
 * `_traps.py`): a task's generator yields exactly one of these values to the
 * task that drives it, and nothing else in tulip yields to the scheduler.
 *
 * - a pending `Future`: resume me when it is done (`yield* future`);
 * - `undefined`: resume me in the next batch (`yield* cede()`, `sleep(0)`);
 * - `REHALT` (`yield* rehalt()`): a halted frame whose cleanup suspended
 *   has finished it: deliver the halt again, so that it reaches the frames
 *   above (see {@link rehalt});
 * - a `CancelScope` is never yielded up, only sent down: the task resumes
 *   its generator with `next(scope)` to halt that scope's body (scope.ts).
 *
 * These values are typed `Suspend` (events.ts), a type nothing else has,
 * so a coroutine cannot `yield` anything else by mistake. Code that hands
 * a task a future to wait on without `yield*` (the toolkit's hand-written
 * operations) casts it to `Suspend`, as the iterators here do.
 *
 * A future's iterator is a small object rather than a generator: `yield*`
 * on a future is the hottest path in tulip, and the object is all the state
 * a wait needs. It reads the future's outcome when resumed, so whether the
 * task resumes it with `next()` or `throw()`, the coroutine sees the same.
 * Like every hand-written operation in tulip, it implements `Coro` (the
 * iterator protocol a task drives), not the whole of `Generator`.
 */
import type { Coro, Suspend } from './events.js';
import type { Future } from './future.js';

const PENDING = 0;

class FutureIter<T> implements Coro<T> {
  readonly #f: Future<T>;
  constructor(f: Future<T>) { this.#f = f; }
  next(): IteratorResult<Suspend, T> {
    const f = this.#f;
    if (f._state === PENDING) return { done: false, value: f as unknown as Suspend };
    return { done: true, value: f.result() };
  }
  throw(e: unknown): never { throw e; }
  return(value?: any): IteratorResult<Suspend, T> { return { done: true, value }; }
  [Symbol.iterator](): this { return this; }
}

/** @internal the iterator behind `yield* future`. */
export function suspendOn<T>(f: Future<T>): Coro<T> {
  return new FutureIter(f);
}

class CedeIter implements Coro<void> {
  #yielded = false;
  next(): IteratorResult<Suspend, void> {
    if (this.#yielded) return { done: true, value: undefined };
    this.#yielded = true;
    return { done: false, value: undefined as unknown as Suspend };
  }
  throw(e: unknown): never { throw e; }
  return(value?: any): IteratorResult<Suspend, void> { return { done: true, value }; }
  [Symbol.iterator](): this { return this; }
}

/**
 * Let every other ready task and callback run, then continue: one trip
 * through the ready queue, no timer.
 * @example
 * function* busy(): Coro<number> {
 *   let sum = 0;
 *   for (let i = 0; i < 1e6; i++) { sum += i; if (i % 1000 === 0) yield* cede(); }   // let others run now and then
 *   return sum;
 * }
 */
export function cede(): Coro<void> {
  return new CedeIter();
}

/** @internal the value `rehalt()` yields: the task (or the halting scope's frame) calls `return()` again. */
export const REHALT: Suspend = Object.freeze({ toString: () => 'REHALT' }) as unknown as Suspend;

class RehaltIter implements Coro<void> {
  #yielded = false;
  next(): IteratorResult<Suspend, void> {
    if (this.#yielded) return { done: true, value: undefined };
    this.#yielded = true;
    return { done: false, value: REHALT };
  }
  throw(e: unknown): never { throw e; }
  return(value?: any): IteratorResult<Suspend, void> { return { done: true, value }; }
  [Symbol.iterator](): this { return this; }
}

/**
 * End a `finally` block that suspended while its frame was being halted.
 *
 * JavaScript's `yield*` forgets a `return()` that passed through it when the
 * frame below suspends in a `finally`: once that cleanup completes, the
 * frame above resumes as if the call had returned normally. `yield*
 * rehalt()` as the last statement of such a cleanup asks the task (or the
 * scope that is halting) to deliver the halt again, and this time it
 * reaches every frame above. Outside a halt it does nothing.
 * @example
 * function* connection(reader: StreamReader, writer: StreamWriter): Coro<void> {
 *   try {
 *     for (;;) { const line = yield* reader.readLine(); if (line.length === 0) return; writer.write(line); }
 *   }
 *   finally { writer.close(); yield* writer.waitClosed(); yield* rehalt(); }
 * }
 */
export function rehalt(): Coro<void> {
  return new RehaltIter();
}
