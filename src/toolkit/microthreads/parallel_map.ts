/**
 * `parallelMap`: the micro-threading proposal's `parallel_map`, with a
 * bound. Each item runs as its own task (so it has its own micro-thread
 * identity), at most `concurrency` at a time; the source is pulled only
 * when a slot frees, so a huge or endless iterable is never materialised.
 * Like a task group, it never leaves a child behind: the first error
 * cancels the others and is re-thrown only after they have cleaned up, and
 * halting `parallelMap` itself halts them and waits for their cleanup too.
 */
import { CancelledError, Future, getRunningLoop, rehalt } from '../../kernel/index.js';
import type { Coro, EventLoop, Task } from '../../kernel/index.js';
import { allDone, cancelAndWait } from '../gather.js';

/**
 * Run `fn` on every item, up to `concurrency` (default 16) at a time, and
 * return the results in input order. The first error (a child that throws,
 * is cancelled by someone else, or an error from `items` itself) cancels
 * the rest and is re-thrown once they have finished.
 * @example
 * const urls = ['http://127.0.0.1:8080/a', 'http://127.0.0.1:8080/b'];
 * const sizes = yield* parallelMap(function* (url: string) {
 *   const res = yield* fromPromise(fetch(url));
 *   return (yield* fromPromise(res.text())).length;
 * }, urls, { concurrency: 4 });
 */
export function* parallelMap<T, R>(fn: (x: T) => Coro<R>, items: Iterable<T>, opts?: { concurrency?: number }): Coro<R[]> {
  const limit = opts?.concurrency ?? 16;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`parallelMap: concurrency must be an integer >= 1, got ${limit}`);
  const loop = getRunningLoop();
  const results: R[] = [];
  const running = new Map<Task<R>, number>();
  let failure: { error: unknown } | null = null;
  let stopping = false;   // we are cancelling the children: their CancelledError is ours
  let wake: Future<void> | null = null;

  const fail = (error: unknown): void => {
    if (failure === null) failure = { error };
    else if (!(error instanceof CancelledError)) report(loop, error);
    if (!stopping) { stopping = true; for (const t of running.keys()) t.cancel(); }
  };
  const onDone = (f: Future<unknown>): void => {
    const t = f as Task<R>;
    const i = running.get(t)!;
    running.delete(t);
    if (t.cancelled()) { if (!stopping) fail(new CancelledError(`parallelMap: item ${i} was cancelled`)); }
    else {
      const e = t.exception();
      if (e !== undefined) fail(e);
      else results[i] = t.result();
    }
    if (wake !== null && !wake.done()) wake.setResult();
  };

  const it = items[Symbol.iterator]();
  let exhausted = false;
  let index = 0;
  let finished = false;
  try {
    for (;;) {
      while (!stopping && !exhausted && running.size < limit) {
        let t: Task<R>;
        try {
          const n = it.next();
          if (n.done === true) { exhausted = true; break; }
          t = loop.createTask(fn(n.value), { name: `parallelMap[${index}]` });
        } catch (e) {
          exhausted = true;   // a source that threw is done
          fail(e);
          break;
        }
        running.set(t, index++);
        t.addDoneCallback(onDone);
      }
      if (running.size === 0) break;
      yield* (wake = new Future<void>({ loop, description: `parallelMap (${running.size} running)` }));
    }
    finished = true;
  } finally {
    if (!exhausted) it.return?.();
    if (!finished) {
      // Halted from outside: halt the children and wait for their cleanup (a further halt halts them again).
      if (!stopping) { stopping = true; for (const t of running.keys()) t.cancel(); }
      const waited = yield* settle([...running.keys()]);
      if (failure !== null && !((failure as { error: unknown }).error instanceof CancelledError)) report(loop, (failure as { error: unknown }).error);
      // This cleanup suspended: deliver the halt again, or the caller would resume with undefined (see rehalt()).
      if (waited !== false) yield* rehalt();
    }
  }
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

/**
 * Wait until the (already cancelled) children are done; if this wait is interrupted, cancel them again, so their
 * cleanup is interrupted too, and keep waiting. Returns whether it waited (undefined if interrupted: the caller
 * re-halts, see rehalt()).
 */
function* settle(children: Task<unknown>[]): Coro<boolean> {
  let ok = false;
  try {
    const waited = yield* allDone(children, `parallelMap cleanup (${children.length} running)`);
    ok = true;
    return waited;
  } finally { // eslint-disable-line tulip/require-rehalt -- interrupted, this returns undefined and the caller re-halts
    if (!ok) yield* cancelAndWait(children, 'parallelMap cleanup (cancelled again)');
  }
}

function report(loop: EventLoop, exception: unknown): void {
  loop.callExceptionHandler({ message: 'parallelMap: a further error while cancelling the other items', exception });
}
