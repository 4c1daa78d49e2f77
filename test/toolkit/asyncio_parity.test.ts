/**
 * Behaviours of asyncio's toolkit that tulip keeps (or departs from on
 * purpose, said here with a test): the same coroutine given twice, the
 * semaphore's FIFO hand-off, Lock.locked() right after release().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asCompleted, type Coro, createTask, gather, Lock, Semaphore, sleep } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';

void test('gather and asCompleted given the same coroutine object twice run it once (asyncio)', () => runVirtual(function* () {
  let runs = 0;
  function* once(): Coro<string> { runs++; yield* sleep(5); return 'v'; }
  const c = once();
  assert.deepEqual(yield* gather([c, c, sleep(1, 'w')]), ['v', 'v', 'w']);
  assert.equal(runs, 1);

  const d = once();
  const out: string[] = [];
  for (const next of asCompleted([d, d])) out.push(yield* next);
  assert.deepEqual(out, ['v'], 'one coroutine, one completion');
  assert.equal(runs, 2);
}));

void test('Semaphore: a releaser that re-acquires waits behind the waiter it woke (asyncio test_acquire_fifo_order_2)', () => runVirtual(function* () {
  const sem = new Semaphore(1);
  const result: number[] = [];
  function* c1(): Coro<void> { yield* sem.acquire(); result.push(1); }
  function* c2(): Coro<void> { yield* sem.acquire(); result.push(2); sem.release(); yield* sem.acquire(); result.push(4); }
  function* c3(): Coro<void> { yield* sem.acquire(); result.push(3); }
  const ts = [createTask(c1()), createTask(c2()), createTask(c3())];
  yield* sleep(0);
  sem.release();
  sem.release();
  yield* gather(ts);
  assert.deepEqual(result, [1, 2, 3, 4]);
}));

void test('Semaphore: a cancelled waiter gives its turn to the next (asyncio test_acquire_fifo_order_3)', () => runVirtual(function* () {
  const sem = new Semaphore(0);
  const result: number[] = [];
  const ts = [1, 2, 3].map((i) => createTask(function* () { yield* sem.acquire(); result.push(i); }()));
  yield* sleep(0);
  ts[0]!.cancel();
  yield* sleep(0);
  sem.release();
  sem.release();
  yield* gather(ts, { returnExceptions: true });
  assert.deepEqual(result, [2, 3]);
  assert.equal(sem.locked(), true);
  sem.release();
  assert.equal(sem.locked(), false);
}));

void test('Semaphore: permits freed while woken waiters have not run reach the line once they have', () => runVirtual(function* () {
  const sem = new Semaphore(2);
  const order: string[] = [];
  yield* sem.acquire(); yield* sem.acquire();
  const ts = ['a', 'b', 'c', 'd'].map((n) => createTask(function* () { yield* sem.acquire(); order.push(n); yield* sleep(1); sem.release(); }()));
  yield* sleep(0);
  sem.release(); sem.release();
  yield* gather(ts);
  assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  assert.equal(sem.locked(), false);
  assert.equal(sem._value, 2);
}));

void test('Lock.locked() is true right after a release() that handed the lock to a waiter (a documented difference)', () => runVirtual(function* () {
  const lock = new Lock();
  yield* lock.acquire();
  const trace: string[] = [];
  const waiter = createTask(function* () { yield* lock.acquire(); trace.push('waiter has it'); lock.release(); }());
  yield* sleep(0);
  lock.release();
  assert.equal(lock.locked(), true, 'the lock already belongs to the woken waiter');
  const barger = createTask(function* () { yield* lock.acquire(); trace.push('barger has it'); lock.release(); }());
  yield* gather([waiter, barger]);
  assert.deepEqual(trace, ['waiter has it', 'barger has it']);
  assert.equal(lock.locked(), false);
}));
