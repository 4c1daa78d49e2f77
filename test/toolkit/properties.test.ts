// Property-based tests: random producers and consumers with random cancellations
// (task cancels and scope timeouts, at random suspension points, including the
// moment between a wake-up and the resumption) on a Queue and a BoundedSemaphore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BoundedSemaphore, cede, createTask, moveOnAfter, Queue, timeout, type Coro, type Task } from '../../src/index.js';
import { runRecording } from '../helpers.js';

type Action =
  | { kind: 'cede' }
  | { kind: 'cancelProducer'; i: number }
  | { kind: 'cancelConsumer'; i: number }
  | { kind: 'putNowaitThenCancel'; i: number }
  | { kind: 'getNowaitThenCancel'; i: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Action>({ kind: 'cede' }) },
  { weight: 1, arbitrary: fc.nat(7).map((i): Action => ({ kind: 'cancelProducer', i })) },
  { weight: 1, arbitrary: fc.nat(7).map((i): Action => ({ kind: 'cancelConsumer', i })) },
  { weight: 1, arbitrary: fc.nat(7).map((i): Action => ({ kind: 'putNowaitThenCancel', i })) },
  { weight: 1, arbitrary: fc.nat(7).map((i): Action => ({ kind: 'getNowaitThenCancel', i })) },
);

void test('queue: every item whose put() returned is delivered exactly once; cancelled puts add nothing; no wake-up is lost', async () => {
  await fc.assert(fc.asyncProperty(
    fc.record({
      maxsize: fc.nat(3),
      producers: fc.array(fc.nat(6), { minLength: 1, maxLength: 4 }),       // items per producer
      consumers: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),    // true: gets under moveOnAfter(0)
      actions: fc.array(action, { maxLength: 60 }),
    }),
    async ({ maxsize, producers, consumers, actions }) => {
      await runRecording(function* () {
        const q = new Queue<number>(maxsize);
        const committed: number[] = [];
        const delivered: number[] = [];
        const attempted = new Set<number>();
        const waitingGet = new Set<number>();
        const waitingPut = new Set<number>();
        let next = 0;
        function* producer(p: number, n: number): Coro<void> {
          for (let k = 0; k < n; k++) {
            const item = next++;
            attempted.add(item);
            waitingPut.add(p);
            try { yield* q.put(item); } finally { waitingPut.delete(p); }
            committed.push(item);
            if (k % 2 === 1) yield* cede();
          }
        }
        function* consumer(c: number, timed: boolean): Coro<void> {
          for (;;) {
            waitingGet.add(c);
            let v: number | undefined;
            try {
              v = timed ? yield* moveOnAfter(0, () => q.get()) : yield* q.get();
            } finally { waitingGet.delete(c); }
            if (v !== undefined) delivered.push(v);
            yield* cede();
          }
        }
        const ps: Task<void>[] = producers.map((n, p) => createTask(producer(p, n)));
        const cs: Task<void>[] = consumers.map((timed, c) => createTask(consumer(c, timed)));
        for (const a of actions) {
          switch (a.kind) {
            case 'cede': yield* cede(); break;
            case 'cancelProducer': ps[a.i % ps.length]!.cancel(); break;
            case 'cancelConsumer': cs[a.i % cs.length]!.cancel(); break;
            case 'putNowaitThenCancel': {
              const item = next++;
              attempted.add(item);
              try { q.putNowait(item); committed.push(item); } catch { /* full */ }
              cs[a.i % cs.length]!.cancel();   // often lands between a getter's wake-up and its resumption
              break;
            }
            case 'getNowaitThenCancel': {
              try { delivered.push(q.getNowait()); } catch { /* empty */ }
              ps[a.i % ps.length]!.cancel();
              break;
            }
          }
        }
        // Let everything settle (consumers of timed gets keep polling, so a bounded number of cedes).
        for (let k = 0; k < 50; k++) yield* cede();
        // No lost wake-up: a consumer waiting in get() while items sit in the queue, or a producer
        // waiting in put() while there is room, would be one.
        const live = (ts: Task<void>[], ids: Set<number>): number[] => [...ids].filter((i) => !ts[i]!.done());
        if (q.qsize() > 0) assert.deepEqual(live(cs, waitingGet), [], 'a consumer waits while the queue has items');
        if (!q.full()) assert.deepEqual(live(ps, waitingPut), [], 'a producer waits while the queue has room');
        for (const t of [...ps, ...cs]) t.cancel();
        for (const t of [...ps, ...cs]) { try { yield* t; } catch { /* cancelled */ } }
        while (!q.empty()) delivered.push(q.getNowait());
        const sortNum = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);
        assert.deepEqual(sortNum(delivered), sortNum(committed), 'delivered exactly the committed items, once each');
        for (const v of delivered) assert.ok(attempted.has(v));
      });
    },
  ), { numRuns: 150 });
});

void test('semaphore: holders never exceed the permits, and cancelled acquires never lose or duplicate a permit', async () => {
  await fc.assert(fc.asyncProperty(
    fc.record({
      permits: fc.integer({ min: 1, max: 3 }),
      workers: fc.array(fc.record({ rounds: fc.integer({ min: 1, max: 4 }), hold: fc.nat(2), timed: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      actions: fc.array(fc.oneof(
        { weight: 4, arbitrary: fc.constant(-1) },      // cede
        { weight: 1, arbitrary: fc.nat(7) },            // cancel worker i
      ), { maxLength: 60 }),
    }),
    async ({ permits, workers, actions }) => {
      await runRecording(function* () {
        const sem = new BoundedSemaphore(permits);
        let holders = 0;
        let most = 0;
        function* worker(rounds: number, hold: number, timed: boolean): Coro<void> {
          for (let r = 0; r < rounds; r++) {
            const body = function* (): Coro<void> {
              yield* sem.withLock(function* () {
                holders++;
                most = Math.max(most, holders);
                try { for (let h = 0; h < hold; h++) yield* cede(); } finally { holders--; }
              });
            };
            if (timed) yield* moveOnAfter(0, body);
            else yield* body();
            yield* cede();
          }
        }
        const ts = workers.map((w) => createTask(worker(w.rounds, w.hold, w.timed)));
        for (const a of actions) {
          if (a < 0) yield* cede();
          else {
            // release-then-cancel often lands between a hand-off and the waiter's resumption
            ts[a % ts.length]!.cancel();
          }
        }
        for (const t of ts) { try { yield* t; } catch { /* cancelled */ } }
        assert.ok(most <= permits, `${most} holders with ${permits} permits`);
        assert.equal(holders, 0);
        assert.equal(sem.locked(), false);
        for (let k = 0; k < permits; k++) yield* timeout(100, () => sem.acquire());   // a lost permit would time out
        assert.equal(sem.locked(), true);
        for (let k = 0; k < permits; k++) sem.release();
        assert.throws(() => sem.release(), RangeError, 'no permit was duplicated');
      });
    },
  ), { numRuns: 150 });
});
