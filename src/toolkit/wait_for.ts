/**
 * waitFor: asyncio's `wait_for()`, which since Python 3.12 is a timeout
 * scope around one await, and so is this: on timeout the inner work is
 * halted (a task or future is cancelled, a coroutine is halted in place),
 * its cleanup is awaited, and then `TimeoutError` is thrown. With no time at
 * all (`ms <= 0`), as in asyncio, a coroutine is never started, and a task
 * is cancelled and awaited: its result if it still finished, its error if
 * its cleanup failed, else `TimeoutError`.
 */
import { CancelledError, Future, TimeoutError, fromPromise, type Awaitable, type Coro } from '../kernel/index.js';
import { timeout } from './timeout.js';

function isCoro<T>(aw: Awaitable<T>): aw is Coro<T> {
  return typeof (aw as Coro<T>).next === 'function' && typeof (aw as Coro<T>).throw === 'function';
}

/** @internal `yield*`-able form of any awaitable. */
export function awaitable<T>(aw: Awaitable<T>): Coro<T> {
  if (typeof aw === 'function') return aw();
  if (aw instanceof Future) return aw[Symbol.iterator]();
  if (isCoro(aw)) return aw;
  return fromPromise(aw)[Symbol.iterator]();
}

/** No time left: asyncio's `wait_for(aw, 0)`. */
function* expired<T>(aw: Awaitable<T>, ms: number): Coro<T> {
  const err = (): TimeoutError => new TimeoutError(`timed out after ${ms} ms`);
  if (aw instanceof Future) {
    if (aw.done()) return aw.result();
    aw.cancel();
    try {
      return yield* aw;   // a task finishes its cleanup first
    } catch (e) {
      if (e instanceof CancelledError && aw.cancelled()) throw err();
      throw e;
    }
  }
  if (typeof aw === 'function') throw err();   // a generator function: never called
  if (isCoro(aw)) aw.return(undefined as T);   // never started: closing it runs nothing
  else fromPromise(aw).cancel();   // a Promise runs on; its outcome is let go, never reported
  throw err();
}

/**
 * Wait for `aw` (a future, a coroutine, a generator function or a Promise)
 * at most `ms` milliseconds (`null`: no limit). On timeout the inner work
 * is cancelled, its cleanup awaited, and `TimeoutError` thrown. If that
 * cleanup fails, its error is thrown instead. With `ms <= 0` a coroutine
 * (or generator function) is not started at all.
 * @example
 * const [reader] = yield* openConnection('127.0.0.1', 8888);
 * try { const reply = yield* waitFor(reader.readLine(), 1000); }
 * catch (e) { if (e instanceof TimeoutError) console.log('no reply within 1 s'); }
 * const n = yield* waitFor(function* () { yield* sleep(10); return 1; }, 1000);
 */
export function* waitFor<T>(aw: Awaitable<T>, ms: number | null): Coro<T> {
  if (ms === null) return yield* awaitable(aw);
  if (ms <= 0) return yield* expired(aw, ms);
  return yield* timeout(ms, () => awaitable(aw));
}
