/**
 * CancelScope: the building block for every construct that halts part of a
 * task and turns that into a value or an error at its own boundary
 * (`timeout`, `moveOnAfter`, `taskGroup`, and users' own).
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
 */
import { toCoro, type Coro, type CoroOrFn } from './events.js';
import type { TimerHandle } from './handles.js';
import { currentTask, type HaltTarget, type Task } from './task.js';
import { REHALT, rehalt } from './traps.js';

const NEXT = 0, THROW = 1, RETURN = 2;

/**
 * A region of a coroutine that can be halted from outside (by `cancel()` or
 * a deadline) without halting the code around it.
 * @example
 * const scope = new CancelScope({ deadline: getRunningLoop().time() + 100 });
 * function* work(): Coro<string> { yield* sleep(1000); return 'done'; }
 * const v = yield* scope.run(work());   // undefined if the scope halted work()
 * if (scope.cancelledCaught) console.log('gave up after 100 ms');
 */
export class CancelScope implements HaltTarget {
  /** The scope's name, for errors and debugging (default `'CancelScope'`). */
  readonly name: string;
  /** `cancel()` was called or the deadline passed. */
  cancelCalled = false;
  /** This scope halted its body, and the body finished because of it. */
  cancelledCaught = false;
  #deadline: number | null;
  #timer: TimerHandle | null = null;
  #task: Task<unknown> | null = null;
  #state: 'new' | 'running' | 'done' = 'new';
  /** @internal the body has been sent `return()` by this scope. */ _halted = false;
  /** @internal a return from above is unwinding through this scope. */ _unwinding = false;

  constructor(opts?: { deadline?: number | null; name?: string }) {
    this.#deadline = opts?.deadline ?? null;
    this.name = opts?.name ?? 'CancelScope';
  }

  /** The deadline in loop time, or `null` for none. */
  get deadline(): number | null { return this.#deadline; }
  /** Move the deadline (`null`: none). A deadline already past halts the body at once. */
  set deadline(when: number | null) {
    this.#deadline = when;
    if (this.#state === 'running') this.#arm();
  }

  /** True once the scope has been asked to halt and the deadline (if any) has passed. */
  expired(): boolean {
    const d = this.#deadline;
    return this.cancelCalled || (d !== null && this.#task !== null && this.#task.getLoop().time() >= d);
  }

  /** Halt the body (now if it runs, at entry if it has not started). Idempotent. */
  cancel(): void {
    if (this.cancelCalled || this.#state === 'done') return;
    this.cancelCalled = true;
    this.#disarm();
    if (this.#state === 'running' && !this._unwinding && !this._halted) this.#task!._haltScope(this);
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
    this.#task = task;
    this.#state = 'running';
    task._enterScope(this);
    this.#arm();
    try {
      return yield* drive(toCoro(body), this);
    } finally {
      this.#disarm();
      task._exitScope(this);
      this.#state = 'done';
    }
  }

  #arm(): void {
    this.#disarm();
    const d = this.#deadline;
    if (d === null || this.cancelCalled || this.#task === null) return;
    this.#timer = this.#task.getLoop().callAt(d, scopeDeadline, this);
  }

  #disarm(): void {
    if (this.#timer !== null) { this.#timer.cancel(); this.#timer = null; }
  }
}

function scopeDeadline(s: CancelScope): void { s.cancel(); }

/** Step `body` as `yield*` would, halting it when this scope's own halt comes down the chain. */
function* drive<T>(body: Coro<T>, self: CancelScope): Coro<T | undefined> {
  let mode = NEXT;
  let arg: unknown = undefined;
  if (self.cancelCalled) { self._halted = true; mode = RETURN; }
  for (;;) {
    const r = mode === NEXT ? body.next(arg) : mode === THROW ? body.throw(arg) : body.return(undefined as T);
    if (r.done) {
      if (self._halted) { self.cancelledCaught = true; return undefined; }
      return r.value;
    }
    if (r.value === REHALT && self._halted) { mode = RETURN; arg = undefined; continue; }   // this scope's halt, again
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
    } finally {
      if (fromAbove) {
        self._unwinding = true;
        // If the cleanup suspended, the frames above must be given the return again (see rehalt()).
        if ((yield* forwardReturn(body)) !== false) yield* rehalt();
      }
    }
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
