/**
 * BaseEventLoop: the ready queue, the timer heap, the exception handler and
 * debug mode, independent of any runtime. A concrete loop supplies a clock
 * and three host hooks: run a tick soon, run one when the earliest timer is
 * due, and "the loop went idle" (for deadlock detection).
 *
 * One tick (called by the host):
 *
 *     ┌─> the clock is read once, lazily: if timers are pending, or at the
 *     │   first time() of the batch (timers set in this batch share it)
 *     │   move due timers to the ready queue, in (when, order)
 *     │   run the callbacks that were ready at the batch start (FIFO);
 *     │   what they schedule waits for the next batch
 *     └── another batch, until the queue is empty or
 *         maxCallbacksPerTick callbacks ran (then yield to the host,
 *         so its I/O and other libraries run)
 *         then: ready work → host wake; else a timer → host timer;
 *               else → idle (is the main task deadlocked?)
 */
import { DeadlockError, NotImplementedError, type PendingTaskInfo } from './errors.js';
import { currentContext } from './context.js';
import { _noteDebugLoop, _reportNeverDriven } from './debug.js';
import {
  _enterLoop, _leaveLoop, _setLoopRunning,
  type Awaitable, type Coro, type CoroOrFn, type EventLoop, type ExceptionContext, type ExceptionHandler, type TaskFactory,
} from './events.js';
import { Future, type Runnable } from './future.js';
import { Handle, TimerHandle } from './handles.js';
import { TimerHeap, type TimerEntry } from './timer_heap.js';
import { ReadyQueue } from './ready_queue.js';
import { openResources } from './resources.js';
import { Task } from './task.js';
import { ensureFuture } from './coro.js';
import type {
  AddrInfo, DatagramTransport, Executor, ReadTransport, Server, SockAddr, SubprocessTransport, Transport,
  WorkerFunction, WriteTransport,
} from './transport_types.js';

interface Unretrieved { loop: BaseEventLoop; message: string; exception: unknown; name: string }

const neverRetrieved = new FinalizationRegistry<Unretrieved>((u) => {
  const ctx = { message: u.message, exception: u.exception };
  if (!u.loop.isClosed()) u.loop.callExceptionHandler(ctx);
  else u.loop.defaultExceptionHandler(ctx);
});

function stopLoop(loop: BaseEventLoop): void { loop.stop(); }

/**
 * The runtime-independent part of every tulip loop. A loop supplies a
 * clock and asks its host to call `_tick()` soon or at a time; the rest
 * (tasks, timers, the exception handler, deadlock detection) is here.
 * @example
 * // A loop on Node's timers, with no I/O of its own:
 * class TimersLoop extends BaseEventLoop {
 *   #timer: ReturnType<typeof setTimeout> | undefined;
 *   protected _clock(): number { return performance.now(); }
 *   protected _hostWake(): void { setImmediate(() => this._tick()); }
 *   protected _hostTimer(when: number | null): void {
 *     clearTimeout(this.#timer);
 *     if (when !== null) this.#timer = setTimeout(() => this._tick(), when - this._clock());
 *   }
 * }
 * await run(function* () { yield* sleep(10); }, { loop: new TimersLoop() });
 */
export abstract class BaseEventLoop implements EventLoop {
  /** Callbacks to run per tick before yielding to the host (the micro-threading proposal's EventCheckingThreshold). */
  maxCallbacksPerTick = 1000;
  /** In debug mode, a callback or task step slower than this (ms) is reported. */
  slowCallbackDuration = 100;

  #ready = new ReadyQueue();
  #timers = new TimerHeap();
  #timerSeq = 0;
  #now = 0;
  #nowStale = true;
  #inTick = false;
  #running = false;
  #stopping = false;
  /** stop() was called before runForever(): run one batch, then stop (asyncio runs one iteration). */
  #stopBeforeRun = false;
  #closed = false;
  #debug = false;
  #onStopped: (() => void) | null = null;
  #handler: ExceptionHandler | null = null;
  #taskFactory: TaskFactory | null = null;
  /** Pending tasks, as an intrusive doubly linked list (cheaper than a Set on the spawn path). */
  #taskHead: Task<unknown> | null = null;
  #failures = new Set<WeakRef<Future<unknown>>>();
  #pendingPromises = 0;
  #main: Future<unknown> | null = null;
  #deadlock: DeadlockError | null = null;

  // ---- host hooks ------------------------------------------------------------

  /** The loop's clock in ms (monotonic). */
  protected abstract _clock(): number;
  /** Ask the host to call `_tick()` soon (the ready queue is not empty). */
  protected abstract _hostWake(): void;
  /** Ask the host to call `_tick()` at loop time `when`, or cancel that request (`null`). */
  protected abstract _hostTimer(when: number | null): void;
  /**
   * The loop is idle while `runUntilComplete`'s future is pending; call `_declareDeadlock()` if nothing can wake it.
   * By default only what tulip knows of counts: a Promise awaited through `fromPromise` (or a Promise-based task)
   * and an open transport, server or child may still wake it; with none of them, nothing can.
   */
  protected _hostIdle(): void { if (this.#pendingPromises === 0 && openResources(this) === 0) this._declareDeadlock(); }
  /** A real clock for measuring callbacks in debug mode. */
  protected _realTime(): number { return this._clock(); }

  // ---- running -----------------------------------------------------------------

  runForever(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('event loop is closed'));
    if (this.#running) return Promise.reject(new Error('event loop is already running'));
    this.#running = true;
    this.#stopping = false;
    if (this.#stopBeforeRun) {
      // The callbacks ready now run, then this one stops the loop: one batch, as asyncio runs one iteration.
      this.#stopBeforeRun = false;
      this.#ready.push(new Handle(stopLoop, [this], this, currentContext()));
    }
    _setLoopRunning(this, true);
    return new Promise<void>((resolve) => {
      this.#onStopped = resolve;
      this.#now = this._clock();
      this.#arm();
    });
  }

  async runUntilComplete<T>(aw: Awaitable<T>): Promise<T> {
    const f = ensureFuture(aw, this);
    const prevMain = this.#main;
    this.#main = f;
    this.#deadlock = null;
    const stop = (): void => { if (this.#main === f) this.stop(); };
    f.addDoneCallback(stop);
    try {
      await this.runForever();
    } finally {
      f.removeDoneCallback(stop);
      this.#main = prevMain;
    }
    if (this.#deadlock !== null && !f.done()) { const d = this.#deadlock; this.#deadlock = null; throw d; }
    if (!f.done()) throw new Error('event loop stopped before the future completed');
    return f.result();
  }

  /**
   * Stop after the current batch. Called before `runForever()`, the next run
   * runs the callbacks ready at its start (one batch) and stops (asyncio).
   */
  stop(): void {
    if (this.#running) { this.#stopping = true; if (!this.#inTick) this._hostWake(); }
    else if (!this.#closed) this.#stopBeforeRun = true;
  }
  isRunning(): boolean { return this.#running; }
  isClosed(): boolean { return this.#closed; }

  close(): void {
    if (this.#running) throw new Error('cannot close a running event loop');
    if (this.#closed) return;
    if (this.#debug) _reportNeverDriven(this);
    this.#reportUnretrieved();
    this.#closed = true;
    this.#ready.clear();
    this.#timers.clear();
    this._hostTimer(null);
    if (this.#debug) { this.#debug = false; _noteDebugLoop(-1); }
  }

  /** Called by the host (a loop's `_hostWake`/`_hostTimer` arrange it): one tick of the loop (see the diagram above). */
  protected _tick(): void {
    if (!this.#running) return;
    const prev = _enterLoop(this);
    this.#inTick = true;
    try {
      let budget = this.maxCallbacksPerTick;
      const q = this.#ready;
      while (!this.#stopping) {
        this.#nowStale = true;
        if (this.#timers.peek() !== undefined) this.#collectDueTimers();
        let n = q.size;
        if (n === 0) break;
        if (n > budget) n = budget;
        if (this.#debug) this.#runDebug(n);
        else {
          for (let i = 0; i < n; i++) q.shift()._run();
        }
        budget -= n;
        if (budget <= 0) break;
      }
    } finally {
      this.#inTick = false;
      _leaveLoop(prev);
    }
    if (this.#stopping) {
      this.#running = false;
      this.#stopping = false;
      _setLoopRunning(this, false);
      this._hostTimer(null);
      const done = this.#onStopped;
      this.#onStopped = null;
      done?.();
      return;
    }
    this.#arm();
  }

  #runDebug(n: number): void {
    const q = this.#ready;
    for (let i = 0; i < n; i++) {
      const r = q.shift();
      const t0 = this._realTime();
      r._run();
      const dt = this._realTime() - t0;
      if (dt >= this.slowCallbackDuration) {
        const what = r instanceof Task ? `step of ${r.describe()}` : r instanceof Handle ? r.describe() : 'a callback';
        this.callExceptionHandler({ message: `Executing ${what} took ${dt.toFixed(1)} ms (slowCallbackDuration is ${this.slowCallbackDuration} ms)` });
      }
    }
  }

  #collectDueTimers(): void {
    const heap = this.#timers;
    const now = this.time();
    for (;;) {
      const t = heap.peek();
      if (t === undefined || t._when > now) break;
      heap.pop();
      this.#ready.push(t);
    }
  }

  /** Tell the host what to do next. */
  #arm(): void {
    if (!this.#running || this.#inTick) return;
    if (this.#stopping || this.#ready.size > 0) { this._hostWake(); return; }
    const t = this.#timers.peek();
    // A timer at Infinity (sleep(Infinity)) can never fire: it wakes nobody, so it does not keep the loop from idling.
    if (t !== undefined && t._when !== Infinity) { this._hostTimer(t._when); return; }
    this._hostTimer(null);
    if (this.#main !== null && !this.#main.done()) this._hostIdle();
  }

  /** @internal anything runnable (a Task or a Handle) joins the ready queue. */
  _schedule(r: Runnable): void {
    this.#ready.push(r);
    if (this.#running && !this.#inTick && this.#ready.size === 1) this._hostWake();
  }

  // ---- scheduling ------------------------------------------------------------

  callSoon<A extends unknown[]>(cb: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    const h = new Handle(cb, args, this, currentContext());
    this._schedule(h);
    return h;
  }

  /**
   * Call `cb(...args)` after `delay` ms. A negative delay is a time in the
   * past: such timers run before those due now, earliest first (asyncio).
   */
  callLater<A extends unknown[]>(delay: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    if (Number.isNaN(delay)) throw new TypeError('callLater: the delay is NaN');
    return this.callAt(this.time() + delay, cb, ...args);
  }

  callAt<A extends unknown[]>(when: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    this.#checkClosed();
    if (Number.isNaN(when)) throw new TypeError('callAt: the time is NaN');
    const t = new TimerHandle(when, this.#timerSeq++, cb, args, this, currentContext());
    this._addTimer(t);
    return t;
  }

  /** @internal the sequence number that orders timers due at the same time. */
  _nextTimerSeq(): number { return this.#timerSeq++; }

  /** @internal add a timer entry (a TimerHandle, or a sleep that is its own timer). */
  _addTimer(t: TimerEntry): void {
    const heap = this.#timers;
    const first = heap.peek();
    t._scheduled = true;
    heap.push(t);
    if (this.#running && !this.#inTick && (first === undefined || t._when < first._when) && this.#ready.size === 0) this._hostTimer(t._when);
  }

  /** @internal */
  _timerCancelled(_t: TimerEntry): void { this.#timers.noteCancelled(); }

  /**
   * Loop time in ms: read at most once per batch while running (at its first use: a task switch that
   * sets no timer costs no clock read), so timers set in one batch with one delay fall due together.
   */
  time(): number {
    if (this.#inTick && !this.#nowStale) return this.#now;
    this.#nowStale = false;
    return (this.#now = Math.max(this.#now, this._clock()));
  }

  /** Live timers (not cancelled), for tests and introspection. */
  pendingTimers(): number { return this.#timers.live; }
  /** Callbacks and task steps in the ready queue. */
  readyCount(): number { return this.#ready.size; }
  /** The earliest live timer's due time, or null (also when it is at Infinity: such a timer never fires). */
  protected _nextTimerWhen(): number | null {
    const w = this.#timers.peek()?._when;
    return w === undefined || w === Infinity ? null : w;
  }
  /** Promises that tasks or `fromPromise` wait on. */
  protected _promisesPending(): number { return this.#pendingPromises; }
  /** Transports, servers, children and jobs of this loop that are open (they may still wake it). */
  protected _openResources(): number { return openResources(this); }
  /** @internal join byte chunks the way this loop's I/O makes them (a plain Uint8Array here; Node's loop makes a Buffer). */
  _concatBytes(list: Uint8Array[], total: number): Uint8Array {
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of list) { out.set(c, off); off += c.length; }
    return out;
  }

  createFuture<T>(): Future<T> { return new Future<T>({ loop: this }); }

  createTask<T>(aw: CoroOrFn<T> | PromiseLike<T>, opts?: { name?: string }): Task<T> {
    this.#checkClosed();
    if (typeof aw === 'function') aw = aw();
    if (this.#taskFactory !== null) {
      const t = this.#taskFactory(this, aw, opts) as Task<T>;
      // A factory may ignore the options: the name is set all the same (asyncio sets it after the factory).
      if (opts?.name !== undefined && t.getName() !== opts.name) t.setName(opts.name);
      return t;
    }
    return new Task<T>(aw, { loop: this, name: opts?.name });
  }
  setTaskFactory(f: TaskFactory | null): void { this.#taskFactory = f; }
  getTaskFactory(): TaskFactory | null { return this.#taskFactory; }

  /** @internal */
  _taskCreated(t: Task<unknown>): void {
    const head = this.#taskHead;
    t._next = head;
    if (head !== null) head._prev = t;
    this.#taskHead = t;
  }
  /** @internal */
  _taskDone(t: Task<unknown>): void {
    const { _prev: prev, _next: next } = t;
    if (prev !== null) prev._next = next;
    else if (this.#taskHead === t) this.#taskHead = next;
    if (next !== null) next._prev = prev;
    t._prev = t._next = null;
  }
  /** @internal */ _promiseStarted(): void { this.#pendingPromises++; }
  /** @internal */ _promiseSettled(): void { this.#pendingPromises--; }
  /** @internal the pending tasks of this loop, oldest first. */
  _allTasks(): Set<Task<unknown>> {
    const list: Task<unknown>[] = [];
    for (let t = this.#taskHead; t !== null; t = t._next) list.push(t);
    return new Set(list.reverse());
  }

  // ---- deadlock ----------------------------------------------------------------

  /** Nothing can wake `runUntilComplete`'s future: make it reject with `DeadlockError` (for `_hostIdle`). */
  protected _declareDeadlock(detail?: string): void {
    const main = this.#main;
    if (main === null || main.done() || !this.#running) return;
    const tasks: PendingTaskInfo[] = [];
    for (const t of this._allTasks()) tasks.push({ name: t.getName(), waitingOn: t.waitingOn() });
    if (!(main instanceof Task)) tasks.unshift({ name: '(runUntilComplete)', waitingOn: main.describe() });
    this.#deadlock = new DeadlockError(tasks, detail);
    this.stop();
  }

  /** Is the loop idle with its main future pending (for `_hostIdle`)? */
  protected _isIdle(): boolean {
    return this.#running && !this.#stopping && this.#ready.size === 0 && this._nextTimerWhen() === null
      && this.#main !== null && !this.#main.done();
  }

  /** Is the loop running with nothing ready while `runUntilComplete`'s future is pending (timers aside)? */
  protected _isWaiting(): boolean {
    return this.#running && !this.#stopping && this.#ready.size === 0 && this.#main !== null && !this.#main.done();
  }

  // ---- errors ----------------------------------------------------------------

  setExceptionHandler(h: ExceptionHandler | null): void { this.#handler = h; }
  getExceptionHandler(): ExceptionHandler | null { return this.#handler; }

  defaultExceptionHandler(ctx: ExceptionContext): void {
    const lines = [ctx.message];
    for (const [k, v] of Object.entries(ctx)) {
      if (k === 'message' || k === 'exception' || v === undefined) continue;
      lines.push(`${k}: ${k === 'sourceTraceback' ? `\n${String(v)}` : String(v)}`);
    }
    const e = ctx.exception;
    if (e !== undefined) lines.push(e instanceof Error ? (e.stack ?? String(e)) : String(e));
    console.error(lines.join('\n'));
  }

  callExceptionHandler(ctx: ExceptionContext): void {
    const h = this.#handler;
    if (h === null) { this.defaultExceptionHandler(ctx); return; }
    try {
      h(this, ctx);
    } catch (exception) {
      this.defaultExceptionHandler({ message: 'Unhandled error in exception handler', exception, context: ctx.message });
    }
  }

  /** @internal a future failed and nobody has read its error yet. */
  _noteFailure(f: Future<unknown>): void {
    const isTask = f instanceof Task;
    const message = isTask ? `Task exception was never retrieved: ${f.describe()}` : `Future exception was never retrieved: ${f.describe()}`;
    neverRetrieved.register(f, { loop: this, message, exception: f._value, name: f.describe() }, f);
    this.#failures.add(new WeakRef(f));
    if (this.#failures.size > 1024) for (const r of this.#failures) { const x = r.deref(); if (x === undefined || x._retrieved) this.#failures.delete(r); }
  }

  /** @internal */
  _noteRetrieved(f: Future<unknown>): void { neverRetrieved.unregister(f); }

  #reportUnretrieved(): void {
    for (const r of this.#failures) {
      const f = r.deref();
      if (f === undefined || f._retrieved) continue;
      neverRetrieved.unregister(f);
      f._retrieved = true;
      const isTask = f instanceof Task;
      this.callExceptionHandler({
        message: `${isTask ? 'Task' : 'Future'} exception was never retrieved: ${f.describe()}`,
        exception: f._value,
        ...(isTask ? { task: f } : { future: f }),
      });
    }
    this.#failures.clear();
  }

  getDebug(): boolean { return this.#debug; }
  setDebug(on: boolean): void {
    if (on === this.#debug) return;
    this.#debug = on;
    _noteDebugLoop(on ? 1 : -1);
  }

  #checkClosed(): void { if (this.#closed) throw new Error('event loop is closed'); }

  // ---- I/O: implemented by loops with I/O -----------------------------------

  runInExecutor<R>(_executor: Executor | null, _fn: WorkerFunction, ..._args: unknown[]): Future<R> { throw new NotImplementedError('runInExecutor'); }
  setDefaultExecutor(_e: Executor): void { throw new NotImplementedError('setDefaultExecutor'); }
  getAddrInfo(_host: string | null, _port: number | string | null): Coro<AddrInfo[]> { throw new NotImplementedError('getAddrInfo'); }
  getNameInfo(_addr: SockAddr): Coro<[string, string]> { throw new NotImplementedError('getNameInfo'); }
  createConnection<P>(_factory: () => P, _host?: string | null, _port?: number | null): Coro<[Transport, P]> { throw new NotImplementedError('createConnection'); }
  createServer(_factory: () => unknown, _host?: string | string[] | null, _port?: number | null): Coro<Server<SockAddr>> { throw new NotImplementedError('createServer'); }
  createUnixConnection<P>(_factory: () => P, _path: string): Coro<[Transport, P]> { throw new NotImplementedError('createUnixConnection'); }
  createUnixServer(_factory: () => unknown, _path: string): Coro<Server<string>> { throw new NotImplementedError('createUnixServer'); }
  startTls(_transport: Transport, _protocol: unknown, _ctx: unknown): Coro<Transport> { throw new NotImplementedError('startTls'); }
  sendfile(_transport: Transport, _file: unknown): Coro<number> { throw new NotImplementedError('sendfile'); }
  createDatagramEndpoint<P>(_factory: () => P, _opts: object): Coro<[DatagramTransport, P]> { throw new NotImplementedError('createDatagramEndpoint'); }
  connectReadPipe<P>(_factory: () => P, _pipe: unknown): Coro<[ReadTransport, P]> { throw new NotImplementedError('connectReadPipe'); }
  connectWritePipe<P>(_factory: () => P, _pipe: unknown): Coro<[WriteTransport, P]> { throw new NotImplementedError('connectWritePipe'); }
  subprocessExec<P>(_factory: () => P, _program: string, _args: string[]): Coro<[SubprocessTransport, P]> { throw new NotImplementedError('subprocessExec'); }
  subprocessShell<P>(_factory: () => P, _cmd: string): Coro<[SubprocessTransport, P]> { throw new NotImplementedError('subprocessShell'); }
  addSignalHandler<A extends unknown[]>(_sig: string | number, _cb: (...args: A) => unknown, ..._args: A): void { throw new NotImplementedError('addSignalHandler'); }
  removeSignalHandler(_sig: string | number): boolean { throw new NotImplementedError('removeSignalHandler'); }
}
