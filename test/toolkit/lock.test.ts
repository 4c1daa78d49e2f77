import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cede, createTask, InvalidStateError, Lock, sleep, timeout, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('mutual exclusion: withLock bodies never overlap', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const lock = new Lock();
    function* worker(name: string): Coro<void> {
      yield* lock.withLock(function* () {
        trace.push(`${name} in`);
        yield* sleep(1);
        trace.push(`${name} out`);
      });
    }
    const ts = ['a', 'b', 'c'].map((n) => createTask(worker(n)));
    for (const t of ts) yield* t;
    assert.equal(lock.locked(), false);
  });
  assert.deepEqual(trace, ['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
});

void test('FIFO-fair: a release hands the lock to the longest waiter, even if another task asks first', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    const waiter = createTask((function* () { yield* lock.acquire(); trace.push('waiter got it'); lock.release(); })());
    yield* cede();
    lock.release();
    assert.equal(lock.locked(), true, 'the lock passed to the waiter, not to whoever asks next');
    // This task asks again before the waiter has run: it must queue behind it.
    yield* lock.acquire();
    trace.push('main got it again');
    lock.release();
    yield* waiter;
  });
  assert.deepEqual(trace, ['waiter got it', 'main got it again']);
});

void test('release() of an unlocked lock throws InvalidStateError', () => {
  assert.throws(() => new Lock().release(), InvalidStateError);
});

void test('withLock releases when the body throws', async () => {
  await runRecording(function* () {
    const lock = new Lock();
    let err: unknown;
    try { yield* lock.withLock(function* () { yield* cede(); throw new Error('boom'); }); } catch (e) { err = e; }
    assert.equal((err as Error).message, 'boom');
    assert.equal(lock.locked(), false);
  });
});

void test('a task cancelled while waiting never holds the lock and does not block the next waiter', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    const w1 = createTask((function* () { try { yield* lock.acquire(); trace.push('w1 got it (wrong)'); } finally { trace.push('w1 finally'); } })());
    const w2 = createTask((function* () { yield* lock.acquire(); trace.push('w2 got it'); lock.release(); })());
    yield* cede();
    w1.cancel();
    yield* cede();
    lock.release();
    yield* w2;
    assert.equal(lock.locked(), false);
    assert.ok(w1.cancelled());
  });
  assert.deepEqual(trace, ['w1 finally', 'w2 got it']);
});

void test('a waiter handed the lock but halted before it resumed releases it to the next waiter', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    const w1 = createTask((function* () { yield* lock.acquire(); trace.push('w1 got it (wrong)'); })());
    const w2 = createTask((function* () { yield* lock.acquire(); trace.push('w2 got it'); lock.release(); })());
    yield* cede();
    lock.release();   // handed to w1 ...
    w1.cancel();      // ... which is halted before it runs
    yield* w2;
    assert.equal(lock.locked(), false);
    assert.ok(w1.cancelled());
  });
  assert.deepEqual(trace, ['w2 got it']);
});

void test('acquire() under a timeout: the timed-out waiter leaves the line', async () => {
  await runRecording(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    let err: unknown;
    try { yield* timeout(2, () => lock.acquire()); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    lock.release();
    assert.equal(lock.locked(), false);
    yield* lock.acquire();
    lock.release();
  });
});
