import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, createTask, race, sleep, type Coro, type ExceptionContext } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('the first to settle wins; the rest are cancelled and awaited before race returns', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    function* contender(name: string, ms: number): Coro<string> {
      try { yield* sleep(ms); return name; } finally { if (ms > 5) { yield* sleep(1); trace.push(`${name} cleaned up`); } }
    }
    const v = yield* race([contender('slow', 50), contender('fast', 1), contender('slower', 60)]);
    trace.push(`winner ${v}`);
  });
  assert.deepEqual(trace, ['slow cleaned up', 'slower cleaned up', 'winner fast']);
});

void test('an error that settles first wins too', async () => {
  await runRecording(function* () {
    let err: unknown;
    try { yield* race([sleep(50, 'late'), (function* (): Coro<never> { yield* sleep(1); throw new Error('first'); })()]); } catch (e) { err = e; }
    assert.equal((err as Error).message, 'first');
  });
});

void test('cancelling the racing task cancels and awaits every contender', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    function* contender(name: string): Coro<void> { try { yield* sleep(1000); } finally { yield* sleep(1); trace.push(name); } }
    const t = createTask(race([contender('a'), contender('b')]));
    yield* sleep(1);
    t.cancel();
    let err: unknown;
    try { yield* t; } catch (e) { err = e; }
    assert.ok(err instanceof CancelledError);
    trace.push('race cancelled');
  });
  assert.deepEqual(trace, ['a', 'b', 'race cancelled']);
});

void test('a loser that fails while cancelled is reported, not lost; empty input is refused', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    function* badLoser(): Coro<string> {
      try { yield* sleep(1000); return 'x'; } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error('cleanup failed');
      }
    }
    assert.equal(yield* race([sleep(1, 'winner'), badLoser()]), 'winner');
    let err: unknown;
    try { yield* race([]); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError);
  }, errors);
  assert.equal(errors.length, 1);
  assert.equal((errors[0]!.exception as Error).message, 'cleanup failed');
});
