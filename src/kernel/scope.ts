/**
 * CancelScope: the building block for every construct that halts part of a
 * task and turns that into a value or an error at its own boundary
 * (`timeout`, `moveOnAfter`, `taskGroup`, `cancelOn`, and users' own).
 *
 * Why not `return()`: a `return()` sent down a `yield*` chain commits every
 * frame above the scope to returning, so a caller that catches the scope's
 * `TimeoutError` and carries on would return early anyway. So a scope is a
 * frame that drives its body itself, stepping it exactly as `yield*` would
 * and passing every yielded value up. Its halt comes down the chain as a
 * value (`next(scope)`, sent by the task, see task.ts); the scope recognises
 * itself, calls `return()` on its body only, drives the body's cleanup, and
 * then returns normally: the code around it decides what that means. A
 * `return()` from above (a task-level cancel, an enclosing scope's halt) is
 * forwarded into the body as `yield*` would, never converted; one arriving
 * during a cleanup interrupts it. While a return unwinds through a scope,
 * its own halt is ignored.
 *
 * When the body has ended, the scope runs what `defer()` registered on it
 * and ends what it owns (cleanup.ts), and only then returns or throws.
 *
 * A scope's `signal` is made only when someone reads it: most scopes are
 * never asked for one, and an `AbortController` per timeout would cost more
 * than the timeout itself.
 */
import { Cleanups, drainCleanups, oneError, type DrainState } from './cleanup.js';
import { CancelledError, TimeoutError } from './errors.js';
import { toCoro, type Coro, type CoroOrFn, type Suspend } from './events.js';
import type { TimerHandle } from './handles.js';
import { currentTask, type HaltTarget, type Task } from './task.js';
import { REHALT, rehalt } from './traps.js';

const NEXT = 0, THROW = 1, RETURN = 2;

/**
 * Options of {@link CancelScope}.
 * @example
 * const scope = new CancelScope({ deadline: getRunningLoop().time() + 100, signal: AbortSignal.timeout(5000), name: 'fetch' });
 */
export interface CancelScopeOptions {
  /** A deadline in loop time (ms); `null` or absent: none. */
  deadline?: number | null;
  /** Halt the body when this signal aborts (already aborted: at entry). */
  signal?: AbortSignal;
  /** Shown in errors and debugging. */
  name?: string;
}

/**
 * A region of a coroutine that can be halted from outside (by `cancel()`, a
 * deadline or an `AbortSignal`) without halting the code around it.
 * @example
 * const scope = new CancelScope({ deadline: getRunningLoop().time() + 100 });
 * function* work(): Coro<string> { yield* sleep(1000); return 'done'; }
 * const v = yield* scope.run(work());   // undefined if the scope halted work()
 * if (scope.cancelledCaught) console.log('gave up after 100 ms');
 */
export class CancelScope implements HaltTarget {
  /** The scope's name, for errors and debugging (default `'CancelScope'`). */
  readonly name: string;
  /** `cancel()` was called, the deadline passed, or the signal aborted. */
  cancelCalled = false;
  /** This scope halted its body, and the body finished because of it. */
  cancelledCaught = false;
  #deadline: number | null;
  #timer: TimerHandle | null = null;
  #task: Task<unknown> | null = null;
  #state: 'new' | 'running' | 'done' = 'new';
  #abort: AbortController | undefined = undefined;
  #reason: unknown = null;
  readonly #external: AbortSignal | null;
  #unwatch: (() => void) | null = null;
  /** @internal the body has been sent `return()` by this scope. */ _halted = false;
  /** @internal a return from above is unwinding through this scope. */ _unwinding = false;
  /** @internal cancelled before it ran: the body never starts. */ _haltAtEntry = false;
  /** @internal the body has ended: the scope runs its cleanups; its own halt no longer comes. */ _ending = false;
  /** @internal */ _cleanups: Cleanups | null = null;
  /** @internal */ _haltReason: unknown = null;
  /** @internal the code that runs the scope drains its cleanups itself, later (taskGroup: after its children). */
  _cleanupsByOwner = false;

  constructor(opts?: CancelScopeOptions) {
    this.#deadline = opts?.deadline ?? null;
    this.#external = opts?.signal ?? null;
    this.name = opts?.name ?? 'CancelScope';
  }

  /** The deadline in loop time, or `null` for none. */
  get deadline(): number | null { return this.#deadline; }
  /**
   * Move the deadline (`null`: none). A deadline already past halts the
   * body at its next suspension (at once if it is waiting).
   */
  set deadline(when: number | null) {
    this.#deadline = when;
    if (this.#state === 'running' && !this._ending) this.#arm();
  }

  /**
   * An `AbortSignal` that aborts when this scope halts: by `cancel()`, its
   * deadline (the reason is then a `TimeoutError`), its `signal` option, an
   * enclosing scope's halt (with that scope's reason) or the task's cancel.
   * It never aborts when the scope ends normally. Pass it to Promise-based
   * APIs, or use `fromPromise((signal) => ...)`, which does.
   * @example
   * const scope = new CancelScope({ deadline: getRunningLoop().time() + 1000 });
   * yield* scope.run(fromPromise((signal) => fetch('https://example.org/', { signal })));
   * console.log(scope.signal.aborted);   // true if the deadline passed first
   */
  get signal(): AbortSignal {
    let a = this.#abort;
    if (a === undefined) {
      a = this.#abort = new AbortController();
      if (this._haltReason !== null) a.abort(this._haltReason);
    }
    return a.signal;
  }

  /** True once the scope has been asked to halt and the deadline (if any) has passed. */
  expired(): boolean {
    const d = this.#deadline;
    return this.cancelCalled || (d !== null && this.#task !== null && this.#task.getLoop().time() >= d);
  }

  /** Halt the body (now if it runs, at entry if it has not started). Idempotent; no effect once the body has ended. */
  cancel(): void { this.#cancel(null); }

  /** @internal the deadline passed. */
  _expire(): void { this.#cancel(new TimeoutError(`${this.name}: the deadline passed`)); }

  #cancel(reason: unknown): void {
    if (this.cancelCalled || this.#state === 'done' || this._ending) return;
    this.cancelCalled = true;
    this.#reason = reason ?? new CancelledError(`${this.name} was cancelled`);
    this.#disarm();
    if (this.#state === 'new') { this._markHalted(this.#reason); return; }
    if (!this._unwinding && !this._halted) this.#task!._haltScope(this);
  }

  /** @internal */
  _ownReason(): unknown { return this.#reason ?? new CancelledError(`${this.name} was cancelled`); }

  /** @internal this scope halts, or a halt around it does. */
  _markHalted(reason: unknown): void {
    if (this._haltReason !== null) return;
    this._haltReason = reason;
    this.#abort?.abort(reason);
  }

  /**
   * Drive `body` (a coroutine, or a generator function called with no
   * arguments) inside this scope. Returns the body's value, or `undefined`
   * if this scope halted it (then `cancelledCaught` is true). Must be driven
   * by a task (`yield*` inside a coroutine); a scope runs once.
   */
  *run<T>(body: CoroOrFn<T>): Coro<T | undefined> {
    if (this.#state !== 'new') throw new Error(`${this.name} can only be run once`);
    const task = currentTask();
    if (task === undefined) throw new Error(`${this.name} must run inside a task`);
    const ext = this.#external;
    if (ext !== null && ext.aborted) this.#cancel(reasonOf(ext));
    this.#task = task;
    this.#state = 'running';
    this._haltAtEntry = this.cancelCalled;
    task._enterScope(this);
    if (!this.cancelCalled) {
      if (ext !== null) this.#unwatch = watch(ext, () => this.#cancel(reasonOf(ext)));
      this.#arm();
    }
    try {
      return yield* drive(toCoro(body), this, task);
    } finally {
      this._endBody();
      task._exitScope(this);
      this.#state = 'done';
    }
  }

  /**
   * @internal Run the cleanups registered on this scope, for the code that runs it with `_cleanupsByOwner`
   * (after the scope has exited). Errors go to `errors`; returns what the drain saw (see cleanup.ts).
   */
  *_drainCleanups(abnormal: boolean, errors: unknown[]): Coro<DrainState> {
    const st: DrainState = { suspended: false, interrupted: false };
    const cl = this._cleanups;
    const task = this.#task;
    if (cl !== null && task !== null) yield* drainCleanups(cl, abnormal, errors, () => task._regionAround(this), st, this.name, Infinity);
    return st;
  }

  /** @internal the body has ended: no more halts of its own (its deadline and signal are let go). */
  _endBody(): void {
    this._ending = true;
    this.#disarm();
    if (this.#unwatch !== null) { this.#unwatch(); this.#unwatch = null; }
    this.#task?._dropHalt(this);
  }

  #arm(): void {
    this.#disarm();
    const d = this.#deadline;
    if (d === null || this.cancelCalled || this.#task === null) return;
    const loop = this.#task.getLoop();
    // A deadline already due halts at the first suspension, as asyncio's call_soon does: no timer to wait for.
    if (d <= loop.time()) { this._expire(); return; }
    this.#timer = loop.callAt(d, scopeDeadline, this);
  }

  #disarm(): void {
    if (this.#timer !== null) { this.#timer.cancel(); this.#timer = null; }
  }
}

function scopeDeadline(s: CancelScope): void { s._expire(); }

/**
 * The scopes listening to each external signal: one 'abort' listener per signal, however many scopes share
 * it (a server's shutdown signal under every request), so Node's listener-leak warning never fires.
 */
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

function watch(signal: AbortSignal, onAbort: () => void): () => void {
  let set = watchers.get(signal);
  if (set === undefined) {
    const s = set = new Set();
    watchers.set(signal, s);
    signal.addEventListener('abort', () => { watchers.delete(signal); for (const f of [...s]) f(); }, { once: true });
  }
  const mine = set;
  mine.add(onAbort);
  return () => { mine.delete(onAbort); };
}

/** A scope's reason for an external signal's abort: a timeout stays a timeout (`AbortSignal.timeout()`). */
function reasonOf(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  if (r instanceof CancelledError || r instanceof TimeoutError) return r;
  if ((r as { name?: unknown } | null)?.name === 'TimeoutError') return new TimeoutError('the AbortSignal timed out', { cause: r });
  return new CancelledError('the AbortSignal aborted', { cause: r });
}

/** Step `body` as `yield*` would, halting it when this scope's own halt comes down the chain; then the cleanups. */
function* drive<T>(body: Coro<T>, self: CancelScope, task: Task<unknown>): Coro<T | undefined> {
  let mode = NEXT;
  let arg: unknown = undefined;
  if (self._haltAtEntry) { self._halted = true; mode = RETURN; }
  let value: T | undefined;
  let failed = false;
  let error: unknown;
  for (;;) {
    let r: IteratorResult<Suspend, T>;
    try {
      r = mode === NEXT ? body.next(arg) : mode === THROW ? body.throw(arg) : body.return(undefined as T);
    } catch (e) {
      failed = true;
      error = e;
      break;
    }
    if (r.done) { value = r.value; break; }
    // A REHALT: this scope's halt again; without one, a stray one (no halt passes through this frame): ignored.
    if (r.value === REHALT) { mode = self._halted ? RETURN : NEXT; arg = undefined; continue; }
    let fromAbove = true;
    try {
      arg = yield r.value;
      fromAbove = false;
      if (arg === self) { self._halted = true; mode = RETURN; arg = undefined; }
      else mode = NEXT;
    } catch (e) {
      fromAbove = false;
      mode = THROW;
      arg = e;
    } finally { // eslint-disable-line tulip/require-rehalt -- unwind() re-halts, in its own finally, if anything waited
      if (fromAbove) {
        self._unwinding = true;
        yield* unwind(body, self);
      }
    }
  }
  const cl = self._cleanups;
  if (cl !== null && !self._cleanupsByOwner) {
    self._endBody();
    const st: DrainState = { suspended: false, interrupted: false };
    // Throws the cleanups' errors (after the body's own, if it failed).
    yield* drainCleanups(cl, self._halted || failed, failed ? [error] : [], () => task._regionAround(self), st, self.name, failed ? 1 : 0);
    if (st.interrupted) yield* rehalt();   // a halt from above arrived during a cleanup, and was forgotten: deliver it onward
  }
  if (failed) throw error;
  if (self._halted) { self.cancelledCaught = true; return undefined; }
  return value;
}

/**
 * A return() from above: forward it into the body, run the scope's cleanups, and deliver the halt onward. The
 * cleanups run in a `finally`, so that they run even when a further return passes straight through the
 * body's cleanup; the halt is delivered again there if anything suspended (the frames above forgot it).
 */
function* unwind(body: Coro<unknown>, self: CancelScope): Coro<void> {
  const errors: unknown[] = [];
  let suspended: boolean | undefined = false;
  try {
    suspended = yield* forwardReturn(body);   // undefined if interrupted: a further return was forgotten
  } catch (e) {
    errors.push(e);
  } finally {
    const cl = self._cleanups;
    const st: DrainState = { suspended: false, interrupted: false };
    if (cl !== null && !self._cleanupsByOwner) {
      self._endBody();
      yield* drainCleanups(cl, true, errors, null, st, self.name);   // an error of a cleanup (or the body's) replaces the halt
    } else if (errors.length > 0) {
      // eslint-disable-next-line no-unsafe-finally -- an error of the body's cleanup replaces the halt
      throw oneError(errors, self.name);
    }
    // If a cleanup suspended, the frames above must be given the return again (see rehalt()).
    if (suspended !== false || st.suspended) yield* rehalt();
  }
}

/**
 * Forward a `return()` into `body` and drive its cleanup; a further `return()` interrupts that cleanup.
 * Returns whether the cleanup suspended.
 */
function* forwardReturn(body: Coro<unknown>): Coro<boolean> {
  let r = body.return(undefined);
  let suspended = false;
  while (!r.done) {
    if (r.value === REHALT) { r = body.return(undefined); continue; }
    suspended = true;
    let mode = NEXT;
    let arg: unknown;
    let interrupted = true;
    try {
      arg = yield r.value;
      interrupted = false;
    } catch (e) {
      interrupted = false;
      mode = THROW;
      arg = e;
    } finally { // eslint-disable-line tulip/require-rehalt -- an interrupted forwardReturn returns undefined: drive() re-halts
      if (interrupted) yield* forwardReturn(body);
    }
    r = mode === NEXT ? body.next(arg) : body.throw(arg);
  }
  return suspended;
}
