import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Barrier, BrokenBarrierError, cede, createTask, gather, sleep, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('all parties pass together, with distinct indices; the barrier is reusable', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const b = new Barrier(3);
    assert.equal(b.parties, 3);
    function* party(name: string, delay: number): Coro<number> {
      yield* sleep(delay);
      trace.push(`${name} arrives`);
      const i = yield* b.wait();
      trace.push(`${name} passes`);
      return i;
    }
    for (let round = 0; round < 2; round++) {
      const idx = yield* gather([party('a', 1), party('b', 2), party('c', 3)]);
      assert.deepEqual([...idx].sort(), [0, 1, 2]);
      assert.equal(b.nWaiting, 0);
    }
  });
  const round = ['a arrives', 'b arrives', 'c arrives', 'c passes', 'a passes', 'b passes'];
  assert.deepEqual(trace, [...round, ...round]);
});

void test('nWaiting counts the tasks waiting in the current round', async () => {
  await runRecording(function* () {
    const b = new Barrier(3);
    const t1 = createTask(b.wait());
    const t2 = createTask(b.wait());
    yield* sleep(1);
    assert.equal(b.nWaiting, 2);
    yield* b.wait();
    yield* t1;
    yield* t2;
  });
});

void test('abort(): waiters and later callers get BrokenBarrierError until reset()', async () => {
  await runRecording(function* () {
    const b = new Barrier(2);
    const t = createTask(b.wait());
    yield* sleep(1);
    yield* b.abort();
    assert.equal(b.broken, true);
    yield* sleep(1);
    assert.throws(() => t.result(), BrokenBarrierError);
    let err: unknown;
    try { yield* b.wait(); } catch (e) { err = e; }
    assert.ok(err instanceof BrokenBarrierError);
    yield* b.reset();
    assert.equal(b.broken, false);
    const u = createTask(b.wait());
    yield* b.wait();
    yield* u;
  });
});

void test('reset() breaks the current round for its waiters, then the barrier works again', async () => {
  await runRecording(function* () {
    const b = new Barrier(3);
    const t1 = createTask(b.wait());
    const t2 = createTask(b.wait());
    yield* sleep(1);
    yield* b.reset();
    yield* sleep(1);
    assert.throws(() => t1.result(), BrokenBarrierError);
    assert.throws(() => t2.result(), BrokenBarrierError);
    assert.equal(b.broken, false);
    assert.equal(b.nWaiting, 0);
    const r = yield* gather([b.wait(), b.wait(), b.wait()]);
    assert.deepEqual([...r].sort(), [0, 1, 2]);
  });
});

void test('a task cancelled while waiting leaves without breaking the barrier', async () => {
  await runRecording(function* () {
    const b = new Barrier(2);
    const quitter = createTask(b.wait());
    yield* cede();
    yield* sleep(1);
    assert.equal(b.nWaiting, 1);
    quitter.cancel();
    yield* sleep(1);
    assert.equal(b.nWaiting, 0);
    assert.equal(b.broken, false);
    const r = yield* gather([b.wait(), b.wait()]);
    assert.deepEqual([...r].sort(), [0, 1]);
  });
});

void test('bad party counts are refused', () => {
  assert.throws(() => new Barrier(0), RangeError);
  assert.throws(() => new Barrier(1.5), RangeError);
});
