import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, getEventListeners } from 'node:events';
import {
  cede, createTask, EventOverflowError, InvalidStateError, on, once, sleep, timeout, TimeoutError, type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { expectThrow } from '../interop_helpers.js';

const listeners = (e: EventEmitter, name = 'data'): number => e.listenerCount(name) + e.listenerCount('error');

void test('once(emitter) gives the arguments as an array and removes its listeners at once', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const t = createTask(once<[number, string]>(e, 'data'));
    yield* cede();
    assert.equal(listeners(e), 2);   // the event and 'error'
    e.emit('data', 1, 'x');
    assert.equal(listeners(e), 0);   // removed in the emit, before the task resumes
    e.emit('data', 2, 'y');
    assert.deepEqual(yield* t, [1, 'x']);
  });
});

void test('once(emitter): an error event throws; a later error is not swallowed by a leftover listener', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const t = createTask(once(e, 'ready'));
    yield* cede();
    e.emit('error', new Error('boom'));
    yield* expectThrow(t, /boom/);
    assert.equal(listeners(e, 'ready'), 0);
    assert.throws(() => e.emit('error', new Error('unhandled')), /unhandled/);
    const w = createTask(once(e, 'error'));   // waiting for 'error' itself gives it as the event
    yield* cede();
    const err = new Error('x');
    e.emit('error', err);
    assert.deepEqual(yield* w, [err]);
  });
});

void test('once(EventTarget) gives the Event; halted by a timeout or a cancel, it removes its listener', async () => {
  await runRecording(function* () {
    const target = new EventTarget();
    const t = createTask(once(target, 'ping'));
    yield* cede();
    assert.equal(getEventListeners(target, 'ping').length, 1);
    const ev = new Event('ping');
    target.dispatchEvent(ev);
    assert.equal(yield* t, ev);
    assert.equal(getEventListeners(target, 'ping').length, 0);

    yield* expectThrow(createTask(timeout(5, () => once(target, 'never'))), TimeoutError);
    assert.equal(getEventListeners(target, 'never').length, 0);
    const e = new EventEmitter();
    const c = createTask(once(e, 'never'));
    yield* cede();
    c.cancel();
    yield* cede();
    assert.ok(c.cancelled());
    assert.equal(listeners(e, 'never'), 0);
  });
});

void test('once() of an object that is neither an emitter nor a target is a TypeError', async () => {
  await runRecording(function* () {
    assert.throws(() => { const c = once({} as EventEmitter, 'x'); c.next(); }, TypeError);
  });
});

void test('on(): events that arrive before next() wait in order; close() removes the listeners and drops them', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data');
    assert.equal(listeners(e), 2);
    for (let i = 0; i < 5; i++) e.emit('data', i);
    assert.equal(sub.size, 5);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((yield* sub.next())[0]);
    assert.deepEqual(got, [0, 1, 2]);
    const waiter = createTask(function* (): Coro<[number]> { yield* sub.next(); yield* sub.next(); return yield* sub.next(); }());
    yield* cede();   // takes 3 (buffered), then waits
    sub.close();
    assert.equal(listeners(e), 0);
    assert.equal(sub.closed, true);
    yield* expectThrow(waiter, InvalidStateError);
    const after = sub.next();
    assert.throws(() => after.next(), InvalidStateError);
  });
});

void test('on(): a next() halted after an event was handed to it gives the event back, in front', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[string]>(e, 'data');
    const a = createTask(sub.next());
    yield* cede();                 // a waits
    e.emit('data', 'first');       // handed to a's future
    a.cancel();                    // before a resumed
    e.emit('data', 'second');
    yield* cede();
    assert.ok(a.cancelled());
    assert.deepEqual(yield* sub.next(), ['first']);
    assert.deepEqual(yield* sub.next(), ['second']);
    // a waiter halted before any event came takes nothing
    const b = createTask(sub.next());
    yield* cede();
    b.cancel();
    yield* cede();
    e.emit('data', 'third');
    assert.deepEqual(yield* sub.next(), ['third']);
    // a timeout around next() loses nothing either
    for (let i = 0; i < 20; i++) {
      try {
        yield* timeout(0, () => sub.next());
        assert.fail('nothing was emitted');
      } catch (err) { if (!(err instanceof TimeoutError)) throw err; }
      e.emit('data', `n${i}`);
      assert.deepEqual(yield* sub.next(), [`n${i}`]);
    }
    sub.close();
    assert.equal(listeners(e), 0);
  });
});

void test('on(): several waiting tasks each get one event, in the order they waited', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data');
    const ts = [0, 1, 2].map(() => createTask(sub.next()));
    yield* cede();
    for (let i = 0; i < 3; i++) e.emit('data', i);
    const got: number[] = [];
    for (const t of ts) got.push((yield* t)[0]);
    assert.deepEqual(got, [0, 1, 2]);
    sub.close();
  });
});

void test('on() policy error (the default): the next next() throws EventOverflowError and the listener is gone', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data', { capacity: 2 });
    e.emit('data', 1); e.emit('data', 2);
    assert.equal(listeners(e), 2);
    e.emit('data', 3);
    assert.equal(listeners(e), 0);
    assert.ok(sub.closed);
    yield* expectThrow(createTask(sub.next()), EventOverflowError);
    yield* expectThrow(createTask(sub.next()), EventOverflowError);
    // default capacity 1024
    const sub2 = on<[number]>(e, 'data');
    for (let i = 0; i < 1024; i++) e.emit('data', i);
    assert.equal(sub2.size, 1024);
    e.emit('data', 1024);
    yield* expectThrow(createTask(sub2.next()), EventOverflowError);
  });
});

void test('on() policies dropOldest and dropNewest keep the newest or the oldest events and count the dropped', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const oldest = on<[number]>(e, 'data', { capacity: 3, policy: 'dropOldest' });
    const newest = on<[number]>(e, 'data', { capacity: 3, policy: 'dropNewest' });
    const none = on<[number]>(e, 'data', { capacity: 0, policy: 'dropNewest' });
    for (let i = 0; i < 10; i++) e.emit('data', i);
    const take = function* (s: typeof oldest): Coro<number[]> { const out: number[] = []; while (s.size > 0) out.push((yield* s.next())[0]); return out; };
    assert.deepEqual(yield* take(oldest), [7, 8, 9]);
    assert.deepEqual(yield* take(newest), [0, 1, 2]);
    assert.equal(oldest.dropped, 7);
    assert.equal(newest.dropped, 7);
    assert.equal(none.size, 0);
    const w = createTask(none.next());   // capacity 0 still hands events to a waiting next()
    yield* cede();
    e.emit('data', 42);
    assert.deepEqual(yield* w, [42]);
    for (const s of [oldest, newest, none]) s.close();
    assert.equal(listeners(e), 0);
    assert.throws(() => on(e, 'data', { capacity: -1 }), RangeError);
    assert.throws(() => on(e, 'data', { policy: 'bogus' as 'error' }), RangeError);
  });
});

void test('on(emitter): an error event ends the subscription after the events before it', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data');
    e.emit('data', 1);
    e.emit('error', new Error('broken'));
    assert.equal(listeners(e), 0);
    assert.deepEqual(yield* sub.next(), [1]);
    yield* expectThrow(createTask(sub.next()), /broken/);
    // a waiting next() gets the error too
    const sub2 = on(e, 'data');
    const w = createTask(sub2.next());
    yield* cede();
    e.emit('error', new Error('later'));
    yield* expectThrow(w, /later/);
  });
});

void test('on(EventTarget) gives Events; halting the consumer at each wait leaves exactly one listener until close()', async () => {
  await runRecording(function* () {
    const target = new EventTarget();
    const sub = on(target, 'tick');
    assert.equal(getEventListeners(target, 'tick').length, 1);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = createTask(function* () { const ev = yield* sub.next(); seen.push((ev as CustomEvent<number>).detail); }());
      yield* cede();
      if (i % 2 === 0) { t.cancel(); yield* cede(); }   // halted while waiting
      target.dispatchEvent(new CustomEvent('tick', { detail: i }));
      if (i % 2 !== 0) yield* t;
      assert.equal(getEventListeners(target, 'tick').length, 1);
    }
    // the events that came while nobody waited are still there, in order
    while (sub.size > 0) seen.push(((yield* sub.next()) as CustomEvent<number>).detail);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    sub.close();
    assert.equal(getEventListeners(target, 'tick').length, 0);
  });
});

void test('for await over on(): break closes the subscription; a pending next() cancelled by return() loses nothing', async () => {
  await runRecording(function* () {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data');
    const consumer = (async () => {
      const got: number[] = [];
      for await (const [x] of sub) { got.push(x); if (got.length === 3) break; }
      return got;
    })();
    for (let i = 0; i < 5; i++) { e.emit('data', i); yield* sleep(1); }
    assert.deepEqual(yield* createTask(consumer), [0, 1, 2]);
    assert.equal(listeners(e), 0);
  });
});
