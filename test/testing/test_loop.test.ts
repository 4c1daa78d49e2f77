import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelScope, createTask, DeadlockError, Future, fromPromise, getRunningLoop, run, sleep, type Coro,
} from '../../src/index.js';
import { TestEventLoop, runVirtual, seededRandom } from '../../src/testing/index.js';

function now(): number { return getRunningLoop().time(); }

void test('an hour of virtual sleep takes milliseconds of wall time', async () => {
  const t0 = performance.now();
  const v = await runVirtual(function* () {
    for (let i = 0; i < 60; i++) yield* sleep(60_000);
    return now();
  });
  assert.equal(v, 3_600_000);
  assert.ok(performance.now() - t0 < 500);
});

void test('the clock starts at `start` and jumps to each timer in turn', async () => {
  const loop = new TestEventLoop({ start: 1000 });
  const trace: string[] = [];
  await run(function* () {
    const a = createTask((function* () { yield* sleep(30); trace.push(`a@${now()}`); })());
    const b = createTask((function* () { yield* sleep(10); trace.push(`b@${now()}`); yield* sleep(50); trace.push(`b@${now()}`); })());
    trace.push(`main@${now()}`);
    yield* a; yield* b;
  }, { loop, handleSignals: false });
  assert.deepEqual(trace, ['main@1000', 'b@1010', 'a@1030', 'b@1060']);
  assert.equal(loop.time(), 1060);
});

void test('advance() on a stopped loop runs each timer at its own due time and leaves the clock at the target', () => {
  const loop = new TestEventLoop({ autojump: false });
  const trace: string[] = [];
  loop.callLater(10, () => { trace.push(`t10@${loop.time()}`); loop.callLater(5, () => trace.push(`t15@${loop.time()}`)); });
  loop.callLater(30, () => trace.push(`t30@${loop.time()}`));
  loop.callLater(100, () => trace.push(`t100@${loop.time()}`));
  loop.callSoon(() => trace.push(`soon@${loop.time()}`));
  loop.advance(30);
  assert.deepEqual(trace, ['soon@0', 't10@10', 't15@15', 't30@30']);
  assert.equal(loop.time(), 30);
  assert.equal(loop.isRunning(), false);
  loop.advance(69);
  assert.equal(trace.length, 4);
  assert.equal(loop.time(), 99);
  loop.advance(1);
  assert.deepEqual(trace.slice(4), ['t100@100']);
  assert.throws(() => loop.advance(-1), RangeError);
  loop.close();
});

void test('advance() drives tasks on a stopped loop', () => {
  const loop = new TestEventLoop({ autojump: false });
  const trace: number[] = [];
  const t = loop.createTask((function* () { for (let i = 0; i < 3; i++) { yield* sleep(10); trace.push(now()); } return 'done'; })());
  loop.advance(25);
  assert.deepEqual(trace, [10, 20]);
  assert.equal(t.done(), false);
  loop.advance(5);
  assert.deepEqual(trace, [10, 20, 30]);
  assert.equal(t.result(), 'done');
  loop.close();
});

void test('advance() on a running loop moves the clock; the next batch runs what fell due', async () => {
  const loop = new TestEventLoop({ autojump: false });
  const trace: string[] = [];
  await run(function* () {
    const h = loop.callLater(100, () => trace.push(`timer@${loop.time()}`));
    loop.advance(150);
    trace.push(`after advance@${loop.time()}`);
    yield* sleep(0);
    yield* sleep(0);
    trace.push(`main@${loop.time()}`);
    assert.equal(h.when(), 100);
  }, { loop, handleSignals: false });
  assert.deepEqual(trace, ['after advance@0', 'timer@150', 'main@150']);
});

void test('without autojump, a pending timer waits for advance() from outside', async () => {
  const loop = new TestEventLoop({ autojump: false });
  const done = run(function* () { yield* sleep(1000); return now(); }, { loop, handleSignals: false });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(loop.time(), 0);
  loop.advance(1000);
  assert.equal(await done, 1000);
});

void test('the clock never jumps while a Promise awaited through fromPromise is pending', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const sleeper = createTask((function* () { yield* sleep(100); trace.push(`sleeper@${now()}`); })());
    yield* fromPromise(new Promise((r) => setTimeout(r, 30)));
    trace.push(`promise@${now()}`);
    const t = createTask(new Promise<number>((r) => setTimeout(() => r(7), 10)));
    trace.push(`task ${yield* t}@${now()}`);
    yield* sleeper;
  });
  assert.deepEqual(trace, ['promise@0', 'task 7@0', 'sleeper@100']);
});

void test('a cancelled fromPromise wait does not hold the clock for ever after the Promise settles', async () => {
  const v = await runVirtual(function* () {
    const scope = new CancelScope({ deadline: 0 });
    let resolve!: () => void;
    const p = new Promise<void>((r) => { resolve = r; });
    getRunningLoop().callSoon(() => scope.cancel());
    yield* scope.run((function* () { yield* fromPromise(p); })());
    assert.equal(scope.cancelledCaught, true);
    setTimeout(resolve, 5);
    yield* sleep(50);
    return now();
  });
  assert.equal(v, 50);
});

void test('random() is deterministic per seed', async () => {
  const draw = (seed: number): Promise<number[]> => runVirtual(function* () {
    const loop = getRunningLoop() as TestEventLoop;
    return [loop.random(), loop.random(), loop.random()];
  }, { seed });
  const a = await draw(1), b = await draw(1), c = await draw(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const x of a) assert.ok(x >= 0 && x < 1);
  const r = seededRandom(0);
  const xs = Array.from({ length: 1000 }, r);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(mean > 0.45 && mean < 0.55);
});

void test('the same seed gives the same interleaving', async () => {
  const program = (seed: number): Promise<string[]> => runVirtual(function* () {
    const loop = getRunningLoop() as TestEventLoop;
    const trace: string[] = [];
    function* worker(name: string): Coro<void> {
      for (let i = 0; i < 5; i++) { yield* sleep(Math.floor(loop.random() * 100)); trace.push(`${name}${i}@${now()}`); }
    }
    const ts = ['a', 'b', 'c'].map((n) => createTask(worker(n)));
    for (const t of ts) yield* t;
    return trace;
  }, { seed });
  assert.deepEqual(await program(5), await program(5));
  assert.notDeepEqual(await program(5), await program(6));
});

void test('a main task that can never finish rejects with DeadlockError', async () => {
  await assert.rejects(runVirtual(function* () {
    const f = new Future<void>({ description: 'Gate.wait' });
    yield* sleep(10);
    yield* f;
  }), (e: unknown) => e instanceof DeadlockError && /Gate\.wait/.test(e.message));
});

void test('a pending real Promise is not a deadlock', async () => {
  const v = await runVirtual(function* () {
    return yield* fromPromise(new Promise<string>((r) => setTimeout(() => r('real'), 20)));
  });
  assert.equal(v, 'real');
});

void test('scheduling order: callSoon FIFO, equal-time timers in order, callLater(0) after queued callSoon', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const loop = getRunningLoop();
    loop.callLater(0, () => trace.push('later0'));
    loop.callSoon(() => trace.push('soon1'));
    loop.callLater(5, () => trace.push('t5a'));
    loop.callAt(5, () => trace.push('t5b'));
    loop.callSoon(() => { trace.push('soon2'); loop.callSoon(() => trace.push('soon3')); });
    yield* sleep(10);
  });
  assert.deepEqual(trace, ['soon1', 'soon2', 'later0', 'soon3', 't5a', 't5b']);
});

void test('a deadlock is still reported once a foreign resource that kept Node busy has gone', async () => {
  const t0 = performance.now();
  const foreign = setTimeout(() => {}, 60);   // keeps Node busy, never wakes the loop
  await assert.rejects(runVirtual(function* () {
    yield* new Future<void>({ description: 'Gate.never' });
  }), DeadlockError);
  clearTimeout(foreign);
  assert.ok(performance.now() - t0 >= 55, 'not before the foreign timer was gone');
});

test('a Promise that nothing can settle ends in DeadlockError, not a silent exit', async () => {
  const never = new Promise<void>(() => {});
  const e1 = await runVirtual(function* () { yield* fromPromise(never); }).then(() => null, (e: unknown) => e);
  assert.ok(e1 instanceof DeadlockError, String(e1));
  assert.match(e1.message, /Promise/);
  // the same with a virtual timer pending: the clock may not jump past a pending Promise, so nothing moves
  const e2 = await runVirtual(function* () {
    createTask(sleep(1000));
    yield* fromPromise(never);
  }).then(() => null, (e: unknown) => e);
  assert.ok(e2 instanceof DeadlockError, String(e2));
});

test('a Promise settled by real work later is not a deadlock', async () => {
  const v = await runVirtual(function* () {
    return yield* fromPromise(new Promise<string>((r) => setTimeout(() => r('real'), 30)));
  });
  assert.equal(v, 'real');
});
