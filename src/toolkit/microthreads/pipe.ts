/**
 * Micro-pipes: one-way channels between micro-threads, after the
 * micro-threading proposal's `micro_pipe` (Stackless's channels). A pipe is
 * attached to the threads at its ends, so nothing is lost or left hanging:
 * a writer's error reaches the reader after the values sent before it; a
 * reader that closes halts the writers blocked on it (and any later put),
 * as SIGPIPE ends a Unix process; when every task that has put into a pipe
 * has ended without closing it, readers get `PipeClosedError`.
 *
 * The ends are thin facades over the shared state in pipe_core.ts.
 */
import type { Coro } from '../../kernel/index.js';
import { getRunningLoop } from '../../kernel/index.js';
import { asyncIteratorOf, type CoroIterable, type CoroIterator, coroIterator } from '../async_iter.js';
import { CLOSED, FAILED, NextOp, OPEN, PipeCore, PutOp } from './pipe_core.js';

/**
 * The sending end of a micro-pipe.
 * @example
 * const [w, r] = pipe<number>();
 * createTask(function* () { yield* w.put(1); yield* w.takeFrom([2, 3]); w.close(); }());
 * console.log(yield* r.toArray()); // [1, 2, 3]
 */
export interface PipeWriter<T> {
  /**
   * Send `v`; waits while the pipe is full (a rendezvous pipe: until a reader takes it). If the reader has
   * closed, halts the calling task instead (as SIGPIPE would). Throws `PipeClosedError` after `close()`/`fail()`
   * or once the pipe ended because every writer had ended. Halted before a reader took `v`, it sends nothing.
   */
  put(v: T): Coro<void>;
  /** Send every item of `src` (an iterable or another pipe's reader) in order. */
  takeFrom(src: Iterable<T> | PipeReader<T>): Coro<void>;
  /** No more values: the reader gets the buffered values, then the end. */
  close(): void;
  /** End with an error: the reader gets the buffered values, then `e` is thrown from its `next()`. */
  fail(e: unknown): void;
  /** True once this end was closed or failed, every writer ended, or the reader closed. */
  readonly closed: boolean;
}

/**
 * The receiving end of a micro-pipe.
 * @example
 * const r = generate<number>(function* () { yield* put(1); yield* put(2); });
 * for (;;) { const x = yield* r.next(); if (x.done) break; console.log(x.value); }
 */
export interface PipeReader<T> extends CoroIterable<T> {
  /** The next value, `{ done: true }` at the end; throws the writer's error (or `PipeClosedError`) after the values sent before it. */
  next(): Coro<IteratorResult<T, undefined>>;
  /** Every remaining value, once the writer closes. */
  toArray(): Coro<T[]>;
  /** Stop reading: buffered values are dropped, blocked writers are halted, later puts halt their writers. */
  close(): void;
  /** `for await` from an async function while the loop runs; each step runs as a task; `break` closes the reader. */
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** For `each()`: leaving the loop early closes the reader. */
  [coroIterator](): CoroIterator<T>;
}


/** @internal */
export class PipeWriterImpl<T> implements PipeWriter<T> {
  /** @internal */ readonly _core: PipeCore<T>;
  constructor(core: PipeCore<T>) { this._core = core; }
  put(v: T): Coro<void> { return new PutOp(this._core, v); }
  *takeFrom(src: Iterable<T> | PipeReader<T>): Coro<void> {
    if (typeof (src as Partial<Iterable<T>>)[Symbol.iterator] === 'function') {
      for (const x of src as Iterable<T>) yield* new PutOp(this._core, x);
      return;
    }
    const reader = src as PipeReader<T>;
    for (;;) {
      const r: IteratorResult<T, undefined> = yield* reader.next();
      if (r.done === true) return;
      yield* new PutOp(this._core, r.value);
    }
  }
  close(): void { this._core.endWith(CLOSED, undefined); }
  fail(e: unknown): void { this._core.endWith(FAILED, e); }
  get closed(): boolean { return this._core.wstate !== OPEN || this._core.rclosed; }
  toString(): string { return `<PipeWriter ${this._core.putDesc}>`; }
}

/** @internal */
export class PipeReaderImpl<T> implements PipeReader<T> {
  /** @internal */ readonly _core: PipeCore<T>;
  constructor(core: PipeCore<T>) { this._core = core; }
  next(): Coro<IteratorResult<T, undefined>> { return new NextOp(this._core); }
  *toArray(): Coro<T[]> {
    const out: T[] = [];
    for (;;) {
      const r: IteratorResult<T, undefined> = yield* new NextOp(this._core);
      if (r.done === true) return out;
      out.push(r.value);
    }
  }
  close(): void { this._core.closeReader(); }
  [coroIterator](): CoroIterator<T> { return { next: () => new NextOp(this._core), return: () => this.close() }; }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return asyncIteratorOf(getRunningLoop(), this[coroIterator](), this._core.nextDesc);
  }
  toString(): string { return `<PipeReader ${this._core.nextDesc}>`; }
}

/**
 * A new micro-pipe: `capacity` values may wait in it; 0 (the default) is a
 * rendezvous, where a put waits until a reader takes the value. Every task
 * that puts into the pipe becomes one of its writers; once all of them have
 * ended without closing it, its readers get `PipeClosedError`. So close a
 * pipe shared by several writers from one of them (the last to finish), not
 * from a task that never puts. `name` appears in `DeadlockError`
 * (`pipe.next (name)`).
 * @example
 * const [w, r] = pipe<string>();
 * createTask(function* () { yield* w.put('ping'); w.close(); }());
 * const x = yield* r.next();   // { done: false, value: 'ping' }
 */
export function pipe<T>(capacity = 0, opts?: { name?: string }): [PipeWriter<T>, PipeReader<T>] {
  const core = new PipeCore<T>(capacity, opts?.name);
  return [new PipeWriterImpl(core), new PipeReaderImpl(core)];
}
