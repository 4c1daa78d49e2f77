/**
 * waitFor: asyncio's `wait_for()`, which since Python 3.12 is a timeout
 * scope around one await, and so is this: on timeout the inner work is
 * halted (a task or future is cancelled, a coroutine is halted in place),
 * its cleanup is awaited, and then `TimeoutError` is thrown.
 */
import { Future, fromPromise, type Awaitable, type Coro } from '../kernel/index.js';
import { timeout } from './timeout.js';

/** @internal `yield*`-able form of any awaitable. */
export function awaitable<T>(aw: Awaitable<T>): Coro<T> {
  if (typeof aw === 'function') return aw();
  if (aw instanceof Future) return aw[Symbol.iterator]();
  if (typeof (aw as Coro<T>).next === 'function' && typeof (aw as Coro<T>).throw === 'function') return aw as Coro<T>;
  return fromPromise(aw as PromiseLike<T>)[Symbol.iterator]();
}

/**
 * Wait for `aw` (a future, a coroutine, a generator function or a Promise)
 * at most `ms` milliseconds (`null`: no limit). On timeout the inner work
 * is cancelled, its cleanup awaited, and `TimeoutError` thrown.
 * @example
 * const [reader] = yield* openConnection('127.0.0.1', 8888);
 * try { const reply = yield* waitFor(reader.readLine(), 1000); }
 * catch (e) { if (e instanceof TimeoutError) console.log('no reply within 1 s'); }
 * const n = yield* waitFor(function* () { yield* sleep(10); return 1; }, 1000);
 */
export function* waitFor<T>(aw: Awaitable<T>, ms: number | null): Coro<T> {
  if (ms === null) return yield* awaitable(aw);
  return yield* timeout(ms, () => awaitable(aw));
}
