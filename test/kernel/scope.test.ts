import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelScope, createTask, Future, getRunningLoop, run, sleep, TimeoutError, type Coro } from '../../src/index.js';

const opts = { handleSignals: false };

/** A minimal timeout built on CancelScope, as the toolkit builds its own. */
function* within<T>(ms: number, body: Coro<T>): Coro<T> {
  const scope = new CancelScope({ deadline: getRunningLoop().time() + ms, name: `within(${ms})` });
  const v = yield* scope.run(body);
  if (scope.cancelledCaught) throw new TimeoutError();
  return v as T;
}

test('a scope halts its body at the deadline; the body\'s finally runs and may yield', async () => {
  const trace: string[] = [];
  await run(function* () {
    const scope = new CancelScope({ deadline: getRunningLoop().time() + 10 });
    const v = yield* scope.run((function* () {
      try { yield* sleep(1000); return 'finished'; } finally { trace.push('body finally'); yield* sleep(1); trace.push('body cleaned'); }
    })());
    trace.push(`after scope: ${String(v)} caught=${scope.cancelledCaught}`);
  }, opts);
  assert.deepEqual(trace, ['body finally', 'body cleaned', 'after scope: undefined caught=true']);
});

test('a caller that catches the scope\'s error carries on normally (the reason scopes are not built on return())', async () => {
  const trace: string[] = [];
  function* fetchWithFallback(): Coro<string> {
    try {
      return yield* within(5, (function* () { yield* sleep(1000); return 'slow answer'; })());
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      trace.push('caught TimeoutError');
      return 'fallback';
    }
  }
  const v = await run(function* () {
    const a = yield* fetchWithFallback();
    trace.push(`caller got ${a}`);
    yield* sleep(1);
    trace.push('caller still running');
    return a;
  }, opts);
  assert.equal(v, 'fallback');
  assert.deepEqual(trace, ['caught TimeoutError', 'caller got fallback', 'caller still running']);
});

test('nested scopes each answer for their own deadline only', async () => {
  const trace: string[] = [];
  await run(function* () {
    // inner deadline first: only the inner scope times out
    const r1 = yield* within(100, (function* () {
      try { yield* within(5, sleep(1000)); } catch (e) { trace.push(`inner: ${(e as Error).name}`); }
      yield* sleep(1);
      return 'outer completed';
    })());
    trace.push(r1);
    // outer deadline first: the inner scope must not claim it
    try {
      yield* within(5, (function* () {
        try { yield* within(100, sleep(1000)); } catch (e) { trace.push(`inner wrongly saw ${(e as Error).name}`); }
        trace.push('never');
      })());
    } catch (e) { trace.push(`outer: ${(e as Error).name}`); }
  }, opts);
  assert.deepEqual(trace, ['inner: TimeoutError', 'outer completed', 'outer: TimeoutError']);
});

test('a task-level cancel unwinds through a scope without being converted', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try {
        yield* within(1000, (function* () { try { yield* sleep(1000); } finally { trace.push('body finally'); } })());
        trace.push('never: the cancel must not become a value');
      } catch (e) { trace.push(`never caught ${String(e)}`); } finally { trace.push('task finally'); }
    })());
    yield* sleep(2);
    t.cancel();
    yield* sleep(2);
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['body finally', 'task finally']);
});

test('a scope\'s deadline is ignored while a task-level cancel unwinds its cleanup', async () => {
  const trace: string[] = [];
  await run(function* () {
    const loop = getRunningLoop();
    const scope = new CancelScope({ deadline: loop.time() + 60_000 });
    const entered = new Future<void>(), cleaning = new Future<void>();
    const t = createTask(scope.run((function* () {
      try { entered.setResult(); yield* sleep(60_000); } finally { trace.push('cleanup'); cleaning.setResult(); yield* sleep(30); trace.push('cleanup done'); }
    })()));
    yield* entered;
    t.cancel();
    yield* cleaning;
    scope.deadline = loop.time() - 1;   // the scope's deadline passes during the cleanup: ignored
    try { yield* t; } catch { /* cancelled */ }
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['cleanup', 'cleanup done']);
});

test('a second cancel interrupts a cleanup running inside a scope', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      yield* within(1000, (function* () {
        try { yield* sleep(1000); } finally { trace.push('cleanup'); yield* sleep(1000); trace.push('never'); }
      })());
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    assert.equal(t.cancelled(), true);
  }, opts);
  assert.deepEqual(trace, ['cleanup']);
});

test('a deadline that passes while the body cleans up after its own error interrupts that cleanup', async () => {
  const trace: string[] = [];
  await run(function* () {
    try {
      yield* within(10, (function* () {
        try { throw new Error('body failed'); } finally { trace.push('cleanup'); yield* sleep(1000); trace.push('never'); }
      })());
    } catch (e) { trace.push(`caller: ${(e as Error).name}`); }
  }, opts);
  assert.deepEqual(trace, ['cleanup', 'caller: TimeoutError']);
});

test('cancel() from another task halts the scope; the deadline can be moved; a pre-cancelled scope skips its body', async () => {
  await run(function* () {
    const loop = getRunningLoop();
    const scope = new CancelScope();
    const t = createTask((function* () { return yield* scope.run(sleep(1000, 'late')); })());
    yield* sleep(2);
    scope.cancel();
    assert.equal(yield* t, undefined);
    assert.equal(scope.cancelledCaught, true);

    const moved = new CancelScope({ deadline: loop.time() + 5 });
    const start = loop.time();
    const u = createTask((function* () {
      return yield* moved.run((function* () {
        moved.deadline = null;      // no deadline any more
        return yield* sleep(40, 'done');
      })());
    })());
    assert.equal(yield* u, 'done');
    assert.ok(loop.time() - start >= 39);

    const pre = new CancelScope();
    pre.cancel();
    let ran = false;
    const v = yield* pre.run((function* () { ran = true; return 1; })());
    assert.equal(v, undefined);
    assert.equal(ran, false);
    assert.equal(pre.cancelledCaught, true);
  }, opts);
});

test('a scope runs once and only inside a task', async () => {
  await run(function* () {
    const s = new CancelScope();
    yield* s.run(sleep(0));
    assert.throws(() => s.run(sleep(0)).next(), /only be run once/);
  }, opts);
  assert.throws(() => new CancelScope().run(sleep(0)).next(), /inside a task/);
});

test('the body\'s value comes through; errors from the body propagate unchanged', async () => {
  await run(function* () {
    const s = new CancelScope({ deadline: getRunningLoop().time() + 1000 });
    assert.equal(yield* s.run(sleep(1, 7)), 7);
    assert.equal(s.cancelledCaught, false);
    const s2 = new CancelScope({ deadline: getRunningLoop().time() + 1000 });
    let msg = '';
    try { yield* s2.run((function* () { yield* sleep(1); throw new Error('inner'); })()); } catch (e) { msg = (e as Error).message; }
    assert.equal(msg, 'inner');
  }, opts);
});

test('an enclosing scope\'s halt through an inner scope whose body cleanup suspends reaches the frames above the inner scope', async () => {
  const trace: string[] = [];
  await run(function* () {
    try {
      yield* within(3, (function* () {
        yield* within(1000, (function* () { try { yield* sleep(1000); } finally { yield* sleep(2); trace.push('inner body cleaned up'); } })());
        trace.push('never: the outer halt was lost');
        yield* sleep(1000);
      })());
    } catch (e) { trace.push(`outer: ${(e as Error).name}`); }
  }, opts);
  assert.deepEqual(trace, ['inner body cleaned up', 'outer: TimeoutError']);
});

test('a task-level cancel through a scope whose body cleanup suspends reaches the frames above the scope', async () => {
  const trace: string[] = [];
  await run(function* () {
    const t = createTask((function* () {
      try {
        yield* within(1000, (function* () { try { yield* sleep(1000); } finally { yield* sleep(2); trace.push('body cleaned up'); } })());
        trace.push('never: continued after the scope');
        yield* sleep(1000);
      } finally { trace.push('task finally'); }
    })());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { trace.push((e as Error).name); }
  }, opts);
  assert.deepEqual(trace, ['body cleaned up', 'task finally', 'CancelledError']);
});

test('new CancelScope({ signal }): an abort halts the body; the scope\'s own signal aborts with a CancelledError caused by it', async () => {
  await run(function* () {
    const ac = new AbortController();
    const scope = new CancelScope({ signal: ac.signal });
    const t = createTask((function* () { return yield* scope.run(sleep(60_000, 'late')); })());
    yield* sleep(1);
    assert.equal(scope.signal.aborted, false);
    ac.abort(new Error('from outside'));
    assert.equal(scope.signal.aborted, true);   // at once, not at the next step
    assert.equal(yield* t, undefined);
    assert.equal(scope.cancelledCaught, true);
    assert.equal(((scope.signal.reason as Error).cause as Error).message, 'from outside');

    const pre = new CancelScope({ signal: AbortSignal.abort() });
    let ran = false;
    assert.equal(yield* pre.run((function* () { ran = true; yield* sleep(1); return 1; })()), undefined);
    assert.equal(ran, false);
    assert.equal(pre.cancelledCaught, true);
  }, opts);
});

test('a scope\'s signal made before it runs aborts when it is cancelled before it runs; a deadline gives a TimeoutError reason', async () => {
  await run(function* () {
    const early = new CancelScope();
    const s = early.signal;
    early.cancel();
    assert.equal((s.reason as Error).name, 'CancelledError');
    const d = new CancelScope({ deadline: getRunningLoop().time() + 2 });
    yield* d.run(sleep(60_000));
    assert.equal((d.signal.reason as Error).name, 'TimeoutError');
  }, opts);
});

test('a deadline already past: the body runs to its first suspension, then is halted; moved into the past from outside: halted at once', async () => {
  const trace: string[] = [];
  await run(function* () {
    const loop = getRunningLoop();
    const past = new CancelScope({ deadline: loop.time() - 1 });
    yield* past.run((function* () { trace.push('body starts'); yield* sleep(0); trace.push('never'); })());
    trace.push(`caught ${past.cancelledCaught}`);
    const moved = new CancelScope({ deadline: loop.time() + 60_000 });
    const t = createTask((function* () { return yield* moved.run((function* () { yield* sleep(60_000); return 'late'; })()); })());
    yield* sleep(1);
    const t0 = loop.time();
    moved.deadline = loop.time() - 1;
    trace.push(`moved: ${String(yield* t)} after ${loop.time() - t0 < 30 ? 'no wait' : 'a wait'}`);
  }, opts);
  assert.deepEqual(trace, ['body starts', 'caught true', 'moved: undefined after no wait']);
});
