// One calling convention: every API that runs a body takes a coroutine object or a generator function, which it
// calls once, with no arguments, in the right place (the type side is pinned in test/types/coro.types.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelScope, Condition, Future, InvalidStateError, Lock, NodeEventLoop, Semaphore, TimeoutError, asCompleted, createTask,
  currentTask, ensureFuture, gather, generate, getRunningLoop, moveOnAfter, moveOnAt, put, race, run, shield, sleep,
  startAndForget, startInParallel, taskGroup, timeout, timeoutAt, toCoro, wait, waitFor, type Coro, type Task,
} from '../src/index.js';
import { runVirtual } from '../src/testing/index.js';

/** A generator function that counts its calls and records the task its body starts running in. */
function body<T>(value: T, ms = 1): { fn: () => Coro<T>; calls: number; tasks: (Task<unknown> | undefined)[] } {
  const rec = { fn: undefined as unknown as () => Coro<T>, calls: 0, tasks: [] as (Task<unknown> | undefined)[] };
  function* steps(): Coro<T> {
    rec.tasks.push(currentTask());
    yield* sleep(ms);
    return value;
  }
  rec.fn = (): Coro<T> => { rec.calls++; return steps(); };
  return rec;
}

void test('createTask (and loop.createTask) run a generator function as the new task, calling it once', async () => {
  await runVirtual(function* () {
    const b = body('a');
    const t = createTask(b.fn, { name: 'gen-fn' });
    assert.equal(b.calls, 1);   // called at once: the coroutine is made now, and runs as the task
    assert.equal(yield* t, 'a');
    assert.equal(b.tasks[0], t);
    const c = body(2);
    const u = getRunningLoop().createTask(c.fn);
    assert.equal(yield* u, 2);
    assert.equal(c.tasks[0], u);
    assert.equal(c.calls, 1);
    assert.equal(yield* createTask(sleep(1, 'object')), 'object');   // the coroutine form, as before
  });
});

void test('run, runVirtual and runUntilComplete take a generator function or a coroutine', async () => {
  assert.equal(await run(function* () { yield* sleep(1); return 'fn'; }, { handleSignals: false }), 'fn');
  assert.equal(await run(sleep(1, 'coro'), { handleSignals: false }), 'coro');
  assert.equal(await runVirtual(function* () { yield* sleep(1000); return 'virtual'; }), 'virtual');
  const loop = new NodeEventLoop();
  try {
    assert.equal(await loop.runUntilComplete(function* () { yield* sleep(1); return 'ruc'; }), 'ruc');
  } finally {
    loop.close();
  }
});

void test('ensureFuture and shield make a task of a generator function', async () => {
  await runVirtual(function* () {
    const b = body(1);
    const f = ensureFuture(b.fn);
    assert.ok(f instanceof Future);
    assert.equal(yield* f, 1);
    assert.equal(b.tasks[0], f);
    const s = body(2, 50);
    const outer = shield(s.fn);
    const waiter = createTask(function* () { return yield* outer; });
    yield* sleep(10);
    waiter.cancel();
    yield* sleep(100);
    assert.equal(waiter.cancelled(), true);
    assert.equal(s.calls, 1);   // the shielded body ran on to its end, once
    assert.equal(outer.cancelled(), true);
  });
});

void test('gather, race, wait and asCompleted accept generator functions beside other awaitables', async () => {
  await runVirtual(function* () {
    const a = body('a', 3), b = body('b', 1);
    assert.deepEqual(yield* gather([a.fn, sleep(2, 'x'), b.fn]), ['a', 'x', 'b']);
    assert.deepEqual([a.calls, b.calls], [1, 1]);
    assert.notEqual(a.tasks[0], b.tasks[0]);   // each ran as its own task

    const fast = body('fast', 1), slow = body('slow', 100);
    assert.equal(yield* race([slow.fn, fast.fn]), 'fast');

    const w = body(5, 1);
    const [done, pending] = yield* wait([w.fn, sleep(100, 6)], { returnWhen: 'FIRST_COMPLETED' });
    assert.equal(done.size, 1);
    assert.equal(pending.size, 1);
    assert.equal([...done][0]!.result(), 5);
    for (const p of pending) p.cancel();

    const order: number[] = [];
    for (const next of asCompleted([body(3, 30).fn, body(1, 10).fn, sleep(20, 2)])) order.push(yield* next);
    assert.deepEqual(order, [1, 2, 3]);
  });
});

void test('waitFor runs a generator function under its deadline', async () => {
  await runVirtual(function* () {
    const ok = body('ok', 5);
    assert.equal(yield* waitFor(ok.fn, 100), 'ok');
    assert.equal(ok.tasks[0], currentTask());   // a coroutine is waited on in place, not as another task
    let cleaned = false;
    try {
      yield* waitFor(function* () { try { yield* sleep(1000); } finally { cleaned = true; } }, 10);
      assert.fail('no timeout');
    } catch (e) {
      assert.ok(e instanceof TimeoutError);
    }
    assert.equal(cleaned, true);
    assert.equal(yield* waitFor(function* () { return 'no limit'; }, null), 'no limit');
  });
});

void test('timeout, timeoutAt, moveOnAfter and moveOnAt take a coroutine object as well as a function', async () => {
  await runVirtual(function* () {
    assert.equal(yield* timeout(100, sleep(5, 't')), 't');
    const loop = getRunningLoop();
    assert.equal(yield* timeoutAt(loop.time() + 100, sleep(5, 'ta')), 'ta');
    assert.equal(yield* moveOnAfter(100, sleep(5, 'm')), 'm');
    assert.equal(yield* moveOnAfter(10, sleep(500, 'late')), undefined);
    assert.equal(yield* moveOnAt(loop.time() + 10, sleep(500, 'late')), undefined);
    let threw: unknown;
    try { yield* timeout(10, sleep(500)); } catch (e) { threw = e; }
    assert.ok(threw instanceof TimeoutError);
    assert.equal(yield* timeout(100, function* (d) { assert.equal(typeof d.when(), 'number'); return 'fn'; }), 'fn');
  });
});

void test('CancelScope.run takes a generator function', async () => {
  await runVirtual(function* () {
    const scope = new CancelScope();
    assert.equal(yield* scope.run(function* () { yield* sleep(1); return 7; }), 7);
    const late = new CancelScope({ deadline: getRunningLoop().time() + 10 });
    assert.equal(yield* late.run(function* () { yield* sleep(1000); return 8; }), undefined);
    assert.equal(late.cancelledCaught, true);
  });
});

void test('taskGroup and TaskGroup.createTask take generator functions; a refused one is never called', async () => {
  await runVirtual(function* () {
    const a = body(1, 5);
    let tasks: Task<unknown>[] = [];
    const sum = yield* taskGroup(function* (tg) {
      const t1 = tg.createTask(a.fn);
      const t2 = tg.createTask(function* () { yield* sleep(1); return 2; });
      tasks = [t1, t2];
      return (yield* t1) + (yield* t2);
    });
    assert.equal(sum, 3);
    assert.equal(a.tasks[0], tasks[0]);
    assert.equal(yield* taskGroup(function* () { yield* sleep(1); return 'no tg needed'; }), 'no tg needed');

    let refusedCalls = 0;
    let refusal: unknown;
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(function* (): Coro<void> { yield* sleep(1); throw new Error('child failed'); });
        try { yield* sleep(100); } finally {
          try { tg.createTask(function* () { refusedCalls++; yield* sleep(1); }); } catch (e) { refusal = e; }
        }
      });
    } catch (e) {
      assert.equal((e as Error).message, 'child failed');
    }
    assert.ok(refusal instanceof InvalidStateError);
    assert.equal(refusedCalls, 0);
  });
});

void test('startAndForget, startInParallel and generate take a coroutine or a generator function', async () => {
  await runVirtual(function* () {
    const a = body('p');
    const th = startInParallel(a.fn);
    assert.equal(yield* th.wait(), 'p');
    assert.equal(a.tasks[0], th);
    assert.equal(yield* startInParallel(sleep(1, 'obj')).wait(), 'obj');
    let ran = 0;
    yield* startAndForget(function* () { yield* sleep(1); ran++; });
    yield* startAndForget((function* () { yield* sleep(1); ran++; })());
    assert.equal(ran, 2);
    assert.deepEqual(yield* generate<number>(function* () { yield* put(1); yield* put(2); }).toArray(), [1, 2]);
    assert.deepEqual(yield* generate<number>((function* () { yield* put(3); })()).toArray(), [3]);
  });
});

void test('withLock of Lock, Semaphore and Condition takes a coroutine or a generator function', async () => {
  await runVirtual(function* () {
    const lock = new Lock(), sem = new Semaphore(1), cond = new Condition();
    assert.equal(yield* lock.withLock(function* () { assert.equal(lock.locked(), true); return 1; }), 1);
    assert.equal(yield* lock.withLock(sleep(1, 2)), 2);
    assert.equal(lock.locked(), false);
    assert.equal(yield* sem.withLock(sleep(1, 3)), 3);
    assert.equal(yield* sem.withLock(function* () { assert.equal(sem.locked(), true); return 4; }), 4);
    assert.equal(yield* cond.withLock(sleep(1, 5)), 5);
    assert.equal(yield* cond.withLock(function* () { return 6; }), 6);
  });
});

void test('toCoro: a coroutine as it is, a generator function called once', async () => {
  await runVirtual(function* () {
    const c = sleep(1, 1);
    assert.equal(toCoro(c), c);
    const b = body(2);
    const made = toCoro(b.fn);
    assert.equal(b.calls, 1);
    assert.equal(yield* made, 2);
  });
});
