import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, Future, sleep, TimeoutError, waitFor, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('returns the value in time; null means no limit; any awaitable', async () => {
  await runRecording(function* () {
    assert.equal(yield* waitFor(sleep(1, 'coro'), 100), 'coro');
    assert.equal(yield* waitFor(createTask(sleep(1, 'task')), 100), 'task');
    assert.equal(yield* waitFor(Promise.resolve('promise'), 100), 'promise');
    assert.equal(yield* waitFor(sleep(5, 'unlimited'), null), 'unlimited');
    const f = new Future<string>();
    f.setResult('done future');
    assert.equal(yield* waitFor(f, 0), 'done future');
  });
});

void test('on timeout the inner coroutine is halted, its cleanup awaited, then TimeoutError', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    function* inner(): Coro<string> {
      try { yield* sleep(1000); return 'late'; } finally { yield* sleep(2); trace.push('inner cleaned up'); }
    }
    try { yield* waitFor(inner(), 2); } catch (e) { trace.push((e as Error).name); }
  });
  assert.deepEqual(trace, ['inner cleaned up', 'TimeoutError']);
});

void test('on timeout an inner task is cancelled and awaited; an inner future is cancelled', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const t = createTask((function* () {
      try { yield* sleep(1000); } finally { yield* sleep(2); trace.push('task cleaned up'); }
    })());
    let err: unknown;
    try { yield* waitFor(t, 2); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    assert.ok(t.cancelled(), 'the task finished before TimeoutError was thrown');
    const f = new Future<number>();
    try { yield* waitFor(f, 1); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    assert.ok(f.cancelled());
  });
  assert.deepEqual(trace, ['task cleaned up']);
});

void test('an error of the inner work propagates as is', async () => {
  await runRecording(function* () {
    let err: unknown;
    try { yield* waitFor((function* () { yield* sleep(1); throw new Error('inner'); })(), 100); } catch (e) { err = e; }
    assert.equal((err as Error).message, 'inner');
  });
});
