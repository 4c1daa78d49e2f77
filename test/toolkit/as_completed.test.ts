import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asCompleted, createTask, sleep, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* after<T>(ms: number, v: T): Coro<T> { yield* sleep(ms); return v; }

void test('yields outcomes in completion order, errors included', async () => {
  await runRecording(function* () {
    const out: string[] = [];
    for (const next of asCompleted([after(15, 'c'), after(1, 'a'), (function* () { yield* sleep(8); throw new Error('b'); })()])) {
      try { out.push(yield* next); } catch (e) { out.push(`error ${(e as Error).message}`); }
    }
    assert.deepEqual(out, ['a', 'error b', 'c']);
  });
});

void test('after the timeout, those left throw TimeoutError and keep running', async () => {
  await runRecording(function* () {
    const slow = createTask(after(150, 'slow'));
    const out: string[] = [];
    for (const next of asCompleted([after(1, 'fast'), slow], { timeout: 50 })) {
      try { out.push(yield* next); } catch (e) { out.push(e instanceof TimeoutError ? 'timeout' : String(e)); }
    }
    assert.deepEqual(out, ['fast', 'timeout']);
    assert.equal(slow.cancelled(), false);
    assert.equal(yield* slow, 'slow');
  });
});

void test('a cancelled waiter leaves its completion for the next one', async () => {
  await runRecording(function* () {
    const it = asCompleted([after(5, 'x'), after(10, 'y')])[Symbol.iterator]();
    const first = createTask(it.next().value as Coro<string>);
    yield* sleep(1);
    first.cancel();
    const out: string[] = [];
    for (let r = it.next(); !r.done; r = it.next()) out.push(yield* r.value);
    assert.deepEqual(out, ['x']);
    assert.ok(first.cancelled());
  });
});
