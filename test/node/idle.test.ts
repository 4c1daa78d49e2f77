import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlockError, Future, getRunningLoop, NodeEventLoop, run } from '../../src/index.js';

interface ResourcesInfo { getActiveResourcesInfo(): string[] }

void test('a task woken from outside tulip again and again does not run the deadlock check at every wake-up', async () => {
  const p = process as unknown as ResourcesInfo;
  const orig = p.getActiveResourcesInfo;
  let calls = 0;
  p.getActiveResourcesInfo = function (this: unknown) { calls++; return orig.call(this); };
  const t0 = performance.now();
  try {
    await run(function* () {
      for (let i = 0; i < 100; i++) {
        const f = new Future<void>({ loop: getRunningLoop(), description: 'a foreign wake-up' });
        setTimeout(() => f.setResult(), 1);   // as a socket's data event would
        yield* f;
      }
    }, { loop: new NodeEventLoop(), handleSignals: false });
  } finally {
    p.getActiveResourcesInfo = orig;
  }
  // At most one check per 5 ms of idling (the poll's shortest period), whatever the number of wake-ups.
  const bound = (performance.now() - t0) / 5 + 5;
  assert.ok(calls <= bound, `the deadlock check ran ${calls} times for 100 wake-ups in ${(performance.now() - t0).toFixed(0)} ms`);
});

void test('a deadlock is still reported promptly', async () => {
  const t0 = performance.now();
  await assert.rejects(run(function* () { yield* new Future<void>({ loop: getRunningLoop(), description: 'never' }); }, { loop: new NodeEventLoop(), handleSignals: false }), DeadlockError);
  assert.ok(performance.now() - t0 < 1000);
});

void test('a deadlock is reported once the foreign timer that might have woken main is gone', async () => {
  const t0 = performance.now();
  const foreign = setTimeout(() => undefined, 30);
  await assert.rejects(run(function* () { yield* new Future<void>({ loop: getRunningLoop(), description: 'never' }); }, { loop: new NodeEventLoop(), handleSignals: false }), DeadlockError);
  clearTimeout(foreign);
  assert.ok(performance.now() - t0 >= 29 && performance.now() - t0 < 2000);
});
