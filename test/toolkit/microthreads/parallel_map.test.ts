import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError, cede, createTask, currentTask, moveOnAfter, parallelMap, sleep, timeout, TimeoutError, type Coro,
  type ExceptionContext, type Task,
} from '../../../src/index.js';
import { Trace, runRecording } from '../../helpers.js';

function* rejects(c: { [Symbol.iterator](): Coro<unknown> }, pred: (e: any) => boolean): Coro<void> {
  try { yield* c; } catch (e) { assert.ok(pred(e), `unexpected error: ${String(e)}`); return; }
  assert.fail('expected an error');
}

/** Counts how many calls run at once. */
class Gauge {
  now = 0;
  max = 0;
  *around<T>(body: Coro<T>): Coro<T> {
    this.now++;
    this.max = Math.max(this.max, this.now);
    try { return yield* body; } finally { this.now--; }
  }
}

void test('results come in input order whatever order the calls finish in; at most `concurrency` run at once', async () => {
  await runRecording(function* () {
    const g = new Gauge();
    const delays = [5, 1, 4, 0, 3, 2, 0, 1];
    const out = yield* parallelMap((d: number) => g.around(sleep(d, `done in ${d}`)), delays, { concurrency: 3 });
    assert.deepEqual(out, delays.map((d) => `done in ${d}`));
    assert.equal(g.max, 3);
    assert.equal(g.now, 0);
  });
});

void test('the default concurrency is 16', async () => {
  await runRecording(function* () {
    const g = new Gauge();
    const out = yield* parallelMap((x: number) => g.around(sleep(1, x * 2)), Array.from({ length: 40 }, (_, i) => i));
    assert.equal(out.length, 40);
    assert.equal(out[39], 78);
    assert.equal(g.max, 16);
  });
});

void test('each item runs in its own task', async () => {
  await runRecording(function* () {
    const tasks = yield* parallelMap(function* (_x: number) { yield* cede(); return currentTask(); }, [1, 2, 3]);
    assert.equal(new Set(tasks).size, 3);
    assert.ok(!tasks.includes(currentTask()));
  });
});

void test('no items: an empty array', async () => {
  await runRecording(function* () {
    assert.deepEqual(yield* parallelMap(function* (x: number) { return x; }, []), []);
  });
});

void test('a concurrency that is not an integer >= 1 is a RangeError', async () => {
  await runRecording(function* () {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      yield* rejects(parallelMap(function* (x: number) { return x; }, [1], { concurrency }), (e) => e instanceof RangeError);
    }
  });
});

void test('the first error cancels the rest and is re-thrown after they have cleaned up', async () => {
  const trace = new Trace();
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const boom = new Error('item 2 failed');
    function* work(i: number): Coro<number> {
      try {
        if (i === 2) { yield* sleep(1); throw boom; }
        yield* sleep(10_000);
        return i;
      } finally {
        if (i !== 2) { yield* cede(); trace.push(`cleanup ${i}`); }
      }
    }
    yield* rejects(parallelMap(work, [0, 1, 2, 3, 4, 5], { concurrency: 4 }), (e) => e === boom);
    trace.push('caller sees the error');
  }, errors);
  assert.deepEqual(trace.events, ['cleanup 0', 'cleanup 1', 'cleanup 3', 'caller sees the error']);
  assert.deepEqual(errors, []);
});

void test('the source is read lazily: an endless iterable is fine with a small concurrency', async () => {
  let pulled = 0;
  let sourceClosed = false;
  function* naturals(): Generator<number> {
    try { for (let i = 0; ; i++) { pulled++; yield i; } } finally { sourceClosed = true; }
  }
  await runRecording(function* () {
    const boom = new Error('stop at 5');
    yield* rejects(parallelMap(function* (i: number) { yield* sleep(1); if (i === 5) throw boom; return i; }, naturals(), { concurrency: 2 }),
      (e) => e === boom);
  });
  assert.ok(pulled <= 8, `pulled ${pulled} items`);
  assert.equal(sourceClosed, true);
});

void test('an error from the source itself is re-thrown after the running calls are cancelled', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const bad = new Error('source broke');
    function* source(): Generator<number> { yield 1; yield 2; throw bad; }
    function* work(i: number): Coro<number> {
      try { yield* sleep(i === 1 ? 1 : 10_000); return i; } finally { trace.push(`end ${i}`); }
    }
    // 1 ends, which frees a slot; pulling the next item throws; 2 is cancelled and cleans up.
    yield* rejects(parallelMap(work, source(), { concurrency: 2 }), (e) => e === bad);
  });
  assert.deepEqual(trace.events, ['end 1', 'end 2']);
});

void test('a call cancelled by someone else fails the map with CancelledError', async () => {
  await runRecording(function* () {
    const started: Task<unknown>[] = [];
    const m = createTask(parallelMap(function* (i: number) { started.push(currentTask()!); yield* sleep(10_000); return i; }, [1, 2]));
    yield* cede(); yield* cede();
    started[0]!.cancel();
    yield* rejects(m, (e) => e instanceof CancelledError && /item 0/.test(e.message));
  });
});

void test('cancelling the task running parallelMap halts every call and waits for their cleanup', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    function* work(i: number): Coro<number> {
      try { yield* sleep(10_000); return i; } finally { yield* sleep(1); trace.push(`cleanup ${i}`); }
    }
    const m = createTask(function* () {
      try { return yield* parallelMap(work, [0, 1, 2]); } finally { trace.push('map returned'); }
    }());
    yield* sleep(1);
    m.cancel();
    yield* rejects(m, (e) => e instanceof CancelledError);
  });
  assert.deepEqual(trace.events, ['cleanup 0', 'cleanup 1', 'cleanup 2', 'map returned']);
});

void test('a second error, raised while the others are cancelled, goes to the loop\'s exception handler', async () => {
  const errors: ExceptionContext[] = [];
  const first = new Error('first'), second = new Error('second');
  await runRecording(function* () {
    function* work(i: number): Coro<number> {
      try {
        yield* sleep(i === 0 ? 1 : 10_000);
        throw first;
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- item 1's cleanup fails while it is being cancelled
        if (i === 1) throw second;
      }
    }
    yield* rejects(parallelMap(work, [0, 1]), (e) => e === first);
  }, errors);
  assert.deepEqual(errors.map((c) => c.exception), [second]);
});

// Issue 15, class 1: parallelMap's cleanup waits for its children, so without rehalt() the frame above resumed as
// if parallelMap had returned undefined, and a cancelled or timed-out caller ran on.
function* slowCleanup(i: number): Coro<number> {
  try { yield* sleep(10_000); return i; } finally { yield* sleep(2); }
}

void test('a cancelled caller of parallelMap does not run on after the children\'s cleanup', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const m = createTask(function* () {
      const r = yield* parallelMap(slowCleanup, [0, 1]);
      trace.push(`ran on with ${String(r)}`);
    });
    yield* sleep(1);
    m.cancel();
    yield* rejects(m, (e) => e instanceof CancelledError);
  });
  assert.deepEqual(trace.events, []);
});

void test('timeout around parallelMap throws TimeoutError, and the body does not run on', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    yield* rejects(timeout(10, () => parallelMap(slowCleanup, [0, 1])), (e) => e instanceof TimeoutError);
    yield* rejects(timeout(10, function* () {
      const r = yield* parallelMap(slowCleanup, [0, 1]);
      trace.push(`body ran on with ${String(r)}`);
      return r;
    }), (e) => e instanceof TimeoutError);
    const v = yield* moveOnAfter(10, function* () {
      const r = yield* parallelMap(slowCleanup, [0, 1]);
      trace.push(`body ran on with ${String(r)}`);
      return r;
    });
    assert.equal(v, undefined);
  });
  assert.deepEqual(trace.events, []);
});

void test('a second cancel during parallelMap\'s cleanup interrupts the children\'s cleanup, and still no child outlives it', async () => {
  const trace = new Trace();
  const children: Task<unknown>[] = [];
  await runRecording(function* () {
    function* work(i: number): Coro<number> {
      children.push(currentTask()!);
      try { yield* sleep(10_000); return i; } finally { try { yield* sleep(10_000); } finally { trace.push(`cleanup ${i} ends`); } }
    }
    const m = createTask(function* () {
      try { yield* parallelMap(work, [0, 1]); trace.push('ran on'); } finally { trace.push('caller cleanup'); }
    });
    yield* sleep(1);
    m.cancel();
    yield* sleep(1);
    m.cancel();   // interrupts the children's long cleanups
    yield* rejects(m, (e) => e instanceof CancelledError);
    assert.ok(children.every((c) => c.done()));
  });
  assert.deepEqual(trace.events, ['cleanup 0 ends', 'cleanup 1 ends', 'caller cleanup']);
});
