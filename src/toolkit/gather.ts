/**
 * gather: run awaitables concurrently and collect their results in input
 * order, as asyncio's gather. Without `returnExceptions`, the first error
 * (or a child's cancellation) is thrown at once and the other children keep
 * running (asyncio's rule; use `taskGroup` to have them cancelled). With
 * it, every outcome is returned, errors in place of values.
 *
 * Halting the task that waits in gather (a cancel, a timeout around it)
 * cancels every child and waits for their cleanup before unwinding on.
 */
import { CancelledError, Future, ensureFuture, rehalt, type Awaitable, type Coro } from '../kernel/index.js';

/**
 * The value an awaitable produces: `Result<Future<number>>` is `number`,
 * as are `Result<Coro<number>>`, `Result<() => Coro<number>>` (a
 * generator function) and `Result<Promise<number>>`.
 * @example
 * type N = Result<Coro<number>>;   // number
 */
export type Result<A> = A extends Future<infer X> ? X
  : A extends Coro<infer X> ? X
  : A extends () => Coro<infer X> ? X
  : A extends PromiseLike<infer X> ? X
  : never;

/** Options of {@link gather}. @example const [a, b] = yield* gather([sleep(10, 1), Promise.reject(new Error('no'))], { returnExceptions: true }); // 1, Error */
export interface GatherOptions {
  /** Return errors in the results instead of throwing the first one (and cancelling the rest). */
  returnExceptions?: boolean;
}

/** @internal wait until every future in `fs` is done (a halt stops the wait only); returns whether it waited. */
export function* allDone(fs: readonly Future<unknown>[], description: string): Coro<boolean> {
  let left = 0;
  for (const f of fs) if (!f.done()) left++;
  if (left === 0) return false;
  const w = new Future<void>({ description });
  const one = (): void => { if (--left === 0 && !w.done()) w.setResult(); };
  for (const f of fs) if (!f.done()) f.addDoneCallback(one);
  try {
    yield* w;
  } finally {
    for (const f of fs) f.removeDoneCallback(one);
  }
  return true;
}

/**
 * @internal cancel every future in `fs` and wait until all are done, even if this wait is itself
 * interrupted (a further halt cancels them again). Returns false if it did not suspend (undefined
 * if interrupted: JavaScript drops the value of a generator that finished a return).
 */
export function* cancelAndWait(fs: readonly Future<unknown>[], description: string): Coro<boolean> {
  for (const f of fs) f.cancel();
  let ok = false;
  let waited: boolean;
  try {
    waited = yield* allDone(fs, description);
    ok = true;
  } finally { // eslint-disable-line tulip/require-rehalt -- interrupted, this returns undefined: every caller re-halts
    if (!ok) yield* cancelAndWait(fs, description);
  }
  return waited;
}

/**
 * Run every awaitable concurrently (coroutines become tasks) and return
 * their results in input order. The first error is thrown (the others keep
 * running) unless `returnExceptions` is set, in which case errors (and
 * `CancelledError`s) take their places in the results.
 * @example
 * function* fetchUser(id: number): Coro<string> { yield* sleep(10); return `user ${id}`; }
 * function* fetchPosts(id: number): Coro<string[]> { yield* sleep(20); return [`post by ${id}`]; }
 * const [user, posts] = yield* gather([fetchUser(1), fetchPosts(1)]);   // [string, string[]]
 * const outcomes = yield* gather([fetchUser(2), Promise.reject(new Error('down'))], { returnExceptions: true });
 */
export function gather<const T extends readonly Awaitable<unknown>[]>(aws: T, opts?: GatherOptions): Coro<{ -readonly [K in keyof T]: Result<T[K]> }> {
  return gatherBody(aws, opts?.returnExceptions ?? false) as Coro<{ -readonly [K in keyof T]: Result<T[K]> }>;
}

/** @internal one future per distinct awaitable: a coroutine object given twice becomes one task (a generator runs once), as in asyncio. */
export function futuresOf<T>(aws: Iterable<Awaitable<T>>): Future<T>[] {
  const list: readonly Awaitable<T>[] = Array.isArray(aws) ? aws : [...aws];
  const n = list.length;
  const fs = new Array<Future<T>>(n);
  // A few awaitables (the common case) are compared in place; a Map would cost more than it saves.
  const seen = n > 8 ? new Map<Awaitable<T>, Future<T>>() : null;
  for (let i = 0; i < n; i++) {
    const a = list[i]!;
    if (a instanceof Future && typeof (a as { next?: unknown }).next !== 'function') { fs[i] = a; continue; }   // (a sleep is also a coroutine)
    let f: Future<T> | undefined;
    if (seen !== null) f = seen.get(a);
    else for (let j = 0; j < i; j++) if (list[j] === a) { f = fs[j]; break; }
    if (f === undefined) { f = ensureFuture(a); seen?.set(a, f); }
    fs[i] = f;
  }
  return fs;
}

function* gatherBody(aws: readonly Awaitable<unknown>[], returnExceptions: boolean): Coro<unknown[]> {
  const fs = futuresOf(aws);
  if (fs.length === 0) return [];
  const outer = new Future<void>({ description: 'gather' });
  let left = fs.length;
  const onDone = (f: Future<unknown>): void => {
    left--;
    if (outer.done()) {
      if (!f.cancelled()) f.exception();   // read (and so mark retrieved) errors after the first, as asyncio does
      return;
    }
    if (!returnExceptions) {
      if (f.cancelled()) { outer.setException(new CancelledError('a child of gather() was cancelled')); return; }
      const e = f.exception();
      if (e !== undefined) { outer.setException(e); return; }
    }
    if (left === 0) outer.setResult();
  };
  for (const f of fs) f.addDoneCallback(onDone);
  let state = 0;   // 0: halted, 1: finished, 2: threw
  try {
    yield* outer;
    state = 1;
  } catch (e) {
    state = 2;
    throw e;
  } finally {
    if (state === 0) {
      for (const f of fs) f.removeDoneCallback(onDone);
      // If that suspended, the halt must be delivered again to reach the frames above (see rehalt()).
      if ((yield* cancelAndWait(fs, 'gather: children finishing their cleanup')) !== false) yield* rehalt();
    }
  }
  return fs.map((f) => {
    if (!returnExceptions) return f.result();
    try {
      return f.result();
    } catch (e) {
      return e;
    }
  });
}
