import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createTask, fromPromise, on, pipe, Queue, sleep } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('for await over a Queue: break leaves the rest in the queue; shutdown ends the loop', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    for (let i = 0; i < 5; i++) q.putNowait(i);
    const first = yield* fromPromise((async () => {
      const got: number[] = [];
      for await (const x of q) { got.push(x); if (x === 1) break; }
      return got;
    })());
    assert.deepEqual(first, [0, 1]);
    assert.equal(q.qsize(), 3);
    q.shutdown();
    const rest = yield* fromPromise((async () => { const got: number[] = []; for await (const x of q) got.push(x); return got; })());
    assert.deepEqual(rest, [2, 3, 4]);
  });
});

void test('an async consumer that gives up on a pending next() and returns loses no item of a Queue', async () => {
  await runRecording(function* () {
    const q = new Queue<string>();
    const it = q[Symbol.asyncIterator]();
    const pending = it.next();
    const winner = yield* fromPromise(Promise.race([pending, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5))]));
    assert.equal(winner, 'timeout');
    q.putNowait('late');              // may be handed to the pending get() before return() cancels it
    yield* fromPromise(it.return!()); // cancels the pending get and waits: the item goes back
    yield* fromPromise(assert.rejects(pending as Promise<unknown>, { name: 'CancelledError' }));
    assert.equal(q.qsize(), 1);
    assert.equal(q.getNowait(), 'late');
  });
});

void test('for await over a subscription and a pipe from an async task; break closes them', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'n');
    const consumer = createTask((async () => {
      const got: number[] = [];
      for await (const [x] of sub) { got.push(x); if (got.length === 2) break; }
      return got;
    })());
    for (let i = 0; i < 4; i++) { e.emit('n', i); yield* sleep(1); }
    assert.deepEqual(yield* consumer, [0, 1]);
    assert.equal(e.listenerCount('n'), 0);

    const [w, r] = pipe<number>(4);
    createTask(function* () { for (let i = 0; i < 3; i++) yield* w.put(i); w.close(); }());
    const all = yield* fromPromise((async () => { const got: number[] = []; for await (const x of r) got.push(x); return got; })());
    assert.deepEqual(all, [0, 1, 2]);
  });
});
