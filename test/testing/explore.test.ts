/**
 * exploreCancellation itself: it counts the target's suspension points,
 * finds a planted cancellation bug at its point with a replay handle that
 * reproduces it alone, tells the modes apart, and passes correct code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Coro, createTask, Event, Lock, sleep } from '../../src/index.js';
import { exploreCancellation, ExplorationError, type ExploreOutcome } from '../../src/testing/index.js';

/** A lock used without try/finally: a cancel while it is held leaves it locked. */
function* careless(lock: Lock): Coro<void> { yield* lock.acquire(); yield* sleep(10); lock.release(); }

void test('a planted bug is found at its point, and its replay handle reproduces it alone', async () => {
  let lock!: Lock;
  const seen: Array<string | null> = [];
  const scenario = function* (x: Parameters<Parameters<typeof exploreCancellation>[0]>[0]): Coro<void> {
    lock = new Lock();
    yield* sleep(1);
    yield* x.target(() => careless(lock));
  };
  const check = (o: ExploreOutcome<void>): void => { seen.push(o.at); assert.equal(lock.locked(), false, 'the lock is still held'); };
  const e = await exploreCancellation(scenario, { check }).then(() => null, (err: unknown) => err);
  assert.ok(e instanceof ExplorationError, String(e));
  assert.equal(e.point, 1);
  assert.equal(e.mode, 'step');
  assert.equal(e.replay, 'cancel:seed=0:point=1:mode=step');
  assert.match(e.message, /point 1 \(step, the target waiting on sleep\(10\)\).*the lock is still held/s);
  assert.match(e.message, /replay: exploreCancellation\(scenario, \{ replay: 'cancel:seed=0:point=1:mode=step' \}\)/);
  seen.length = 0;
  await assert.rejects(exploreCancellation(scenario, { check, replay: e.replay }), ExplorationError);
  assert.deepEqual(seen, ['sleep(10)'], 'the replay ran that one case');
});

void test('correct code passes every point and mode; the report counts them', async () => {
  let lock!: Lock;
  const r = await exploreCancellation(function* (x) {
    lock = new Lock();
    const holder = createTask(lock.withLock(() => sleep(5)));
    yield* sleep(0);
    yield* x.target(() => lock.withLock(() => sleep(10)));
    yield* holder;
  }, { check: () => { assert.equal(lock.locked(), false); } });
  assert.deepEqual(r, { points: 2, runs: 9, modes: ['step', 'batch+1', 'batch+2', 'scope'] });
});

void test('the modes differ: a wake-up racing the cancel is seen one batch later, a scope halt lets the task go on', async () => {
  const results: Array<[string, unknown, boolean]> = [];
  await exploreCancellation(function* (x) {
    const ev = new Event();
    createTask(function* () { yield* sleep(5); ev.set(); }());
    const v = yield* x.target(function* () { yield* ev.wait(); return 'woken'; });
    return v ?? 'halted by the scope';
  }, {
    check: (o) => { if (o.injection !== null) results.push([o.injection.mode, o.value ?? (o.error as Error).name, o.injected]); },
  });
  assert.deepEqual(results, [
    ['step', 'CancelledError', true],
    ['batch+1', 'CancelledError', true],
    ['batch+2', 'CancelledError', true],
    ['scope', 'halted by the scope', true],
  ]);
});

void test('a deadlock, an error nobody retrieved and a leftover task each fail a run', async () => {
  await assert.rejects(exploreCancellation(function* (x) {
    const lock = new Lock();
    yield* lock.acquire();
    yield* x.target(function* () { yield* sleep(1); yield* lock.acquire(); });   // waits for itself
  }), (e: unknown) => e instanceof ExplorationError && /deadlocked/.test(e.message) && e.point === 0);
  await assert.rejects(exploreCancellation(function* (x) {
    yield* x.target(() => sleep(1));
    createTask(function* () { yield* sleep(1); throw new Error('lost'); }());
    yield* sleep(10);
  }), (e: unknown) => e instanceof ExplorationError && /exception handler got/.test(e.message));
  await assert.rejects(exploreCancellation(function* (x) {
    yield* x.target(() => sleep(1));
    createTask(sleep(60_000), { name: 'forgotten' });
  }), (e: unknown) => e instanceof ExplorationError && /left tasks pending: forgotten/.test(e.message));
  await assert.rejects(exploreCancellation(function* () { yield* sleep(1); }), /never suspend/);
});

void test('a check that returns false fails the run as one that throws does, at the point it first says so', async () => {
  let lock!: Lock;
  const scenario = function* (x: Parameters<Parameters<typeof exploreCancellation>[0]>[0]): Coro<void> {
    lock = new Lock();
    yield* x.target(() => careless(lock));
  };
  const e = await exploreCancellation(scenario, { check: () => !lock.locked() }).then(() => null, (err: unknown) => err);
  assert.ok(e instanceof ExplorationError, String(e));
  assert.match(e.message, /point 1 .*: the check returned false\./s);
});
