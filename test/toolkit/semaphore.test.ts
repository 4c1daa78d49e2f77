import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedSemaphore, cede, createTask, Semaphore, sleep, timeout, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('at most `value` holders at a time, served in FIFO order', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const sem = new Semaphore(2);
    let inside = 0, most = 0;
    function* worker(name: string): Coro<void> {
      yield* sem.withLock(function* () {
        inside++;
        most = Math.max(most, inside);
        trace.push(name);
        yield* sleep(1);
        inside--;
      });
    }
    const ts = ['a', 'b', 'c', 'd', 'e'].map((n) => createTask(worker(n)));
    for (const t of ts) yield* t;
    assert.equal(most, 2);
    assert.equal(sem.locked(), false);
  });
  assert.deepEqual(trace, ['a', 'b', 'c', 'd', 'e']);
});

void test('locked(), the default of one permit, and bad initial values', async () => {
  await runRecording(function* () {
    const sem = new Semaphore();
    assert.equal(sem.locked(), false);
    yield* sem.acquire();
    assert.equal(sem.locked(), true);
    sem.release();
    assert.equal(sem.locked(), false);
    assert.throws(() => new Semaphore(-1), RangeError);
    const zero = new Semaphore(0);
    assert.equal(zero.locked(), true);
    const t = createTask(zero.acquire());
    yield* cede();
    zero.release();
    yield* t;
  });
});

void test('a release hands the permit to the longest waiter, even if another task asks first', async () => {
  await runRecording(function* () {
    const sem = new Semaphore(0);
    const order: string[] = [];
    const w = createTask((function* () { yield* sem.acquire(); order.push('waiter'); })());
    yield* cede();
    sem.release();
    assert.equal(sem.locked(), true);
    const late = createTask((function* () { yield* sem.acquire(); order.push('late'); })());
    yield* w;
    sem.release();
    yield* late;
    assert.deepEqual(order, ['waiter', 'late']);
  });
});

void test('BoundedSemaphore: release beyond the initial value throws', async () => {
  await runRecording(function* () {
    const sem = new BoundedSemaphore(2);
    assert.throws(() => sem.release(), RangeError);
    yield* sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), RangeError);
  });
});

void test('a cancelled acquire() does not lose a permit (cancelled while waiting, or after the hand-off)', async () => {
  await runRecording(function* () {
    const sem = new BoundedSemaphore(1);
    yield* sem.acquire();
    const w1 = createTask(sem.acquire(), { name: 'w1' });
    const w2 = createTask(sem.acquire(), { name: 'w2' });
    const w3 = createTask(sem.acquire(), { name: 'w3' });
    yield* cede();
    w1.cancel();          // cancelled while waiting
    yield* cede();
    sem.release();        // handed to w2 ...
    w2.cancel();          // ... which is halted before it resumes: it gives the permit back, to w3
    yield* w3;
    assert.ok(w1.cancelled() && w2.cancelled());
    assert.equal(sem.locked(), true);
    sem.release();
    assert.equal(sem.locked(), false);
    assert.throws(() => sem.release(), RangeError, 'exactly one permit in all');
  });
});

void test('acquire() under a timeout gives up without taking a permit', async () => {
  await runRecording(function* () {
    const sem = new Semaphore(1);
    yield* sem.acquire();
    let err: unknown;
    try { yield* timeout(2, () => sem.acquire()); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    sem.release();
    assert.equal(sem.locked(), false);
  });
});
