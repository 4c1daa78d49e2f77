import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, ensureFuture, Future, InvalidStateError, NodeEventLoop, run, sleep, Task, type Coro } from '../../src/index.js';

test('a future holds a result, an error or a cancellation', () => {
  const loop = new NodeEventLoop();
  const f = new Future<number>({ loop });
  assert.equal(f.done(), false);
  assert.throws(() => f.result(), InvalidStateError);
  assert.throws(() => f.exception(), InvalidStateError);
  f.setResult(7);
  assert.equal(f.done(), true);
  assert.equal(f.result(), 7);
  assert.equal(f.exception(), undefined);
  assert.throws(() => f.setResult(8), InvalidStateError);
  assert.throws(() => f.setException(new Error('x')), InvalidStateError);
  assert.equal(f.cancel(), false);

  const g = new Future<number>({ loop });
  const err = new Error('boom');
  g.setException(err);
  assert.equal(g.exception(), err);
  assert.throws(() => g.result(), /boom/);

  const h = new Future<number>({ loop });
  assert.equal(h.cancel('why'), true);
  assert.equal(h.cancelled(), true);
  assert.throws(() => h.result(), (e: unknown) => e instanceof CancelledError && e.message === 'why');
  assert.throws(() => h.exception(), CancelledError);
  loop.close();
});

test('done callbacks are never called synchronously and run in order', async () => {
  const trace: string[] = [];
  await run(function* () {
    const f = new Future<number>();
    f.addDoneCallback(() => trace.push('a'));
    f.addDoneCallback((x) => trace.push(`b${x.result()}`));
    f.setResult(1);
    trace.push('after setResult');
    f.addDoneCallback(() => trace.push('c (added when done)'));
    trace.push('after add');
    yield* sleep(0);
    yield* sleep(0);
  }, { handleSignals: false });
  assert.deepEqual(trace, ['after setResult', 'after add', 'a', 'b1', 'c (added when done)']);
});

test('removeDoneCallback removes every registration and says how many', () => {
  const loop = new NodeEventLoop();
  const f = new Future<void>({ loop });
  const cb = (): void => {};
  f.addDoneCallback(cb); f.addDoneCallback(() => {}); f.addDoneCallback(cb);
  assert.equal(f.removeDoneCallback(cb), 2);
  assert.equal(f.removeDoneCallback(cb), 0);
  loop.close();
});

test('yield* on a future returns its result with its type, or throws its error', async () => {
  const out = await run(function* () {
    const f = new Future<number>();
    const g = new Future<string>();
    setTimeout(() => f.setResult(41), 1);
    setTimeout(() => g.setException(new Error('nope')), 2);
    const n: number = yield* f;
    let msg = '';
    try { yield* g; } catch (e) { msg = (e as Error).message; }
    return `${n + 1} ${msg}`;
  }, { handleSignals: false });
  assert.equal(out, '42 nope');
});

test('await future works, and then() settles even after the loop has stopped', async () => {
  const loop = new NodeEventLoop();
  const f = new Future<string>({ loop });
  f.setResult('early');
  assert.equal(await f, 'early');
  const g = new Future<string>({ loop });
  const p = g.then((v) => `got ${v}`);
  g.setResult('late'); // the loop is not running at all
  assert.equal(await p, 'got late');
  const h = new Future<string>({ loop });
  h.cancel();
  await assert.rejects(Promise.resolve(h), CancelledError);
  loop.close();
});

test('then() never adopts a thenable result internally', async () => {
  const loop = new NodeEventLoop();
  const inner = { then: (): void => { throw new Error('must not be called by tulip'); } };
  const f = new Future<{ then(): void }>({ loop });
  f.setResult(inner);
  let seen: unknown;
  await f.then((v) => { seen = v; });
  assert.equal(seen, inner);
  loop.close();
});

test('a future with a description shows it', () => {
  const loop = new NodeEventLoop();
  const f = new Future<void>({ loop, description: 'Queue.get' });
  assert.equal(f.describe(), 'Queue.get');
  assert.match(String(f), /pending Queue\.get/);
  loop.close();
});

test('a coroutine can yield* another coroutine and get its value', async () => {
  function* add(a: number, b: number): Coro<number> { yield* sleep(1); return a + b; }
  const v = await run(function* () { return (yield* add(1, 2)) * 10; }, { handleSignals: false });
  assert.equal(v, 30);
});

test('sleep() does nothing until driven, and ensureFuture() runs it as a task', async () => {
  const loop = new NodeEventLoop();
  const s = sleep(1, 'slept');   // no loop is running: creating it must not fail
  const t = ensureFuture(s, loop);
  assert.ok(t instanceof Task);
  assert.equal(await loop.runUntilComplete(t), 'slept');
  loop.close();
});
