import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, cede, createTask, Future, gather, moveOnAfter, sleep, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* after<T>(ms: number, v: T, trace?: string[]): Coro<T> {
  yield* sleep(ms);
  trace?.push(`done ${String(v)}`);
  return v;
}
function* failAfter(ms: number, msg: string): Coro<never> {
  yield* sleep(ms);
  throw new Error(msg);
}

void test('results come in input order, whatever the completion order; mixed awaitables', async () => {
  await runRecording(function* () {
    const f = new Future<string>();
    setTimeout(() => f.setResult('future'), 1);
    const r = yield* gather([after(5, 'slow'), after(1, 1), Promise.resolve(true), f]);
    const typed: [string, number, boolean, string] = r;
    assert.deepEqual(typed, ['slow', 1, true, 'future']);
    assert.deepEqual(yield* gather([]), []);
  });
});

void test('the first error propagates at once and the other children keep running (asyncio)', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const slow = createTask(after(10, 'slow', trace));
    let err: unknown;
    try { yield* gather([failAfter(1, 'first'), failAfter(3, 'second'), slow]); } catch (e) { err = e; }
    assert.equal((err as Error).message, 'first');
    trace.push('gather threw');
    assert.equal(yield* slow, 'slow');
  });
  assert.deepEqual(trace, ['gather threw', 'done slow']);
});

void test('returnExceptions: every outcome, errors and cancellations in place', async () => {
  await runRecording(function* () {
    const victim = createTask(after(100, 'never'));
    const r = yield* gather([after(2, 'a'), failAfter(1, 'b'), victim, (function* () { yield* cede(); victim.cancel(); return 'c'; })()],
      { returnExceptions: true });
    assert.equal(r[0], 'a');
    assert.equal((r[1] as Error).message, 'b');
    assert.ok((r[2] as unknown) instanceof CancelledError);
    assert.equal(r[3], 'c');
  });
});

void test('a child cancelled from outside makes gather throw CancelledError (without returnExceptions)', async () => {
  await runRecording(function* () {
    const victim = createTask(after(100, 'never'));
    let err: unknown;
    try { yield* gather([victim, (function* () { yield* cede(); victim.cancel(); })()]); } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
  });
});

void test('cancelling the gather cancels every child and waits for their cleanup', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    function* child(name: string): Coro<void> {
      try { yield* sleep(1000); } finally { yield* sleep(1); trace.push(`${name} cleaned up`); }
    }
    const g = createTask(gather([child('a'), child('b')]));
    yield* sleep(2);
    g.cancel();
    let err: unknown;
    try { yield* g; } catch (e) { err = e; }
    trace.push('gather task done');
    assert.ok(err instanceof CancelledError);
    // and through a scope
    const v = yield* moveOnAfter(2, () => gather([child('c'), child('d')]));
    assert.equal(v, undefined);
  });
  assert.deepEqual(trace, ['a cleaned up', 'b cleaned up', 'gather task done', 'c cleaned up', 'd cleaned up']);
});
