/**
 * The two ways tulip's sources are iterated: by coroutines, through a
 * `CoroIterator` whose `next()` is itself a coroutine (no Promise, no task
 * per item; `each()` drives it), and by async functions, through an
 * `AsyncIterator` that runs each `next()` as a task on the source's loop.
 *
 * The async side is where cancellation could lose an item: a consumer that
 * gives up on a pending `next()` (a `Promise.race` against a timeout, then
 * `return()`) would leave a task behind that still takes the item. So
 * `return()` cancels every pending `next()` task and waits for it: a task
 * halted before its item reached it takes nothing (the sources' waits give
 * an item back when halted), and the source is left as it was.
 */
import { type Coro, type EventLoop, getRunningLoop, type Task } from '../kernel/index.js';

/**
 * The method by which a tulip source hands out a {@link CoroIterator}
 * (`each()` looks for it before `Symbol.asyncIterator`). A registered
 * symbol, so two copies of tulip in one program recognise each other's
 * sources.
 * @example
 * const queue = new Queue<string>();
 * queue.putNowait('job');
 * const it = queue[coroIterator]();
 * const first = yield* it.next();   // { done: false, value: 'job' }
 */
export const coroIterator: unique symbol = Symbol.for('tulip.coroIterator') as never;

/**
 * An iterator for coroutines: `yield* it.next()` gives the next item; a
 * halted `next()` takes nothing from the source. `return()` (optional)
 * tells the source the consumer left early.
 * @example
 * const [reader] = yield* openConnection('127.0.0.1', 8888);
 * const it: CoroIterator<string> = reader.lines()[coroIterator]();
 * for (let r = yield* it.next(); r.done !== true; r = yield* it.next()) console.log(r.value);
 */
export interface CoroIterator<T> {
  /** The next item, or `{ done: true }` at the end; halted, it takes nothing. */
  next(): Coro<IteratorResult<T, unknown>>;
  /** The consumer left early (called at most once). */
  return?(): void;
}

/**
 * A source that coroutines iterate without Promises (see {@link coroIterator}).
 * @example
 * function* drain<T>(src: CoroIterable<T>): Coro<T[]> {
 *   const out: T[] = [];
 *   const it = src[coroIterator]();
 *   for (let r = yield* it.next(); r.done !== true; r = yield* it.next()) out.push(r.value);
 *   return out;
 * }
 */
export interface CoroIterable<T> {
  /** A new iterator over the source. */
  [coroIterator](): CoroIterator<T>;
}

/**
 * An `AsyncIterator` over a {@link CoroIterator}: each `next()` runs as a
 * task on the running loop (or `loop`, the source's, if none is running
 * then), and `return()` cancels the pending ones (waiting for them, so
 * that nothing they were about to take is lost) before calling the
 * source's `return()`.
 * @internal
 */
export function asyncIteratorOf<T>(loop: EventLoop, it: CoroIterator<T>, name: string): AsyncIterableIterator<T> {
  const pending = new Set<Task<IteratorResult<T, unknown>>>();
  let finished = false;
  const forget = (t: Task<IteratorResult<T, unknown>>): void => { pending.delete(t); };
  const self: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (finished) return Promise.resolve({ done: true, value: undefined });
      const t = (runningLoop() ?? loop).createTask(it.next(), { name });
      pending.add(t);
      t.addDoneCallback(forget as (f: unknown) => void);
      return Promise.resolve(t).then((r) => {
        if (r.done === true) { finished = true; return { done: true, value: undefined }; }
        return r;
      }, (e: unknown) => { finished = true; throw e; });
    },
    async return(): Promise<IteratorResult<T>> {
      if (!finished) {
        finished = true;
        const ts = [...pending];
        for (const t of ts) t.cancel();
        await Promise.allSettled(ts);
        it.return?.();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() { return self; },
  };
  return self;
}

function runningLoop(): EventLoop | null {
  try { return getRunningLoop(); } catch { return null; }
}
