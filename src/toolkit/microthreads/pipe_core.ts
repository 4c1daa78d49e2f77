/**
 * The machinery behind micro-pipes (pipe.ts has the public ends): the state
 * the two ends share, and the two operations that suspend, `put` and `next`.
 *
 * A value is handed straight to a waiting reader's future. So that a
 * cancelled `next()` loses nothing, the reader's wait hands a value it
 * received but never returned back to the front of the pipe when it is
 * halted. `put()` and `next()` are the hot paths: each is a small iterator
 * object (as the kernel's traps are), not a generator, and its `return()`
 * does the cleanup a `finally` would, since a halted task calls it.
 */
import { Future, PipeClosedError, currentTask, getRunningLoop } from '../../kernel/index.js';
import type { Coro, EventLoop, Suspend, Task } from '../../kernel/index.js';

/** @internal the writer side's states */
export const OPEN = 0, CLOSED = 1, FAILED = 2;
/** The writer closed: a getter's future carries this instead of a value. */
const EOF: unique symbol = Symbol('pipe EOF');
/** Nothing to take now. */
const NONE: unique symbol = Symbol('pipe empty');
/** @internal */
export const END: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function loopOf(t: Task<unknown> | undefined): EventLoop { return t !== undefined ? t.getLoop() : getRunningLoop(); }

/** @internal the state shared by the two ends of a pipe. */
export class PipeCore<T> {
  readonly capacity: number;
  nextDesc = 'pipe.next';
  putDesc = 'pipe.put';
  buf: T[] = [];
  head = 0;
  /** puts waiting for room (in a rendezvous pipe, for a reader) */ putters: PutOp<T>[] = [];
  getters: Future<unknown>[] = [];
  wstate = OPEN;
  werror: unknown = undefined;
  rclosed = false;
  writers: Set<Task<unknown>> | null = null;
  lastWriter: Task<unknown> | null = null;
  readonly #onWriterDone = (t: Future<unknown>): void => this.#writerDone(t as Task<unknown>);

  constructor(capacity: number, name: string | undefined) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) throw new RangeError(`pipe capacity must be an integer >= 0, got ${capacity}`);
    this.capacity = capacity;
    if (name !== undefined) this.setName(name);
  }

  setName(name: string): void {
    this.nextDesc = `pipe.next (${name})`;
    this.putDesc = `pipe.put (${name})`;
  }

  /** Take a value if one is there: a value, EOF, NONE, or throw the writer's error. */
  take(): T | typeof EOF | typeof NONE {
    if (this.buf.length > this.head) {
      const v = this.buf[this.head]!;
      this.buf[this.head++] = undefined as T;
      if (this.head === this.buf.length) { this.buf.length = 0; this.head = 0; }
      else if (this.head > 1024 && this.head * 2 > this.buf.length) { this.buf.splice(0, this.head); this.head = 0; }
      this.#refill();
      return v;
    }
    const ps = this.putters;
    while (ps.length > 0) {
      const p = ps.shift()!;
      const f = p.fut;
      if (f === null || f.done()) continue;
      f.setResult();
      return p.item;
    }
    if (this.rclosed || this.wstate === CLOSED) return EOF;
    if (this.wstate === FAILED) throw this.werror;
    return NONE;
  }

  /** Deliver `v` to a waiting reader or the buffer; false if the put must wait. */
  offer(v: T): boolean {
    const gs = this.getters;
    while (gs.length > 0) {
      const g = gs.shift()!;
      if (g.done()) continue;
      g.setResult(v);
      return true;
    }
    if (this.buf.length - this.head < this.capacity) { this.buf.push(v); return true; }
    return false;
  }

  /** Move waiting puts into the buffer while there is room. */
  #refill(): void {
    const ps = this.putters;
    while (ps.length > 0 && this.buf.length - this.head < this.capacity) {
      const p = ps.shift()!;
      const f = p.fut;
      if (f === null || f.done()) continue;
      this.buf.push(p.item);
      f.setResult();
    }
  }

  /** A halted reader got `v` but never returned it: put it back in front. */
  putBack(v: T): void {
    if (this.rclosed) return;
    if (this.head > 0) this.buf[--this.head] = v;
    else this.buf.unshift(v);
    const gs = this.getters;
    while (gs.length > 0 && this.buf.length > this.head) {
      const g = gs.shift()!;
      if (g.done()) continue;
      const x = this.buf[this.head]!;
      this.buf[this.head++] = undefined as T;
      g.setResult(x);
    }
    if (this.head === this.buf.length) { this.buf.length = 0; this.head = 0; }
  }

  attach(t: Task<unknown>): void {
    this.lastWriter = t;
    const ws = (this.writers ??= new Set());
    if (ws.has(t) || t.done()) return;
    ws.add(t);
    t.addDoneCallback(this.#onWriterDone);
  }

  #writerDone(t: Task<unknown>): void {
    const ws = this.writers!;
    ws.delete(t);
    if (this.lastWriter === t) this.lastWriter = null;
    if (ws.size === 0 && this.wstate === OPEN && !this.rclosed) {
      this.endWith(FAILED, new PipeClosedError(`every writer of the pipe ended without closing it (${this.nextDesc})`));
    }
  }

  endWith(state: number, error: unknown): void {
    if (this.wstate !== OPEN) return;
    this.wstate = state;
    this.werror = error;
    this.#wakeGetters();
  }

  closeReader(): void {
    if (this.rclosed) return;
    this.rclosed = true;
    this.buf = [];
    this.head = 0;
    const ps = this.putters;
    this.putters = [];
    for (const p of ps) if (p.fut !== null && !p.fut.done()) p.task?.cancel('the pipe reader closed');
    this.#wakeGetters();
  }

  #wakeGetters(): void {
    const gs = this.getters;
    this.getters = [];
    for (const g of gs) {
      if (g.done()) continue;
      if (this.rclosed || this.wstate === CLOSED) g.setResult(EOF);
      else g.setException(this.werror);
    }
  }

  removeGetter(f: Future<unknown>): void {
    const i = this.getters.indexOf(f);
    if (i >= 0) this.getters.splice(i, 1);
  }

  removePutter(p: PutOp<T>): void {
    const i = this.putters.indexOf(p);
    if (i >= 0) this.putters.splice(i, 1);
  }
}

/*
 * The two operations below are each one object per call: the iterator that
 * `yield*` drives, its own iterator result (next() updates `done`/`value`
 * and returns `this`: `yield*` reads both at once and keeps nothing), and,
 * for a put that must wait, the entry in the pipe's queue of waiting puts.
 */

/** @internal `yield* writer.put(v)`. */
export class PutOp<T> implements Coro<void> {
  done = false;
  value: unknown = undefined;
  /** @internal the value sent */ readonly item: T;
  /** @internal set while waiting */ fut: Future<void> | null = null;
  /** @internal the writer's task */ task: Task<unknown> | undefined = undefined;
  #core: PipeCore<T> | null;
  #halting = false;
  readonly #resolve: (() => PipeCore<T>) | null;

  /** `core` null: resolve it on the first step with `resolve` (the current thread's stdout). */
  constructor(core: PipeCore<T> | null, item: T, resolve: (() => PipeCore<T>) | null = null) {
    this.#core = core;
    this.item = item;
    this.#resolve = resolve;
  }

  next(): IteratorResult<Suspend, void> {
    const f = this.fut;
    if (f !== null) {
      if (!f.done()) return this as IteratorYieldResult<Suspend>;
      this.fut = null;
      f.result();
      return this.#finish();
    }
    if (this.#halting) throw new PipeClosedError('put on a pipe whose reader closed');
    const core = this.#core ?? (this.#core = this.#resolve!());
    const task = currentTask();
    if (task !== core.lastWriter && task !== undefined) core.attach(task);
    if (core.rclosed) {
      if (task === undefined) throw new PipeClosedError('put on a pipe whose reader closed');
      // SIGPIPE: halt the writer's task; it takes effect once this step yields.
      this.#halting = true;
      task.cancel('the pipe reader closed');
      return this as IteratorYieldResult<Suspend>;
    }
    if (core.wstate !== OPEN) throw new PipeClosedError(core.wstate === CLOSED ? 'put on a closed pipe' : `put on a pipe that ended: ${String(core.werror)}`);
    if (core.offer(this.item)) return this.#finish();
    this.task = task;
    this.value = this.fut = new Future<void>({ loop: loopOf(task), description: core.putDesc });
    core.putters.push(this);
    return this as IteratorYieldResult<Suspend>;
  }

  #finish(): IteratorReturnResult<void> {
    this.done = true;
    this.value = undefined;
    return this as IteratorReturnResult<void>;
  }

  return(value?: any): IteratorResult<Suspend, void> {
    this.#cancelWait();
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Suspend, void> {
    this.#cancelWait();
    throw e;
  }

  #cancelWait(): void {
    const f = this.fut;
    if (f === null) return;
    this.fut = null;
    if (!f.done()) { f.cancel(); this.#core!.removePutter(this); }
  }

  [Symbol.iterator](): this { return this; }
}

/** @internal `yield* reader.next()`. */
export class NextOp<T> implements Coro<IteratorResult<T, undefined>> {
  done = false;
  value: unknown = undefined;
  readonly #core: PipeCore<T>;
  #fut: Future<unknown> | null = null;

  constructor(core: PipeCore<T>) { this.#core = core; }

  next(): IteratorResult<Suspend, IteratorResult<T, undefined>> {
    let f = this.#fut;
    if (f === null) {
      const core = this.#core;
      const v = core.take();
      if (v === NONE) {
        this.value = f = this.#fut = new Future<unknown>({ loop: loopOf(currentTask()), description: core.nextDesc });
        core.getters.push(f);
        return this as IteratorYieldResult<Suspend>;
      }
      return this.#finish(v);
    }
    if (!f.done()) return this as IteratorYieldResult<Suspend>;
    this.#fut = null;
    return this.#finish(f.result() as T | typeof EOF);
  }

  #finish(v: T | typeof EOF): IteratorReturnResult<IteratorResult<T, undefined>> {
    this.done = true;
    this.value = v === EOF ? END : { done: false, value: v };
    return this as IteratorReturnResult<IteratorResult<T, undefined>>;
  }

  return(value?: any): IteratorResult<Suspend, IteratorResult<T, undefined>> {
    this.#release();
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<Suspend, IteratorResult<T, undefined>> {
    this.#release();
    throw e;
  }

  /** Halted while waiting: withdraw, and give back a value that arrived but was never returned. */
  #release(): void {
    const f = this.#fut;
    if (f === null) return;
    this.#fut = null;
    if (!f.done()) { f.cancel(); this.#core.removeGetter(f); return; }
    if (f.cancelled() || f.exception() !== undefined) return;
    const v = f.result();
    if (v !== EOF) this.#core.putBack(v as T);
  }

  [Symbol.iterator](): this { return this; }
}
