/**
 * `each(source)`: Effection's loop over a stream, for tulip's coroutines.
 *
 *     for (const x of yield* each(source)) { ...; yield* each.next(); }
 *
 * A `for...of` cannot wait between items, so the waiting happens in the
 * body: `yield* each(source)` waits for the first item and returns a
 * one-shot iterable whose iterator gives the current item, and
 * `yield* each.next()` at the end of the body waits for the next one. The
 * loops a task is inside form a stack (one per task), so `each.next()`
 * advances the innermost.
 *
 * The source's iterator is closed (its `return()` called) exactly once when
 * the loop is left early, by `break`, `return`, an error or a halt, and
 * never when the source ended or failed by itself. A halt that lands while
 * `each()` or `each.next()` waits on an async source waits for the
 * source's `return()` to settle (an async generator's `finally` runs to its
 * end) before it goes on up; one that lands elsewhere in the body can only
 * start it (a `for...of` closes its iterator synchronously), and an error
 * from it goes to the loop's exception handler.
 */
import {
  type Coro, currentTask, fromPromise, getEventLoop, rehalt,
} from '../kernel/index.js';
import { type CoroIterable, type CoroIterator, coroIterator } from './async_iter.js';

/**
 * What `each()` iterates: a tulip source (a subscription, a queue, a pipe
 * reader, a reader's `lines()`), an `AsyncIterable` or an `Iterable`.
 * @example
 * const src: EachSource<number> = [1, 2, 3];
 */
export type EachSource<T> = CoroIterable<T> | AsyncIterable<T> | Iterable<T>;

/**
 * Misuse of `each()`: `each.next()` outside a loop or twice in one
 * iteration, or a loop that went on without `each.next()`.
 * @example
 * try { yield* each.next(); } catch (e) { if (e instanceof IterationError) console.log('not in an each() loop'); }
 */
export class IterationError extends Error {
  constructor(message: string) { super(message); this.name = 'IterationError'; }
}

/** One running loop: the source's iterator, the current item, whether the loop body has taken it. */
class Iteration<T> {
  current: IteratorResult<T, unknown> = { done: true, value: undefined };
  /** The loop's iterator handed out `current`; `each.next()` must fetch the next before it asks again. */
  taken = false;
  /** The source ended, failed or was closed: nothing more to call on it. */
  finished = false;
  popped = false;
  constructor(readonly it: CoroIterator<T>, readonly closeAsync: (() => PromiseLike<unknown> | undefined) | null, readonly stack: Iteration<unknown>[]) {}

  /** Leave the stack (once). */
  pop(): void {
    if (this.popped) return;
    this.popped = true;
    const s = this.stack;
    const i = s.lastIndexOf(this);
    if (i >= 0) s.splice(i, 1);
  }

  /** The loop was left early: close the source (once) without waiting. */
  close(): void {
    this.pop();
    if (this.finished) return;
    this.finished = true;
    if (this.closeAsync !== null) {
      const p = this.closeAsync();
      if (p !== undefined) {
        const loop = getEventLoop();
        p.then(undefined, (exception: unknown) => loop.callExceptionHandler({ message: 'each(): the source\'s return() failed', exception }));
      }
    } else this.it.return?.();
  }

  /** Halted while waiting on the source: close it and, for an async source, wait until its return() settles. */
  *closeAndWait(): Coro<void> {
    this.pop();
    if (this.finished) return;
    this.finished = true;
    if (this.closeAsync === null) { this.it.return?.(); return; }
    const p = this.closeAsync();
    if (p !== undefined) {
      try { yield* fromPromise(p); } catch (exception) {
        getEventLoop().callExceptionHandler({ message: 'each(): the source\'s return() failed', exception });
      }
    }
  }

  /** Fetch the next item; a halt closes the source, an error from it ends the loop without closing it. */
  *fetch(): Coro<void> {
    let settled = false;
    try {
      const r = yield* this.it.next();
      settled = true;
      this.current = r;
      this.taken = false;
      if (r.done === true) { this.finished = true; this.pop(); }
    } catch (e) {
      settled = true;
      this.finished = true;
      this.pop();
      throw e;
    } finally {
      if (!settled) { yield* this.closeAndWait(); yield* rehalt(); }
    }
  }
}

const stacks = new WeakMap<object, Iteration<unknown>[]>();
const NO_TASK = {};

function stackOf(): Iteration<unknown>[] {
  const key = currentTask() ?? NO_TASK;
  let s = stacks.get(key);
  if (s === undefined) stacks.set(key, (s = []));
  return s;
}

function isCoroIterable<T>(x: unknown): x is CoroIterable<T> {
  return typeof (x as Partial<CoroIterable<T>> | null)?.[coroIterator] === 'function';
}

function* syncNext<T>(it: Iterator<T>): Coro<IteratorResult<T, unknown>> { return it.next(); }
function* asyncNext<T>(it: AsyncIterator<T>): Coro<IteratorResult<T, unknown>> { return yield* fromPromise(it.next()); }

function iterationOf<T>(source: EachSource<T>): Iteration<T> {
  const stack = stackOf();
  if (isCoroIterable<T>(source)) return new Iteration(source[coroIterator](), null, stack);
  if (typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === 'function') {
    const ai = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
    const it: CoroIterator<T> = { next: () => asyncNext(ai) };
    return new Iteration(it, typeof ai.return === 'function' ? () => ai.return!() : null, stack);
  }
  if (typeof (source as Partial<Iterable<T>>)[Symbol.iterator] === 'function') {
    const si = (source as Iterable<T>)[Symbol.iterator]();
    const it: CoroIterator<T> = { next: () => syncNext(si), return: () => { si.return?.(); } };
    return new Iteration(it, null, stack);
  }
  throw new TypeError('each(): the source must be a tulip source, an AsyncIterable or an Iterable');
}

/**
 * Loop over `source` in a coroutine: `yield* each(source)` waits for the
 * first item, and the body must end with `yield* each.next()` (also before
 * a `continue`), which waits for the next. Leaving the loop early (break,
 * return, an error, a halt) closes the source's iterator exactly once.
 * @example
 * import { each, on, type Coro } from 'tulip';
 * import { EventEmitter } from 'node:events';
 * function* logEvents(emitter: EventEmitter): Coro<void> {
 *   for (const [msg] of yield* each(on<[string]>(emitter, 'message'))) {
 *     if (msg === 'quit') break;
 *     console.log(msg);
 *     yield* each.next();
 *   }
 * }
 */
export function each<T>(source: EachSource<T>): Coro<Iterable<T>> {
  return start(source);
}

function* start<T>(source: EachSource<T>): Coro<Iterable<T>> {
  const it = iterationOf(source);
  it.stack.push(it);
  yield* it.fetch();
  let used = false;
  return {
    [Symbol.iterator](): Iterator<T> {
      if (used) throw new IterationError('an each() loop can be iterated only once');
      used = true;
      return {
        next(): IteratorResult<T> {
          if (it.taken) {
            it.close();   // a for...of does not close an iterator whose next() threw
            throw new IterationError('the each() loop went on without yield* each.next()');
          }
          it.taken = true;
          const r = it.current;
          return r.done === true ? { done: true, value: undefined } : r;
        },
        return(): IteratorResult<T> {
          it.close();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * Wait for the next item of the innermost `each()` loop of the current
 * task; the last statement of the loop's body.
 * @example
 * import { each, type Coro } from 'tulip';
 * function* sum(xs: AsyncIterable<number>): Coro<number> {
 *   let s = 0;
 *   for (const x of yield* each(xs)) { s += x; yield* each.next(); }
 *   return s;
 * }
 */
each.next = function* next(): Coro<void> {
  const s = stackOf();
  const it = s[s.length - 1];
  if (it === undefined) throw new IterationError('each.next() outside of an each() loop');
  if (!it.taken) throw new IterationError('each.next() called twice in one iteration of an each() loop');
  yield* it.fetch();
};
