/**
 * taskGroup: structured concurrency (asyncio's TaskGroup, Trio's nursery).
 * The group is a CancelScope frame around its body (docs/design.md,
 * Cancellation): when a child fails, the group cancels the other children
 * and halts the body through its scope; then, in a `finally`, it waits for
 * every child, also when the task running the group is being cancelled
 * (a further cancel reaches the children and the group keeps waiting), so
 * no child outlives the group. Then it throws the one error, or an
 * `AggregateError` of several, or lets the cancellation go on.
 */
import {
  CancelScope, Future, InvalidStateError, currentTask, getRunningLoop, rehalt, type Coro, type CoroOrFn, type EventLoop, type Task,
} from '../kernel/index.js';

function isCoro(x: unknown): x is Coro<unknown> {
  return typeof (x as Coro<unknown>).next === 'function' && typeof (x as Coro<unknown>).return === 'function';
}

/**
 * The handle a {@link taskGroup} body gets to start child tasks.
 * @example
 * function* poll(name: string): Coro<void> { for (;;) { console.log(name); yield* sleep(1000); } }
 * yield* timeout(5000, () => taskGroup(function* (tg) {   // both stop after 5 s, or when one fails
 *   tg.createTask(poll('a'), { name: 'a' });
 *   tg.createTask(poll('b'), { name: 'b' });
 * }));
 */
export class TaskGroup {
  /** @internal */ readonly _scope = new CancelScope({ name: 'taskGroup' });
  readonly #loop: EventLoop;
  readonly #children = new Set<Task<unknown>>();
  readonly #errors: unknown[] = [];
  #aborting = false;
  #finished = false;
  #waiter: Future<void> | null = null;

  /** @internal made by {@link taskGroup} only. */
  constructor() {
    this.#loop = currentTask()?.getLoop() ?? getRunningLoop();
    this._scope._cleanupsByOwner = true;   // what the body defers runs after the children (taskGroup() below)
  }

  /**
   * Halt the group's body and every child, from outside or from inside; the
   * group waits for their cleanup and then returns normally, with
   * `undefined` as the body's value (a `CancelScope` does the same). After
   * it, `createTask()` is refused. No effect once the group has finished.
   * @example
   * const stop = new Event();
   * yield* taskGroup(function* (tg) {
   *   tg.createTask((function* () { for (;;) { console.log('tick'); yield* sleep(1000); } })());
   *   tg.createTask((function* () { yield* stop.wait(); tg.cancel(); })());
   * });   // returns once someone calls stop.set()
   */
  cancel(): void {
    if (this.#finished) return;
    this._abort();
  }

  /**
   * Start `aw` (a coroutine, a generator function called with no
   * arguments, or a Promise) as a child task of the group. Refused with
   * `InvalidStateError` once the group is shutting down (a child failed or
   * the group is cancelled) or finished; a refused coroutine is closed (a
   * refused generator function is never called).
   * @example
   * const n = yield* taskGroup(function* (tg) {
   *   const t = tg.createTask(sleep(10, 1), { name: 'one' });
   *   const u = tg.createTask(function* () { yield* sleep(10); return 2; });
   *   return (yield* t) + (yield* u);
   * });
   */
  createTask<T>(aw: CoroOrFn<T> | PromiseLike<T>, opts?: { name?: string }): Task<T> {
    if (this.#finished || this.#aborting) {
      if (typeof aw !== 'function' && isCoro(aw)) aw.return(undefined as never);
      throw new InvalidStateError(this.#finished
        ? 'TaskGroup is finished: it cannot start new tasks'
        : 'TaskGroup is shutting down (a task failed or it was cancelled): it cannot start new tasks');
    }
    const t = this.#loop.createTask(aw, opts);
    this.#children.add(t);
    t.addDoneCallback(this.#onChildDone);
    return t;
  }

  /** How many children are still running. */
  get size(): number { return this.#children.size; }

  readonly #onChildDone = (t: Future<unknown>): void => {
    this.#children.delete(t as Task<unknown>);
    if (!t.cancelled()) {
      const e = t.exception();
      if (e !== undefined) { this.#errors.push(e); this._abort(); }
    }
    if (this.#children.size === 0 && this.#waiter !== null && !this.#waiter.done()) this.#waiter.setResult();
  };

  /** @internal the body threw. */
  _fail(e: unknown): void { this.#errors.push(e); this._abort(); }

  /** @internal cancel every child and halt the body. */
  _abort(): void {
    if (this.#aborting) return;
    this.#aborting = true;
    for (const c of this.#children) c.cancel();
    this._scope.cancel();
  }

  /**
   * @internal wait until no child is left; an interruption cancels (again) every child and the wait
   * goes on. Returns whether it waited (undefined if interrupted: see rehalt()).
   */
  *_waitChildren(): Coro<boolean> {
    let waited = false;
    while (this.#children.size > 0) {
      waited = true;
      const w = (this.#waiter = new Future<void>({ description: 'taskGroup: waiting for children' }));
      let ok = false;
      try {
        yield* w;
        ok = true;
      } finally { // eslint-disable-line tulip/require-rehalt -- interrupted, this returns undefined: taskGroup re-halts
        if (!ok) {
          this.#aborting = true;
          for (const c of this.#children) c.cancel();
          yield* this._waitChildren();
        }
      }
    }
    return waited;
  }

  /** @internal the group is ending: is it ending abnormally (halted, cancelled, or failing)? */
  _aborted(): boolean { return this.#aborting; }

  /** @internal an error of a cleanup the body deferred. */
  _addError(e: unknown): void { this.#errors.push(e); }

  /** @internal the group is done: its error, if any. */
  _close(): unknown {
    this.#finished = true;
    const errs = this.#errors;
    if (errs.length === 0) return undefined;
    if (errs.length === 1) return errs[0];
    return new AggregateError(errs, `${errs.length} errors in a task group`);
  }
}

/**
 * Run `body` with a {@link TaskGroup}; return its value once every child
 * task has finished. If a child fails or the body throws, the other
 * children and the body are halted and awaited, then the error is thrown
 * (several errors: an `AggregateError`). If the task running the group is
 * cancelled, every child is cancelled and awaited, and the cancellation
 * goes on.
 * @example
 * const [a, b] = yield* taskGroup(function* (tg) {
 *   const ta = tg.createTask(sleep(10, 'a')), tb = tg.createTask(sleep(20, 'b'));
 *   return [yield* ta, yield* tb];
 * });
 */
export function* taskGroup<T>(body: (tg: TaskGroup) => Coro<T>): Coro<T> {
  const tg = new TaskGroup();
  let result: T | undefined;
  let normal = false;
  try {
    try {
      result = yield* tg._scope.run(body(tg));
    } catch (e) {
      tg._fail(e);
    }
    normal = true;
  } finally {
    let waited: boolean | undefined;
    let cleaned: { suspended: boolean; interrupted: boolean } | undefined;
    const cleanupErrors: unknown[] = [];
    try {
      if (!normal) tg._abort();
      waited = yield* tg._waitChildren();
      // What the body deferred runs now that every child has finished.
      cleaned = yield* tg._scope._drainCleanups(!normal || tg._aborted(), cleanupErrors);
    } finally {
      for (const e of cleanupErrors) tg._addError(e);
      const err = tg._close();
      // An error from the children replaces a cancellation unwinding through here, as in asyncio.
      // eslint-disable-next-line no-unsafe-finally
      if (err !== undefined) throw err;
    }
    // A halt that came from above (or during the wait) must be delivered again after a wait (see rehalt()).
    if ((!normal && (waited || cleaned.suspended)) || waited === undefined || cleaned.interrupted) yield* rehalt();
  }
  return result as T;
}
