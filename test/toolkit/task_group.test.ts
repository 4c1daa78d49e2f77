import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, cede, createTask, InvalidStateError, sleep, taskGroup, timeout, type Coro, type TaskGroup } from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* after<T>(ms: number, v: T): Coro<T> { yield* sleep(ms); return v; }
function* failAfter(ms: number, msg: string): Coro<never> { yield* sleep(ms); throw new Error(msg); }
function* sleeper(name: string, trace: string[], cleanupMs = 1): Coro<void> {
  try { yield* sleep(1000); } finally { yield* sleep(cleanupMs); trace.push(`${name} halted`); }
}

void test('the group returns the body value after every child has finished', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const v = yield* taskGroup(function* (tg) {
      tg.createTask((function* () { yield* sleep(200); trace.push('slow child done'); })(), { name: 'slow' });
      const t = tg.createTask(after(1, 'quick'));
      assert.equal(t.getName().length > 0, true);
      trace.push(`body got ${yield* t}`);
      return 'body value';
    });
    trace.push(v);
  });
  assert.deepEqual(trace, ['body got quick', 'slow child done', 'body value']);
});

void test('one child fails: the others and the body are halted and awaited, then its error alone is thrown', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let err: unknown;
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(sleeper('sibling', trace, 2));
        tg.createTask(failAfter(1, 'child failed'));
        try { yield* sleep(1000); } finally { trace.push('body halted'); }
        trace.push('never: body continued');
      });
    } catch (e) { err = e; }
    assert.ok(!(err instanceof AggregateError));
    assert.equal((err as Error).message, 'child failed');
    trace.push('caught');
    yield* sleep(1);
    trace.push('task carries on');
  });
  assert.deepEqual(trace, ['body halted', 'sibling halted', 'caught', 'task carries on']);
});

void test('several failures make an AggregateError', async () => {
  await runRecording(function* () {
    let err: unknown;
    try {
      yield* taskGroup(function* (tg) {
        // the second fails while being cancelled (its cleanup throws)
        tg.createTask(failAfter(1, 'first'));
        tg.createTask((function* (): Coro<void> {
          try { yield* sleep(1000); } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new Error('second');
          }
        })());
        yield* sleep(1000);
      });
    } catch (e) { err = e; }
    assert.ok(err instanceof AggregateError);
    assert.deepEqual(err.errors.map((e: Error) => e.message), ['first', 'second']);
  });
});

void test('the body throwing cancels the children; the body error is thrown alone', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let err: unknown;
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(sleeper('child', trace));
        yield* sleep(1);
        throw new Error('body failed');
      });
    } catch (e) { err = e; }
    assert.equal((err as Error).message, 'body failed');
  });
  assert.deepEqual(trace, ['child halted']);
});

void test('a child created after the group is shutting down, or finished, is refused with a clear error', async () => {
  await runRecording(function* () {
    let saved: TaskGroup | undefined;
    let refusal: unknown;
    let closedCoro = false;
    function* late(): Coro<void> { try { yield* sleep(1); } finally { closedCoro = true; } }
    try {
      yield* taskGroup(function* (tg) {
        saved = tg;
        tg.createTask(failAfter(1, 'boom'));
        try { yield* sleep(1000); } finally {
          try { tg.createTask(late()); } catch (e) { refusal = e; }
        }
      });
    } catch { /* boom */ }
    assert.ok(refusal instanceof InvalidStateError);
    assert.match((refusal).message, /shutting down/);
    assert.throws(() => saved!.createTask(late()), /finished/);
    assert.equal(closedCoro, false, 'a refused coroutine is closed without running');
  });
});

void test('a cancelled child is not a failure', async () => {
  await runRecording(function* () {
    const v = yield* taskGroup(function* (tg) {
      const t = tg.createTask(sleep(1000));
      const u = tg.createTask(after(2, 'other'));
      yield* cede();
      t.cancel();
      return yield* u;
    });
    assert.equal(v, 'other');
  });
});

void test('cancelling the task that runs the group cancels and awaits every child, and ends as cancelled', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const runner = createTask(taskGroup(function* (tg) {
      tg.createTask(sleeper('a', trace, 3));
      tg.createTask(sleeper('b', trace, 1));
      try { yield* sleep(1000); } finally { trace.push('body halted'); }
    }));
    yield* sleep(1);
    runner.cancel();
    let err: unknown;
    try { yield* runner; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
    assert.ok(runner.cancelled());
    trace.push('runner done');
  });
  assert.deepEqual(trace, ['body halted', 'b halted', 'a halted', 'runner done']);
});

void test('a group cancelled while waiting for its children still waits; a second cancel reaches the children', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const runner = createTask(taskGroup(function* (tg) {
      tg.createTask((function* () {
        try { yield* sleep(1000); } finally {
          trace.push('child cleanup starts');
          try { yield* sleep(1000); } finally { trace.push('child cleanup interrupted'); }
        }
      })());
      trace.push('body done');
    }));
    yield* sleep(2);
    runner.cancel();    // the group is waiting for its child: the child is cancelled, the group keeps waiting
    yield* sleep(2);
    assert.equal(runner.done(), false);
    runner.cancel();    // second cancel: interrupts the child's cleanup
    let err: unknown;
    try { yield* runner; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
  });
  assert.deepEqual(trace, ['body done', 'child cleanup starts', 'child cleanup interrupted']);
});

void test('children that fail during the wait phase halt their siblings', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let err: unknown;
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(sleeper('sibling', trace));
        tg.createTask(failAfter(2, 'late failure'));
      });
    } catch (e) { err = e; }
    assert.equal((err as Error).message, 'late failure');
  });
  assert.deepEqual(trace, ['sibling halted']);
});

void test('children may start children while the group waits; nested groups', async () => {
  await runRecording(function* () {
    const seen: number[] = [];
    yield* taskGroup(function* (tg) {
      tg.createTask((function* () {
        yield* sleep(1);
        tg.createTask((function* () { yield* sleep(1); seen.push(2); })());
        seen.push(1);
      })());
    });
    assert.deepEqual(seen, [1, 2]);
    const v = yield* taskGroup(function* (outer) {
      const t = outer.createTask(taskGroup(function* (inner) {
        const a = inner.createTask(after(1, 1)), b = inner.createTask(after(2, 2));
        return (yield* a) + (yield* b);
      }));
      return yield* t;
    });
    assert.equal(v, 3);
  });
});

void test('an enclosing timeout halts the group: children cancelled and awaited, then TimeoutError', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    try {
      yield* timeout(3, () => taskGroup(function* (tg) {
        tg.createTask(sleeper('child', trace, 2));
        yield* sleep(1000);
      }));
    } catch (e) { trace.push((e as Error).name); }
  });
  assert.deepEqual(trace, ['child halted', 'TimeoutError']);
});

void test('TaskGroup.cancel() from outside halts the body and every child; the group waits for their cleanup and returns normally', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    let group: TaskGroup | undefined;
    const t = createTask(taskGroup(function* (tg) {
      group = tg;
      tg.createTask(sleeper('child-1', trace, 2));
      tg.createTask(sleeper('child-2', trace, 1));
      try { yield* sleep(1000); return 'never'; } finally { trace.push('body halted'); }
    }));
    yield* sleep(1);
    group!.cancel();
    const v = yield* t;
    trace.push(`group returned ${String(v)}, task cancelled: ${t.cancelled()}`);
    assert.throws(() => group!.createTask(sleep(1)), InvalidStateError);
    group!.cancel();   // finished: no effect
  });
  assert.deepEqual(trace, ['body halted', 'child-2 halted', 'child-1 halted', 'group returned undefined, task cancelled: false']);
});

void test('TaskGroup.cancel() from a child: the group ends normally and its code carries on', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    yield* taskGroup(function* (tg) {
      tg.createTask(sleeper('worker', trace));
      tg.createTask((function* () { yield* sleep(2); trace.push('stopper cancels'); tg.cancel(); yield* sleep(1000); })());
    });
    trace.push('after the group');
  });
  assert.deepEqual(trace, ['stopper cancels', 'worker halted', 'after the group']);
});
