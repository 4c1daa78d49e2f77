import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  cede, createTask, each, generate, IterationError, on, pipe, put, Queue, sleep, timeout, TimeoutError, type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { expectThrow } from '../interop_helpers.js';

/** An async generator that counts how often its cleanup ran and whether it finished. */
function counted(n: number, log: string[], delay = 0): AsyncGenerator<number> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        yield i;
      }
    } finally {
      log.push('cleanup start');
      await new Promise((r) => setTimeout(r, 5));
      log.push('cleanup end');
    }
  })();
}

/** A sync iterable that records return() calls. */
function syncCounted(n: number, log: string[]): Iterable<number> {
  return {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next: () => (i < n ? { done: false, value: i++ } : { done: true, value: undefined }),
        return: () => { log.push('return'); return { done: true, value: undefined }; },
      };
    },
  };
}

void test('each() over an array, a Set, an async generator, a Queue, a pipe and a subscription', async () => {
  await runRecording(function* () {
    function* collect<T>(src: Parameters<typeof each<T>>[0]): Coro<T[]> {
      const out: T[] = [];
      for (const x of yield* each(src)) { out.push(x); yield* each.next(); }
      return out;
    }
    assert.deepEqual(yield* collect([1, 2, 3]), [1, 2, 3]);
    assert.deepEqual(yield* collect(new Set(['a', 'b'])), ['a', 'b']);
    assert.deepEqual(yield* collect([]), []);
    const log: string[] = [];
    assert.deepEqual(yield* collect(counted(4, log, 1)), [0, 1, 2, 3]);
    assert.deepEqual(log, ['cleanup start', 'cleanup end']);   // ran to its end by itself, never closed

    const q = new Queue<number>();
    createTask(function* () { for (let i = 0; i < 5; i++) { yield* q.put(i); yield* sleep(1); } q.shutdown(); }());
    assert.deepEqual(yield* collect(q), [0, 1, 2, 3, 4]);

    const r = generate<number>(function* () { for (let i = 0; i < 3; i++) yield* put(i); });
    assert.deepEqual(yield* collect(r), [0, 1, 2]);

    const e = new EventEmitter();
    const sub = on<[number]>(e, 'data');
    createTask(function* () { for (let i = 0; i < 3; i++) { e.emit('data', i); yield* sleep(1); } sub.close(); }());
    assert.deepEqual((yield* collect(sub)).map(([x]) => x), [0, 1, 2]);
  });
});

void test('break, return and an error in the body close the source exactly once', async () => {
  await runRecording(function* () {
    for (const how of ['break', 'return', 'throw'] as const) {
      const log: string[] = [];
      function* body(): Coro<void> {
        for (const x of yield* each(syncCounted(10, log))) {
          if (x === 2) {
            if (how === 'break') break;
            if (how === 'return') return;
            throw new Error('in the body');
          }
          yield* each.next();
        }
      }
      if (how === 'throw') yield* expectThrow(body(), /in the body/);
      else yield* body();
      assert.deepEqual(log, ['return'], how);
    }
    // an async source: return() is called once and its cleanup runs
    const log: string[] = [];
    for (const x of yield* each(counted(10, log))) { if (x === 1) break; yield* each.next(); }
    yield* sleep(20);
    assert.deepEqual(log, ['cleanup start', 'cleanup end']);
  });
});

void test('a halt while each.next() waits on an async source closes it once and waits for its cleanup', async () => {
  const log: string[] = [];
  await runRecording(function* () {
    const src = counted(100, log, 1000);   // the second item never comes in time
    const t = createTask(function* () {
      for (const x of yield* each(src)) { log.push(`item ${x}`); yield* each.next(); }
    }());
    yield* sleep(1100);
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    log.push('task done');
    // a timeout around the loop: the same
    yield* expectThrow(timeout(50, function* () {
      for (const _ of yield* each(counted(100, log, 1000))) yield* each.next();
    }), TimeoutError);
    log.push('timeout done');
  });
  assert.deepEqual(log, ['item 0', 'cleanup start', 'cleanup end', 'task done', 'cleanup start', 'cleanup end', 'timeout done']);
});

void test('a halt while the body waits elsewhere closes the source once; a halt in the first wait too', async () => {
  await runRecording(function* () {
    const log: string[] = [];
    const t = createTask(function* () {
      for (const _ of yield* each(syncCounted(10, log))) { yield* sleep(1000); yield* each.next(); }
    }());
    yield* sleep(5);
    t.cancel();
    yield* cede(); yield* cede();
    assert.ok(t.cancelled());
    assert.deepEqual(log, ['return']);

    const alog: string[] = [];
    const t2 = createTask(function* () { for (const _ of yield* each(counted(10, alog, 1000))) yield* each.next(); }());
    yield* sleep(5);
    t2.cancel();
    try { yield* t2; } catch { /* cancelled */ }
    // the generator had not started its body when closed: an async generator's return() before its first
    // next() settles... here the first next() was pending, so return() runs the finally after it
    yield* sleep(1100);
    assert.equal(alog.filter((x) => x === 'cleanup start').length, 1);
  });
});

void test('a halted each() loop over a Queue takes no item; over a subscription it loses no event before close', async () => {
  await runRecording(function* () {
    const q = new Queue<number>();
    const got: number[] = [];
    const t = createTask(function* () { for (const x of yield* each(q)) { got.push(x); yield* each.next(); } }());
    yield* cede();
    q.putNowait(1);
    yield* cede(); yield* cede();
    q.putNowait(2);   // handed to the waiting loop's get()
    t.cancel();       // before it resumed: the item goes back
    yield* cede(); yield* cede();
    assert.deepEqual(got, [1]);
    assert.equal(q.qsize(), 1);
    assert.equal(q.getNowait(), 2);
  });
});

void test('a source that fails ends the loop with its error and is not closed', async () => {
  await runRecording(function* () {
    const log: string[] = [];
    const failing = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: () => (i++ < 2 ? Promise.resolve({ done: false, value: i }) : Promise.reject(new Error('source broke'))),
          return: () => { log.push('return'); return Promise.resolve({ done: true, value: undefined }); },
        };
      },
    } as AsyncIterable<number>;
    const seen: number[] = [];
    yield* expectThrow(function* () { for (const x of yield* each(failing)) { seen.push(x); yield* each.next(); } }(), /source broke/);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(log, []);
  });
});

void test('misuse throws IterationError: each.next() outside a loop or twice, a loop without each.next()', async () => {
  await runRecording(function* () {
    yield* expectThrow(each.next(), IterationError);
    yield* expectThrow(function* () { for (const _ of yield* each([1, 2])) { /* forgot each.next() */ } }(), /without yield\* each.next\(\)/);
    yield* expectThrow(function* () { for (const _ of yield* each([1, 2, 3])) { yield* each.next(); yield* each.next(); } }(), /twice/);
    // the misused loops left no iteration behind
    yield* expectThrow(each.next(), /outside/);
    assert.throws(() => { const c = each(42 as unknown as number[]); c.next(); }, TypeError);
  });
});

void test('nested loops: each.next() advances the innermost; a task of its own has its own stack', async () => {
  await runRecording(function* () {
    const pairs: string[] = [];
    for (const a of yield* each(['a', 'b'])) {
      for (const n of yield* each([1, 2])) { pairs.push(`${a}${n}`); yield* each.next(); }
      const inner = createTask(function* () { yield* each.next(); }());
      yield* expectThrow(inner, IterationError);
      yield* each.next();
    }
    assert.deepEqual(pairs, ['a1', 'a2', 'b1', 'b2']);
  });
});

void test('each() over a micro-pipe: leaving early closes the reader, halting the writer', async () => {
  await runRecording(function* () {
    const [w, r] = pipe<number>();
    let writerEnded = false;
    createTask(function* () { try { for (let i = 0; ; i++) yield* w.put(i); } finally { writerEnded = true; } }());
    const got: number[] = [];
    for (const x of yield* each(r)) { got.push(x); if (x === 3) break; yield* each.next(); }
    yield* cede(); yield* cede();
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.ok(writerEnded);
  });
});
