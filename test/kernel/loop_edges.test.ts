/**
 * The loop's edges where asyncio has a rule: timers beyond what the host
 * timer takes, an infinite sleep nothing can wake, negative delays, stop()
 * before runForever(), a task factory that ignores the name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, DeadlockError, eagerTaskFactory, type EventLoop, fromPromise, NodeEventLoop, run, sleep, Task, type TaskFactory } from '../../src/index.js';
import { TestEventLoop } from '../../src/testing/index.js';

/** A Node loop that counts its ticks. */
class CountingLoop extends NodeEventLoop {
  ticks = 0;
  protected override _tick(): void { this.ticks++; super._tick(); }
}

void test('a timer beyond 2^31-1 ms does not make the loop spin or Node warn', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.name); };
  process.on('warning', onWarning);
  const loop = new CountingLoop();
  try {
    const far = loop.callLater(2 ** 31 + 5_000, () => assert.fail('a timer 24.8 days away fired'));
    const farther = loop.callLater(2 ** 40, () => assert.fail('a timer 34 years away fired'));
    // main waits on a real timer, so the far tulip timers are the loop's earliest: the one its host timer is armed for.
    await run(function* () { yield* fromPromise(new Promise((r) => setTimeout(r, 100))); }, { loop, handleSignals: false });
    far.cancel(); farther.cancel();
    // A loop that spins ticks every millisecond (about 100 ticks here); a clamped one ticks for the sleep only.
    assert.ok(loop.ticks < 20, `the loop ticked ${loop.ticks} times in 100 ms`);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

void test('sleep(Infinity) with nothing else pending is a DeadlockError, on the Node loop and in virtual time', async () => {
  await assert.rejects(run(function* () { yield* sleep(Infinity); }, { loop: new NodeEventLoop(), handleSignals: false }),
    (e: unknown) => e instanceof DeadlockError && /sleep\(Infinity\)/.test(e.message));
  const vloop = new TestEventLoop();
  await assert.rejects(run(function* () { yield* sleep(Infinity); }, { loop: vloop, handleSignals: false }), DeadlockError);
  assert.equal(vloop.time(), 0, 'the virtual clock never jumped to Infinity');
  // With other work pending it is an ordinary wait that a cancel ends.
  const v = await run(function* () {
    const t = createTask(sleep(Infinity));
    yield* sleep(50);
    t.cancel();
    yield* sleep(0);
    return t.cancelled();
  }, { loop: new NodeEventLoop(), handleSignals: false });
  assert.equal(v, true);
});

void test('callLater with negative delays: earliest first, before timers due now (asyncio)', async () => {
  for (const loop of [new NodeEventLoop(), new TestEventLoop()] as EventLoop[]) {
    const calls: string[] = [];
    loop.callLater(0, () => calls.push('0'));
    loop.callLater(-1, () => calls.push('a'));
    loop.callLater(-2, () => { calls.push('b'); });
    loop.callLater(5, () => loop.stop());
    await loop.runForever();
    assert.deepEqual(calls, ['b', 'a', '0']);
    assert.throws(() => loop.callLater(NaN, () => undefined), TypeError);
    loop.close();
  }
});

void test('stop() before runForever(): the run runs the callbacks ready at its start, then returns (asyncio)', async () => {
  for (const loop of [new NodeEventLoop(), new TestEventLoop()] as EventLoop[]) {
    const calls: string[] = [];
    loop.callSoon(() => { calls.push('first'); loop.callSoon(() => calls.push('next batch')); });
    loop.stop();
    await loop.runForever();
    assert.deepEqual(calls, ['first']);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(loop.isRunning(), false);
    // The request is used up: the next run stops only when asked.
    loop.callLater(10, () => loop.stop());
    await loop.runForever();
    assert.deepEqual(calls, ['first', 'next batch']);
    loop.close();
  }
});

void test('a custom task factory that ignores the options does not lose the task\'s name', async () => {
  const loop = new NodeEventLoop();
  const plain: TaskFactory = (l, coro) => new Task(coro, { loop: l });
  const names = await run(function* () {
    const out: string[] = [];
    loop.setTaskFactory(plain);
    out.push(createTask(sleep(1), { name: 'fetcher' }).getName());
    loop.setTaskFactory(eagerTaskFactory);
    out.push(createTask(sleep(1), { name: 'eager one' }).getName());
    loop.setTaskFactory(null);
    yield* sleep(5);
    return out;
  }, { loop, handleSignals: false });
  assert.deepEqual(names, ['fetcher', 'eager one']);
});
