/**
 * Every outcome that several tasks may wait for gives each waiter a future
 * of its own: a waiter that gives up (a `moveOnAfter` around the wait) must
 * not cancel the outcome for the waiters after it. One test per place that
 * offers such a wait; the shape is always the same: one waiter gives up,
 * a second waits, the outcome happens, the second sees it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Barrier, ChunkProtocol, Condition, type Coro, createSubprocessExec, createTask, Event, getRunningLoop, JsonRpcProtocol,
  Lock, moveOnAfter, openConnection, Queue, Semaphore, sleep, stack, startInParallel, startServer, type StreamReader,
  type StreamWriter,
} from '../src/index.js';
import { runVirtual } from '../src/testing/index.js';
import { go, portOf } from './net_helpers.js';

/** One waiter gives up after 5 ms, then another waits; `happen()` makes the outcome; returns what the second got. */
function* giveUpThenWait<T>(wait: () => Coro<T>, happen: () => void): Coro<T> {
  const first = yield* moveOnAfter(5, () => wait());
  assert.equal(first, undefined, 'the first waiter gives up');
  const second = createTask(wait());
  yield* sleep(1);
  assert.equal(second.done(), false);
  happen();
  return yield* second;
}

void test('StreamWriter.waitClosed: a waiter that gives up leaves the others waiting (real sockets)', () => go(function* () {
  let serverSide: StreamWriter | null = null;
  const server = yield* startServer(function* (_r: StreamReader, w: StreamWriter) { serverSide = w; yield* sleep(60_000); }, '127.0.0.1', 0);
  const [, w] = yield* openConnection('127.0.0.1', portOf(server));
  yield* giveUpThenWait(() => w.waitClosed(), () => w.close());
  yield* w.waitClosed();   // and a waiter after the close returns at once
  assert.notEqual(serverSide, null);
  server.close(); server.abortClients();
  yield* server.waitClosed();
}));

void test('JsonRpcProtocol.waitClosed: a waiter that gives up leaves the others waiting', () => runVirtual(function* () {
  const loop = getRunningLoop();
  const server = yield* loop.createServer(() => stack((d) => new ChunkProtocol('\n', d), new JsonRpcProtocol({ methods: { ping: () => 'pong' } })), '127.0.0.1', 4000);
  const rpc = new JsonRpcProtocol();
  const [t] = yield* loop.createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
  assert.equal(yield* rpc.call('ping'), 'pong');
  const exc = yield* giveUpThenWait(() => rpc.waitClosed(), () => t.close());
  assert.equal(exc, undefined);
  assert.equal(yield* rpc.waitClosed(), undefined);
  server.close(); server.abortClients();
}));

// A halted Server.waitClosed() shuts the server down (servers own their connections, issue 10): the waiter that
// gives up closes it, and a later waiter returns normally, never with the CancelledError of a wait it did not make.
function* giveUpOnServer(server: { waitClosed(): Coro<void>; isServing(): boolean }): Coro<void> {
  const second = createTask(server.waitClosed());
  assert.equal(yield* moveOnAfter(5, () => server.waitClosed()), undefined, 'the first waiter gives up');
  assert.equal(server.isServing(), false, 'giving up shut the server down');
  yield* second;   // the waiter that was already there sees the close, not a cancellation
  yield* server.waitClosed();   // and one after it returns at once
}

void test('Server.waitClosed (Node): a waiter that gives up shuts the server down; the others see it closed, not cancelled', () => go(function* () {
  const server = yield* startServer(() => undefined, '127.0.0.1', 0);
  yield* giveUpOnServer(server);
}));

void test('Server.waitClosed (virtual network): a waiter that gives up shuts the server down; the others see it closed, not cancelled', () => runVirtual(function* () {
  const server = yield* startServer(() => undefined, '127.0.0.1', 4001);
  yield* giveUpOnServer(server);
}));

void test('Process.wait: a waiter that gives up leaves the others waiting (a real child)', () => go(function* () {
  const p = yield* createSubprocessExec(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(3))'], { stdin: 'pipe' });
  const code = yield* giveUpThenWait(() => p.wait(), () => p.stdin!.close());
  assert.equal(code, 3);
}));

void test('MicroThread.wait: a waiter that gives up neither cancels the thread nor the other waiters', () => runVirtual(function* () {
  const gate = new Event();
  const t = startInParallel(function* () { yield* gate.wait(); return 'done'; });
  assert.equal(yield* giveUpThenWait(() => t.wait(), () => gate.set()), 'done');
  assert.equal(t.cancelled(), false);
}));

void test('Event, Condition, Barrier, Queue.join, Lock, Semaphore: a waiter that gives up leaves the others waiting', () => runVirtual(function* () {
  const ev = new Event();
  yield* giveUpThenWait(() => ev.wait(), () => ev.set());

  const cond = new Condition();
  let ready = false;
  yield* giveUpThenWait(() => cond.withLock(() => cond.waitFor(() => ready)), () => { ready = true; createTask(cond.withLock(function* () { cond.notifyAll(); })); });

  const b = new Barrier(2);
  const other = createTask(function* () { yield* sleep(20); return yield* b.wait(); }());
  yield* giveUpThenWait(() => b.wait(), () => undefined);
  yield* other;

  const q = new Queue<number>();
  q.putNowait(1);
  q.getNowait();
  yield* giveUpThenWait(() => q.join(), () => q.taskDone());

  const lock = new Lock();
  yield* lock.acquire();
  yield* giveUpThenWait(() => lock.acquire(), () => lock.release());
  assert.equal(lock.locked(), true);
  lock.release();

  const sem = new Semaphore(0);
  yield* giveUpThenWait(() => sem.acquire(), () => sem.release());
}));
