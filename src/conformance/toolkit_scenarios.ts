/**
 * Queue and lock scenarios: the toolkit's waiting primitives must behave
 * the same on every loop (FIFO wake-ups, cancellation of a waiter). The
 * toolkit is imported statically, so a bundler cannot leave it out.
 */
import * as assert from './assert.js';
import { createTask, sleep } from '../kernel/coro.js';
import type { Coro } from '../kernel/events.js';
import { Lock } from '../toolkit/lock.js';
import { Queue } from '../toolkit/queue.js';
import { runOn, type Scenario } from './scenario.js';

export const toolkitScenarios: Scenario[] = [
  {
    name: 'toolkit: a bounded Queue wakes getters and putters in FIFO order',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const q = new Queue<number>(1);
        function* getter(name: string): Coro<void> { trace.push(`${name} got ${yield* q.get()}`); }
        function* putter(v: number): Coro<void> { yield* q.put(v); trace.push(`put ${v}`); }
        const gs = [createTask(getter('g1')), createTask(getter('g2'))];
        yield* sleep(1);
        const ps = [createTask(putter(1)), createTask(putter(2)), createTask(putter(3))];
        for (const t of gs) yield* t;
        yield* sleep(1);
        assert.equal(q.qsize(), 1);
        const last = createTask(getter('g3'));
        yield* last;
        for (const t of ps) yield* t;
      });
      assert.deepEqual(trace.filter((e) => e.includes('got')), ['g1 got 1', 'g2 got 2', 'g3 got 3']);
    },
  },
  {
    name: 'toolkit: a Lock is FIFO-fair and a cancelled waiter does not take it',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const lock = new Lock();
        function* user(name: string): Coro<void> {
          yield* lock.acquire();
          try { trace.push(`${name} in`); yield* sleep(5); } finally { lock.release(); }
        }
        const a = createTask(user('a'));
        yield* sleep(1);
        const b = createTask(user('b')), c = createTask(user('c')), d = createTask(user('d'));
        yield* sleep(1);
        c.cancel();
        yield* a; yield* b; yield* d;
        assert.equal(c.cancelled(), true);
        assert.equal(lock.locked(), false);
      });
      assert.deepEqual(trace, ['a in', 'b in', 'd in']);
    },
  },
];
