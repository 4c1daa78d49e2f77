/**
 * The loop scenarios: the scheduling and cancellation guarantees of
 * docs/design.md ("Scheduling and the loop", "Cancellation"), each checked by
 * pushing events into a trace and comparing the whole sequence.
 */
import * as assert from './assert.js';
import { createTask, sleep } from '../kernel/coro.js';
import { CancelledError, DeadlockError } from '../kernel/errors.js';
import type { Coro, ExceptionContext } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { runOn, type Scenario } from './scenario.js';

export const loopScenarios: Scenario[] = [
  {
    name: 'callSoon runs callbacks in FIFO order',
    async run(loop) {
      const trace: number[] = [];
      await runOn(loop, function* () {
        for (let i = 0; i < 10; i++) loop.callSoon(() => trace.push(i));
        yield* sleep(0); yield* sleep(0);
      });
      assert.deepEqual(trace, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  },
  {
    name: 'callbacks queued during a batch run in a later batch',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        loop.callSoon(() => { trace.push('a'); loop.callSoon(() => trace.push('a2')); });
        loop.callSoon(() => { trace.push('b'); loop.callSoon(() => trace.push('b2')); });
        loop.callSoon(() => trace.push('c'));
        yield* sleep(5);
      });
      assert.deepEqual(trace, ['a', 'b', 'c', 'a2', 'b2']);
    },
  },
  {
    name: 'timers due at the same time run in the order they were scheduled',
    async run(loop) {
      const trace: number[] = [];
      await runOn(loop, function* () {
        const when = loop.time() + 20;
        for (let i = 0; i < 5; i++) loop.callAt(when, () => trace.push(i));
        loop.callAt(when - 10, () => trace.push(-1));
        yield* sleep(40);
      });
      assert.deepEqual(trace, [-1, 0, 1, 2, 3, 4]);
    },
  },
  {
    name: 'callLater(0) never runs before callbacks already queued by callSoon',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        loop.callSoon(() => trace.push('soon1'));
        loop.callLater(0, () => trace.push('later0'));
        loop.callSoon(() => trace.push('soon2'));
        yield* sleep(5);
      });
      assert.deepEqual(trace, ['soon1', 'soon2', 'later0']);
    },
  },
  {
    name: 'done callbacks are never called synchronously',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const f = new Future<number>({ loop, description: 'conformance' });
        f.addDoneCallback(() => trace.push('done callback'));
        f.setResult(1);
        trace.push('after setResult');
        f.addDoneCallback(() => trace.push('late callback'));
        trace.push('after late add');
        yield* sleep(0);
        yield* sleep(0);
      });
      assert.deepEqual(trace, ['after setResult', 'after late add', 'done callback', 'late callback']);
    },
  },
  {
    name: 'a timer never fires before its time',
    async run(loop) {
      const late: number[] = [];
      await runOn(loop, function* () {
        for (const ms of [1, 5, 20, 50]) {
          const t0 = loop.time();
          yield* sleep(ms);
          late.push(loop.time() - t0 - ms);
        }
      });
      for (const d of late) assert.ok(d >= 0, `a timer fired ${-d} ms early`);
    },
  },
  {
    name: 'cancel: finally blocks run and may yield',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const child = createTask((function* () {
          try { trace.push('start'); yield* sleep(10_000); trace.push('not reached'); }
          // eslint-disable-next-line tulip/require-rehalt -- a task's own coroutine: no frame above it to resume
          finally { trace.push('cleanup'); yield* sleep(5); trace.push('cleanup done'); }
        })());
        yield* sleep(1);
        child.cancel();
        try { yield* child; } catch (e) { trace.push(e instanceof CancelledError ? 'CancelledError' : String(e)); }
        assert.equal(child.cancelled(), true);
      });
      assert.deepEqual(trace, ['start', 'cleanup', 'cleanup done', 'CancelledError']);
    },
  },
  {
    name: 'cancel: catch never sees a cancellation',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const child = createTask((function* () {
          try { yield* sleep(10_000); } catch (e) { trace.push(`caught ${String(e)}`); }
          trace.push('after try');
        })());
        yield* sleep(1);
        child.cancel();
        yield* sleep(1);
        assert.equal(child.cancelled(), true);
      });
      assert.deepEqual(trace, []);
    },
  },
  {
    name: 'cancel: a second cancel interrupts cleanup',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const child = createTask((function* () {
          try { yield* sleep(10_000); }
          // eslint-disable-next-line tulip/require-rehalt -- a task's own coroutine: no frame above it to resume
          finally { trace.push('cleanup'); try { yield* sleep(10_000); trace.push('not reached'); } finally { trace.push('cleanup interrupted'); } }
        })());
        yield* sleep(1);
        child.cancel();
        yield* sleep(1);
        child.cancel();
        yield* sleep(1);
        assert.equal(child.cancelled(), true);
      });
      assert.deepEqual(trace, ['cleanup', 'cleanup interrupted']);
    },
  },
  {
    name: 'cancel: cancelling a task cancels the future it waits on',
    async run(loop) {
      let f!: Future<void>;
      await runOn(loop, function* () {
        f = new Future<void>({ loop, description: 'conformance.wait' });
        const child = createTask((function* () { yield* f; })());
        yield* sleep(1);
        child.cancel();
        yield* sleep(1);
        assert.equal(child.cancelled(), true);
      });
      assert.equal(f.cancelled(), true);
    },
  },
  {
    name: 'exception handler receives errors from callbacks',
    async run(loop) {
      const seen: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => { seen.push(ctx); });
      const boom = new Error('boom');
      const trace: string[] = [];
      await runOn(loop, function* () {
        loop.callSoon(() => { throw boom; });
        loop.callSoon(() => trace.push('next callback still runs'));
        yield* sleep(5);
      });
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.exception, boom);
      assert.equal(typeof seen[0]!.message, 'string');
      assert.deepEqual(trace, ['next callback still runs']);
    },
  },
  {
    name: 'deadlock: run() rejects with DeadlockError naming what the tasks wait on',
    async run(loop) {
      function* stuck(): Coro<void> { yield* new Future<void>({ loop, description: 'Conformance.gate' }); }
      await assert.rejects(runOn(loop, function* () {
        const t = createTask(stuck(), { name: 'stuck-child' });
        yield* t;
      }), (e: unknown) => e instanceof DeadlockError && e.message.includes('Conformance.gate') && e.message.includes('stuck-child'));
    },
  },
];

