/**
 * asCompleted: asyncio's `as_completed()`. It starts everything at once
 * (coroutines become tasks) and yields one coroutine per input; each one,
 * when driven, waits for the next completion in order of completion and
 * returns (or throws) its outcome. After `timeout` ms, those left throw
 * `TimeoutError` (nothing is cancelled). A waiter that is cancelled leaves
 * the completion it was meant to take for the next one.
 */
import { TimeoutError, type Awaitable, type Coro, type Future, type TimerHandle } from '../kernel/index.js';
import { Deque } from './deque.js';
import { futuresOf } from './gather.js';
import { Waiters } from './waiters.js';

/** Options of {@link asCompleted}. @example for (const next of asCompleted([sleep(10, 'a'), sleep(20, 'b')], { timeout: 1000 })) console.log(yield* next); */
export interface AsCompletedOptions {
  /** ms for all of them; the outcomes not ready by then throw `TimeoutError` (`null`: no limit). */
  timeout?: number | null;
}

/**
 * Iterate over the outcomes of `aws` in the order they complete.
 * @example
 * for (const next of asCompleted([sleep(30, 'slow'), sleep(10, 'fast'), sleep(20, 'middle')], { timeout: 5000 })) {
 *   console.log(yield* next);   // the earliest result not yet taken: fast, middle, slow
 * }
 */
export function asCompleted<T>(aws: Iterable<Awaitable<T>>, opts?: AsCompletedOptions): Iterable<Coro<T>> {
  const fs = [...new Set(futuresOf(aws))];
  const done = new Deque<Future<T>>();
  const waiters = new Waiters<void>('asCompleted');
  let timedOut = false;
  let taken = 0;
  const onDone = (f: Future<T>): void => { done.push(f); waiters.wakeNext(undefined); };
  for (const f of fs) f.addDoneCallback(onDone);
  const ms = opts?.timeout ?? null;
  let timer: TimerHandle | null = null;
  if (ms !== null && fs.length > 0) {
    timer = fs[0]!.getLoop().callLater(ms, () => {
      timedOut = true;
      for (const f of fs) f.removeDoneCallback(onDone);
      waiters.wakeAll(undefined);
    });
  }

  function* next(): Coro<T> {
    while (done.length === 0) {
      if (timedOut) throw new TimeoutError(`asCompleted(): timed out after ${ms} ms`);
      const w = waiters.add();
      let ok = false;
      try {
        yield* w;
        ok = true;
      } finally {
        if (!ok) {
          if (!w.done()) w.cancel();
          if (w.cancelled()) waiters.discard();
          else if (done.length > 0) waiters.wakeNext(undefined);
        }
      }
    }
    const f = done.shift()!;
    if (++taken === fs.length) timer?.cancel();
    return f.result();
  }

  return {
    *[Symbol.iterator](): Generator<Coro<T>, void, unknown> {
      for (let i = 0; i < fs.length; i++) yield next();
    },
  };
}
