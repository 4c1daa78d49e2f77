import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cede, createTask, PriorityQueue, QueueFull } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('PriorityQueue: smallest first, stable for equal priorities, custom comparator', async () => {
  await runRecording(function* () {
    const q = new PriorityQueue<number>();
    for (const x of [5, 1, 4, 1, 3, 9, 2]) q.putNowait(x);
    const out: number[] = [];
    while (!q.empty()) out.push(yield* q.get());
    assert.deepEqual(out, [1, 1, 2, 3, 4, 5, 9]);

    const pq = new PriorityQueue<[number, string]>(0, (a, b) => a[0] - b[0]);
    const items: Array<[number, string]> = [[2, 'a'], [1, 'b'], [2, 'c'], [1, 'd'], [3, 'e'], [2, 'f'], [1, 'g']];
    for (const it of items) pq.putNowait(it);
    const names: string[] = [];
    while (!pq.empty()) names.push(pq.getNowait()[1]);
    assert.deepEqual(names, ['b', 'd', 'g', 'a', 'c', 'f', 'e']);

    const maxFirst = new PriorityQueue<number>(2, (a, b) => b - a);
    maxFirst.putNowait(1);
    maxFirst.putNowait(3);
    assert.throws(() => maxFirst.putNowait(2), QueueFull);
    assert.equal(maxFirst.getNowait(), 3);
  });
});

void test('PriorityQueue: waiting getters and putters work as in Queue', async () => {
  await runRecording(function* () {
    const q = new PriorityQueue<number>(2);
    const g = createTask(q.get());
    yield* cede();
    q.putNowait(5);
    assert.equal(yield* g, 5);
    q.putNowait(3);
    q.putNowait(1);
    const p = createTask(q.put(2));   // full: waits for room
    yield* cede();
    assert.equal(p.done(), false);
    assert.equal(yield* q.get(), 1);
    yield* p;
    assert.deepEqual([q.getNowait(), q.getNowait()], [2, 3]);
  });
});
