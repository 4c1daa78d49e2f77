/**
 * wait: asyncio's `wait()`. It only watches: when its condition is met or
 * its timeout passes it returns the done and pending sets, and it never
 * cancels anything (halting the waiting task stops the watching only).
 */
import { Future, ensureFuture, type Awaitable, type Coro } from '../kernel/index.js';

/** When {@link wait} returns. @example const when: ReturnWhen = 'FIRST_EXCEPTION'; */
export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';
/** Options of {@link wait}. @example yield* wait([sleep(10), sleep(500)], { timeout: 100, returnWhen: 'FIRST_COMPLETED' }); */
export interface WaitOptions {
  /** Return after this many ms even if the condition is not met (`null`: no limit). */
  timeout?: number | null;
  /** When to return (default `'ALL_COMPLETED'`). */
  returnWhen?: ReturnWhen;
}

function failed(f: Future<unknown>): boolean { return !f.cancelled() && f.exception() !== undefined; }

/**
 * Wait for the awaitables (coroutines become tasks) until `returnWhen`
 * holds: any one done (`FIRST_COMPLETED`), any one failed or all done
 * (`FIRST_EXCEPTION`), or all done (`ALL_COMPLETED`, the default), or
 * until `timeout` ms pass. Returns `[done, pending]`; nothing is cancelled.
 * @example
 * const t1 = createTask(sleep(10, 'fast')), t2 = createTask(sleep(5000, 'slow'));
 * const [done, pending] = yield* wait([t1, t2], { returnWhen: 'FIRST_COMPLETED', timeout: 1000 });
 * for (const t of pending) t.cancel();
 */
export function* wait<T>(aws: Iterable<Awaitable<T>>, opts?: WaitOptions): Coro<[Set<Future<T>>, Set<Future<T>>]> {
  const fs = new Set<Future<T>>();
  for (const a of aws) fs.add(ensureFuture(a));
  if (fs.size === 0) throw new TypeError('wait() needs at least one awaitable');
  const when = opts?.returnWhen ?? 'ALL_COMPLETED';
  if (when !== 'FIRST_COMPLETED' && when !== 'FIRST_EXCEPTION' && when !== 'ALL_COMPLETED') throw new TypeError(`wait(): invalid returnWhen ${String(when)}`);
  const ms = opts?.timeout ?? null;
  let left = 0;
  let met = false;
  for (const f of fs) {
    if (!f.done()) left++;
    else if (when === 'FIRST_COMPLETED' || (when === 'FIRST_EXCEPTION' && failed(f))) met = true;
  }
  if (left > 0 && !met) {
    const w = new Future<void>({ description: 'wait' });
    const wake = (): void => { if (!w.done()) w.setResult(); };
    const onDone = (f: Future<T>): void => {
      left--;
      if (left === 0 || when === 'FIRST_COMPLETED' || (when === 'FIRST_EXCEPTION' && failed(f))) wake();
    };
    for (const f of fs) if (!f.done()) f.addDoneCallback(onDone);
    const timer = ms === null ? null : w.getLoop().callLater(ms, wake);
    try {
      yield* w;
    } finally {
      timer?.cancel();
      for (const f of fs) f.removeDoneCallback(onDone);
    }
  }
  const done = new Set<Future<T>>(), pending = new Set<Future<T>>();
  for (const f of fs) (f.done() ? done : pending).add(f);
  return [done, pending];
}
