import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelOn, CancelledError, createTask, currentSignal, getRunningLoop, sleep, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('cancelOn: an abort from outside halts the body (its cleanup runs) and cancelOn returns undefined; the caller carries on', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const ac = new AbortController();
    let inner: AbortSignal | undefined;
    const t = createTask(cancelOn(ac.signal, function* () {
      inner = currentSignal();
      try { yield* sleep(60_000); return 'finished'; } finally { yield* sleep(1); trace.push('body cleaned up'); }
    }));
    yield* sleep(2);
    ac.abort('user pressed stop');
    trace.push(`result: ${String(yield* t)}`);
    assert.ok(inner!.reason instanceof CancelledError);
    assert.equal((inner!.reason).cause, 'user pressed stop');
    trace.push(`the task is not cancelled: ${!t.cancelled()}`);
  });
  assert.deepEqual(trace, ['body cleaned up', 'result: undefined', 'the task is not cancelled: true']);
});

void test('cancelOn: a signal already aborted halts the body at entry (it never starts); a signal that never aborts changes nothing', async () => {
  await runRecording(function* () {
    let started = false;
    const v = yield* cancelOn(AbortSignal.abort(), function* () { started = true; return 1; });
    assert.equal(v, undefined);
    assert.equal(started, false);
    const body: Coro<string> = (function* () { yield* sleep(1); return 'done'; })();
    assert.equal(yield* cancelOn(new AbortController().signal, body), 'done');
  });
});

void test('cancelOn(AbortSignal.timeout(ms)) works as a deadline; the body sees a TimeoutError reason', async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const t0 = loop.time();
    let reason: unknown;
    const v = yield* cancelOn(AbortSignal.timeout(30), function* () {
      const s = currentSignal();
      try { yield* sleep(60_000); } finally { reason = s.reason; }
      return 'late';
    });
    return { v, reason, waited: loop.time() - t0 };
  });
  assert.equal(r.v, undefined);
  assert.ok(r.reason instanceof TimeoutError, String(r.reason));
  assert.ok(r.waited >= 25 && r.waited < 10_000, String(r.waited));
});

void test('many scopes on one signal: one abort halts them all, with no listener-leak warning; a scope that ended is not called', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.name); };
  process.on('warning', onWarning);
  try {
    const r = await runRecording(function* () {
      const ac = new AbortController();
      assert.equal(yield* cancelOn(ac.signal, sleep(1, 'ended before')), 'ended before');
      const ts = Array.from({ length: 50 }, (_, i) => createTask(cancelOn(ac.signal, sleep(60_000, i))));
      yield* sleep(1);
      ac.abort();
      const vs: unknown[] = [];
      for (const t of ts) vs.push(yield* t);
      return vs;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(r, new Array(50).fill(undefined));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});
