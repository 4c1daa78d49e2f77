import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CancelScope, CancelledError, DeadlockError, PipeClosedError, cede, createTask, fromPromise, pipe, sleep,
  type Coro, type ExceptionContext, type PipeReader, type PipeWriter, type Task,
} from '../../../src/index.js';
import { Trace, runRecording } from '../../helpers.js';

/** Drive `c` and check that it throws an error matching `pred`. */
function* rejects(c: { [Symbol.iterator](): Coro<unknown> }, pred: (e: any) => boolean): Coro<void> {
  try { yield* c; } catch (e) { assert.ok(pred(e), `unexpected error: ${String(e)}`); return; }
  assert.fail('expected an error');
}

function* writeAll<T>(w: PipeWriter<T>, items: T[], trace?: Trace): Coro<void> {
  for (const x of items) { trace?.push(`put ${String(x)}`); yield* w.put(x); trace?.push(`put ${String(x)} done`); }
  w.close();
}

void test('a rendezvous pipe (the default): a put waits until a reader takes the value', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const writer = createTask(writeAll(w, [1, 2], trace));
    yield* cede(); yield* cede(); yield* cede();
    trace.push('reading');
    const a = yield* r.next();
    trace.push(`got ${String(a.value)}`);
    yield* cede(); yield* cede();
    const b = yield* r.next();
    trace.push(`got ${String(b.value)}`);
    assert.deepEqual(yield* r.next(), { done: true, value: undefined });
    yield* writer;
  });
  assert.deepEqual(trace.events, ['put 1', 'reading', 'got 1', 'put 1 done', 'put 2', 'got 2', 'put 2 done']);
});

void test('a pipe with capacity n accepts n values without a reader, then the next put waits', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const [w, r] = pipe<number>(2);
    const writer = createTask(writeAll(w, [1, 2, 3], trace));
    for (let i = 0; i < 5; i++) yield* cede();
    trace.push('reading');
    assert.deepEqual(yield* r.toArray(), [1, 2, 3]);
    yield* writer;
  });
  assert.deepEqual(trace.events, ['put 1', 'put 1 done', 'put 2', 'put 2 done', 'put 3', 'reading', 'put 3 done']);
});

void test('pipe() refuses a capacity that is not an integer >= 0', () => {
  assert.throws(() => pipe(-1), RangeError);
  assert.throws(() => pipe(1.5), RangeError);
  assert.throws(() => pipe(Number.NaN), RangeError);
});

void test('close(): the reader gets the buffered values, then the end, again and again', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<string>(3);
    yield* w.put('a'); yield* w.put('b');
    w.close();
    assert.equal(w.closed, true);
    assert.deepEqual(yield* r.next(), { done: false, value: 'a' });
    assert.deepEqual(yield* r.toArray(), ['b']);
    assert.deepEqual(yield* r.next(), { done: true, value: undefined });
    assert.deepEqual(yield* r.next(), { done: true, value: undefined });
  });
});

void test('close() wakes a reader waiting for a value', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const reader = createTask(r.toArray());
    yield* cede();
    w.close();
    assert.deepEqual(yield* reader, []);
  });
});

void test('fail(e): the reader gets the values sent before it, then e is thrown (and keeps being thrown)', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>(4);
    const boom = new Error('boom');
    createTask(function* () { yield* w.put(1); yield* w.put(2); w.fail(boom); }());
    const got: number[] = [];
    try {
      for (;;) { const x = yield* r.next(); if (x.done) break; got.push(x.value); }
      assert.fail('no error');
    } catch (e) {
      assert.equal(e, boom);
    }
    assert.deepEqual(got, [1, 2]);
    yield* rejects(r.next(), (e) => e === boom);
  });
});

void test('fail() reaches a reader already waiting', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const reader = createTask(r.next());
    yield* cede();
    w.fail('plain value');
    yield* rejects(reader, (e) => e === 'plain value');
  });
});

void test('undefined and null are values like any other', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<undefined | null | number>();
    createTask(function* () { yield* w.takeFrom([undefined, null, 0]); w.close(); }());
    assert.deepEqual(yield* r.toArray(), [undefined, null, 0]);
  });
});

void test('closing the reader ends the reads waiting on it', async () => {
  await runRecording(function* () {
    const [, r] = pipe<number>();
    const waiting = createTask(r.next());
    yield* cede();
    r.close();
    assert.deepEqual(yield* waiting, { done: true, value: undefined });
  });
});

void test('a put after the writer closed throws PipeClosedError', async () => {
  await runRecording(function* () {
    const [w] = pipe<number>(1);
    w.close();
    yield* rejects(w.put(1), (e) => e instanceof PipeClosedError);
  });
});

void test('closing the reader halts a writer blocked on put: its finally runs, its task is cancelled, writer.closed is true', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const writer = createTask(function* () {
      try {
        for (let i = 0; ; i++) { yield* w.put(i); trace.push(`sent ${i}`); }
      } catch (e) {
        trace.push(`caught ${String(e)}`);
      } finally {
        trace.push('writer finally');
      }
    }());
    assert.deepEqual(yield* r.next(), { done: false, value: 0 });
    yield* cede();
    assert.equal(w.closed, false);
    r.close();
    assert.equal(w.closed, true);
    yield* rejects(writer, (e) => e instanceof CancelledError);
    assert.equal(writer.cancelled(), true);
    assert.deepEqual(yield* r.next(), { done: true, value: undefined });
  });
  assert.deepEqual(trace.events, ['sent 0', 'writer finally']);
});

void test('after the reader closed, a later put halts its writer too (SIGPIPE)', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const [w, r] = pipe<number>(8);
    const writer = createTask(function* () {
      try {
        yield* w.put(1);
        trace.push('put 1');
        yield* sleep(5);
        trace.push('woke');
        yield* w.put(2);
        trace.push('put 2 (must not happen)');
      } finally {
        trace.push('writer finally');
      }
    }());
    yield* cede(); yield* cede();
    r.close();
    yield* rejects(writer, (e) => e instanceof CancelledError);
  });
  assert.deepEqual(trace.events, ['put 1', 'woke', 'writer finally']);
});

void test('when every task that has put into a pipe ended without closing it, the reader gets PipeClosedError', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>(4);
    const a = createTask(function* () { yield* w.put(1); }());
    const b = createTask(function* () { yield* w.put(2); yield* sleep(5); yield* w.put(3); }());
    yield* a;
    yield* cede(); yield* cede();
    assert.equal(w.closed, false, 'b is still a writer');
    assert.deepEqual(yield* r.next(), { done: false, value: 1 });
    assert.deepEqual(yield* r.next(), { done: false, value: 2 });
    assert.deepEqual(yield* r.next(), { done: false, value: 3 });
    yield* b;
    yield* rejects(r.next(), (e) => e instanceof PipeClosedError && /every writer/.test(e.message));
    assert.equal(w.closed, true);
  });
});

void test('a reader waiting when the last writer ends is woken with PipeClosedError (never a hang)', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    createTask(function* () { yield* w.put(1); }());
    assert.deepEqual(yield* r.next(), { done: false, value: 1 });
    yield* rejects(r.next(), (e) => e instanceof PipeClosedError);
  });
});

void test('a writer halted while blocked on put is detached: the reader gets PipeClosedError', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const writer = createTask(w.put(1));
    yield* cede();
    writer.cancel();
    yield* rejects(r.next(), (e) => e instanceof PipeClosedError);
  });
});

void test('a cancelled put() delivers nothing', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>(1);
    yield* w.put(0);   // main is a writer and fills the buffer
    const blocked = createTask(w.put(1));
    yield* cede();
    blocked.cancel();
    yield* rejects(blocked, (e) => e instanceof CancelledError);
    const reader = createTask(r.toArray());
    yield* w.put(2);
    w.close();
    assert.deepEqual(yield* reader, [0, 2]);
  });
});

void test('a put whose value a reader already took has happened, even if its task is cancelled before it resumes', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>(1);
    yield* w.put(0);
    const writer = createTask(w.put(1));
    yield* cede();
    assert.deepEqual(yield* r.next(), { done: false, value: 0 });   // 1 moves into the buffer; the put is done
    writer.cancel();
    yield* rejects(writer, (e) => e instanceof CancelledError);
    w.close();
    assert.deepEqual(yield* r.toArray(), [1]);
  });
});

void test('a next() cancelled after a value was handed to it loses no value', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<string>();
    const first = createTask(r.next());
    yield* cede();
    yield* w.put('x');          // handed straight to first's wait: the put completes
    first.cancel();              // ... but first is halted before it resumes
    yield* rejects(first, (e) => e instanceof CancelledError);
    const again = createTask(r.next());
    createTask(function* () { yield* w.put('y'); w.close(); }());
    assert.deepEqual(yield* again, { done: false, value: 'x' });
    assert.deepEqual(yield* r.toArray(), ['y']);
  });
});

void test('a next() halted by a CancelScope after a value arrived gives it back', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const scope = new CancelScope();
    const reader = createTask(scope.run(r.next()));
    yield* cede();
    yield* w.put(7);
    scope.cancel();
    assert.equal(yield* reader, undefined);
    assert.equal(scope.cancelledCaught, true);
    createTask(function* () { w.close(); }());
    assert.deepEqual(yield* r.toArray(), [7]);
  });
});

function* writeShare(w: PipeWriter<number>, k: number): Coro<void> {
  for (let i = 0; i < 50; i++) { yield* w.put(k * 100 + i); if (i % 7 === k) yield* cede(); }
}

/** Three writers; the task that closes the pipe is one of them (so the pipe never has no writer before it closes). */
function* manyWriters(w: PipeWriter<number>): Coro<void> {
  const others = [1, 2].map((k) => createTask(writeShare(w, k)));
  yield* writeShare(w, 0);
  for (const t of others) yield* t;
  w.close();
}

void test('values are delivered exactly once and in each writer\'s order, to one reader', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>(3);
    createTask(manyWriters(w));
    const got = yield* r.toArray();
    for (let k = 0; k < 3; k++) assert.deepEqual(got.filter((x) => Math.floor(x / 100) === k), Array.from({ length: 50 }, (_, i) => k * 100 + i));
  });
});

void test('with several readers, every value is delivered exactly once', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    createTask(manyWriters(w));
    const readers = [0, 1, 2].map(() => createTask(r.toArray()));
    const all: number[] = [];
    for (const t of readers) all.push(...(yield* t));
    assert.deepEqual(all.sort((a, b) => a - b), [0, 1, 2].flatMap((k) => Array.from({ length: 50 }, (_, i) => k * 100 + i)));
    for (const t of readers) assert.ok(t.result().length > 0, 'every reader got some');
  });
});

/** One step of the random schedule below: start a put or a read, cancel one, or let the tasks run. */
type Step = { op: 'put' } | { op: 'read' } | { op: 'cancelPut'; k: number } | { op: 'cancelRead' } | { op: 'run'; n: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ op: 'put' as const }),
  fc.constant({ op: 'read' as const }),
  fc.nat({ max: 3 }).map((k) => ({ op: 'cancelPut' as const, k })),
  fc.constant({ op: 'cancelRead' as const }),
  fc.integer({ min: 1, max: 3 }).map((n) => ({ op: 'run' as const, n })),
);

/** Wait for `t` to end, however it ends. */
function* settle(t: Task<unknown>): Coro<void> {
  try { yield* t; } catch { /* cancelled */ }
}

function* readAll(r: PipeReader<number>, into: number[]): Coro<void> {
  try {
    for (;;) { const x = yield* r.next(); if (x.done) return; into.push(x.value); }
  } catch (e) {
    if (!(e instanceof PipeClosedError)) throw e;
  }
}

void test('under random cancellation of puts and reads, values are delivered exactly once and in order', async () => {
  await fc.assert(fc.asyncProperty(fc.constantFrom(0, 1, 3), fc.array(stepArb, { maxLength: 40 }), async (capacity, steps) => {
    await runRecording(function* () {
      const [w, r] = pipe<number>(capacity);
      const puts: Task<void>[] = [];
      const delivered: number[] = [];
      let reader: Task<IteratorResult<number, undefined>> | null = null;
      const settleReader = (): void => {
        if (reader !== null && reader.done()) {
          if (!reader.cancelled() && reader.exception() === undefined) { const x = reader.result(); if (x.done !== true) delivered.push(x.value); }
          else if (!reader.cancelled()) assert.ok(reader.exception() instanceof PipeClosedError);   // every writer had ended
          reader = null;
        }
      };
      for (const s of steps) {
        settleReader();
        if (s.op === 'put') puts.push(createTask(w.put(puts.length)));
        else if (s.op === 'read') { if (reader === null) reader = createTask(r.next()); }
        else if (s.op === 'cancelPut') puts[puts.length - 1 - s.k]?.cancel();
        else if (s.op === 'cancelRead') reader?.cancel();
        else for (let i = 0; i < s.n; i++) yield* cede();
      }
      if (reader !== null) { (reader as Task<unknown>).cancel(); yield* settle(reader); }
      settleReader();
      const drain = createTask(readAll(r, delivered));
      for (const t of puts) yield* settle(t);
      w.close();   // if every writer already ended, the drain gets PipeClosedError after the values instead
      yield* drain;
      // A put may also fail with PipeClosedError: when it starts after every earlier writer has ended.
      const ok = puts.map((t, v) => (!t.cancelled() && t.exception() === undefined ? v : -1)).filter((v) => v >= 0);
      const sorted = [...delivered].sort((a, b) => a - b);
      assert.deepEqual(delivered, sorted, 'in order');
      assert.equal(new Set(delivered).size, delivered.length, 'no value twice');
      for (const v of ok) assert.ok(delivered.includes(v), `the completed put of ${v} was delivered`);
      for (const v of delivered) assert.ok(v < puts.length, 'only values that were put');
    });
  }), { numRuns: 150 });
});

void test('takeFrom sends an iterable or another pipe, in order', async () => {
  await runRecording(function* () {
    const [w1, r1] = pipe<number>();
    const [w2, r2] = pipe<number>();
    createTask(function* () { yield* w1.takeFrom([1, 2, 3]); w1.close(); }());
    createTask(function* () { yield* w2.takeFrom(r1); yield* w2.takeFrom(new Set([4, 5])); w2.close(); }());
    assert.deepEqual(yield* r2.toArray(), [1, 2, 3, 4, 5]);
  });
});

void test('a read nobody can satisfy ends in DeadlockError naming pipe.next and the waiting task', async () => {
  await assert.rejects(runRecording(function* () {
    const [, r] = pipe<number>();
    yield* r.next();
  }), (e: unknown) => e instanceof DeadlockError && /task 'main' waiting on pipe\.next/.test(e.message));
});

void test('for await reads a pipe from an async function; break closes the reader and halts the writer', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    const writer = createTask(function* () {
      try { for (let i = 1; ; i++) yield* w.put(i); } finally { trace.push('writer halted'); }
    }());
    const got: number[] = [];
    yield* fromPromise((async (reader: PipeReader<number>) => {
      for await (const x of reader) { got.push(x); if (x === 3) break; }
    })(r));
    assert.deepEqual(got, [1, 2, 3]);
    yield* rejects(writer, (e) => e instanceof CancelledError);
  });
  assert.deepEqual(trace.events, ['writer halted']);
});

void test('put() and next() are small iterator objects, not generators (hot path)', () => {
  const [w, r] = pipe<number>();
  const isGenerator = (x: unknown): boolean => Object.prototype.toString.call(x) === '[object Generator]';
  assert.equal(isGenerator(w.put(1)), false);
  assert.equal(isGenerator(r.next()), false);
  assert.equal(isGenerator((function* () { /* */ })()), true);
});

void test('errors reach the loop handler only when they have nowhere else to go', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    createTask(function* () { yield* w.put(1); w.close(); }());
    assert.deepEqual(yield* r.toArray(), [1]);
  }, errors);
  assert.deepEqual(errors, []);
});
