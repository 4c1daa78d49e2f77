import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTask, LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown, cede, sleep, timeout, TimeoutError, type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('FIFO order, sizes, putNowait/getNowait with QueueFull/QueueEmpty', async () => {
  await runRecording(function* () {
    const q = new Queue<number>(2);
    assert.equal(q.maxsize, 2);
    assert.ok(q.empty());
    q.putNowait(1);
    q.putNowait(2);
    assert.ok(q.full());
    assert.equal(q.qsize(), 2);
    assert.throws(() => q.putNowait(3), QueueFull);
    assert.equal(q.getNowait(), 1);
    assert.equal(yield* q.get(), 2);
    assert.throws(() => q.getNowait(), QueueEmpty);
    const unbounded = new Queue<number>();
    for (let i = 0; i < 1000; i++) unbounded.putNowait(i);
    assert.equal(unbounded.full(), false);
    assert.equal(unbounded.qsize(), 1000);
    for (let i = 0; i < 1000; i++) assert.equal(unbounded.getNowait(), i);
  });
});

void test('get() waits for a put(); put() waits for room; waiters are served in order', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const q = new Queue<string>(1);
    function* getter(name: string): Coro<void> { trace.push(`${name} got ${yield* q.get()}`); }
    const g1 = createTask(getter('g1'));
    const g2 = createTask(getter('g2'));
    yield* cede();
    yield* q.put('a');   // handed to g1, the longest waiter
    yield* q.put('b');   // handed to g2: no room is needed
    trace.push('b was put');
    yield* g1;
    yield* g2;
    q.putNowait('c');
    const p = createTask((function* () { yield* q.put('d'); trace.push('d was put'); })());
    yield* cede();
    assert.equal(q.qsize(), 1);   // 'd' waits for room
    trace.push(`main got ${yield* q.get()}`);
    trace.push(`main got ${yield* q.get()}`);   // waits; the woken putter hands 'd' straight over
    yield* p;
  });
  assert.deepEqual(trace, ['b was put', 'g1 got a', 'g2 got b', 'main got c', 'd was put', 'main got d']);
});

void test('an item put while a getter waits is handed to it: not counted by qsize(), no room needed', async () => {
  await runRecording(function* () {
    const q = new Queue<number>(1);
    const g = createTask(q.get());
    yield* cede();
    q.putNowait(1);              // to the waiting getter
    assert.equal(q.qsize(), 0);
    q.putNowait(2);              // into the queue
    assert.equal(q.qsize(), 1);
    assert.throws(() => q.putNowait(3), QueueFull);
    assert.equal(yield* g, 1);
    assert.equal(q.getNowait(), 2);
  });
});

for (const [name, make] of [['PriorityQueue', () => new PriorityQueue<number>(1)], ['LifoQueue', () => new LifoQueue<number>(1)]] as const) {
  void test(`${name}: the woken getter takes its item when it runs (asyncio semantics), so qsize() counts it until then`, async () => {
    await runRecording(function* () {
      const q = make();
      const g = createTask(q.get());
      yield* cede();
      q.putNowait(1);
      assert.equal(q.qsize(), 1);
      assert.throws(() => q.putNowait(2), QueueFull);
      assert.equal(yield* g, 1);
      assert.equal(q.qsize(), 0);
    });
  });
}

void test('a putter woken for room that hands its item to a getter passes the room on (no lost wake-up)', async () => {
  await runRecording(function* () {
    const q = new Queue<number>(1);
    const committed: number[] = [];
    function* producer(v: number): Coro<void> { yield* q.put(v); committed.push(v); }
    const ps = [0, 1, 2].map((v) => createTask(producer(v)));
    yield* cede();                        // 0 is queued; 1 and 2 wait for room
    assert.equal(q.getNowait(), 0);       // wakes the putter of 1 ...
    const g = createTask(q.get());        // ... which hands 1 to this getter instead of taking the room
    yield* cede();
    yield* cede();
    for (const p of ps) yield* p;         // so the putter of 2 must have been woken for the room
    assert.deepEqual(committed, [0, 1, 2]);
    assert.equal(yield* g, 1);
    assert.equal(q.getNowait(), 2);
  });
});

void test('a getter halted after an item was handed to it gives it back to the front of the queue', async () => {
  await runRecording(function* () {
    const q = new Queue<string>(1);
    const g = createTask(q.get());
    yield* cede();
    q.putNowait('x');    // handed to g ...
    q.putNowait('y');    // ... so 'y' is queued
    g.cancel();          // g is halted before it resumes
    yield* cede();
    assert.ok(g.cancelled());
    assert.equal(q.qsize(), 2);   // one more than maxsize, until taken: nothing is lost
    assert.ok(q.full());
    assert.equal(q.getNowait(), 'x');
    assert.equal(q.getNowait(), 'y');
  });
});

void test('an item given back after shutdown(true) is dropped and counted done, as the queued ones are', async () => {
  await runRecording(function* () {
    const q = new Queue<string>();
    const g = createTask(q.get());
    yield* cede();
    q.putNowait('x');    // handed to g
    const j = createTask(q.join());
    q.shutdown(true);
    g.cancel();
    yield* cede();
    yield* j;            // 'x' was counted done when g gave it back
    assert.throws(() => q.getNowait(), QueueShutDown);
  });
});

void test('taskDone/join: join waits until every put has its taskDone', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const q = new Queue<number>();
    yield* q.join();   // nothing was put: returns at once
    q.putNowait(1);
    q.putNowait(2);
    const j = createTask((function* () { yield* q.join(); trace.push('joined'); })());
    q.getNowait();
    q.getNowait();
    yield* sleep(1);
    trace.push('one done');
    q.taskDone();
    yield* sleep(1);
    trace.push('two done');
    q.taskDone();
    yield* j;
    assert.throws(() => q.taskDone(), RangeError);
  });
  assert.deepEqual(trace, ['one done', 'two done', 'joined']);
});

void test('a cancelled join() does not disturb other joiners', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    q.putNowait(1);
    const j1 = createTask(q.join());
    const j2 = createTask(q.join());
    yield* cede();
    j1.cancel();
    yield* cede();
    q.getNowait();
    q.taskDone();
    yield* j2;
    assert.ok(j1.cancelled());
  });
});

void test('shutdown(): putters and getters wake with QueueShutDown; getters drain what is left first', async () => {
  await runRecording(function* () {
    const q = new Queue<number>(1);
    q.putNowait(1);
    const putter = createTask(q.put(2));
    yield* cede();
    q.shutdown();
    yield* cede();
    yield* cede();
    assert.ok(putter.done());
    assert.throws(() => putter.result(), QueueShutDown);
    assert.throws(() => q.putNowait(3), QueueShutDown);
    assert.equal(yield* q.get(), 1);
    assert.throws(() => q.getNowait(), QueueShutDown);
    const getter = createTask(q.get());
    yield* cede();
    yield* cede();
    assert.throws(() => getter.result(), QueueShutDown);

    const q2 = new Queue<number>();
    const g = createTask(q2.get());
    yield* cede();
    q2.shutdown();
    let err: unknown;
    try { yield* g; } catch (e) { err = e; }
    assert.ok(err instanceof QueueShutDown);
  });
});

void test('shutdown(true) drops the items and releases join()', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    q.putNowait(1);
    q.putNowait(2);
    const j = createTask(q.join());
    yield* cede();
    q.shutdown(true);
    assert.equal(q.qsize(), 0);
    yield* j;
    assert.throws(() => q.getNowait(), QueueShutDown);
  });
});

void test('a cancelled get() takes nothing: the item goes to the next getter', async () => {
  await runRecording(function* () {
    const q = new Queue<string>();
    const g1 = createTask(q.get(), { name: 'g1' });
    const g2 = createTask(q.get(), { name: 'g2' });
    yield* cede();
    g1.cancel();
    q.putNowait('x');
    assert.equal(yield* g2, 'x');
    assert.ok(g1.cancelled());
  });
});

void test('a getter woken with an item but halted before it resumed passes the item on', async () => {
  await runRecording(function* () {
    const q = new Queue<string>();
    const g1 = createTask(q.get(), { name: 'g1' });
    const g2 = createTask(q.get(), { name: 'g2' });
    yield* cede();
    q.putNowait('x');   // wakes g1 ...
    g1.cancel();        // ... which is halted before it runs
    assert.equal(yield* g2, 'x');
    assert.ok(g1.cancelled());
    assert.equal(q.qsize(), 0);
  });
});

void test('a get() timed out by a scope leaves the queue intact', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    let err: unknown;
    try { yield* timeout(2, () => q.get()); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    q.putNowait(7);
    assert.equal(yield* q.get(), 7);
  });
});

void test('a cancelled put() adds nothing, and a putter halted after its wake-up passes the room on', async () => {
  await runRecording(function* () {
    const q = new Queue<string>(1);
    q.putNowait('a');
    const p1 = createTask(q.put('p1'), { name: 'p1' });
    const p2 = createTask(q.put('p2'), { name: 'p2' });
    yield* cede();
    p1.cancel();
    yield* cede();
    assert.equal(q.getNowait(), 'a');   // room: p2 gets it, p1 added nothing
    yield* p2;
    assert.equal(q.getNowait(), 'p2');
    assert.ok(q.empty());

    q.putNowait('b');
    const p3 = createTask(q.put('p3'), { name: 'p3' });
    const p4 = createTask(q.put('p4'), { name: 'p4' });
    yield* cede();
    assert.equal(q.getNowait(), 'b');   // wakes p3 ...
    p3.cancel();                        // ... which is halted before it runs
    yield* p4;
    assert.equal(q.getNowait(), 'p4');
    assert.ok(q.empty());
    assert.ok(p3.cancelled());
  });
});

void test('after many cancelled getters the next getter is still served', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    for (let i = 0; i < 200; i++) {
      const g = createTask(q.get());
      yield* cede();
      g.cancel();
      yield* cede();
    }
    const g = createTask(q.get());
    yield* cede();
    q.putNowait(1);
    assert.equal(yield* g, 1);
  });
});
