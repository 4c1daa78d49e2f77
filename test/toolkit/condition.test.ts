import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cede, Condition, createTask, InvalidStateError, Lock, sleep, timeout, TimeoutError, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('wait/notify: a waiter wakes only when notified, holding the lock', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const cond = new Condition();
    function* waiter(name: string): Coro<void> {
      yield* cond.withLock(function* () {
        yield* cond.wait();
        trace.push(`${name} woke, locked=${cond.locked()}`);
      });
    }
    const ts = [createTask(waiter('a')), createTask(waiter('b')), createTask(waiter('c'))];
    yield* sleep(1);
    assert.equal(cond.locked(), false, 'wait() released the lock');
    yield* cond.withLock(function* () { trace.push('notify 1'); cond.notify(); });
    yield* sleep(1);
    yield* cond.withLock(function* () { trace.push('notifyAll'); cond.notifyAll(); });
    for (const t of ts) yield* t;
  });
  assert.deepEqual(trace, ['notify 1', 'a woke, locked=true', 'notifyAll', 'b woke, locked=true', 'c woke, locked=true']);
});

void test('waitFor(pred) returns the predicate value once it holds', async () => {
  await runRecording(function* () {
    const cond = new Condition();
    const items: number[] = [];
    const consumer = createTask(cond.withLock(() => cond.waitFor(() => items.shift())));
    yield* cede();
    yield* cond.withLock(function* () { cond.notifyAll(); });   // spurious: predicate still false
    yield* sleep(1);
    assert.equal(consumer.done(), false);
    yield* cond.withLock(function* () { items.push(42); cond.notify(); });
    assert.equal(yield* consumer, 42);
  });
});

void test('wait/notify without the lock throw InvalidStateError; a shared lock works', async () => {
  await runRecording(function* () {
    const lock = new Lock();
    const cond = new Condition(lock);
    assert.throws(() => cond.notify(), InvalidStateError);
    assert.throws(() => cond.notifyAll(), InvalidStateError);
    let err: unknown;
    try { yield* cond.wait(); } catch (e) { err = e; }
    assert.ok(err instanceof InvalidStateError);
    yield* lock.acquire();
    assert.ok(cond.locked());
    cond.release();
    assert.equal(lock.locked(), false);
  });
});

void test('a cancelled wait() re-acquires the lock before its finally runs', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const cond = new Condition();
    const t = createTask((function* () {
      yield* cond.acquire();
      try {
        yield* cond.wait();
      } finally {
        trace.push(`finally: locked=${cond.locked()}`);
        cond.release();
      }
    })());
    yield* cede();
    yield* cond.acquire();   // hold the lock while t is cancelled: t must wait for it
    t.cancel();
    yield* sleep(1);
    trace.push('main releases');
    cond.release();
    yield* sleep(1);
    assert.ok(t.cancelled());
    assert.equal(cond.locked(), false);
  });
  assert.deepEqual(trace, ['main releases', 'finally: locked=true']);
});

void test('a second cancel during the re-acquisition does not leave the lock un-held', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const cond = new Condition();
    const t = createTask((function* () {
      yield* cond.acquire();
      try { yield* cond.wait(); } finally { trace.push(`finally: locked=${cond.locked()}`); cond.release(); }
    })());
    yield* cede();
    yield* cond.acquire();
    t.cancel();
    yield* sleep(1);
    t.cancel();   // interrupts the re-acquisition: it starts over
    yield* sleep(1);
    cond.release();
    yield* sleep(1);
    assert.ok(t.cancelled());
    assert.equal(cond.locked(), false);
  });
  assert.deepEqual(trace, ['finally: locked=true']);
});

void test('a waiter notified but halted before it resumed passes the notification on', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const cond = new Condition();
    function* waiter(name: string): Coro<void> { yield* cond.withLock(function* () { yield* cond.wait(); trace.push(name); }); }
    const a = createTask(waiter('a'));
    const b = createTask(waiter('b'));
    yield* cede();
    yield* cond.withLock(function* () {
      cond.notify(1);   // notifies a ...
      a.cancel();       // ... which is halted before it resumes
    });
    yield* b;
    assert.ok(a.cancelled());
  });
  assert.deepEqual(trace, ['b']);
});

void test('wait() under a timeout: TimeoutError after the lock is re-acquired', async () => {
  await runRecording(function* () {
    const cond = new Condition();
    yield* cond.acquire();
    let err: unknown;
    try { yield* timeout(2, () => cond.wait()); } catch (e) { err = e; }
    assert.ok(err instanceof TimeoutError);
    assert.ok(cond.locked());
    cond.release();
  });
});
