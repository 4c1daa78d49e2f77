/**
 * A Task drives one coroutine (a generator) to completion and is itself the
 * Future of its result.
 *
 * The stepper resumes the generator with the outcome of the future it last
 * yielded: `next(result)` or `throw(error)`. Cancellation is not an
 * exception: `cancel()` makes the next step call `return()` on the
 * generator, so `finally` blocks run (innermost first, and they may `yield*`
 * to clean up) and no `catch` can swallow it. A second `cancel()` during
 * that cleanup calls `return()` again, interrupting it.
 *
 * Scopes (scope.ts) need a halt that stops at their boundary, which
 * `return()` cannot do: it commits every frame above to returning. So a
 * scope's halt is recorded here as the task's pending halt, the awaited
 * future is cancelled, and the next step sends the scope itself down the
 * `yield*` chain with `next(scope)`; the scope's frame recognises it and
 * halts its own body. A task-level cancel wins over any scope's halt, and an
 * enclosing scope's halt over an inner one's.
 */
import { CancelledError, InvalidStateError } from './errors.js';
import { Cleanups, drainCleanups, type DrainState } from './cleanup.js';
import { type Context, currentContext, swapContext } from './context.js';
import type { Coro, EventLoop } from './events.js';
import { Future, isThenable, type Runnable } from './future.js';
import { REHALT } from './traps.js';

/** What a task needs from its loop beyond the public interface. */
export interface TaskLoop {
  _schedule(r: Runnable): void;
  _taskCreated(t: Task<unknown>): void;
  _taskDone(t: Task<unknown>): void;
  _promiseStarted(): void;
  _promiseSettled(): void;
}

/** The part of a scope the task deals with (scope.ts implements it). */
export interface HaltTarget {
  readonly name: string;
  /** An `AbortSignal` that aborts when the scope halts. */
  readonly signal: AbortSignal;
  /** @internal what `defer()` registered on it, and what it owns */ _cleanups: Cleanups | null;
  /** @internal why it halted (by itself, by an enclosing halt, by the task's cancel), or null */ _haltReason: unknown;
  /** @internal it halts, or a halt around it does: abort its signal (the first reason wins) */ _markHalted(reason: unknown): void;
  /** @internal the reason its own halt gives (a TimeoutError after its deadline) */ _ownReason(): unknown;
}

const MUST_HALT = 1;   // a task-level cancel is pending: the next step calls return()
const HALTING = 2;     // return() was sent; the generator is unwinding
const SCHEDULED = 4;   // a step is in the ready queue
const HALT_PENDING = 16; // a scope's halt waits in _x.pendingHalt (a flag, so the hot path reads no other object)
const NATIVE = 8;      // the coroutine is a native generator: its next() is called directly
const CANCEL_SHIFT = 5; // _flags >>> CANCEL_SHIFT: cancel requests so far (one field fewer per task)
// While a step runs, the task is `current`: no flag is kept for it.

// The future states (future.ts), as local constants: an imported binding is a load and a check on every use.
const S_PENDING = 0, S_RESULT = 1, S_ERROR = 2, S_CANCELLED = 3;

// A native generator's own methods, called directly: a task's `gen.next(v)` call site sees every
// generator function's objects (each has its own prototype), which would make it megamorphic.
const GeneratorPrototype = Object.getPrototypeOf(function* () { /* empty */ }.prototype) as Generator;
const genNext = GeneratorPrototype.next;
/** Is `g` a native generator object (not a hand-written iterator such as a queue's get())? */
function isNativeGenerator(g: object): boolean {
  const proto = Object.getPrototypeOf(g) as object | null;
  return proto !== null && Object.getPrototypeOf(proto) === GeneratorPrototype && (g as Generator).next === genNext;
}

/** The rarely used parts of a task (its name, signal, scopes, cleanups), in one object of one shape. */
class TaskExtras {
  name: string | undefined = undefined;
  abort: AbortController | undefined = undefined;
  /** active scopes, outermost first */
  scopes: HaltTarget[] = [];
  /** a scope's halt waiting for the next step */
  pendingHalt: HaltTarget | null = null;
  /** what `defer()` registered on the task outside any scope, and what the task owns */
  cleanups: Cleanups | null = null;
  /** the coroutine has ended: the task is running its cleanups */
  finishing = false;
  /** `currentSignal()` in the cleanup of a task-level halt: aborted by the next cancel */
  cleanupAbort: AbortController | undefined = undefined;
}

let current: Task<unknown> | null = null;
let nextId = 1;

/**
 * The task running now, if any.
 * @example
 * function* worker() { console.log(currentTask()?.getName()); }
 */
export function currentTask(): Task<unknown> | undefined { return current ?? undefined; }

/**
 * A coroutine scheduled on a loop, and the future of its result.
 * @example
 * function* child(n: number): Coro<number> { try { yield* sleep(1000); return n; } finally { console.log('cleaned up'); } }
 * const t = createTask(child(1), { name: 'child-1' });
 * t.cancel();           // its finally blocks run
 * try { yield* t; } catch (e) { console.log(e instanceof CancelledError); } // true
 */
export class Task<T> extends Future<T> implements Runnable {
  /** @internal */ _coro: Coro<T> | null;
  /** @internal the future the coroutine waits on */ _waitFor: Future<unknown> | null = null;
  /** @internal */ _flags = 0;
  /** @internal the task's context; a step runs in it */ _ctx: Context;
  /** @internal */ readonly _id: number;
  /** @internal the loop's list of pending tasks */ _prev: Task<unknown> | null = null;
  /** @internal */ _next: Task<unknown> | null = null;
  /** @internal the rarely used parts, made on first use (one field, so that every task has one shape) */
  _x: TaskExtras | null = null;

  constructor(aw: Coro<T> | PromiseLike<T>, opts?: { loop?: EventLoop; name?: string; eagerStart?: boolean }) {
    super(opts);
    this._id = nextId++;
    if (opts?.name !== undefined) this._extras().name = opts.name;
    this._ctx = currentContext();
    const loop = this._loop as unknown as TaskLoop;
    loop._taskCreated(this);
    if (typeof (aw as Coro<T>).next !== 'function' && isThenable(aw)) {
      this._coro = null;
      loop._promiseStarted();
      aw.then(
        (v) => { loop._promiseSettled(); if (this._state === S_PENDING) this._settleWith(S_RESULT, v); },
        (e) => { loop._promiseSettled(); if (this._state === S_PENDING) this._settleWith(S_ERROR, e); },
      );
      return;
    }
    this._coro = aw as Coro<T>;
    if (isNativeGenerator(aw)) this._flags = NATIVE;
    this._flags |= SCHEDULED;
    if (opts?.eagerStart === true && this._loop.isRunning()) this._run();   // the first step now, up to the first suspension
    else loop._schedule(this);
  }

  /** The task's name: the one given, or `Task-<n>`. */
  getName(): string { return this._x?.name ?? `Task-${this._id}`; }
  /** Rename the task (names show in `DeadlockError` and debugging output). */
  setName(name: string): void { this._extras().name = name; }

  /** How many cancel requests are pending (0 once the task is done). */
  cancelling(): number { return this._state === S_PENDING ? this._flags >>> CANCEL_SHIFT : 0; }

  /** An `AbortSignal` that aborts when the task is cancelled, for Promise-based APIs such as `fetch`. */
  get signal(): AbortSignal {
    const x = this._extras();
    let a = x.abort;
    if (a === undefined) {
      a = x.abort = new AbortController();
      if (this._state === S_CANCELLED || this._flags >>> CANCEL_SHIFT > 0) a.abort(new CancelledError());
    }
    return a.signal;
  }

  /** What the task waits on, for `DeadlockError` and debugging. */
  waitingOn(): string {
    const f = this._waitFor;
    if (this._state !== S_PENDING) return 'nothing (done)';
    if (f === null) return this._flags & SCHEDULED ? 'nothing (ready to run)' : (this._coro === null ? 'a Promise' : 'nothing');
    if (f instanceof Task) return `task '${f.getName()}'`;
    return f.describe();
  }

  override describe(): string { return this._desc ?? `task '${this.getName()}'`; }

  /** A task's outcome is its coroutine's: it cannot be set from outside. */
  override setResult(_value: T): void { throw new InvalidStateError('a task\'s result comes from its coroutine; setResult is not allowed'); }
  /** A task's outcome is its coroutine's: it cannot be set from outside. */
  override setException(_error: unknown): void { throw new InvalidStateError('a task\'s error comes from its coroutine; setException is not allowed'); }

  /**
   * Request that the task be halted: its generator gets `return()` where it
   * is suspended, so its `finally` blocks run. The future it waits on is
   * cancelled too. A second call interrupts cleanup in progress. A
   * Promise-based task cannot be halted: it is cancelled at once, its
   * Promise runs on, and its signal aborts.
   */
  override cancel(msg?: string): boolean {
    if (this._state !== S_PENDING) return false;
    this._flags += 1 << CANCEL_SHIFT;   // the count of cancel requests lives above the flag bits
    const x = this._x;
    if (this._coro === null) {
      this._settleWith(S_CANCELLED, msg);
      if (x !== null) this._abortSignals(x, msg);
      return true;
    }
    if (msg !== undefined) this._value = msg;
    this._flags = (this._flags | MUST_HALT) & ~HALT_PENDING;
    if (x !== null) {
      x.pendingHalt = null;
      this._abortSignals(x, msg);   // abort listeners run once the task's state says it halts
    }
    if (current !== this) this._interrupt();   // not while its own step runs
    return true;
  }

  /** @internal a cancel aborts the task's signal, every active scope's, and the signal of the cleanup it interrupts. */
  _abortSignals(x: TaskExtras, msg: string | undefined): void {
    if (x.abort === undefined && x.cleanupAbort === undefined && x.scopes.length === 0) return;
    const reason = new CancelledError(msg ?? `task '${this.getName()}' was cancelled`);
    x.abort?.abort(reason);
    const c = x.cleanupAbort;
    x.cleanupAbort = undefined;   // the cleanup this cancel starts gets a fresh one
    c?.abort(reason);
    for (const s of x.scopes) s._markHalted(reason);
  }

  /**
   * @internal a scope asks to halt its body. Refused while a task-level cancel waits for delivery; a scope
   * that a task-level return unwinds through does not ask (scope.ts). A scope entered in the cleanup of a
   * halt can halt: its deadline fires.
   */
  _haltScope(s: HaltTarget): void {
    if (this._state !== S_PENDING) return;
    if (this._flags & MUST_HALT) return;
    const x = this._extras();
    const scopes = x.scopes;
    const i = scopes.indexOf(s);
    const cur = x.pendingHalt;
    if (cur !== null && cur !== s && scopes.indexOf(cur) <= i) return;   // the enclosing scope's halt wins
    x.pendingHalt = s;
    this._flags |= HALT_PENDING;
    // Its signal and those of the scopes inside it abort, with its reason.
    const reason = s._ownReason();
    for (let j = i < 0 ? scopes.length : i; j < scopes.length; j++) scopes[j]!._markHalted(reason);
    if (i < 0) s._markHalted(reason);
    if (current !== this) this._interrupt();   // not while its own step runs
  }

  /** @internal the scope around `s` (or the task) takes what `s` owns when `s` ends normally. */
  _regionAround(s: HaltTarget): Cleanups {
    const x = this._extras();
    let i = x.scopes.lastIndexOf(s);
    if (i < 0) i = x.scopes.length;   // s has exited: the innermost region now
    const outer = i > 0 ? x.scopes[i - 1]! : null;
    if (outer !== null) return (outer._cleanups ??= new Cleanups());
    return (x.cleanups ??= new Cleanups());
  }

  /** @internal the innermost scope, or null. */
  _innermostScope(): HaltTarget | null {
    const x = this._x;
    if (x === null) return null;
    const a = x.scopes;
    return a.length > 0 ? a[a.length - 1]! : null;
  }

  /** @internal a scope's own halt will not come any more (its body has ended). */
  _dropHalt(s: HaltTarget): void {
    const x = this._x;
    if (x !== null && x.pendingHalt === s) { x.pendingHalt = null; this._flags &= ~HALT_PENDING; }
  }

  /** @internal the signal `currentSignal()` gives: the innermost scope's that has not halted, else the task's. */
  _currentSignal(): AbortSignal {
    const x = this._x;
    if (x !== null) {
      const a = x.scopes;
      for (let i = a.length - 1; i >= 0; i--) if (a[i]!._haltReason === null) return a[i]!.signal;
    }
    if (this._flags >>> CANCEL_SHIFT === 0 || this._state !== S_PENDING) return this.signal;
    // In the cleanup of a task-level halt: a fresh signal, aborted by the next cancel.
    const e = this._extras();
    return (e.cleanupAbort ??= new AbortController()).signal;
  }

  /** @internal */
  _extras(): TaskExtras { return this._x ??= new TaskExtras(); }

  /** @internal */
  _enterScope(s: HaltTarget): void { this._extras().scopes.push(s); }
  /** @internal */
  _exitScope(s: HaltTarget): void {
    const x = this._x;
    if (x === null) return;
    const a = x.scopes;
    const i = a.lastIndexOf(s);
    if (i >= 0) a.splice(i, 1);
    if (x.pendingHalt === s) { x.pendingHalt = null; this._flags &= ~HALT_PENDING; }
  }
  /** @internal stop waiting: cancel the awaited future, or step at once. */
  _interrupt(): void {
    const f = this._waitFor;
    // A pending future's completion (now, or when a cancelled child task finishes) wakes us.
    if (f !== null && f._state === S_PENDING) f.cancel();
    else this._wake();
  }

  /** @internal schedule one step, unless one is already scheduled. */
  _wake(): void {
    if (this._flags & SCHEDULED) return;
    this._flags |= SCHEDULED;
    (this._loop as unknown as TaskLoop)._schedule(this);
  }

  /** @internal one step of the coroutine (the loop calls it from its ready queue). */
  _run(): void {
    const flags = this._flags & ~SCHEDULED;
    this._flags = flags;
    if (this._state !== S_PENDING) return;
    const f = this._waitFor;
    if (f !== null) {
      if (f._state === S_PENDING) return;   // a stale wake-up
      this._waitFor = null;
    }
    const gen = this._coro!;
    const prevTask = current;
    const ctx = this._ctx;
    const prevCtx = swapContext(ctx);
    current = this;
    let r: IteratorResult<unknown, T>;
    try {
      if ((flags & (MUST_HALT | HALT_PENDING)) === 0) {
        if (f !== null && f._state !== S_RESULT) {
          f._markRetrieved();
          r = gen.throw(f._state === S_CANCELLED ? f._cancelError() : f._value);
        } else {
          let v: unknown;
          if (f !== null) { f._retrieved = true; v = f._value; }
          r = flags & NATIVE ? genNext.call(gen, v) as IteratorResult<unknown, T> : gen.next(v);
        }
      } else if (f !== null && f._state === S_ERROR) {
        // The work it waited on failed (a task whose own cleanup failed after this task's halt cancelled it):
        // that error reaches the coroutine, and the halt stays pending for its next suspension.
        f._markRetrieved();
        r = gen.throw(f._value);
      } else if (flags & MUST_HALT) {
        this._flags = (flags & ~MUST_HALT) | HALTING;
        r = gen.return(undefined as T);
      } else {
        const x = this._x!;
        const s = x.pendingHalt;
        x.pendingHalt = null;
        this._flags = flags & ~HALT_PENDING;
        r = gen.next(s);
      }
    } catch (e) {
      current = prevTask;
      this._ctx = swapContext(prevCtx);
      if (e instanceof CancelledError) this._end(S_CANCELLED, e.message);
      else this._end(S_ERROR, e);
      return;
    }
    current = prevTask;
    const after = swapContext(prevCtx);
    if (after !== ctx) this._ctx = after;   // the step set a context variable
    if (r.done) {
      // MUST_HALT: it cancelled itself and returned without suspending; it ends cancelled (as in asyncio).
      if (this._flags & (HALTING | MUST_HALT)) this._end(S_CANCELLED, this._value);
      else this._end(S_RESULT, r.value);
      return;
    }
    this._wait(r.value);
    if (this._flags & (MUST_HALT | HALT_PENDING)) this._interrupt();
  }

  /** @internal wait for what the coroutine yielded (see traps.ts). */
  _wait(v: unknown): void {
    if (v instanceof Future) {
      if (v === this) { this._waitFor = this._failedWith(new InvalidStateError(`${this.describe()} cannot wait on itself`)); this._interrupt(); return; }
      this._waitFor = v;
      if (v._state === S_PENDING) v._addWaiter(this);
      else this._interrupt();
      return;
    }
    if (v === undefined) { this._interrupt(); return; }
    if (v === REHALT) {
      // A frame finished a cleanup that suspended: deliver the task-level halt again (see rehalt()).
      if (this._flags & HALTING) this._flags |= MUST_HALT;
      this._interrupt();
      return;
    }
    let w: Future<unknown>;
    if (isThenable(v)) {
      w = new Future<unknown>({ loop: this._loop, description: 'a Promise' });
      const loop = this._loop as unknown as TaskLoop;
      loop._promiseStarted();
      v.then(
        (x) => { loop._promiseSettled(); if (w._state === S_PENDING) w.setResult(x); },
        (e) => { loop._promiseSettled(); if (w._state === S_PENDING) w.setException(e); },
      );
    } else {
      w = this._failedWith(new TypeError(`a coroutine yielded ${String(v)}: use yield* with a Future, a coroutine or fromPromise()`));
    }
    this._waitFor = w;
    if (w._state === S_PENDING) w._addWaiter(this);
    else this._interrupt();
  }

  /** @internal a future failed with `e`, to throw it into the coroutine. */
  _failedWith(e: Error): Future<unknown> {
    const w = new Future<unknown>({ loop: this._loop });
    w.setException(e);
    return w;
  }

  /** @internal the coroutine ended: run the task's cleanups first, if it has any. */
  _end(state: number, value: unknown): void {
    const x = this._x;
    if (x === null || x.cleanups === null || x.finishing || x.cleanups.isEmpty()) { this._settleWith(state, value); return; }
    x.finishing = true;
    let flags = this._flags;
    // A cancel waiting for delivery is delivered: the cleanups run as its. Ending cancelled is ending halted.
    if (flags & MUST_HALT || state === S_CANCELLED) { flags = (flags & ~MUST_HALT) | HALTING; if (state === S_CANCELLED) this._value = value; }
    this._flags = flags | NATIVE;
    this._coro = finish(x.cleanups, (flags & HALTING) !== 0 || state !== S_RESULT, state, value) as Coro<T>;
    this._wake();
  }

  /** @internal finish the task. */
  _settleWith(state: number, value: unknown): void {
    this._coro = null;
    this._waitFor = null;
    this._complete(state, value);
    if (state === S_ERROR) this._noteFailure();
    (this._loop as unknown as TaskLoop)._taskDone(this);
  }

  override toString(): string {
    const s = ['pending', 'finished', 'failed', 'cancelled'][this._state];
    return `<Task '${this.getName()}' ${s}${this._state === S_PENDING ? ` waiting on ${this.waitingOn()}` : ''}>`;
  }
}

/** The task's coroutine after its own has ended: run the cleanups, then end as it did (or with their error). */
function* finish(cl: Cleanups, abnormal: boolean, state: number, value: unknown): Coro<unknown> {
  const st: DrainState = { suspended: false, interrupted: false };
  // Throws the cleanups' errors (after the coroutine's own, if it failed).
  yield* drainCleanups(cl, abnormal, state === S_ERROR ? [value] : [], null, st, 'cleanups', state === S_ERROR ? 1 : 0);
  if (state === S_ERROR) throw value;
  return value;   // a halted task (HALTING) ends cancelled
}

/**
 * A task factory whose tasks take their first step at once, inside
 * `createTask()`, up to their first suspension (asyncio's
 * `eager_task_factory`). A coroutine that finishes without waiting never
 * touches the scheduler. The order changes: the child's first step runs
 * before the code after `createTask()`.
 * @example
 * getRunningLoop().setTaskFactory(eagerTaskFactory);
 */
export function eagerTaskFactory(loop: EventLoop, coro: Coro<unknown> | PromiseLike<unknown>, opts?: { name?: string }): Task<unknown> {
  return new Task(coro, { loop, name: opts?.name, eagerStart: true });
}
