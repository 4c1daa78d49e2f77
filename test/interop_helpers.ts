/** Helpers shared by the interop tests (events, iteration, stream bridges). */
import assert from 'node:assert/strict';
import type { Coro, Future } from '../src/index.js';

/** Drive `c` (a coroutine or a task) and assert that it throws an error matching `expected`. */
export function* expectThrow(c: Coro<unknown> | Future<unknown>, expected: RegExp | (new (...a: any[]) => Error)): Coro<unknown> {
  try {
    yield* c;
  } catch (e) {
    assert.throws(() => { throw e; }, expected);
    return e;
  }
  assert.fail(`expected ${String(expected)} to be thrown`);
}
