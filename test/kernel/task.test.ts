import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError, createTask, currentTask, Future, getRunningLoop, InvalidStateError, moveOnAfter, moveOnAt, NodeEventLoop, rehalt, run,
  sleep, Task, timeout, TimeoutError, waitFor, type Coro, type ExceptionContext,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

const opts = { handleSignals: false };

test('cancel() halts the coroutine where it waits; finally runs, catch never sees it', async () => {
  const trace: string[] = [];
  await run(function* () {
    function* child(): Coro<void> {
      try {
        trace.push('child waiting');
        yield* sleep(1000);
        trace.push('never');
      } catch (e) {
        trace.push(`catch saw ${String(e)}`);
      } finally {
        trace.push('child finally');
      }
    }
    const t = createTask(child());
    yield* sleep(1);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    try { yield* t; } catch (e) { trace.push(`awaiting: ${(e as Error).name}`); }
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  }, opts);
  assert.deepEqual(trace, ['child waiting', 'child finally', 'awaiting: CancelledError']);
});

test('cleanup in finally may yield*, and runs innermost first down a nested yield* chain', async () => {
  const trace: string[] = [];
  // A finally that waits ends with rehalt(): JavaScript's yield* would otherwise resume the caller normally.
  function* inner(): Coro<void> {
    try { yield* sleep(1000); } finally { trace.push('inner finally'); yield* sleep(2); trace.push('inner cleaned'); yield* rehalt(); }
  }
  function* middle(): Coro<void> {
    try { yield* inner(); trace.push('never: middle resumed after the halt'); } finally { trace.push('middle finally'); yield* sleep(2); trace.push('middle cleaned'); yield* rehalt(); }
  }
  function* outer(): Coro<void> {
    try { yield* middle(); } finally { trace.push('outer finally'); }
  }
  await run(function* () {
    const t = createTask(outer());
    yield* sleep(1);
    t.cancel();
    yield* sleep(50);
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['inner finally', 'inner cleaned', 'middle finally', 'middle cleaned', 'outer finally']);
});

test('a second cancel() interrupts the cleanup in progress', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try {
        try { yield* sleep(1000); } finally { trace.push('cleanup start'); yield* sleep(1000); trace.push('cleanup end (never)'); }
      } finally { trace.push('outer finally still runs'); }
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(5);
    assert.equal(t.done(), false);
    t.cancel();
    assert.equal(t.cancelling(), 2);
    yield* sleep(1);
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['cleanup start', 'outer finally still runs']);
});

test('cancelling a task cancels the future it waits on, and a child task it awaits', async () => {
  await run(function* () {
    const f = new Future<number>();
    const a = createTask((function* () { return yield* f; })());
    yield* sleep(1);
    a.cancel();
    yield* sleep(1);
    assert.equal(f.cancelled(), true);
    assert.equal(a.cancelled(), true);

    const trace: string[] = [];
    const child = createTask((function* () { try { yield* sleep(1000); } finally { trace.push('child finally'); } })());
    const parent = createTask((function* () { try { yield* child; } finally { trace.push('parent finally'); } })());
    yield* sleep(1);
    parent.cancel();
    yield* sleep(1);
    assert.deepEqual(trace, ['child finally', 'parent finally']);
    assert.equal(child.cancelled(), true);
    assert.equal(parent.cancelled(), true);
  }, opts);
});

test('a task cancelled before its first step never runs its body', async () => {
  let ran = false;
  await run(function* () {
    const t = createTask((function* () { ran = true; })());
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.equal(ran, false);
});

test('a task can cancel itself; it halts at its next suspension', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try {
        currentTask()!.cancel();
        trace.push('still running until it waits');
        yield* sleep(10);
        trace.push('never');
      } finally { trace.push('finally'); }
    })());
    yield* sleep(5);
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['still running until it waits', 'finally']);
});

test('an error thrown by cleanup replaces the cancellation', async () => {
  await run(function* () {
    // eslint-disable-next-line no-unsafe-finally -- the point of the test
    const t = createTask((function* () { try { yield* sleep(1000); } finally { throw new Error('cleanup failed'); } })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    assert.equal(t.cancelled(), false);
    assert.equal((t.exception() as Error).message, 'cleanup failed');
  }, opts);
});

test('task.signal aborts on cancel, for Promise-based APIs', async () => {
  await run(function* () {
    const t = createTask((function* () { yield* sleep(1000); })());
    const signal = t.signal;
    assert.equal(signal.aborted, false);
    let heard = false;
    signal.addEventListener('abort', () => { heard = true; });
    t.cancel();
    assert.equal(signal.aborted, true);
    assert.equal(heard, true);
    assert.ok(signal.reason instanceof CancelledError);
    yield* sleep(1);
  }, opts);
});

test('a Promise-based task cannot be halted: cancel() cancels its future and aborts its signal', async () => {
  await run(function* () {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => { resolve = r; });
    const t = createTask(p);
    const s = t.signal;
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(s.aborted, true);
    resolve(1); // settling later changes nothing
    yield* sleep(1);
    assert.equal(t.cancelled(), true);
  }, opts);
});

test('a coroutine may yield a bare Promise, and yield* fromPromise-free thenables', async () => {
  // @ts-expect-error: untyped JavaScript may yield a Promise; tulip's types allow only yield*
  const v = await run(function* () {
    const a = (yield Promise.resolve(20)) as number;
    let msg = '';
    try { yield Promise.reject(new Error('rejected')); } catch (e) { msg = (e as Error).message; }
    return `${a + 1} ${msg}`;
  }, opts);
  assert.equal(v, '21 rejected');
});

test('yielding something that is not awaitable throws a TypeError into the coroutine', async () => {
  // @ts-expect-error: a yield without * is a compile error; untyped JavaScript gets this TypeError
  const msg = await run(function* () {
    try { yield 42; } catch (e) { return (e as Error).message; }
    return 'no error';
  }, opts);
  assert.match(msg as string, /yielded 42/);
});

test('a coroutine that throws CancelledError (awaiting a cancelled task) ends cancelled', async () => {
  await run(function* () {
    const a = createTask((function* () { yield* sleep(1000); })());
    const b = createTask((function* () { yield* a; })());
    yield* sleep(1);
    a.cancel();
    yield* sleep(2);
    assert.equal(b.cancelled(), true);
  }, opts);
});

test('await task works from async code; names and ids', async () => {
  const loop = new NodeEventLoop();
  const t = loop.createTask((function* () { yield* sleep(1); return 'v'; })(), { name: 'worker' });
  assert.equal(t.getName(), 'worker');
  t.setName('w2');
  assert.equal(t.getName(), 'w2');
  assert.ok(t instanceof Task);
  assert.equal(await loop.runUntilComplete(t), 'v');
  assert.equal(await t, 'v');
  const u = loop.createTask((function* () { yield* sleep(0); })());
  assert.match(u.getName(), /^Task-\d+$/);
  await loop.runUntilComplete(u);
  loop.close();
});

test('a halted sleep leaves no timer behind', async () => {
  const loop = new NodeEventLoop();
  await loop.runUntilComplete((function* () {
    const t = createTask(sleep(60_000));
    yield* sleep(0);
    assert.equal(loop.pendingTimers(), 1);
    t.cancel();
    yield* sleep(0);
    assert.equal(t.cancelled(), true);
    assert.equal(loop.pendingTimers(), 0);
  })());
  loop.close();
});

test('a task\'s outcome cannot be set from outside', async () => {
  await run(function* () {
    const t = createTask(sleep(1, 1));
    assert.throws(() => t.setResult(2), /not allowed/);
    assert.throws(() => t.setException(new Error('x')), /not allowed/);
    assert.equal(yield* t, 1);
  }, opts);
});

test('a cancel through a frame whose finally suspends does not resume the frames above it normally', async () => {
  const trace: string[] = [];
  function* inner(): Coro<void> {
    try { yield* sleep(1000); } finally { yield* sleep(1); trace.push('inner cleaned up'); yield* rehalt(); }
  }
  function* outer(): Coro<void> {
    try {
      yield* inner();
      trace.push('never: outer continued after inner\'s cleanup');
      yield* sleep(5);
    } finally { trace.push('outer finally'); }
  }
  await run(function* () {
    const t = createTask(outer());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { trace.push(`task: ${(e as Error).name}`); }
  }, { handleSignals: false });
  assert.deepEqual(trace, ['inner cleaned up', 'outer finally', 'task: CancelledError']);
});

test('without rehalt(), JavaScript resumes the frame above a suspended cleanup normally (the limitation rehalt() exists for)', async () => {
  const trace: string[] = [];
  function* inner(): Coro<void> { try { yield* sleep(1000); } finally { yield* sleep(1); } }
  function* outer(): Coro<void> { yield* inner(); trace.push('outer continued'); }
  await run(function* () {
    const t = createTask(outer());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    assert.ok(t.cancelled());
  }, { handleSignals: false });
  assert.deepEqual(trace, ['outer continued']);
});

test('rehalt() outside a halt does nothing but let one batch pass', async () => {
  const v = await run(function* () {
    yield* rehalt();
    return 'carried on';
  }, { handleSignals: false });
  assert.equal(v, 'carried on');
});

// ---- asyncio behaviours (issue 15, class 7) ----------------------------------------

test('a timeout, moveOnAfter or waitFor started in the cleanup of a cancelled task fires ("close within 20 ms" does not hang)', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try { yield* sleep(60_000); } finally {
        try { yield* timeout(20, function* () { yield* sleep(60_000); }); } catch (e) { trace.push(`timeout: ${(e as Error).name}`); }
        trace.push(`moveOnAfter: ${String(yield* moveOnAfter(5, () => sleep(60_000, 'late')))}`);
        try { yield* waitFor(sleep(60_000), 5); } catch (e) { trace.push(`waitFor: ${(e as Error).name}`); }
      }
    })());
    yield* sleep(1);
    t.cancel();
    const winner = yield* moveOnAfter(5_000, function* () { try { yield* t; } catch { /* cancelled */ } return 'task ended'; });
    trace.push(winner ?? 'hung');
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['timeout: TimeoutError', 'moveOnAfter: undefined', 'waitFor: TimeoutError', 'task ended']);
});

test('a second cancel still interrupts a timeout scope running in a cleanup', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try { yield* sleep(60_000); } finally {
        try { yield* timeout(60_000, function* () { try { yield* sleep(60_000); } finally { trace.push('inner cleanup'); } }); } finally { trace.push('after timeout'); }
        trace.push('never');
      }
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { trace.push((e as Error).name); }
  }, opts);
  assert.deepEqual(trace, ['inner cleanup', 'after timeout', 'CancelledError']);
});

test('a task cancelled while it waits on a task whose cleanup then fails gets that error (not reported as never retrieved); the halt follows at its next suspension', async () => {
  const trace: string[] = [];
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const b = createTask((function* () {
      // eslint-disable-next-line no-unsafe-finally -- the point of the test
      try { yield* sleep(60_000); } finally { yield* sleep(1); throw new Error('cleanup of b failed'); }
    })(), { name: 'b' });
    const a = createTask((function* () {
      try {
        yield* b;
      } catch (e) {
        trace.push(`a caught: ${(e as Error).message}`);
        yield* sleep(60_000);
        trace.push('never: the halt was lost');
      } finally { trace.push('a finally'); }
    })(), { name: 'a' });
    yield* sleep(1);
    a.cancel();
    try { yield* a; } catch (e) { trace.push(`a ended: ${(e as Error).name}`); }
    // uncaught, the error is the waiter's outcome
    const c = createTask((function* () {
      // eslint-disable-next-line no-unsafe-finally -- the point of the test
      try { yield* sleep(60_000); } finally { yield* sleep(1); throw new Error('c failed'); }
    })(), { name: 'c' });
    const d = createTask((function* () { yield* c; })(), { name: 'd' });
    yield* sleep(1);
    d.cancel();
    try { yield* d; } catch (e) { trace.push(`d ended: ${(e as Error).message}`); }
  }, errors);
  assert.deepEqual(trace, ['a caught: cleanup of b failed', 'a finally', 'a ended: CancelledError', 'd ended: c failed']);
  assert.deepEqual(errors.map((e) => e.message), []);
});

test('waitFor around a task whose cleanup fails after the timeout gives that error, not TimeoutError', async () => {
  const errors: ExceptionContext[] = [];
  const r = await runRecording(function* () {
    const b = createTask((function* () {
      // eslint-disable-next-line no-unsafe-finally -- the point of the test
      try { yield* sleep(60_000); } finally { throw new Error('cleanup failed'); }
    })());
    try { yield* waitFor(b, 5); return 'no error'; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
  }, errors);
  assert.equal(r, 'Error: cleanup failed');
  assert.deepEqual(errors, []);
});

test('timeout(0) and a deadline already past halt a body that only does sleep(0) at its first suspension', async () => {
  const r = await run(function* () {
    let steps = 0;
    const busy = function* (): Coro<void> { for (;;) { steps++; yield* sleep(0); } };
    let timedOut = false;
    try { yield* timeout(0, busy); } catch (e) { timedOut = e instanceof TimeoutError; }
    const first = steps;
    steps = 0;
    const loop = getRunningLoop();
    yield* moveOnAt(loop.time() - 10, busy);
    const past = steps;
    // rescheduled into the past from inside the body: halted at its next suspension
    steps = 0;
    yield* moveOnAfter(60_000, function* (d) { steps++; yield* sleep(0); d.reschedule(loop.time() - 1); yield* busy(); });
    return { timedOut, first, past, rescheduled: steps };
  }, opts);
  assert.deepEqual(r, { timedOut: true, first: 1, past: 1, rescheduled: 2 });
});

test('waitFor(coro, 0) does not start the coroutine; waitFor(future, 0) gives a done future\'s result and cancels a pending one', async () => {
  await run(function* () {
    let started = false;
    let err: unknown;
    try { yield* waitFor((function* () { started = true; yield* sleep(1); return 1; })(), 0); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    assert.equal(started, false);
    const done = new Future<string>();
    done.setResult('ready');
    assert.equal(yield* waitFor(done, 0), 'ready');
    const t = createTask(sleep(1000));
    try { yield* waitFor(t, -5); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    assert.equal(t.cancelled(), true);
  }, opts);
});

test('a task that cancels itself and returns without suspending ends cancelled (as in asyncio)', async () => {
  await run(function* () {
    const t = createTask((function* () { currentTask()!.cancel(); return 'value'; })());
    let err: unknown;
    try { yield* t; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
    assert.equal(t.cancelled(), true);
  }, opts);
});

test('a task that waits on itself fails at once with a clear error (no stack overflow when cancelled)', async () => {
  await run(function* () {
    const self: { t?: Task<unknown> } = {};
    const t = self.t = createTask((function* (): Coro<void> { yield* sleep(1); yield* self.t!; })(), { name: 'narcissus' });
    let err: unknown;
    try { yield* t; } catch (e) { err = e; }
    assert.ok(err instanceof InvalidStateError, String(err));
    assert.match(err.message, /task 'narcissus' cannot wait on itself/);
    const u = self.t = createTask((function* (): Coro<void> { try { yield* self.t!; } catch { yield* sleep(60_000); } })());
    yield* sleep(1);
    u.cancel();
    try { yield* u; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
  }, opts);
});
