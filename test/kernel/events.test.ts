import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allTasks, createTask, currentTask, DefaultEventLoopPolicy, eagerTaskFactory, getEventLoop, getEventLoopPolicy, getRunningLoop,
  NodeEventLoop, newEventLoop, run, setEventLoop, setEventLoopPolicy, sleep, Task, type EventLoop,
} from '../../src/index.js';

test('getRunningLoop() throws outside a loop and returns the loop inside one', async () => {
  assert.throws(() => getRunningLoop(), /no running event loop/);
  const loop = new NodeEventLoop();
  const seen = await loop.runUntilComplete((function* () { yield* sleep(0); return getRunningLoop(); })());
  assert.equal(seen, loop);
  loop.close();
});

test('the default policy makes Node loops; setEventLoop/getEventLoop keep the current one', () => {
  const policy = getEventLoopPolicy();
  const loop = newEventLoop();
  assert.ok(loop instanceof NodeEventLoop);
  setEventLoop(loop);
  assert.equal(getEventLoop(), loop);
  setEventLoop(null);
  assert.throws(() => getEventLoop(), /no current event loop/);
  loop.close();
  assert.equal(getEventLoopPolicy(), policy);
});

test('a custom policy decides what newEventLoop() and run() make', async () => {
  let made = 0;
  setEventLoopPolicy(new DefaultEventLoopPolicy(() => { made++; return new NodeEventLoop(); }));
  try {
    assert.equal(await run(function* () { yield* sleep(0); return 1; }, { handleSignals: false }), 1);
    assert.equal(made, 1);
  } finally {
    setEventLoopPolicy(null);
  }
});

test('setTaskFactory replaces how the loop makes tasks', async () => {
  const loop = new NodeEventLoop();
  const names: string[] = [];
  loop.setTaskFactory((l: EventLoop, coro, opts) => {
    const t = new Task(coro, { loop: l, name: `made-${opts?.name ?? 'x'}` });
    names.push(t.getName());
    return t;
  });
  assert.equal(typeof loop.getTaskFactory(), 'function');
  const v = await loop.runUntilComplete((function* () {
    const t = createTask(sleep(1, 5), { name: 'child' });
    return yield* t;
  })());
  assert.equal(v, 5);
  assert.deepEqual(names, ['made-x', 'made-child']);
  loop.setTaskFactory(null);
  loop.close();
});

test('currentTask() and allTasks() see the running and the pending tasks', async () => {
  await run(function* () {
    const me = currentTask()!;
    assert.equal(me.getName(), 'main');
    const a = createTask(sleep(50), { name: 'a' });
    const b = createTask(sleep(50), { name: 'b' });
    const names = [...allTasks()].map((t) => t.getName()).sort();
    assert.deepEqual(names, ['a', 'b', 'main']);
    a.cancel(); b.cancel();
    yield* sleep(1);
    assert.deepEqual([...allTasks()].map((t) => t.getName()), ['main']);
    assert.match(String(me), /<Task 'main' pending/);
  }, { handleSignals: false });
  assert.equal(currentTask(), undefined);
});

test('runUntilComplete accepts a coroutine, a future or a Promise', async () => {
  const loop = new NodeEventLoop();
  assert.equal(await loop.runUntilComplete(sleep(1, 'coro')), 'coro');
  assert.equal(await loop.runUntilComplete(Promise.resolve('promise')), 'promise');
  const f = loop.createFuture<string>();
  loop.callLater(1, () => f.setResult('future'));
  assert.equal(await loop.runUntilComplete(f), 'future');
  loop.close();
});

test('eagerTaskFactory runs a task\'s first step inside createTask()', async () => {
  const loop = new NodeEventLoop();
  loop.setTaskFactory(eagerTaskFactory);
  const trace: string[] = [];
  await loop.runUntilComplete((function* () {
    const t = createTask((function* () { trace.push('child step 1'); yield* sleep(1); trace.push('child step 2'); return 3; })());
    trace.push('after createTask');
    const done = createTask((function* () { return 'at once'; })());
    assert.equal(done.done(), true);   // finished without touching the scheduler
    assert.equal(done.result(), 'at once');
    assert.equal(yield* t, 3);
  })());
  assert.deepEqual(trace, ['child step 1', 'after createTask', 'child step 2']);
  loop.close();
});
