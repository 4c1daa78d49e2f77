/**
 * Scenarios of tulip's own parts for exploreCancellation and simulate:
 * every toolkit primitive, streams, JSON-RPC, micro-pipes and the servers.
 * Each names its invariant; the explore test, the simulate test and
 * `npm run soak` (more seeds, more cases) share them.
 */
import assert from 'node:assert/strict';
import {
  asCompleted, Barrier, BoundedSemaphore, BrokenBarrierError, CancelledError, ChunkProtocol, Condition, type Coro, createTask, Event,
  gather, generate, getRunningLoop, JsonRpcProtocol, LifoQueue, Lock, moveOnAfter, openConnection, parallelMap, pipe,
  PriorityQueue, put, Queue, race, Semaphore, shield, sleep, stack, startServer, type StreamReader, type StreamWriter,
  type Task, taskGroup, timeout, TimeoutError, wait, waitFor,
} from '../../src/index.js';
import type { Explorer, ExploreOptions, Simulation, SimulateOptions } from '../../src/testing/index.js';

/** An exploration: the scenario and its options (invariants). */
export interface ExploreCase { name: string; scenario: (x: Explorer) => Coro<unknown>; opts?: ExploreOptions<unknown> }
/** A simulation: the scenario and its options. */
export interface SimulateCase { name: string; scenario: (sim: Simulation) => Coro<unknown>; opts?: SimulateOptions<unknown> }

/** Wait for a task however it ends (a cancelled target is an expected end). */
function* settled(t: Task<unknown>): Coro<void> {
  try { yield* t; } catch (e) { if (!(e instanceof CancelledError)) throw e; }
}

/** Run `body` as the target in a task of its own, so the scenario goes on to check what the cancel left behind. */
function* targetTask<T>(x: Explorer, body: () => Coro<T>): Coro<void> {
  yield* settled(createTask(x.target(body), { name: 'target' }));
}

const connectionError = (e: unknown): boolean => ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes((e as { code?: string }).code ?? '');

export const exploreCases: ExploreCase[] = [
  {
    name: 'Lock: a cancelled acquirer or holder never keeps the lock, and the line moves on',
    *scenario(x) {
      const lock = new Lock();
      const before = createTask(lock.withLock(() => sleep(5)));
      const after = createTask(function* () { yield* sleep(1); yield* lock.withLock(() => sleep(5)); }());
      yield* sleep(0);
      yield* targetTask(x, () => lock.withLock(() => sleep(10)));
      yield* gather([before, after]);
      assert.equal(lock.locked(), false);
      yield* timeout(1, () => lock.withLock(() => sleep(0)));   // still usable at once
    },
  },
  {
    name: 'Semaphore and BoundedSemaphore: no permit is lost or made up',
    *scenario(x) {
      for (const sem of [new Semaphore(2), new BoundedSemaphore(2)]) {
        const others = [0, 1, 2].map((i) => createTask(function* () { yield* sleep(i); yield* sem.withLock(() => sleep(4)); }()));
        yield* sleep(1);
        yield* targetTask(x, () => sem.withLock(() => sleep(3)));
        yield* gather(others);
        assert.equal(sem.locked(), false);
        yield* timeout(1, function* () { yield* sem.acquire(); yield* sem.acquire(); });
        assert.equal(sem.locked(), true);
        sem.release(); sem.release();
      }
    },
  },
  {
    name: 'Condition: a cancelled waiter gives the lock back and the notification reaches the others',
    *scenario(x) {
      const cond = new Condition();
      let ready = false;
      const other = createTask(cond.withLock(() => cond.waitFor(() => ready)));
      const notifier = createTask(function* () { yield* sleep(5); yield* cond.withLock(function* () { ready = true; cond.notifyAll(); }); }());
      yield* targetTask(x, () => cond.withLock(() => cond.waitFor(() => ready)));
      yield* gather([other, notifier]);
      assert.equal(cond.locked(), false);
    },
  },
  {
    name: 'Event: a cancelled waiter does not disturb the others',
    *scenario(x) {
      const ev = new Event();
      const others = [createTask(ev.wait()), createTask(ev.wait())];
      createTask(function* () { yield* sleep(5); ev.set(); }());
      yield* targetTask(x, () => ev.wait());
      yield* gather(others);
    },
  },
  {
    name: 'Barrier: a cancelled party just leaves; the others get through once enough arrive',
    *scenario(x) {
      const b = new Barrier(3);
      const first = createTask(b.wait());
      const late = createTask(function* () { yield* sleep(20); return yield* b.wait(); }());
      yield* targetTask(x, () => b.wait());
      for (const t of [first, late]) {
        try { yield* moveOnAfter(100, function* () { return yield* t; }); } catch (e) { if (!(e instanceof BrokenBarrierError)) throw e; }
      }
      if (!first.done()) { const third = createTask(b.wait()); yield* gather([first, third]); }
      if (!late.done()) { const fourth = createTask(b.wait()); yield* gather([late, fourth]); }
    },
  },
  ...([['Queue', () => new Queue<number>()], ['PriorityQueue', () => new PriorityQueue<number>()], ['LifoQueue', () => new LifoQueue<number>()]] as const)
    .map(([kind, make]): ExploreCase => ({
      name: `${kind}: an item handed to a cancelled getter is not lost`,
      *scenario(x) {
        const q = make();
        const got: number[] = [];
        const other = createTask(function* () { yield* sleep(2); got.push(yield* q.get()); got.push(yield* q.get()); }());
        const producer = createTask(function* () { for (let i = 1; i <= 3; i++) { yield* sleep(1); q.putNowait(i); } }());
        yield* targetTask(x, function* () { got.push(yield* q.get()); yield* sleep(1); });
        yield* producer;
        yield* timeout(50, function* () { yield* other; });
        while (!q.empty()) got.push(q.getNowait());
        assert.deepEqual([...got].sort(), [1, 2, 3], 'every item was taken exactly once');
      },
    })),
  {
    name: 'Queue(1): a cancelled putter neither loses nor duplicates its item; join() still completes',
    *scenario(x) {
      const q = new Queue<string>(1);
      q.putNowait('first');
      const got: string[] = [];
      const consumer = createTask(function* () { yield* sleep(1); for (;;) { got.push(yield* q.get()); q.taskDone(); yield* sleep(2); } }());
      let putReturned = false;
      yield* targetTask(x, function* () { yield* q.put('second'); putReturned = true; });
      yield* timeout(50, () => q.join());
      consumer.cancel();
      yield* settled(consumer);
      // At most once each; a put that returned was delivered (one halted after its item was taken may be delivered too).
      assert.equal(got[0], 'first');
      assert.ok(got.length <= 2 && (got.length === 1 || got[1] === 'second'), got.join());
      if (putReturned) assert.deepEqual(got, ['first', 'second']);
    },
  },
  {
    name: 'gather, wait, race, asCompleted: children are cancelled and awaited, none left behind',
    *scenario(x) {
      const child = (ms: number, v: string): Coro<string> => (function* () { yield* sleep(ms); return v; })();
      yield* targetTask(x, function* () {
        yield* gather([child(3, 'a'), child(5, 'b')]);
        const [, pending] = yield* wait([child(2, 'c'), child(4, 'd')], { returnWhen: 'FIRST_COMPLETED' });
        for (const f of pending) f.cancel();
        yield* race([child(1, 'e'), child(6, 'f')]);
        for (const next of asCompleted([child(2, 'g'), child(1, 'h')])) yield* next;
      });
    },
    opts: { allowLeftover: false },
  },
  {
    name: 'waitFor, timeout, moveOnAfter, shield: the inner work is cancelled and awaited',
    *scenario(x) {
      const inner = function* (): Coro<string> { try { yield* sleep(10); return 'done'; } finally { yield* sleep(1); } };
      yield* targetTask(x, function* () {
        try { yield* waitFor(inner(), 5); } catch (e) { if (!(e instanceof TimeoutError)) throw e; }
        try { yield* timeout(5, () => inner()); } catch (e) { if (!(e instanceof TimeoutError)) throw e; }
        yield* moveOnAfter(5, () => inner());
        yield* shield(createTask(inner()));
      });
    },
  },
  {
    name: 'taskGroup: children are halted and awaited however the group is cancelled',
    *scenario(x) {
      let finished = 0;
      yield* targetTask(x, () => taskGroup(function* (tg) {
        for (let i = 1; i <= 3; i++) tg.createTask(function* () { try { yield* sleep(i * 2); } finally { finished++; } }());
        yield* sleep(3);
      }));
      assert.equal(finished, 3, 'every child ended before the group returned');
    },
  },
  {
    name: 'micro-pipes: a cancelled reader halts the generating thread; pipe() writers end',
    *scenario(x) {
      const numbers = generate<number>(function* () { for (let i = 0; ; i++) { yield* put(i); yield* sleep(1); } });
      const [w, r] = pipe<number>(1);
      const writer = createTask(function* () { for (let i = 0; i < 5; i++) yield* w.put(i); w.close(); }());
      yield* targetTask(x, function* () {
        for (let i = 0; i < 3; i++) yield* numbers.next();
        for (let v = yield* r.next(); v.done !== true; v = yield* r.next()) yield* sleep(1);
      });
      numbers.close();
      r.close();
      yield* settled(writer);
    },
  },
  {
    name: 'parallelMap: a cancel halts and awaits every worker',
    *scenario(x) {
      let running = 0;
      yield* targetTask(x, () => parallelMap(function* (i: number) { running++; try { yield* sleep(i); return i; } finally { running--; } }, [1, 2, 3, 4], { concurrency: 2 }));
      assert.equal(running, 0);
    },
  },
  {
    name: 'streams: a cancelled client exchange closes its connection; the server closes cleanly',
    *scenario(x) {
      const net = (x.loop).network;
      net.addHost('server');
      net.setLink('localhost', 'server', { latency: 2 });
      const server = yield* net.onHost('server', () => startServer(function* (r: StreamReader, w: StreamWriter) {
        try { for (let l = yield* r.readLine(); l.length > 0; l = yield* r.readLine()) { w.write(l); yield* w.drain(); } } catch (e) { if (!connectionError(e)) throw e; }
      }, 'server', 7));
      yield* targetTask(x, function* () {
        const [r, w] = yield* openConnection('server', 7);
        try {
          w.write('ping\n');
          assert.equal(new TextDecoder().decode(yield* r.readLine()), 'ping\n');
        } finally {
          w.close();
        }
        yield* w.waitClosed();
      });
      server.close();
      yield* timeout(1000, () => server.waitClosed());
    },
  },
  {
    name: 'JSON-RPC: a cancelled call forgets its id; the connection carries on',
    *scenario(x) {
      const loop = getRunningLoop();
      const server = yield* loop.createServer(() => stack((d) => new ChunkProtocol('\n', d), new JsonRpcProtocol({
        methods: { slow: function* (p): Coro<number> { yield* sleep(3); return (p as number[])[0]! * 2; } },
      })), '127.0.0.1', 4000);
      const rpc = new JsonRpcProtocol();
      const [t] = yield* loop.createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
      yield* targetTask(x, function* () { yield* rpc.call('slow', [1]); yield* rpc.call('slow', [2]); });
      assert.equal(rpc.pendingCalls(), 0);
      assert.equal(yield* rpc.call('slow', [21]), 42);
      t.close();
      yield* rpc.waitClosed();
      server.close(); server.closeClients();
      yield* server.waitClosed();
    },
  },
  {
    name: 'servers: serveForever cancelled closes the server; its port can be bound again',
    *scenario(x) {
      const server = yield* startServer(() => undefined, '127.0.0.1', 5000);
      yield* targetTask(x, function* () { yield* timeout(10, () => server.serveForever()); });
      yield* server.waitClosed();
      const again = yield* startServer(() => undefined, '127.0.0.1', 5000);
      again.close();
      yield* again.waitClosed();
    },
    opts: { allowError: (e) => e instanceof TimeoutError },
  },
];

function* echoHandler(r: StreamReader, w: StreamWriter): Coro<void> {
  try {
    for (let l = yield* r.readLine(); l.length > 0; l = yield* r.readLine()) { w.write(l); yield* w.drain(); }
  } catch (e) {
    if (!connectionError(e)) throw e;
  }
}

export const simulateCases: SimulateCase[] = [
  {
    name: 'streams: each line comes back intact and in order, or the connection fails; the server closes cleanly',
    *scenario(sim) {
      const server = yield* sim.network.onHost('server', () => startServer(echoHandler, 'server', 7));
      try {
        const [r, w] = yield* sim.network.onHost('client', () => openConnection('server', 7));
        const got: string[] = [];
        try {
          for (let i = 0; i < 5; i++) { w.write(`line ${i} ${'x'.repeat(i * 100)}\n`); got.push(new TextDecoder().decode(yield* r.readLine())); }
        } finally { w.close(); }
        return got;
      } finally {
        server.close(); server.abortClients();
        yield* server.waitClosed();
      }
    },
    opts: {
      allowError: connectionError,
      check: (o) => { if (o.error === undefined) assert.deepEqual(o.value, [0, 1, 2, 3, 4].map((i) => `line ${i} ${'x'.repeat(i * 100)}\n`)); },
    },
  },
  {
    name: 'JSON-RPC: every call gets its own answer or the connection error; none stays pending',
    *scenario(sim) {
      const loop = sim.loop;
      const server = yield* sim.network.onHost('server', () => loop.createServer(() => stack((d) => new ChunkProtocol('\n', d), new JsonRpcProtocol({
        methods: { add: function* (p): Coro<number> { yield* sleep(1); const [a, b] = p as number[]; return a! + b!; } },
      })), 'server', 4000));
      const rpc = new JsonRpcProtocol();
      try {
        const [t] = yield* sim.network.onHost('client', () => loop.createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), 'server', 4000));
        try {
          const sums = yield* gather([1, 2, 3, 4, 5].map((i) => rpc.call<number>('add', [i, i])), { returnExceptions: true });
          for (const [i, s] of sums.entries()) if (typeof s === 'number') assert.equal(s, 2 * (i + 1));
          return sums.filter((s) => typeof s === 'number').length;
        } finally {
          t.close();
        }
      } finally {
        assert.equal(rpc.pendingCalls(), 0);
        server.close(); server.abortClients();
        yield* server.waitClosed();
      }
    },
    opts: { allowError: connectionError },
  },
  {
    name: 'toolkit under timing perturbation: timeouts fire, queues deliver every item in order, locks hand over FIFO',
    *scenario() {
      const q = new Queue<number>(2);
      const got: number[] = [];
      const lock = new Lock();
      const order: number[] = [];
      yield* taskGroup(function* (tg) {
        tg.createTask(function* () { for (let i = 0; i < 20; i++) { yield* q.put(i); yield* sleep(i % 3); } }());
        tg.createTask(function* () { for (let i = 0; i < 20; i++) { got.push(yield* q.get()); yield* sleep(1); } }());
        for (let i = 0; i < 5; i++) tg.createTask(function* () { yield* sleep(i); yield* lock.withLock(function* () { order.push(i); yield* sleep(3); }); }());
        const r = yield* moveOnAfter(7, () => sleep(1000, 'late'));
        assert.equal(r, undefined);
      });
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
    },
    opts: { faults: { partitions: false, resets: false, linkChanges: false, timerLag: 10 } },
  },
];
