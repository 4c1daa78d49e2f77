// Pins the toolkit's public names (API.md, "Concurrency toolkit") in the main barrel,
// and checks that a deadlock report names what each primitive's waiters wait on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tulip from '../../src/index.js';
import { AsyncEvent, Barrier, Condition, createTask, DeadlockError, Lock, Queue, Semaphore, sleep, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

const TOOLKIT = [
  'gather', 'wait', 'waitFor', 'asCompleted', 'shield', 'race', 'timeout', 'timeoutAt', 'moveOnAfter', 'moveOnAt',
  'TaskGroup', 'taskGroup', 'Lock', 'AsyncEvent', 'Event', 'Condition', 'Semaphore', 'BoundedSemaphore', 'Barrier',
  'Queue', 'PriorityQueue', 'LifoQueue',
];

void test('the main entry exports every toolkit name of API.md', () => {
  const names = Object.keys(tulip);
  for (const n of TOOLKIT) assert.ok(names.includes(n), `missing export ${n}`);
});

void test('DeadlockError lists what each blocked task waits on', async () => {
  let err: unknown;
  try {
    await runRecording(function* (): Coro<void> {
      const q = new Queue<number>(1);
      const lock = new Lock();
      const sem = new Semaphore(0);
      const ev = new AsyncEvent();
      const cond = new Condition();
      const barrier = new Barrier(2);
      q.putNowait(0);
      yield* lock.acquire();
      createTask(q.put(1), { name: 'putter' });
      createTask(new Queue<number>().get(), { name: 'getter' });
      createTask(lock.acquire(), { name: 'locker' });
      createTask(sem.acquire(), { name: 'sem' });
      createTask(ev.wait(), { name: 'event' });
      createTask(cond.withLock(() => cond.wait()), { name: 'cond' });
      createTask(barrier.wait(), { name: 'barrier' });
      yield* sleep(1);
      yield* ev.wait();
    });
  } catch (e) { err = e; }
  assert.ok(err instanceof DeadlockError, String(err));
  const waits = Object.fromEntries(err.tasks.map((t) => [t.name, t.waitingOn]));
  assert.deepEqual(waits, {
    main: 'AsyncEvent.wait', putter: 'Queue.put', getter: 'Queue.get', locker: 'Lock.acquire', sem: 'Semaphore.acquire',
    event: 'AsyncEvent.wait', cond: 'Condition.wait', barrier: 'Barrier.wait',
  });
});
