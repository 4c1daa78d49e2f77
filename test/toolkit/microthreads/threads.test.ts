import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError, DeadlockError, MicroThread, PipeClosedError, Task, allTasks, cede, createTask, generate, put, sleep, startAndForget,
  startInParallel, stdin, takeFrom, pipe, type Coro, type ExceptionContext, type PipeReader,
} from '../../../src/index.js';
import { Trace, runRecording } from '../../helpers.js';

function* rejects(c: { [Symbol.iterator](): Coro<unknown> }, pred: (e: any) => boolean): Coro<void> {
  try { yield* c; } catch (e) { assert.ok(pred(e), `unexpected error: ${String(e)}`); return; }
  assert.fail('expected an error');
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
}

// The proposal's "new-style generators": they put() instead of yielding, so they compose by plain calls.
function* odd(n: number): Coro<void> { yield* takeFrom(range(1, n, 2)); }
function* even(n: number): Coro<void> { yield* takeFrom(range(2, n, 2)); }
function* oddEven(n: number): Coro<void> { yield* odd(n); yield* even(n); }

void test('the proposal\'s pipeline example: generate on odd, even or oddEven', async () => {
  await runRecording(function* () {
    assert.deepEqual(yield* generate<number>(() => odd(10)).toArray(), [1, 3, 5, 7, 9]);
    assert.deepEqual(yield* generate<number>(() => even(10)).toArray(), [2, 4, 6, 8]);
    assert.deepEqual(yield* generate<number>(() => oddEven(10)).toArray(), [1, 3, 5, 7, 9, 2, 4, 6, 8]);
  });
});

function* deep(depth: number, v: string): Coro<void> {
  if (depth === 0) { yield* put(v); return; }
  yield* deep(depth - 1, `${v}.`);
  yield* put(`${v}${depth}`);
}

void test('put works from any depth of yield* helpers', async () => {
  await runRecording(function* () {
    assert.deepEqual(yield* generate<string>(() => deep(3, 'x')).toArray(), ['x...', 'x..1', 'x.2', 'x3']);
  });
});

void test('generate: the caller iterates the values as they are put, and the pipe closes when the body returns', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const r = generate<number>(function* () {
      for (let i = 0; i < 3; i++) { trace.push(`put ${i}`); yield* put(i); }
      trace.push('body returns');
      return 'ignored';
    }, { name: 'counter' });
    for (;;) {
      const x = yield* r.next();
      if (x.done) break;
      trace.push(`got ${x.value}`);
    }
  });
  // main waits first, so 'put 0' is handed over at once and the thread runs on to block on 'put 1'; main
  // then takes 1 from the blocked put without waiting, and waits again, so 2 is handed over at once too.
  assert.deepEqual(trace.events, ['put 0', 'put 1', 'got 0', 'got 1', 'put 2', 'body returns', 'got 2']);
});

void test('generate with a capacity lets the thread run ahead of its reader', async () => {
  await runRecording(function* () {
    let sent = 0;
    const r = generate<number>(function* () { for (let i = 0; i < 10; i++) { yield* put(i); sent++; } }, { capacity: 4 });
    yield* sleep(1);
    assert.equal(sent, 4);
    assert.deepEqual(yield* r.toArray(), range(0, 10, 1));
  });
});

function* lines(): Coro<void> { yield* takeFrom(['alpha', 'beta', 'gamma']); }
function* upper(): Coro<void> {
  const input = stdin<string>();
  for (;;) {
    const r = yield* input.next();
    if (r.done) return;
    yield* put(r.value.toUpperCase());
  }
}
function* numbered(): Coro<void> {
  let n = 1;
  for (;;) {
    const r = yield* stdin<string>().next();
    if (r.done) return;
    yield* put(`${n++} ${r.value}`);
  }
}

void test('stdin() chains threads like a Unix pipeline', async () => {
  await runRecording(function* () {
    const out = yield* generate<string>(numbered, { stdin: generate(upper, { stdin: generate(lines) }) }).toArray();
    assert.deepEqual(out, ['1 ALPHA', '2 BETA', '3 GAMMA']);
  });
});

void test('an exception propagates through a three-stage pipeline after the values sent before it', async () => {
  const boom = new Error('boom at the source');
  await runRecording(function* () {
    const source = generate<string>(function* () { yield* put('a'); yield* put('b'); throw boom; });
    const out = generate<string>(numbered, { stdin: generate(upper, { stdin: source }) });
    const got: string[] = [];
    yield* rejects(function* () {
      for (;;) { const r = yield* out.next(); if (r.done) return; got.push(r.value); }
    }(), (e) => e === boom);
    assert.deepEqual(got, ['1 A', '2 B']);
  });
});

void test('closing the last reader halts the whole pipeline: each thread\'s finally runs, upstream included', async () => {
  const trace = new Trace();
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const source = generate<number>(function* () {
      try { for (let i = 0; ; i++) yield* put(i); } finally { trace.push('source halted'); }
    }, { name: 'source' });
    const double = generate<number>(function* () {
      try {
        for (;;) { const r = yield* stdin<number>().next(); if (r.done) return; yield* put(r.value * 2); }
      } finally { trace.push('double halted'); }
    }, { stdin: source, name: 'double' });
    assert.deepEqual(yield* double.next(), { done: false, value: 0 });
    assert.deepEqual(yield* double.next(), { done: false, value: 2 });
    double.close();
    for (let i = 0; i < 6; i++) yield* cede();
    assert.deepEqual([...allTasks()].map((t) => t.getName()), ['main']);
  }, errors);
  assert.deepEqual(trace.events, ['double halted', 'source halted']);
  assert.deepEqual(errors, []);
});

void test('a thread that stops reading early closes its stdin, halting the writer upstream', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const source = generate<number>(function* () {
      try { for (let i = 0; ; i++) yield* put(i); } finally { trace.push('source halted'); }
    });
    const firstTwo = generate<number>(function* () {
      const input = stdin<number>();
      for (let i = 0; i < 2; i++) { const r = yield* input.next(); if (!r.done) yield* put(r.value); }
    }, { stdin: source });
    assert.deepEqual(yield* firstTwo.toArray(), [0, 1]);
    yield* cede(); yield* cede();
  });
  assert.deepEqual(trace.events, ['source halted']);
});

void test('a generate thread cancelled by someone else ends its pipe with PipeClosedError for the reader', async () => {
  const trace = new Trace();
  await runRecording(function* () {
    const r = generate<number>(function* () {
      try { yield* put(1); yield* sleep(10_000); } finally { trace.push('thread finally'); }
    }, { name: 'slow' });
    assert.deepEqual(yield* r.next(), { done: false, value: 1 });
    const thread = [...allTasks()].find((t) => t.getName() === 'slow')!;
    createTask(function* () { yield* cede(); thread.cancel(); }());
    yield* rejects(r.next(), (e) => e instanceof PipeClosedError && /'slow' was cancelled/.test(e.message));
  });
  assert.deepEqual(trace.events, ['thread finally']);
});

void test('an error thrown by a generate thread after its reader closed goes to the loop\'s exception handler', async () => {
  const errors: ExceptionContext[] = [];
  const boom = new Error('late');
  await runRecording(function* () {
    const r = generate<number>(function* () {
      yield* put(1);
      yield* sleep(2);
      throw boom;
    }, { name: 'late-failer' });
    assert.deepEqual(yield* r.next(), { done: false, value: 1 });
    r.close();
    yield* sleep(5);
  }, errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.exception, boom);
  assert.match(errors[0]!.message, /late-failer/);
});

void test('put, takeFrom and stdin belong to one thread: tasks it creates do not inherit its pipes', async () => {
  await runRecording(function* () {
    const r = generate<number>(function* () {
      yield* put(1);
      const child = createTask(function* () { yield* put(99); }());
      yield* rejects(child, (e) => e instanceof Error && /not a micro-thread/.test(e.message));
      const child2 = createTask(function* () { yield* takeFrom([99]); }());
      yield* rejects(child2, (e) => e instanceof Error && /not a micro-thread/.test(e.message));
      const child3 = createTask(function* () { stdin(); }());
      yield* rejects(child3, (e) => e instanceof Error && /not a micro-thread/.test(e.message));
      yield* put(2);
    }, { stdin: generate(lines) });
    assert.deepEqual(yield* r.toArray(), [1, 2]);
  });
});

void test('put outside a micro-thread throws; stdin() of a thread started without one throws', async () => {
  await runRecording(function* () {
    yield* rejects(put(1), (e) => e instanceof Error && /not a micro-thread/.test(e.message));
    const r = generate<number>(function* () { stdin(); });
    yield* rejects(r.toArray(), (e) => e instanceof Error && /without a stdin/.test(e.message));
  });
});

void test('startAndForget: the result is dropped; an error goes to its handler as soon as it happens', async () => {
  const trace = new Trace();
  const errors: ExceptionContext[] = [];
  const boom = new Error('boom');
  await runRecording(function* () {
    const ok = startAndForget(function* () { yield* cede(); return 42; });
    startAndForget(function* () { trace.push('failing'); throw boom; }, { exceptionHandler: (e) => trace.push(`handler: ${String(e)}`) });
    trace.push('main continues');
    yield* cede();
    trace.push('main after one step');
    assert.equal(yield* ok, undefined);
  }, errors);
  assert.deepEqual(trace.events, ['main continues', 'failing', 'handler: Error: boom', 'main after one step']);
  assert.deepEqual(errors, []);
});

void test('startAndForget without a handler reports to the loop\'s exception handler, never losing the error', async () => {
  const errors: ExceptionContext[] = [];
  const boom = new Error('nobody listens');
  await runRecording(function* () {
    startAndForget(function* () { yield* sleep(1); throw boom; }(), { name: 'orphan' });
    yield* sleep(5);
    assert.equal(errors.length, 1, 'reported while main still runs');
  }, errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.exception, boom);
  assert.match(errors[0]!.message, /orphan/);
});

void test('startAndForget: a handler that throws is reported to the loop; a cancelled thread is not an error', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    startAndForget(function* () { throw new Error('first'); }, { exceptionHandler: () => { throw new Error('handler broke'); } });
    const t = startAndForget(function* () { yield* sleep(10_000); });
    yield* cede();
    t.cancel();
    yield* rejects(t, (e) => e instanceof CancelledError);
  }, errors);
  assert.equal(errors.length, 1);
  assert.equal((errors[0]!.exception as Error).message, 'handler broke');
});

void test('startInParallel: wait() returns the result or re-throws the error', async () => {
  await runRecording(function* () {
    const a = startInParallel(function* () { yield* sleep(2); return 'a'; }, { name: 'a' });
    const b = startInParallel(sleep(1, 'b'));
    const c = startInParallel(function* (): Coro<string> { yield* cede(); throw new Error('c failed'); });
    assert.ok(a instanceof MicroThread && a instanceof Task);
    assert.equal(a.getName(), 'a');
    assert.equal(yield* a.wait(), 'a');
    assert.equal(yield* b.wait(), 'b');
    yield* rejects(c.wait(), (e) => e instanceof Error && e.message === 'c failed');
    const d = startInParallel(function* () { yield* sleep(10_000); });
    yield* cede();
    d.cancel();
    yield* rejects(d.wait(), (e) => e instanceof CancelledError);
  });
});

void test('a startInParallel thread that failed and that nobody waited for is reported like a never-retrieved task', async () => {
  const errors: ExceptionContext[] = [];
  const boom = new Error('never waited for');
  await runRecording(function* () {
    startInParallel(function* () { throw boom; }, { name: 'zombie' });
    yield* cede(); yield* cede();
  }, errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.exception, boom);
  assert.match(errors[0]!.message, /never retrieved.*zombie/);
});

void test('a generate reader can be handed to another thread as its stdin or read by a plain task', async () => {
  await runRecording(function* () {
    const r: PipeReader<number> = generate<number>(() => odd(8));
    const summer = startInParallel(function* () {
      let s = 0;
      for (;;) { const x = yield* r.next(); if (x.done) return s; s += x.value; }
    });
    assert.equal(yield* summer.wait(), 1 + 3 + 5 + 7);
  });
});

void test('a pipeline that can never move ends in DeadlockError listing each thread and the pipe it waits on', async () => {
  await assert.rejects(runRecording(function* () {
    const [, nobodyWrites] = pipe<string>(0, { name: 'input' });
    const out = generate<string>(upper, { stdin: nobodyWrites, name: 'upper' });
    yield* out.next();
  }), (e: unknown) => e instanceof DeadlockError
    && /task 'main' waiting on pipe\.next \(stdout of 'upper'\)/.test(e.message)
    && /task 'upper' waiting on pipe\.next \(input\)/.test(e.message));
});
