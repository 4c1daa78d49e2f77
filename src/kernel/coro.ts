/**
 * The kernel's coroutine helpers: sleeping, starting tasks, and bridging
 * Promises. Everything here is built on Future, Task and the traps.
 */
import type { Awaitable, Coro, CoroOrFn, EventLoop, Suspend } from './events.js';
import { getEventLoop, getRunningLoop } from './events.js';
import { Future, isThenable, PENDING } from './future.js';
import type { TimerEntry } from './timer_heap.js';
import { Task } from './task.js';
import { _debugOn, track } from './debug.js';
import { currentSignal } from './region.js';

/**
 * A sleep is one object: the coroutine that `yield* sleep(ms)` drives and the
 * future the task waits on. Nothing happens until it is first stepped (a
 * Coro does nothing until driven); cancelling it (as a halted task does to
 * the future it waits on) cancels its timer, so a halted sleep leaves no
 * timer behind to delay the loop or its deadlock check.
 */
class Sleep<T> extends Future<T> implements TimerEntry, Coro<T> {
  // Few fields and no string per sleep: a program may hold a hundred thousand of them at once.
  // Until the timer fires, the result-to-be waits in the future's own `_value`.
  readonly #ms: number;
  /** @internal timer entry fields (timer_heap.ts) */ _when = 0;
  /** @internal -1 until first stepped */ _seq = -1;
  /** @internal */ _cancelled = false;
  /** @internal */ _scheduled = false;

  constructor(ms: number, value: T) {
    super({ loop: null as unknown as EventLoop });
    this.#ms = ms;
    this._value = value;
  }

  override describe(): string { return this._desc ?? `sleep(${this.#ms})`; }

  next(): IteratorResult<Suspend, T> {
    if (this._seq < 0) {
      const loop = getRunningLoop() as EventLoop & Partial<TimerLoop>;
      this._loop = loop;
      this._seq = 0;
      if (!(this.#ms > 0)) return { done: false, value: undefined as unknown as Suspend };   // sleep(0): one trip through the ready queue
      if (loop._addTimer === undefined) loop.callLater(this.#ms, wake, this);
      else {
        this._when = loop.time() + this.#ms;
        this._seq = loop._nextTimerSeq!();
        loop._addTimer(this);
      }
      return { done: false, value: this as unknown as Suspend };
    }
    if (!(this.#ms > 0)) return { done: true, value: this._value as T };
    if (this._state === PENDING) return { done: false, value: this as unknown as Suspend };
    return { done: true, value: this.result() };
  }
  throw(e: unknown): never { this.#disarm(); throw e; }
  return(value?: any): IteratorResult<Suspend, T> { this.#disarm(); return { done: true, value }; }
  override [Symbol.iterator](): Coro<T> { return this; }

  override cancel(msg?: string): boolean { this.#disarm(); return super.cancel(msg); }
  /** @internal the timer fired. */
  _run(): void { this._scheduled = false; if (this._state === PENDING && !this._cancelled) this.setResult(this._value as T); }
  #disarm(): void {
    if (this._scheduled && !this._cancelled) {
      this._cancelled = true;
      (this._loop as unknown as TimerLoop)._timerCancelled(this);
    }
  }
}

interface TimerLoop { _addTimer(t: TimerEntry): void; _nextTimerSeq(): number; _timerCancelled(t: TimerEntry): void }

function wake(s: Sleep<unknown>): void { s._run(); }

/**
 * Suspend the current task for `ms` milliseconds, then return `value`.
 * `sleep(0)` lets every other ready task run once (no timer).
 * @example
 * function* blink() { for (;;) { console.log('on'); yield* sleep(500); console.log('off'); yield* sleep(500); } }
 */
export function sleep<T = void>(ms: number, value?: T): Coro<T> {
  const s: Coro<T> = new Sleep(ms, value as T);
  return _debugOn() ? track(s, 'sleep()', new Error()) : s;
}

/**
 * Start a coroutine (or a generator function, called with no arguments; or
 * wrap a Promise) as a task on the running loop.
 * @example
 * function* fetchAll(): Coro<string[]> { yield* sleep(100); return ['a', 'b']; }
 * function* main(): Coro<string[]> { const t = createTask(fetchAll(), { name: 'fetch' }); yield* sleep(10); return yield* t; }
 * function* other(): Coro<number> { const t = createTask(function* () { yield* sleep(10); return 1; }); return yield* t; }
 */
export function createTask<T>(aw: CoroOrFn<T> | PromiseLike<T>, opts?: { name?: string }): Task<T> {
  return getRunningLoop().createTask(aw, opts);
}

/**
 * A Future for any awaitable: a Future as is, a coroutine (or a generator
 * function, called with no arguments) as a new task, a Promise via
 * {@link fromPromise}.
 * @example
 * const f = ensureFuture(sleep(10, 'done')); // a Task
 */
export function ensureFuture<T>(aw: Awaitable<T>, loop?: EventLoop): Future<T> {
  if (typeof aw === 'function') return (loop ?? getEventLoop()).createTask(aw);
  // A coroutine first: a sleep is both a coroutine and (once driven) a future.
  if (aw !== null && typeof aw === 'object' && typeof (aw as Coro<T>).next === 'function') return (loop ?? getEventLoop()).createTask(aw);
  if (aw instanceof Future) {
    if (loop !== undefined && aw.getLoop() !== loop) throw new Error('the future belongs to another loop');
    return aw;
  }
  const l = loop ?? getEventLoop();
  if (isThenable(aw)) return fromPromise(aw, l);
  throw new TypeError(`cannot make a future of ${String(aw)}`);
}

interface PromiseCounting { _promiseStarted?(): void; _promiseSettled?(): void }

/** A future that settles with `p`, counted on its loop as a pending Promise until `p` settles. */
function settleWith<T>(p: PromiseLike<T>, loop: EventLoop): Future<T> {
  const f = new Future<T>({ loop, description: 'a Promise' });
  const c = loop as PromiseCounting;
  c._promiseStarted?.();
  p.then(
    (v) => { c._promiseSettled?.(); if (!f.done()) f.setResult(v); },
    (e) => { c._promiseSettled?.(); if (!f.done()) f.setException(e); },
  );
  return f;
}

/**
 * `fromPromise(fn)`: calls `fn(currentSignal())` when first driven, then waits for its Promise. Once the
 * wait is given up (a halt), the Promise no longer counts as pending on the loop: nothing waits for it, so
 * it neither holds virtual time still nor keeps a deadlock from being seen; and a rejection after the
 * signal aborted is the abort's doing, reported nowhere.
 */
class PromiseCall<T> implements Coro<T> {
  readonly #fn: (signal: AbortSignal) => PromiseLike<T>;
  #f: Future<T> | null = null;
  #counting: PromiseCounting | null = null;
  constructor(fn: (signal: AbortSignal) => PromiseLike<T>) { this.#fn = fn; }
  next(): IteratorResult<Suspend, T> {
    let f = this.#f;
    if (f === null) {
      const signal = currentSignal();
      const p = this.#fn(signal);
      if (!isThenable(p)) throw new TypeError('fromPromise(fn): fn must return a Promise (or another thenable)');
      const loop = getRunningLoop();
      const fut = f = this.#f = new Future<T>({ loop, description: 'a Promise' });
      const c = this.#counting = loop as PromiseCounting;
      c._promiseStarted?.();
      p.then(
        (v) => { this.#settled(); if (!fut.done()) fut.setResult(v); },
        (e) => {
          this.#settled();
          if (fut.done()) return;
          if (signal.aborted) fut.cancel('the Promise was aborted through its signal');
          else fut.setException(e);
        },
      );
    }
    if (f._state === PENDING) return { done: false, value: f as unknown as Suspend };
    return { done: true, value: f.result() };
  }
  throw(e: unknown): never { this.#letGo(); throw e; }
  return(value?: any): IteratorResult<Suspend, T> {
    this.#letGo();   // a halt does not wait for the Promise: its signal has aborted it
    return { done: true, value };
  }
  [Symbol.iterator](): this { return this; }
  #letGo(): void {
    const f = this.#f;
    if (f === null || f._state !== PENDING && this.#counting === null) return;
    f.cancel();
    this.#settled();
  }
  #settled(): void {
    const c = this.#counting;
    if (c === null) return;
    this.#counting = null;
    c._promiseSettled?.();
  }
}

/**
 * Call `fn` with the {@link currentSignal} and wait for the Promise it
 * returns: `yield* fromPromise((signal) => fetch(url, { signal }))` aborts
 * the request the moment the enclosing scope halts (a `timeout()` fires, the
 * task is cancelled). The halt does not wait for the Promise to settle, and
 * a rejection the abort causes is not reported anywhere. `fn` is called
 * when the coroutine is first driven, not before.
 * @example
 * const res = yield* timeout(5000, () => fromPromise((signal) => fetch('https://example.org', { signal })));
 */
export function fromPromise<T>(fn: (signal: AbortSignal) => PromiseLike<T>): Coro<T>;
/**
 * A Future that settles with a Promise (so a coroutine can `yield*` it).
 * The Promise cannot be cancelled: cancelling the future only stops the
 * wait (pass `(signal) => promise` instead to abort it with the scope). In
 * virtual time the clock does not move while such a Promise is pending:
 * real work takes no virtual time.
 * @example
 * const res = yield* fromPromise(fetch('https://example.org/', { signal: currentSignal() }));
 */
export function fromPromise<T>(p: PromiseLike<T>, loop?: EventLoop): Future<T>;
export function fromPromise<T>(p: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>), loop?: EventLoop): Future<T> | Coro<T> {
  if (typeof p === 'function' && !isThenable(p)) return new PromiseCall(p);
  return settleWith(p as PromiseLike<T>, loop ?? getEventLoop());
}

/**
 * The pending tasks of a loop (default: the running one).
 * @example
 * console.log([...allTasks()].map((t) => t.getName()));
 */
export function allTasks(loop?: EventLoop): Set<Task<unknown>> {
  const l = (loop ?? getRunningLoop()) as EventLoop & { _allTasks?(): Set<Task<unknown>> };
  return l._allTasks?.() ?? new Set();
}
