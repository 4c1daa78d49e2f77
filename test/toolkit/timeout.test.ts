import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTask, getRunningLoop, InvalidStateError, moveOnAfter, moveOnAt, sleep, taskGroup, timeout, timeoutAt,
  type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* catchName<T>(c: Coro<T>): Coro<string> {
  try { return `value ${String(yield* c)}`; } catch (e) { return (e as Error).name; }
}

void test('timeout: the body is halted at the deadline, its finally runs (and may yield), then TimeoutError', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const r = yield* catchName(timeout(5, function* () {
      try { yield* sleep(1000); return 'slow'; } finally { trace.push('cleanup start'); yield* sleep(1); trace.push('cleanup end'); }
    }));
    trace.push(r);
    trace.push(yield* catchName(timeout(100, function* () { yield* sleep(1); return 'fast'; })));
  });
  assert.deepEqual(trace, ['cleanup start', 'cleanup end', 'TimeoutError', 'value fast']);
});

void test('a caller that catches TimeoutError carries on; the task is not cancelled', async () => {
  await runRecording(function* () {
    const r = yield* catchName(timeout(1, () => sleep(1000)));
    assert.equal(r, 'TimeoutError');
    yield* sleep(1);
    assert.equal(yield* timeout(50, () => sleep(1, 'still fine')), 'still fine');
  });
});

void test('moveOnAfter returns undefined on timeout, the value otherwise; null means no deadline', async () => {
  await runRecording(function* () {
    assert.equal(yield* moveOnAfter(1, () => sleep(1000, 'late')), undefined);
    assert.equal(yield* moveOnAfter(100, () => sleep(1, 'early')), 'early');
    assert.equal(yield* timeout(null, () => sleep(5, 'no limit')), 'no limit');
    assert.equal(yield* timeoutAt(null, (d) => { assert.equal(d.when(), null); return sleep(1, 'none'); }), 'none');
    assert.equal(yield* moveOnAt(getRunningLoop().time() + 1, () => sleep(1000, 'late')), undefined);
  });
});

void test('timeoutAt uses loop time; Deadline.when() reports it', async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    const when = loop.time() + 5;
    const r = yield* catchName(timeoutAt(when, function* (d) { assert.equal(d.when(), when); yield* sleep(1000); }));
    assert.equal(r, 'TimeoutError');
    assert.ok(loop.time() >= when);
  });
});

void test('nested scopes in any order each answer for their own deadline', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    // inner first
    trace.push(yield* catchName(timeout(200, function* () {
      trace.push(`inner: ${yield* catchName(timeout(2, () => sleep(1000)))}`);
      yield* sleep(1);
      return 'outer ok';
    })));
    // outer first: the inner scope must not claim the outer deadline
    trace.push(yield* catchName(timeout(2, function* () {
      trace.push(`inner: ${yield* catchName(timeout(500, () => sleep(1000)))} (wrong)`);
    })));
    // moveOnAfter outside, timeout inside, outer first
    const v = yield* moveOnAfter(2, function* () {
      try { yield* timeout(500, () => sleep(1000)); } catch { trace.push('inner caught (wrong)'); }
      return 'never';
    });
    trace.push(`moveOn: ${String(v)}`);
    // same deadline for both: the outer one wins
    const d = getRunningLoop().time() + 2;
    trace.push(yield* catchName(timeoutAt(d, function* () {
      try { yield* timeoutAt(d, () => sleep(1000)); } catch { trace.push('inner caught (wrong)'); }
    })));
  });
  assert.deepEqual(trace, ['inner: TimeoutError', 'value outer ok', 'TimeoutError', 'moveOn: undefined', 'TimeoutError']);
});

void test('a deadline passing while the body cleans up after its own error does not throw twice', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const r = yield* catchName(timeout(5, function* () {
      try {
        throw new Error('body failed');
      } finally {
        yield* sleep(1000);   // the deadline passes here: this cleanup is interrupted
        trace.push('never');
      }
    }));
    trace.push(r);
    yield* sleep(10);
    trace.push('carried on');
  });
  assert.deepEqual(trace, ['TimeoutError', 'carried on']);
});

void test('an expired scope whose body is cleaning up is not halted again by moving its deadline', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let deadline: { reschedule(w: number | null): void; expired(): boolean } | undefined;
    const r = yield* catchName(timeout(2, function* (d) {
      deadline = d;
      try { yield* sleep(1000); } finally {
        trace.push(`expired: ${d.expired()}`);
        assert.throws(() => d.reschedule(getRunningLoop().time() + 1), InvalidStateError);
        yield* sleep(5);
        trace.push('cleanup finished');
      }
    }));
    trace.push(r);
    assert.throws(() => deadline!.reschedule(null), InvalidStateError);
  });
  assert.deepEqual(trace, ['expired: true', 'cleanup finished', 'TimeoutError']);
});

void test('Deadline.reschedule: later, earlier, and null (no deadline)', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const loop = getRunningLoop();
    trace.push(yield* catchName(timeout(5, function* (d) {
      d.reschedule(loop.time() + 50);
      yield* sleep(20);
      assert.equal(d.expired(), false);
      return 'extended';
    })));
    trace.push(yield* catchName(timeout(1000, function* (d) {
      d.reschedule(loop.time() + 2);
      yield* sleep(1000);
    })));
    trace.push(yield* catchName(timeout(2, function* (d) {
      d.reschedule(null);
      assert.equal(d.when(), null);
      yield* sleep(10);
      return 'unlimited';
    })));
    trace.push(yield* catchName(timeout(1000, function* (d) {
      d.reschedule(loop.time() - 1);   // already past: halts at once
      yield* sleep(1000);
    })));
  });
  assert.deepEqual(trace, ['value extended', 'TimeoutError', 'value unlimited', 'TimeoutError']);
});

void test('a task-level cancel unwinds through a timeout unconverted', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const t = createTask((function* () {
      try {
        yield* timeout(1000, function* () { try { yield* sleep(1000); } finally { trace.push('body finally'); } });
        trace.push('never: converted');
      } catch (e) { trace.push(`never: caught ${String(e)}`); }
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    assert.ok(t.cancelled());
  });
  assert.deepEqual(trace, ['body finally']);
});

void test('a timeout around a task group and a task group around timeouts', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    trace.push(yield* catchName(timeout(5, () => taskGroup(function* (tg) {
      tg.createTask((function* () { try { yield* sleep(1000); } finally { trace.push('child halted'); } })());
      yield* sleep(1000);
    }))));
    const v = yield* taskGroup(function* (tg) {
      const t = tg.createTask(moveOnAfter(2, () => sleep(1000, 'late')));
      return (yield* catchName(timeout(2, () => sleep(1000)))) + ' / ' + String(yield* t);
    });
    trace.push(v);
  });
  assert.deepEqual(trace, ['child halted', 'TimeoutError', 'TimeoutError / undefined']);
});

void test('an inner deadline passing while the outer scope\'s halt unwinds through it is ignored: one TimeoutError, from the outer scope', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let innerSaw = 'nothing';
    const r = yield* catchName(timeout(2, function* () {
      try {
        yield* timeout(6, function* () {
          try { yield* sleep(1000); } finally {
            yield* sleep(10);   // the inner deadline passes during this cleanup
            trace.push('inner cleanup done');
          }
        });
      } catch (e) { innerSaw = (e as Error).name; }
      trace.push('never: the outer halt continues');
    }));
    trace.push(`outer: ${r}, inner saw ${innerSaw}`);
  });
  assert.deepEqual(trace, ['inner cleanup done', 'outer: TimeoutError, inner saw nothing']);
});
