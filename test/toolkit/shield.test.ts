import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, createTask, Future, shield, sleep, moveOnAfter, type Coro, type ExceptionContext } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('the inner work keeps running when the waiter is cancelled', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const inner = createTask((function* () { yield* sleep(5); trace.push('inner finished'); return 'saved'; })());
    const waiter = createTask((function* () { return yield* shield(inner); })());
    yield* sleep(1);
    waiter.cancel();
    yield* sleep(1);
    assert.ok(waiter.cancelled());
    assert.equal(inner.cancelled(), false);
    assert.equal(yield* inner, 'saved');
    // and under a scope
    const inner2 = createTask(sleep(5, 'saved too'));
    assert.equal(yield* moveOnAfter(1, () => shield(inner2)[Symbol.iterator]()), undefined);
    assert.equal(yield* inner2, 'saved too');
  });
  assert.deepEqual(trace, ['inner finished']);
});

void test('the outer future mirrors the result, the error and the cancellation of the inner work', async () => {
  await runRecording(function* () {
    assert.equal(yield* shield(sleep(1, 42)), 42);
    let err: unknown;
    try { yield* shield((function* (): Coro<never> { yield* sleep(1); throw new Error('inner failed'); })()); } catch (e) { err = e; }
    assert.equal((err as Error).message, 'inner failed');
    const t = createTask(sleep(100));
    const outer = shield(t);
    t.cancel();
    try { yield* outer; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
    const done = new Future<number>();
    done.setResult(1);
    assert.equal(shield(done), done);
  });
});

void test('an error of the inner work after the waiter left is reported, not lost', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const waiter = createTask((function* () {
      yield* shield((function* (): Coro<never> { yield* sleep(3); throw new Error('nobody is waiting'); })());
    })());
    yield* sleep(1);
    waiter.cancel();
    yield* sleep(5);
  }, errors);
  assert.ok(errors.some((c) => (c.exception as Error | undefined)?.message === 'nobody is waiting'), JSON.stringify(errors.map((c) => c.message)));
});
