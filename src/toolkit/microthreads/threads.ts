/**
 * Micro-threads, started in the three ways the micro-threading proposal
 * lists: fire-and-forget with an exception handler (`startAndForget`), in
 * parallel with a later `wait()` (`startInParallel`), or as a generator
 * whose `put`/`takeFrom` feed a pipe the caller reads (`generate`).
 *
 * A thread's pipes (its stdout and stdin) are kept in a map keyed by its
 * task, not in a `ContextVar`: context is inherited by the tasks a thread
 * creates, and pipes must not be, or a child's stray `put` would write into
 * its parent's output. Because the lookup is by the current task, `put()`
 * works from any depth of `yield*` helpers, so "new-style generators"
 * compose by plain calls: `function* oddEven(n) { yield* odd(n); yield* even(n); }`.
 */
import { CancelledError, Future, PipeClosedError, Task, currentTask, getRunningLoop, toCoro } from '../../kernel/index.js';
import type { Coro, CoroOrFn } from '../../kernel/index.js';
import { PipeReaderImpl, PipeWriterImpl, type PipeReader } from './pipe.js';
import { PipeCore, PutOp } from './pipe_core.js';

interface ThreadPipes { readonly stdout: PipeWriterImpl<unknown> | null; readonly stdin: PipeReader<unknown> | null }

const pipesOf = new WeakMap<Task<unknown>, ThreadPipes>();

function currentPipes(what: string): ThreadPipes {
  const t = currentTask();
  const p = t === undefined ? undefined : pipesOf.get(t);
  if (p === undefined) {
    throw new Error(`${what}: the current task is not a micro-thread started by generate() (pipes are not inherited by the tasks a thread creates)`);
  }
  return p;
}

function stdoutCore(): PipeCore<unknown> { return currentPipes('put()').stdout!._core; }


/**
 * A task started with {@link startInParallel}: the parent `wait()`s for its
 * result later, and an error it threw is re-thrown there.
 * @example
 * const t = startInParallel(sleep(10, 'user 1'));
 * const user = yield* t.wait();
 */
export class MicroThread<T> extends Task<T> {
  /**
   * Wait for the thread to finish; returns its result or re-throws its
   * error (`CancelledError` if it was cancelled). Like a Unix `wait()`, it
   * only watches: a waiter that gives up (cancelled, or a timeout around
   * it) leaves the thread running and other waiters waiting; `cancel()`
   * stops the thread. (`yield* thread` keeps asyncio's rule for awaiting a
   * task: a waiter cancelled while it awaits cancels the task too.)
   */
  *wait(): Coro<T> {
    if (!this.done()) {
      const f = new Future<void>({ loop: this.getLoop(), description: `MicroThread.wait '${this.getName()}'` });
      const onDone = (): void => { if (!f.done()) f.setResult(); };
      this.addDoneCallback(onDone);
      try {
        yield* f;
      } finally {
        this.removeDoneCallback(onDone);
      }
    }
    return this.result();
  }
}

/**
 * Start `body` as a micro-thread whose result nobody wants. If it throws,
 * the error goes to `exceptionHandler` as soon as it happens, or to the
 * loop's exception handler when none is given: never lost. The returned task
 * completes with `undefined` once the body ends (an error having been
 * handed over), or is cancelled if it was cancelled.
 * @example
 * function* heartbeat(): Coro<void> { for (;;) { console.log('alive'); yield* sleep(1000); } }
 * startAndForget(heartbeat(), { exceptionHandler: (e) => console.error('heartbeat failed', e) });
 */
export function startAndForget(body: CoroOrFn<unknown>, opts?: { exceptionHandler?: (e: unknown) => void; name?: string }): Task<unknown> {
  return getRunningLoop().createTask(forgotten(toCoro(body), opts?.exceptionHandler), { name: opts?.name });
}

function* forgotten(body: Coro<unknown>, handler: ((e: unknown) => void) | undefined): Coro<unknown> {
  try {
    yield* body;
  } catch (e) {
    if (e instanceof CancelledError) throw e;   // ends the task as cancelled, as in asyncio
    const task = currentTask();
    const loop = getRunningLoop();
    if (handler === undefined) {
      loop.callExceptionHandler({ message: `Unhandled exception in micro-thread '${task?.getName()}' (startAndForget)`, exception: e, task });
      return undefined;
    }
    try {
      handler(e);
    } catch (h) {
      loop.callExceptionHandler({ message: `The exception handler of micro-thread '${task?.getName()}' threw`, exception: h, task, error: e });
    }
  }
  return undefined;
}

/**
 * Start `body` as a micro-thread running in parallel with the caller, who
 * later `wait()`s for its result. A thread that failed and that nobody
 * waited for is reported like a never-retrieved task.
 * @example
 * function* count(s: string): Coro<number> { yield* sleep(10); return s.length; }
 * const a = startInParallel(count('a')), b = startInParallel(count('bb'));
 * const total = (yield* a.wait()) + (yield* b.wait());
 */
export function startInParallel<T>(body: CoroOrFn<T>, opts?: { name?: string }): MicroThread<T> {
  return new MicroThread<T>(toCoro(body), { loop: getRunningLoop(), name: opts?.name });
}

/**
 * Start `body` as a micro-thread whose `put`/`takeFrom` feed a new pipe
 * (its stdout), and return that pipe's reader. The pipe closes when the
 * body returns; an error the body throws reaches the reader after the values
 * sent before it; a thread cancelled by someone else ends the pipe with
 * `PipeClosedError`. `stdin` becomes the thread's {@link stdin} and is
 * closed when the thread ends, halting the writer upstream, so threads
 * chain like a Unix pipeline.
 * @example
 * function* lines() { yield* takeFrom(['a', 'b']); }
 * function* upper() { for (;;) { const r = yield* stdin<string>().next(); if (r.done) return; yield* put(r.value.toUpperCase()); } }
 * const out = yield* generate<string>(upper, { stdin: generate(lines) }).toArray();   // ['A', 'B']
 */
export function generate<T>(body: CoroOrFn<unknown>, opts?: { stdin?: PipeReader<unknown>; capacity?: number; name?: string }): PipeReader<T> {
  const loop = getRunningLoop();
  const core = new PipeCore<T>(opts?.capacity ?? 0, undefined);
  const writer = new PipeWriterImpl<T>(core);
  const stdinReader = opts?.stdin ?? null;
  const task = loop.createTask(generated(body, writer, stdinReader), { name: opts?.name });
  core.setName(`stdout of '${task.getName()}'`);
  pipesOf.set(task, { stdout: writer, stdin: stdinReader });
  core.attach(task);
  return new PipeReaderImpl(core);
}

const HALTED = 0, RETURNED = 1, THREW = 2;

function* generated(body: (() => Coro<unknown>) | Coro<unknown>, w: PipeWriterImpl<unknown>, stdinReader: PipeReader<unknown> | null): Coro<void> {
  const core = w._core;
  let outcome = HALTED;
  try {
    yield* toCoro(body);
    outcome = RETURNED;
  } catch (e) {
    outcome = THREW;
    if (!w.closed) w.fail(e);
    else {
      // Nobody will read it through the pipe: it must not vanish.
      const task = currentTask();
      getRunningLoop().callExceptionHandler({
        message: `Exception in generate() thread '${task?.getName()}' after its pipe closed`, exception: e, task,
      });
    }
  } finally {
    if (outcome === RETURNED) w.close();
    else if (outcome === HALTED && !core.rclosed) {
      w.fail(new PipeClosedError(`the generate() thread '${currentTask()?.getName()}' was cancelled`));
    }
    stdinReader?.close();
  }
}

/**
 * Send `value` to the current micro-thread's stdout (the pipe its
 * {@link generate} caller reads). Works from any depth of `yield*` helpers.
 * @example
 * function* odd(n: number) { for (let i = 1; i < n; i += 2) yield* put(i); }
 * const r = generate<number>(() => odd(6));   // 1, 3, 5
 */
export function put<T>(value: T): Coro<void> {
  return new PutOp<T>(null, value, stdoutCore as () => PipeCore<T>);
}

/**
 * Send every item of `source` (an iterable or a pipe's reader), in order,
 * to the current micro-thread's stdout.
 * @example
 * function* odd(n: number): Coro<void> { for (let i = 1; i < n; i += 2) yield* put(i); }
 * function* even(n: number): Coro<void> { yield* takeFrom([2, 4, 6].filter((i) => i < n)); }
 * function* oddEven(n: number): Coro<void> { yield* odd(n); yield* even(n); }
 * const all = yield* generate<number>(() => oddEven(6)).toArray();   // [1, 3, 5, 2, 4]
 */
export function takeFrom<T>(source: Iterable<T> | PipeReader<T>): Coro<void> {
  return takeFromStdout(source);
}

function* takeFromStdout<T>(source: Iterable<T> | PipeReader<T>): Coro<void> {
  const w = currentPipes('takeFrom()').stdout as PipeWriterImpl<T>;
  yield* w.takeFrom(source);
}

/**
 * The current micro-thread's stdin: the reader given as `generate(body, { stdin })`.
 * @example
 * function* upper() { for (;;) { const r = yield* stdin<string>().next(); if (r.done) return; yield* put(r.value.toUpperCase()); } }
 */
export function stdin<T>(): PipeReader<T> {
  const p = currentPipes('stdin()');
  if (p.stdin === null) throw new Error(`stdin(): the micro-thread '${currentTask()?.getName()}' was started without a stdin`);
  return p.stdin as PipeReader<T>;
}
