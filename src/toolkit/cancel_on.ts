/**
 * cancelOn: cancel tulip work from outside with an `AbortSignal` (a button,
 * a parent's `AbortController`, `AbortSignal.timeout()`), built on the
 * kernel's CancelScope like the timeouts beside it.
 */
import { CancelScope, type Coro } from '../kernel/index.js';

/**
 * Run `body` (a coroutine or a generator function) until it finishes or
 * `signal` aborts; an abort halts the body (its `finally` blocks and
 * deferred cleanups run) and `undefined` is returned instead of its value.
 * A signal already aborted halts the body at entry: it never starts.
 * `AbortSignal.timeout(ms)` works as a deadline. Inside, `currentSignal()`
 * aborts with a `TimeoutError` for a timeout signal, else with a
 * `CancelledError` whose `cause` is the signal's reason.
 * @example
 * const ac = new AbortController();
 * process.once('SIGTERM', () => ac.abort());
 * const done = yield* cancelOn(ac.signal, function* () { yield* sleep(60_000); return true; });
 * if (done === undefined) console.log('stopped by SIGTERM');
 */
export function* cancelOn<T>(signal: AbortSignal, body: Coro<T> | (() => Coro<T>)): Coro<T | undefined> {
  const scope = new CancelScope({ signal, name: 'cancelOn' });
  return yield* scope.run(typeof body === 'function' ? body() : body);
}
