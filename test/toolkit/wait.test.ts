import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, Future, sleep, wait, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* after<T>(ms: number, v: T): Coro<T> { yield* sleep(ms); return v; }
function* failAfter(ms: number, msg: string): Coro<never> { yield* sleep(ms); throw new Error(msg); }

void test('ALL_COMPLETED (the default) waits for all', async () => {
  await runRecording(function* () {
    const [done, pending] = yield* wait([after(1, 'a'), after(3, 'b')]);
    assert.equal(done.size, 2);
    assert.equal(pending.size, 0);
    assert.deepEqual([...done].map((f) => f.result()).sort(), ['a', 'b']);
  });
});

void test('FIRST_COMPLETED returns after the first; nothing is cancelled', async () => {
  await runRecording(function* () {
    const a = createTask(after(1, 'a')), b = createTask(after(20, 'b'));
    const [done, pending] = yield* wait([a, b], { returnWhen: 'FIRST_COMPLETED' });
    assert.deepEqual([...done], [a]);
    assert.deepEqual([...pending], [b]);
    assert.equal(yield* b, 'b');
  });
});

void test('FIRST_EXCEPTION returns at the first error, or when all are done if none fails', async () => {
  await runRecording(function* () {
    const a = createTask(after(20, 'a')), b = createTask(failAfter(1, 'b'));
    const [done, pending] = yield* wait([a, b], { returnWhen: 'FIRST_EXCEPTION' });
    assert.deepEqual([...done], [b]);
    assert.deepEqual([...pending], [a]);
    assert.equal((b.exception() as Error).message, 'b');
    const [d2, p2] = yield* wait([after(1, 1), after(2, 2)], { returnWhen: 'FIRST_EXCEPTION' });
    assert.equal(d2.size, 2);
    assert.equal(p2.size, 0);
    yield* a;
  });
});

void test('timeout returns what is done so far and cancels nothing', async () => {
  await runRecording(function* () {
    const slow = createTask(after(30, 'slow'));
    const fast = createTask(after(1, 'fast'));
    const [done, pending] = yield* wait([slow, fast], { timeout: 10 });
    assert.deepEqual([...done], [fast]);
    assert.deepEqual([...pending], [slow]);
    assert.equal(slow.cancelled(), false);
    assert.equal(yield* slow, 'slow');
  });
});

void test('already-done futures satisfy the condition at once; duplicates count once; empty input is refused', async () => {
  await runRecording(function* () {
    const f = new Future<number>();
    f.setResult(1);
    const g = new Future<number>();
    const [done, pending] = yield* wait([f, g, f], { returnWhen: 'FIRST_COMPLETED' });
    assert.deepEqual([...done], [f]);
    assert.deepEqual([...pending], [g]);
    let err: unknown;
    try { yield* wait([]); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError);
    g.cancel();
  });
});

void test('cancelling the waiting task leaves the awaitables running', async () => {
  await runRecording(function* () {
    const a = createTask(after(5, 'a'));
    const w = createTask(wait([a]));
    yield* sleep(1);
    w.cancel();
    yield* sleep(1);
    assert.ok(w.cancelled());
    assert.equal(a.cancelled(), false);
    assert.equal(yield* a, 'a');
  });
});
