import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cede, createTask, currentSignal, fromPromise, getRunningLoop, moveOnAfter, sleep, timeout, TimeoutError, type ExceptionContext,
} from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { runRecording } from '../helpers.js';

/** A Promise that settles only when `signal` aborts (then it rejects with the reason), like fetch. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

function noUnhandledRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const on = (e: unknown): void => { seen.push(e); };
  process.on('unhandledRejection', on);
  return { seen, stop: () => process.off('unhandledRejection', on) };
}

void test('fromPromise(fn) under a timeout: fn gets the scope\'s signal, aborted when the deadline passes; the abort\'s rejection is reported nowhere', async () => {
  const errors: ExceptionContext[] = [];
  const watch = noUnhandledRejections();
  const r = await runRecording(function* () {
    let given: AbortSignal | undefined;
    let scopeSignal: AbortSignal | undefined;
    let caught = '';
    try {
      yield* timeout(5, function* () {
        scopeSignal = currentSignal();
        yield* fromPromise((signal) => { given = signal; return untilAborted(signal); });
      });
    } catch (e) { caught = (e as Error).name; }
    yield* sleep(5);   // let the rejection happen
    return { same: given === scopeSignal, aborted: given!.aborted, reason: (given!.reason as Error).name, caught };
  }, errors);
  await new Promise((r) => setImmediate(r));
  watch.stop();
  assert.deepEqual(r, { same: true, aborted: true, reason: 'TimeoutError', caught: 'TimeoutError' });
  assert.deepEqual(errors, []);
  assert.deepEqual(watch.seen, []);
});

void test('a halt does not wait for the Promise: one that never settles is let go at the deadline', async () => {
  const errors: ExceptionContext[] = [];
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const t0 = loop.time();
    const v = yield* moveOnAfter(10, () => fromPromise(() => new Promise<string>(() => { /* never */ })));
    return { v, waited: loop.time() - t0 };
  }, errors);
  assert.equal(r.v, undefined);
  assert.ok(r.waited >= 9, String(r.waited));   // the deadline, not the Promise (which never settles), ended the wait
  assert.deepEqual(errors, []);
});

void test('fromPromise(fn): fn runs when driven, not before; values, rejections and a throwing fn reach the coroutine', async () => {
  await runRecording(function* () {
    let calls = 0;
    const c = fromPromise(() => { calls++; return Promise.resolve(5); });
    yield* sleep(1);
    assert.equal(calls, 0);
    assert.equal(yield* c, 5);
    assert.equal(calls, 1);
    let msg = '';
    try { yield* fromPromise(() => Promise.reject(new Error('rejected'))); } catch (e) { msg = (e as Error).message; }
    assert.equal(msg, 'rejected');
    try { yield* fromPromise(() => { throw new Error('fn threw'); }); } catch (e) { msg = (e as Error).message; }
    assert.equal(msg, 'fn threw');
    try { yield* fromPromise((() => 42) as unknown as () => Promise<number>); } catch (e) { msg = (e as Error).message; }
    assert.match(msg, /must return a Promise/);
    // the Promise form is unchanged: a Future
    assert.equal(yield* fromPromise(Promise.resolve('p')), 'p');
  });
});

void test('fromPromise(fn) in the cleanup of a cancelled task gets a signal that is not aborted, so the cleanup\'s call completes', async () => {
  const r = await runRecording(function* () {
    const seen: string[] = [];
    const t = createTask((function* () {
      try { yield* sleep(1000); } finally {
        const v = yield* fromPromise((signal) => new Promise<string>((resolve) => setTimeout(() => resolve(`aborted: ${signal.aborted}`), 5)));
        seen.push(v);
      }
    })());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    return seen;
  });
  assert.deepEqual(r, ['aborted: false']);
});

void test('a real fetch under a timeout: the request is aborted when the deadline passes; the server sees the connection close', async () => {
  let closed!: () => void, arrived!: () => void;
  const connectionClosed = new Promise<void>((r) => { closed = r; });
  const requestArrived = new Promise<void>((r) => { arrived = r; });
  const server: Server = createServer((req) => { req.socket.on('close', closed); arrived(); /* never answers */ });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const errors: ExceptionContext[] = [];
    const r = await runRecording(function* () {
      try {
        yield* timeout(60_000, function* (d) {
          // The deadline passes once the server has the request (a fixed one could pass before it connects).
          createTask((function* () { yield* fromPromise(requestArrived); d.reschedule(getRunningLoop().time()); })());
          yield* fromPromise((signal) => fetch(`http://127.0.0.1:${port}/`, { signal }));
        });
        return 'answered?';
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        return 'TimeoutError';
      }
    }, errors);
    assert.equal(r, 'TimeoutError');
    await connectionClosed;
    assert.deepEqual(errors, []);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

void test('in virtual time, a Promise whose wait a halt gave up no longer holds the clock still', async () => {
  const r = await runVirtual(function* () {
    const a = createTask(fromPromise(() => new Promise<void>(() => { /* never settles, ignores its signal */ })));
    yield* cede();
    a.cancel();
    yield* sleep(5_000);   // with the Promise still counted as pending, virtual time would never move again
    return a.cancelled();
  }, { seed: 1 });
  assert.equal(r, true);
});
