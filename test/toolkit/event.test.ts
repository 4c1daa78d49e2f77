import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncEvent, cede, createTask, Event, sleep, moveOnAfter, type Coro } from '../../src/index.js';
import { runRecording } from '../helpers.js';

void test('set() wakes every waiter; wait() on a set event returns at once; clear() resets', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const ev = new AsyncEvent();
    function* waiter(name: string): Coro<void> { yield* ev.wait(); trace.push(name); }
    const ts = [createTask(waiter('a')), createTask(waiter('b'))];
    yield* sleep(1);
    assert.equal(ev.isSet(), false);
    trace.push('set');
    ev.set();
    for (const t of ts) yield* t;
    yield* ev.wait();
    trace.push('already set');
    ev.clear();
    assert.equal(ev.isSet(), false);
    const c = createTask(waiter('c'));
    yield* cede();
    assert.equal(c.done(), false);
    ev.set();
    yield* c;
  });
  assert.deepEqual(trace, ['set', 'a', 'b', 'already set', 'c']);
});

void test('clear() right after set() does not un-wake the woken tasks', async () => {
  await runRecording(function* () {
    const ev = new AsyncEvent();
    const t = createTask(ev.wait());
    yield* cede();
    ev.set();
    ev.clear();
    yield* t;
  });
});

void test('a cancelled or timed-out waiter does not disturb the others', async () => {
  await runRecording(function* () {
    const ev = new AsyncEvent();
    const a = createTask(ev.wait());
    const b = createTask(ev.wait());
    yield* cede();
    a.cancel();
    for (let i = 0; i < 100; i++) assert.equal(yield* moveOnAfter(0, function* () { yield* ev.wait(); return 'set'; }), undefined);
    ev.set();
    yield* b;
    assert.ok(a.cancelled());
  });
});

void test('AsyncEvent does not clash with the global Event; Event is the same class under asyncio\'s name', async () => {
  assert.equal(Event, AsyncEvent);
  assert.notEqual(AsyncEvent, globalThis.Event);
  assert.equal(AsyncEvent.name, 'AsyncEvent');
  const ev = new Event();
  assert.ok(ev instanceof AsyncEvent);
  assert.equal(String(ev), '<AsyncEvent unset>');
  await runRecording(function* () {
    createTask((function* () { yield* sleep(1); ev.set(); })());
    yield* ev.wait();
  });
  assert.equal(String(ev), '<AsyncEvent set>');
});
