import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifoQueue } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('LifoQueue: last in, first out; bounded', async () => {
  await runRecording(function* () {
    const q = new LifoQueue<number>(3);
    q.putNowait(1);
    q.putNowait(2);
    yield* q.put(3);
    assert.ok(q.full());
    assert.deepEqual([q.getNowait(), yield* q.get(), q.getNowait()], [3, 2, 1]);
  });
});
