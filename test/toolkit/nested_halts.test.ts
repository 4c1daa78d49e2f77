// A halt (a task cancel, or an enclosing timeout) that passes through a toolkit frame whose
// cleanup suspends (it waits for children or re-acquires a lock) must still reach the caller's
// frame above it: the caller must not carry on after the call as if it had returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, cede, Condition, createTask, gather, race, sleep, taskGroup, timeout, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

function* slowCleanup(name: string, trace: string[]): Coro<string> {
  try { yield* sleep(1000); return name; } finally { yield* sleep(2); trace.push(`${name} cleaned up`); }
}

const cases: Array<[string, (trace: string[]) => Coro<unknown>]> = [
  ['gather', (trace) => gather([slowCleanup('a', trace), slowCleanup('b', trace)])],
  ['race', (trace) => race([slowCleanup('a', trace), slowCleanup('b', trace)])],
  ['taskGroup', (trace) => taskGroup(function* (tg) {
    tg.createTask(slowCleanup('a', trace));
    tg.createTask(slowCleanup('b', trace));
  })],
  ['Condition.wait', (trace) => {
    const cond = new Condition();
    return (function* () {
      const holder = createTask((function* () {
        yield* sleep(2);
        yield* cond.acquire();   // hold the lock while the waiter is halted: its re-acquisition suspends
        yield* sleep(5);
        trace.push('holder releases');
        cond.release();
      })());
      yield* cond.withLock(() => cond.wait());
      yield* holder;
    })();
  }],
];

function* caller(trace: string[], call: (trace: string[]) => Coro<unknown>): Coro<void> {
  try {
    yield* call(trace);
    trace.push('never: the caller carried on after a halted call');
    yield* sleep(1000);
  } finally {
    trace.push('caller finally');
  }
}

for (const [name, call] of cases) {
  void test(`${name}: a task cancel reaches the caller's frame after the cleanup`, async () => {
    const trace: string[] = [];
    await runRecording(function* () {
      const t = createTask(caller(trace, call));
      yield* sleep(10);
      t.cancel();
      let err: unknown;
      try { yield* t; } catch (e) { err = e; }
      assert.ok(err instanceof CancelledError);
    });
    assert.equal(trace.at(-1), 'caller finally');
    assert.ok(!trace.some((x) => x.startsWith('never')), trace.join(', '));
  });

  void test(`${name}: an enclosing timeout reaches the caller's frame after the cleanup`, async () => {
    const trace: string[] = [];
    await runRecording(function* () {
      let err: unknown;
      try { yield* timeout(10, () => caller(trace, call)); } catch (e) { err = e; }
      assert.ok(err instanceof TimeoutError, String(err));
      yield* cede();
    });
    assert.equal(trace.at(-1), 'caller finally');
    assert.ok(!trace.some((x) => x.startsWith('never')), trace.join(', '));
  });
}
