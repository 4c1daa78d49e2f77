/**
 * What the code running in a task sees of its innermost region (the
 * innermost active scope, or the task itself outside any scope): its
 * `AbortSignal`, and the cleanups and resources that end with it.
 *
 * Both hang off the task's list of active scopes (task.ts), so code deep
 * in a call chain reaches them without being handed a scope: a `fetch`
 * under a `timeout()` gets the timeout's signal from `currentSignal()`, and
 * a child process started there belongs to the timeout.
 */
import { Cleanups, type Cleanup, type OwnedResource } from './cleanup.js';
import type { Coro, Suspend } from './events.js';
import { currentTask, type Task } from './task.js';

function runningTask(what: string): Task<unknown> {
  const t = currentTask();
  if (t === undefined) throw new Error(`${what} must be called inside a task (in a coroutine driven by yield*, createTask or run)`);
  return t;
}

function innermostCleanups(t: Task<unknown>): Cleanups {
  const s = t._innermostScope();
  if (s !== null) return (s._cleanups ??= new Cleanups());
  const x = t._extras();
  return (x.cleanups ??= new Cleanups());
}

/**
 * The `AbortSignal` of the code running now: the innermost active scope's
 * (a `timeout()`, `moveOnAfter()`, `taskGroup()` or `cancelOn()` body, a
 * `CancelScope`), or the task's own outside any scope. It aborts when that
 * scope halts (its reason a `CancelledError`, or a `TimeoutError` when a
 * deadline passed) and never when the scope ends normally. Inside a cleanup
 * that runs because of a halt (a `finally` or a `defer`), it is a fresh
 * signal for that cleanup, aborted only by a second cancel, so a cleanup can
 * still make Promise-based calls. Throws outside a task.
 * @example
 * yield* timeout(5000, function* () {
 *   const res = yield* fromPromise(fetch('https://example.org', { signal: currentSignal() }));
 *   console.log(res.status);
 * });
 */
export function currentSignal(): AbortSignal {
  return runningTask('currentSignal()')._currentSignal();
}

class DeferIter implements Coro<void> {
  readonly #cleanup: Cleanup;
  constructor(cleanup: Cleanup) { this.#cleanup = cleanup; }
  next(): IteratorResult<Suspend, void> {
    if (typeof this.#cleanup !== 'function') throw new TypeError('defer(cleanup): cleanup must be a function or a generator function');
    innermostCleanups(runningTask('defer()')).defers.push(this.#cleanup);
    return { done: true, value: undefined };
  }
  throw(e: unknown): never { throw e; }
  return(value?: any): IteratorResult<Suspend, void> { return { done: true, value }; }
  [Symbol.iterator](): this { return this; }
}

/**
 * Register `cleanup` on the innermost scope (or, outside any scope, on the
 * task): it runs when that scope ends, normally or halted, after the body's
 * own `finally` blocks; cleanups run last registered first. `cleanup` is a
 * function, or a generator function whose coroutine may wait (flush, close
 * gracefully): the scope drives it itself and delivers a halt onward
 * afterwards, so no `rehalt()` is needed. A second cancel interrupts the
 * cleanup that runs (the others still run). An error a cleanup throws is
 * raised once every cleanup has run (several: an `AggregateError`, after
 * the body's own error if it had one). In a `taskGroup()` body, the
 * cleanups run after every child has finished.
 * @example
 * function* echo(reader: StreamReader, writer: StreamWriter): Coro<void> {
 *   yield* defer(function* () { writer.close(); yield* writer.waitClosed(); });   // however echo ends
 *   for (let line = yield* reader.readLine(); line.length > 0; line = yield* reader.readLine()) writer.write(line);
 * }
 */
export function defer(cleanup: () => void | Coro<void>): Coro<void> {
  return new DeferIter(cleanup);
}

/**
 * @internal The innermost region of the running task takes ownership of `r`: if that region ends halted or
 * failed, `r` is ended (cleanup.ts); if it ends normally, the region around it takes `r` over. Returns false
 * outside a task.
 */
export function _own(r: OwnedResource): boolean {
  const t = currentTask();
  if (t === undefined) return false;
  innermostCleanups(t).own(r);
  return true;
}
