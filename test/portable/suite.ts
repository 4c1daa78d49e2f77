/**
 * The portable test file: what a program does with tulip's core, checked
 * the same way on every runtime and every loop (Node, Deno, Bun and
 * Chromium; NodeEventLoop, WebEventLoop, TestEventLoop). It imports only
 * tulip/core, tulip/testing and the conformance suite's own assertions, so
 * a browser bundle runs it as is. Each runtime's entry (portable.test.ts,
 * deno_entry.ts, bun_entry.ts, browser_entry.ts) registers it with that
 * runtime's test runner.
 */
import {
  ChunkProtocol, CancelledError, DeadlockError, Future, JsonRpcError, JsonRpcProtocol, Queue, StreamReader, StreamReaderProtocol,
  StreamWriter, TimeoutError, createTask, generate, getRunningLoop, moveOnAfter, put, rehalt, run, sleep, stack, taskGroup,
  takeFrom, timeout, type Coro, type EventLoop, type Protocol, type Transport,
} from '../../src/core.js';
import { createWebSocketConnection } from '../../src/web/websocket.js';
import { runVirtual } from '../../src/testing/index.js';
import * as assert from '../../src/conformance/assert.js';
import type { Scenario } from '../../src/conformance/scenario.js';
import type { ConformanceTest } from '../../src/conformance/index.js';
import { memoryPair } from './memory.js';

const dec = new TextDecoder();
const runOn = <T>(loop: EventLoop, main: () => Coro<T>): Promise<T> => run(main, { loop, handleSignals: false });

export const portableScenarios: Scenario[] = [
  {
    name: 'tasks run concurrently and give their results',
    async run(loop) {
      const trace: string[] = [];
      const v = await runOn(loop, function* () {
        function* worker(name: string, ms: number): Coro<number> { trace.push(`${name} starts`); yield* sleep(ms); trace.push(`${name} ends`); return ms; }
        const a = createTask(worker('a', 20)), b = createTask(worker('b', 5));
        return (yield* a) + (yield* b);
      });
      assert.equal(v, 25);
      assert.deepEqual(trace, ['a starts', 'b starts', 'b ends', 'a ends']);
    },
  },
  {
    name: 'cancellation: a finally that waits runs to its end, and the task ends cancelled',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const t = createTask((function* () {
          try { yield* sleep(60_000); } finally { trace.push('cleanup starts'); yield* sleep(5); trace.push('cleanup done'); yield* rehalt(); }
          trace.push('not reached');
        })());
        yield* sleep(1);
        t.cancel();
        try { yield* t; } catch (e) { trace.push(e instanceof CancelledError ? 'CancelledError' : String(e)); }
        assert.equal(t.cancelled(), true);
      });
      assert.deepEqual(trace, ['cleanup starts', 'cleanup done', 'CancelledError']);
    },
  },
  {
    name: 'timeout: TimeoutError at the scope\'s boundary after the body\'s cleanup; moveOnAfter returns undefined',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        try {
          yield* timeout(10, function* () { try { yield* sleep(60_000); } finally { trace.push('body cleaned up'); } });
        } catch (e) { trace.push(e instanceof TimeoutError ? 'TimeoutError' : String(e)); }
        trace.push(`moveOnAfter: ${String(yield* moveOnAfter(10, function* () { yield* sleep(60_000); return 'late'; }))}`);
        trace.push(`in time: ${yield* timeout(1000, function* () { yield* sleep(1); return 'ok'; })}`);
      });
      assert.deepEqual(trace, ['body cleaned up', 'TimeoutError', 'moveOnAfter: undefined', 'in time: ok']);
    },
  },
  {
    name: 'taskGroup: a failing child halts its siblings, which clean up, and its error comes out of the group',
    async run(loop) {
      const trace: string[] = [];
      const boom = new Error('boom');
      await runOn(loop, function* () {
        try {
          yield* taskGroup(function* (tg) {
            tg.createTask((function* () { try { yield* sleep(60_000); } finally { trace.push('sibling cleaned up'); } })());
            tg.createTask((function* () { yield* sleep(5); throw boom; })());
            yield* sleep(60_000);
          });
        } catch (e) { trace.push(e === boom ? 'the child\'s error' : String(e)); }
      });
      assert.deepEqual(trace, ['sibling cleaned up', 'the child\'s error']);
    },
  },
  {
    name: 'Queue: a bounded queue between a producer and a consumer keeps the order and pushes back',
    async run(loop) {
      const got: number[] = [];
      let maxSize = 0;
      await runOn(loop, function* () {
        const q = new Queue<number>(2);
        const producer = createTask((function* () { for (let i = 0; i < 50; i++) { yield* q.put(i); maxSize = Math.max(maxSize, q.qsize()); } })());
        for (let i = 0; i < 50; i++) { got.push(yield* q.get()); if (i % 7 === 0) yield* sleep(1); }
        yield* producer;
      });
      assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
      assert.ok(maxSize <= 2, `the queue held ${maxSize} items`);
    },
  },
  {
    name: 'micro-pipes: generate, put and takeFrom chain threads; a reader that closes halts its writer',
    async run(loop) {
      const trace: string[] = [];
      await runOn(loop, function* () {
        const numbers = generate<number>(function* () { yield* takeFrom([1, 2, 3, 4, 5]); });
        const squares = generate<number>(function* () {
          for (;;) { const r = yield* numbers.next(); if (r.done === true) return; yield* put(r.value * r.value); }
        });
        trace.push(`squares: ${(yield* squares.toArray()).join(' ')}`);
        const endless = generate<number>(function* () {
          try { for (let i = 0; ; i++) yield* put(i); } finally { trace.push('writer halted'); }
        });
        trace.push(`first: ${String((yield* endless.next()).value)}`);
        endless.close();
        yield* sleep(1);
      });
      assert.deepEqual(trace, ['squares: 1 4 9 16 25', 'first: 0', 'writer halted']);
    },
  },
  {
    name: 'deadlock: run() rejects with DeadlockError naming every pending task and what it waits on',
    async run(loop) {
      await assert.rejects(runOn(loop, function* () {
        const gate = new Future<void>({ loop: getRunningLoop(), description: 'Portable.gate' });
        const q = new Queue<number>();
        createTask((function* () { yield* q.get(); })(), { name: 'consumer' });
        yield* gate;
      }), (e) => e instanceof DeadlockError && e.message.includes('Portable.gate') && e.message.includes("'consumer'") && e.message.includes('Queue.get'));
    },
  },
  {
    name: 'streams over an in-memory transport: lines, exact reads, drain under back-pressure, EOF',
    async run(loop) {
      const out = await runOn(loop, function* () {
        const ra = new StreamReader({ loop }), rb = new StreamReader({ loop });
        const pa = new StreamReaderProtocol(ra, null, loop), pb = new StreamReaderProtocol(rb, null, loop);
        const [ta, tb] = memoryPair(loop, pa, pb);
        const wa = new StreamWriter(ta, pa, ra, loop), wb = new StreamWriter(tb, pb, rb, loop);
        wb.write('hello\nwor'); wb.write('ld\n'); wb.write(new Uint8Array([1, 2, 3, 4]));
        const lines = [dec.decode(yield* ra.readLine()), dec.decode(yield* ra.readLine())];
        const exact = [...(yield* ra.readExactly(4))];
        // 1 MiB through a 64 KiB buffer: drain() waits while the reader is slow.
        ta.pauseReading();
        const big = new Uint8Array(64 * 1024).fill(7);
        const writer = createTask((function* () { for (let i = 0; i < 16; i++) { wb.write(big); yield* wb.drain(); } wb.writeEof(); })());
        yield* sleep(5);
        const paused = tb.getWriteBufferSize() > 0 && !writer.done();
        ta.resumeReading();
        let n = 0;
        for (;;) { const c = yield* ra.read(100_000); if (c.length === 0) break; n += c.length; }
        yield* writer;
        wa.close();
        yield* wa.waitClosed();
        return { lines, exact, paused, n, eof: ra.atEof() };
      });
      assert.deepEqual(out, { lines: ['hello\n', 'world\n'], exact: [1, 2, 3, 4], paused: true, n: 16 * 64 * 1024, eof: true });
    },
  },
  {
    name: 'JSON-RPC over an in-memory transport, framed by ChunkProtocol: calls both ways, an error, a notification',
    async run(loop) {
      const notes: unknown[] = [];
      const out = await runOn(loop, function* () {
        const server = new JsonRpcProtocol({ methods: {
          add: (p: unknown) => (p as number[]).reduce((a, b) => a + b, 0),
          slow: function* (p: unknown) { yield* sleep(5); return p; },
          log: (p: unknown) => { notes.push(p); },
          fail: () => { throw new JsonRpcError(-32000, 'refused', { why: 'test' }); },
        } });
        const client = new JsonRpcProtocol({ methods: { whoami: () => 'client' } });
        const frame = (rpc: Protocol) => stack((deliver) => new ChunkProtocol('\n', (m) => deliver(m)), rpc);
        const [tc] = memoryPair(loop, frame(client), frame(server));
        const results: unknown[] = [];
        results.push(yield* client.call('add', [2, 3]));
        results.push(yield* client.call('slow', { x: 1 }));
        client.notify('log', ['hello']);
        try { yield* client.call('fail'); } catch (e) { results.push(e instanceof JsonRpcError ? [e.code, e.message, e.data] : String(e)); }
        results.push(yield* server.call('whoami'));
        yield* sleep(1);
        (tc as Transport).close();
        return results;
      });
      assert.deepEqual(out, [5, { x: 1 }, [-32000, 'refused', { why: 'test' }], 'client']);
      assert.deepEqual(notes, [['hello']]);
    },
  },
  {
    name: 'debug mode reports a coroutine made and never driven, at the line that made it',
    async run(loop) {
      const reports: { message: string; sourceTraceback?: unknown }[] = [];
      loop.setExceptionHandler((_l, ctx) => { reports.push(ctx); });
      loop.setDebug(true);
      const keep: unknown[] = [];
      await runOn(loop, function* madeButNeverDriven() {
        keep.push(sleep(5));
        yield* sleep(0);
      });
      const r = reports.find((c) => c.message.includes('sleep() was never driven'));
      assert.ok(r !== undefined, `no report among ${reports.map((c) => c.message).join('; ')}`);
      const first = String(r.sourceTraceback).split('\n')[0]!;
      assert.ok(first.includes('madeButNeverDriven'), `the report's first frame is not where the coroutine was made: ${first}`);
      assert.equal(keep.length, 1);
    },
  },
];

/** Scenarios that do not depend on the loop under test (run once per runtime). */
export const onceScenarios: Scenario[] = [
  {
    name: 'virtual time: an hour of sleeps and timeouts on a TestEventLoop in a moment, the same for a seed',
    async run() {
      const t0 = Date.now();
      const once = () => runVirtual(function* () {
        const loop = getRunningLoop();
        const trace: number[] = [];
        yield* moveOnAfter(30 * 60_000, function* () { for (;;) { yield* sleep(loop.time() % 7 === 0 ? 61_000 : 59_000); trace.push(Math.round(loop.time())); } });
        yield* sleep(30 * 60_000);
        return [loop.time(), trace.length];
      }, { seed: 5 });
      const a = await once(), b = await once();
      assert.deepEqual(a, b);
      assert.equal(a[0], 3_600_000);
      assert.ok(Date.now() - t0 < 5000, `an hour of virtual time took ${Date.now() - t0} ms`);
    },
  },
];

/** WebSocket scenarios against an echo server at `url` (the runtime matrix starts one; it answers JSON-RPC `add` too). */
export function webSocketScenarios(url: string): Scenario[] {
  return [{
    name: 'WebSocket: messages echo, JSON-RPC over the same kind of connection, and a clean close',
    async run(loop) {
      const out = await runOn(loop, function* () {
        const got: string[] = [];
        const lost = new Future<void>({ loop, description: 'echo lost' });
        const done = new Future<void>({ loop, description: 'echo replies' });
        const [t] = yield* createWebSocketConnection(() => ({
          dataReceived(d: Uint8Array) { got.push(dec.decode(d)); if (got.length === 2) done.setResult(); },
          connectionLost() { lost.setResult(); },
        }), `${url}echo`);
        t.write('text message');
        t.write(new TextEncoder().encode('binary message'));
        yield* done;
        t.close();
        yield* lost;
        const [rt, rpc] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), `${url}rpc`);
        const sum = yield* rpc.call<number>('add', [20, 22]);
        rt.close();
        return [...got, sum];
      });
      assert.deepEqual(out, ['text message', 'binary message', 42]);
    },
  }];
}

/** Register `scenarios` with a runner's `test`, each on a fresh loop (closed afterwards). */
export function register(test: ConformanceTest, prefix: string, makeLoop: () => EventLoop, scenarios: Scenario[]): void {
  for (const s of scenarios) {
    void test(`${prefix}: ${s.name}`, async () => {
      const loop = makeLoop();
      try { await s.run(loop); } finally { if (!loop.isClosed() && !loop.isRunning()) loop.close(); }
    });
  }
}
