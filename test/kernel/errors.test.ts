import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError, DeadlockError, fromPromise, InvalidStateError, run, sleep, timeout, TimeoutError, type Coro,
} from '../../src/index.js';

/** The reason an `AbortSignal.timeout()` signal aborts with, as `fetch` would throw it. */
function signalTimeout(ms: number): Promise<unknown> {
  const s = AbortSignal.timeout(ms);
  return new Promise((resolve) => s.addEventListener('abort', () => resolve(s.reason), { once: true }));
}

void test("tulip's TimeoutError and AbortSignal.timeout()'s DOMException share a name and are told apart by instanceof", async () => {
  const mine = new TimeoutError();
  const theirs = await signalTimeout(1);
  assert.equal(mine.name, 'TimeoutError');
  assert.ok(theirs instanceof DOMException);
  assert.equal(theirs.name, 'TimeoutError');
  assert.ok(mine instanceof TimeoutError && mine instanceof Error);
  assert.ok(!(mine instanceof DOMException));
  assert.ok(!(theirs instanceof TimeoutError));
});

void test('a tulip timeout around a Promise that a signal times out: the first deadline decides which error surfaces', async () => {
  function* attempt(scopeMs: number, signalMs: number): Coro<string> {
    const signal = AbortSignal.timeout(signalMs);
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    try {
      yield* timeout(scopeMs, function* () { yield* fromPromise(aborted); });
      return 'no timeout';
    } catch (e) {
      if (e instanceof TimeoutError) return 'tulip';
      if (e instanceof DOMException && e.name === 'TimeoutError') return 'signal';
      throw e;
    }
  }
  assert.equal(await run(() => attempt(10, 5_000)), 'tulip');
  assert.equal(await run(() => attempt(5_000, 10)), 'signal');
});

void test('every tulip error has its own name, shown by String(e)', () => {
  for (const [E, name] of [[CancelledError, 'CancelledError'], [InvalidStateError, 'InvalidStateError'], [TimeoutError, 'TimeoutError']] as const) {
    const e = new E('boom');
    assert.equal(e.name, name);
    assert.equal(String(e), `${name}: boom`);
  }
  assert.equal(new DeadlockError([]).name, 'DeadlockError');
});

void test('a sleeping coroutine timed out by tulip sees TimeoutError only at the scope boundary', async () => {
  const r = await run(function* () {
    try { yield* timeout(5, () => sleep(10_000)); return 'finished'; } catch (e) { return (e as Error).constructor.name; }
  });
  assert.equal(r, 'TimeoutError');
});
