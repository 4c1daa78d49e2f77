/**
 * shield: asyncio's `shield()`. The caller waits on an outer future that
 * mirrors the inner work; cancelling the caller (or the outer future)
 * leaves the inner work running. If the inner work then fails, nobody is
 * waiting: its error stays unretrieved and the loop reports it rather than
 * let it vanish.
 */
import { Future, ensureFuture, type Awaitable } from '../kernel/index.js';

/**
 * Protect `aw` from the cancellation of whoever waits on it.
 * @example
 * function* saveToDisk(doc: string): Coro<void> { yield* sleep(100); console.log('saved', doc); }
 * const save = createTask(saveToDisk('report'));
 * yield* shield(save);   // if this task is cancelled now, the save still completes
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const inner = ensureFuture(aw);
  if (inner.done()) return inner;
  const outer = new Future<T>({ loop: inner.getLoop(), description: `shield(${inner.describe()})` });
  inner.addDoneCallback((f) => {
    if (outer.done()) return;
    if (f.cancelled()) { outer.cancel(); return; }
    const e = f.exception();
    if (e !== undefined) outer.setException(e);
    else outer.setResult(f.result());
  });
  return outer;
}
