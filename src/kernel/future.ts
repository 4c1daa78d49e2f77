/**
 * A Future is a value that will exist later: PEP 3156's Future, made
 * `PromiseLike` (so `await future` works) and iterable (so a coroutine waits
 * on it with `const v = yield* future`, fully typed).
 *
 * Done callbacks never run synchronously: completing a future schedules
 * them on its loop. A task waiting on a future is itself the callback (no
 * closure per wait), and is resumed one batch after the future completes.
 * `then()` is different on purpose: it settles even after the loop stopped,
 * because Promise users outside the loop must not hang.
 */
import { CancelledError, InvalidStateError } from './errors.js';
import { type Context, currentContext } from './context.js';
import { type Coro, type EventLoop, getEventLoop } from './events.js';
import { Handle } from './handles.js';
import { suspendOn } from './traps.js';

/** @internal the states of a future. */
export const PENDING = 0, RESULT = 1, ERROR = 2, CANCELLED = 3;

/** Something the loop's ready queue can run: a Handle, a Task, a sleep. Not exported from the package. */
export interface Runnable {
  /** @internal */ _run(): void;
}

/** @internal what a tulip loop offers futures beyond the public interface. */
export interface LoopInternals {
  _schedule(r: Runnable): void;
  _noteFailure(f: Future<unknown>): void;
  _noteRetrieved(f: Future<unknown>): void;
}

function internals(loop: EventLoop): LoopInternals | null {
  return typeof (loop as Partial<LoopInternals>)._schedule === 'function' ? (loop as unknown as LoopInternals) : null;
}

type DoneCallback<T> = (f: Future<T>) => void;
/** The Promise behind a future's `then()`, and what settles it. */
interface ThenState { promise: Promise<void>; settle: (() => void) | undefined }
/** What waits on a future: told `_wake(future)` when it is done (a task schedules its step). Not exported from the package. */
export interface Waiter {
  /** @internal */ _wake(f: Future<any>): void;
}

/** A user's done callback with the context it was added in: scheduled as a Handle on the future's loop. */
class DoneEntry implements Waiter {
  constructor(readonly fn: DoneCallback<any>, readonly ctx: Context) {}
  _wake(f: Future<any>): void {
    const loop = f._loop;
    const inner = internals(loop);
    if (inner !== null) inner._schedule(new Handle(this.fn, [f], loop, this.ctx));
    else loop.callSoon(this.fn, f);
  }
}

/**
 * A value that will exist later.
 * @example
 * const f = new Future<number>();
 * getRunningLoop().callLater(10, () => f.setResult(42));
 * const n: number = yield* f;   // in a coroutine; in an async function, `await f`
 */
export class Future<T> implements PromiseLike<T> {
  /** @internal */ _state: number = PENDING;
  /** @internal result, error, or cancel message */ _value: unknown = undefined;
  /** @internal */ _loop: EventLoop;
  /** @internal one waiter, an array of them, or null */ _waiters: Waiter | Waiter[] | null = null;
  /** @internal the Promise behind `then()`, made on first use (one field, so that every future has one shape) */
  _then: ThenState | undefined = undefined;
  /** @internal the outcome was read (or delivered); an in-object field, so setting it changes no hidden class */
  _retrieved = false;
  /** @internal what this future stands for, for DeadlockError and debugging */ _desc: string | undefined;

  constructor(opts?: { loop?: EventLoop; description?: string }) {
    // `loop: null` is internal: a lazily driven future (a sleep) that binds its loop when first stepped.
    this._loop = opts?.loop === null ? (null as unknown as EventLoop) : (opts?.loop ?? getEventLoop());
    this._desc = opts?.description;
  }

  /** True when the future has a result, an error, or was cancelled. */
  done(): boolean { return this._state !== PENDING; }
  /** True when the future was cancelled. */
  cancelled(): boolean { return this._state === CANCELLED; }
  /** The loop the future belongs to. */
  getLoop(): EventLoop { return this._loop; }

  /** What this future stands for (`'Queue.get'`, `'sleep(100)'`), shown by `DeadlockError`. */
  describe(): string { return this._desc ?? 'a future'; }
  /** Set the description shown by `DeadlockError` and debugging output. */
  setDescription(desc: string): this { this._desc = desc; return this; }

  /**
   * The result; throws the future's error, `CancelledError` if cancelled, or
   * `InvalidStateError` if it is still pending.
   */
  result(): T {
    const s = this._state;
    if (s === RESULT) { this._retrieved = true; return this._value as T; }
    if (s === PENDING) throw new InvalidStateError('result is not ready');
    this._markRetrieved();
    if (s === CANCELLED) throw this._cancelError();
    throw this._value;
  }

  /** The error, or `undefined` if the future has a result; throws as `result()` when pending or cancelled. */
  exception(): unknown {
    const s = this._state;
    if (s === PENDING) throw new InvalidStateError('exception is not set');
    if (s === CANCELLED) throw this._cancelError();
    this._markRetrieved();
    return s === ERROR ? this._value : undefined;
  }

  /** Complete with a result; `InvalidStateError` if already done. */
  setResult(value: T): void {
    if (this._state !== PENDING) throw new InvalidStateError(`setResult on a future that is done (${this.describe()})`);
    this._complete(RESULT, value);
  }

  /** Complete with an error; `InvalidStateError` if already done. */
  setException(error: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError(`setException on a future that is done (${this.describe()})`);
    if (error instanceof CancelledError) { this._complete(CANCELLED, error.message); return; }
    this._complete(ERROR, error);
    this._noteFailure();
  }

  /** Cancel the future; returns false if it was already done. */
  cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._complete(CANCELLED, msg);
    return true;
  }

  /** Call `cb(future)` on the loop once the future is done (at once, scheduled, if it already is). */
  addDoneCallback(cb: DoneCallback<T>): void {
    const entry = new DoneEntry(cb, currentContext());
    if (this._state !== PENDING) { this._scheduleWaiter(entry); return; }
    this._addWaiter(entry);
  }

  /** Remove every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: DoneCallback<T>): number {
    const w = this._waiters;
    if (w === null) return 0;
    if (!Array.isArray(w)) {
      if (w instanceof DoneEntry && w.fn === cb) { this._waiters = null; return 1; }
      return 0;
    }
    const kept = w.filter((x) => !(x instanceof DoneEntry && x.fn === cb));
    const removed = w.length - kept.length;
    this._waiters = kept.length === 0 ? null : kept;
    return removed;
  }

  /** `yield* future`: suspends the coroutine until the future is done, then returns its result or throws its error. */
  [Symbol.iterator](): Coro<T> { return suspendOn(this); }

  /**
   * `await future`. Settles when the future completes, even if its loop has
   * stopped. Awaiting a cancelled future rejects with `CancelledError`.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this._retrieved = true;
    let ts = this._then;
    if (ts === undefined) {
      const t: ThenState = ts = { promise: undefined as unknown as Promise<void>, settle: undefined };
      t.promise = this._state !== PENDING ? Promise.resolve() : new Promise<void>((resolve) => { t.settle = resolve; });
      this._then = t;
    }
    const p = ts.promise;
    // The internal promise resolves with `undefined`, never with the user's value: a thenable result would be
    // adopted. The outcome goes straight to the user's callbacks.
    return p.then(() => {
      const s = this._state;
      if (s === RESULT) return onfulfilled ? onfulfilled(this._value as T) : (this._value as R1);
      this._markRetrieved();
      const err = s === CANCELLED ? this._cancelError() : this._value;
      if (onrejected) return onrejected(err);
      throw err;
    });
  }

  toString(): string {
    const s = ['pending', 'finished', 'failed', 'cancelled'][this._state];
    return `<${this.constructor.name} ${s} ${this.describe()}>`;
  }

  // ---- internals -------------------------------------------------------------

  /** @internal */
  _cancelError(): CancelledError {
    const msg = this._value;
    return new CancelledError(typeof msg === 'string' ? msg : `${this.describe()} was cancelled`);
  }

  /** @internal */
  _markRetrieved(): void {
    if (this._retrieved) return;
    this._retrieved = true;
    if (this._state === ERROR) internals(this._loop)?._noteRetrieved(this);
  }

  /** @internal */
  _noteFailure(): void {
    if (!this._retrieved) internals(this._loop)?._noteFailure(this);
  }

  /** @internal wake `w` when done (a task waiting on this future). */
  _addWaiter(w: Waiter): void {
    const cur = this._waiters;
    if (cur === null) this._waiters = w;
    else if (Array.isArray(cur)) cur.push(w);
    else this._waiters = [cur, w];
  }

  /** @internal */
  _removeWaiter(w: Waiter): void {
    const cur = this._waiters;
    if (cur === w) this._waiters = null;
    else if (Array.isArray(cur)) {
      const i = cur.indexOf(w);
      if (i >= 0) cur.splice(i, 1);
    }
  }

  /** @internal */
  _complete(state: number, value: unknown): void {
    this._state = state;
    this._value = value;
    const w = this._waiters;
    if (w !== null) {
      this._waiters = null;
      if (Array.isArray(w)) for (const x of w) this._scheduleWaiter(x);
      else this._scheduleWaiter(w);
    }
    const ts = this._then;
    if (ts !== undefined && ts.settle !== undefined) { const settle = ts.settle; ts.settle = undefined; settle(); }
  }

  /** @internal */
  _scheduleWaiter(w: Waiter): void { w._wake(this); }
}

/** True for anything with a callable `then`. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}
