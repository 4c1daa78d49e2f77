/**
 * The errors tulip throws. Each has its own `name`, so a log line or a
 * `catch` that tests `e.name` tells them apart without `instanceof` across
 * realms or duplicated package copies.
 *
 * `CancelledError` is special: a task halted by `cancel()` never sees it in
 * a `catch` (cancellation arrives as `return()`), but code that waits on a
 * cancelled future or task does, as in asyncio.
 */

function named<T extends Error>(self: T, name: string): T {
  Object.defineProperty(self, 'name', { value: name, enumerable: false, configurable: true, writable: true });
  return self;
}

/**
 * The awaited future or task was cancelled.
 * @example
 * const task = createTask(sleep(1000));
 * task.cancel();
 * try { yield* task; } catch (e) { if (e instanceof CancelledError) console.log('task was cancelled'); }
 */
export class CancelledError extends Error {
  constructor(message = 'cancelled', options?: ErrorOptions) { super(message, options); named(this, 'CancelledError'); }
}

/**
 * An operation was called in a state that does not allow it, such as
 * `setResult()` on a future that is already done.
 * @example
 * const f = new Future<number>(); f.setResult(1);
 * try { f.setResult(2); } catch (e) { console.log((e as Error).name); } // InvalidStateError
 */
export class InvalidStateError extends Error {
  constructor(message = 'invalid state') { super(message); named(this, 'InvalidStateError'); }
}

/**
 * A deadline passed: thrown by `timeout()`, `waitFor()` and `asCompleted()`
 * at the boundary of the scope that timed out.
 *
 * Its `name` is `'TimeoutError'`, as asyncio's is, and so is the `name` of
 * the `DOMException` that `AbortSignal.timeout()` aborts with (what `fetch`
 * throws when such a signal fires). Test with `instanceof` to tell them
 * apart: tulip's is an `instanceof TimeoutError` and never a `DOMException`;
 * the other is a `DOMException` and never an `instanceof TimeoutError`.
 * `e.name === 'TimeoutError'` matches both.
 * @example
 * try {
 *   const signal = AbortSignal.timeout(50);
 *   yield* timeout(100, function* () { yield* fromPromise(fetch('http://example.com', { signal })); });
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log('tulip gave up first');
 *   else if (e instanceof DOMException && e.name === 'TimeoutError') console.log('the fetch signal fired first');
 *   else throw e;
 * }
 */
export class TimeoutError extends Error {
  constructor(message = 'timed out', options?: ErrorOptions) { super(message, options); named(this, 'TimeoutError'); }
}

/** A description of one pending task, as listed by a {@link DeadlockError}. @example
 * try { await run(function* () { yield* new Future<void>(); }); }
 * catch (err) { if (err instanceof DeadlockError) for (const t of err.tasks) console.log(t.name, t.waitingOn); }
 */
export interface PendingTaskInfo {
  /** The task's name. */
  name: string;
  /** What it waits on: a waiter's description (`Queue.get`, `Lock.acquire`...) or a task's name. */
  waitingOn: string;
}

/**
 * `run()`'s main task is pending and nothing can ever wake it. The message
 * lists every pending task and what it waits on; `tasks` has the same list.
 * @example
 * await run(function* () { yield* new Future<void>(); }).catch((e) => console.log(e.message));
 */
export class DeadlockError extends Error {
  /** Every pending task and what it waits on, oldest first. */
  readonly tasks: PendingTaskInfo[];
  constructor(tasks: PendingTaskInfo[], detail = 'no callback is ready, no timer is pending and no I/O is open') {
    const lines = tasks.map((t) => `  - task '${t.name}' waiting on ${t.waitingOn}`);
    super(`deadlock: the main task can never finish (${detail}).\nPending tasks:\n${lines.join('\n')}`);
    named(this, 'DeadlockError');
    this.tasks = tasks;
  }
}

/**
 * `readExactly()` or `readUntil()` met the end of the stream first; `partial`
 * holds the bytes read before it.
 * @example
 * const reader = new StreamReader();
 * reader.feedData(new TextEncoder().encode('abc'));
 * reader.feedEof();
 * try { yield* reader.readExactly(10); } catch (e) { if (e instanceof IncompleteReadError) console.log(e.partial.length); } // 3
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the end of the stream. */
  readonly partial: Uint8Array;
  /** How many bytes were wanted (`null`: up to a separator). */
  readonly expected: number | null;
  constructor(partial: Uint8Array, expected: number | null) {
    super(`${partial.length} bytes read on a total of ${expected === null ? 'undefined' : expected} expected bytes`);
    named(this, 'IncompleteReadError');
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * A line or chunk was longer than the reader's limit. `consumed` is how many
 * bytes were consumed from the buffer.
 * @example
 * const [reader] = yield* openConnection('127.0.0.1', 8888, { limit: 1024 });
 * try { yield* reader.readLine(); } catch (e) { if (e instanceof LimitOverrunError) console.log('line too long'); }
 */
export class LimitOverrunError extends Error {
  /** How many bytes of the buffer the search went through. */
  readonly consumed: number;
  constructor(message: string, consumed: number) { super(message); named(this, 'LimitOverrunError'); this.consumed = consumed; }
}

/** `getNowait()` on an empty queue. @example
 * const q = new Queue<number>();
 * try { q.getNowait(); } catch (e) { console.log(e instanceof QueueEmpty); } // true
 */
export class QueueEmpty extends Error {
  constructor(message = 'queue is empty') { super(message); named(this, 'QueueEmpty'); }
}

/** `putNowait()` on a full queue. @example
 * const q = new Queue<number>(1);
 * q.putNowait(1);
 * try { q.putNowait(2); } catch (e) { console.log(e instanceof QueueFull); } // true
 */
export class QueueFull extends Error {
  constructor(message = 'queue is full') { super(message); named(this, 'QueueFull'); }
}

/** The queue was shut down. @example
 * const q = new Queue<number>();
 * q.shutdown();
 * try { yield* q.get(); } catch (e) { console.log(e instanceof QueueShutDown); } // true
 */
export class QueueShutDown extends Error {
  constructor(message = 'queue is shut down') { super(message); named(this, 'QueueShutDown'); }
}

/** A barrier was aborted or reset while tasks waited on it. @example
 * const barrier = new Barrier(2);
 * createTask(barrier.abort());
 * try { yield* barrier.wait(); } catch (e) { console.log(e instanceof BrokenBarrierError); } // true
 */
export class BrokenBarrierError extends Error {
  constructor(message = 'barrier is broken') { super(message); named(this, 'BrokenBarrierError'); }
}

/** The other end of a micro-pipe is gone. @example
 * const [writer, reader] = pipe<number>(1);
 * createTask(writer.put(1));                 // its task ends without close()
 * console.log((yield* reader.next()).value);  // 1
 * try { yield* reader.next(); } catch (e) { console.log(e instanceof PipeClosedError); } // true
 */
export class PipeClosedError extends Error {
  constructor(message = 'pipe is closed') { super(message); named(this, 'PipeClosedError'); }
}

/** The loop cannot offer this method (say, subprocesses in a browser). @example
 * try { yield* getRunningLoop().subprocessExec(() => ({}), 'ls', []); }
 * catch (e) { if (e instanceof NotImplementedError) console.log('no subprocesses on this loop'); }
 */
export class NotImplementedError extends Error {
  constructor(message = 'not implemented by this event loop') { super(message); named(this, 'NotImplementedError'); }
}
