/**
 * The bridges under exploreCancellation: a cancel at every suspension point of the code under test, in
 * each of the four ways (in the step, a batch or two later, a scope around it), in virtual time. After
 * each run nothing may be lost or left: the rest of the data still arrives whole and in order, no
 * listener is left on the emitter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  CancelledError, copy, createTask, each, on, openConnection, Queue, sleep, startServer, StreamReader, TextStreamReader, type Coro,
} from '../../src/index.js';
import { exploreCancellation, type Explorer } from '../../src/testing/index.js';

const enc = new TextEncoder();

/** Run `body` as the target in a task of its own, so the scenario goes on to check what the cancel left behind. */
function* targetTask(x: Explorer, body: () => Coro<unknown>): Coro<void> {
  try { yield* createTask(x.target(body), { name: 'target' }); } catch (e) { if (!(e instanceof CancelledError)) throw e; }
}

void test('exploreCancellation: copy() over the virtual network, then a new copy() finishes: the sink gets every byte in order', async () => {
  const data = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 31) % 251);
  const scenario = function* (x: Explorer): Coro<string> {
    const net = x.loop.network;
    net.addHost('a'); net.addHost('b');
    net.setLink('localhost', 'b', { latency: 2, bandwidth: 100_000 });
    const src = yield* net.onHost('a', () => startServer(function* (_r, w) {
      for (let off = 0; off < data.length; off += 2500) { w.write(data.subarray(off, off + 2500)); yield* w.drain(); yield* sleep(2); }
      w.close();
    }, 'a', 7000));
    let got = '';
    const dst = yield* net.onHost('b', () => startServer(function* (r) {
      const all = yield* r.read(-1);
      got = Buffer.from(all).toString('base64');
    }, 'b', 7001));
    const [r1] = yield* openConnection('a', 7000);
    const [, w2] = yield* openConnection('b', 7001);
    w2.transport.setWriteBufferLimits(4096);   // a slow link: drain() waits too
    yield* targetTask(x, () => copy(r1, w2, { end: false, chunkSize: 4096 }));
    assert.ok(!w2.isClosing());
    yield* copy(r1, w2);
    yield* w2.waitClosed();
    for (let i = 0; i < 100 && got === ''; i++) yield* sleep(5);
    src.close(); dst.close();
    return got;
  };
  const expected = Buffer.from(data).toString('base64');
  const r = await exploreCancellation(scenario, {
    check: (o) => { if (o.error !== undefined) throw o.error; assert.equal(o.value, expected, `${o.injection?.point} ${o.injection?.mode}`); },
  });
  assert.ok(r.points >= 10, `${r.points} points`);
});

void test('exploreCancellation: a subscription\'s next() over an EventEmitter loses no event and keeps one listener', async () => {
  const scenario = function* (x: Explorer): Coro<number[]> {
    const e = new EventEmitter();
    const sub = on<[number]>(e, 'n');
    for (let i = 0; i < 8; i++) x.loop.callLater(i * 2 + 1, () => e.emit('n', i));
    const got: number[] = [];
    yield* targetTask(x, function* (): Coro<void> { for (let i = 0; i < 8; i++) got.push((yield* sub.next())[0]); });
    assert.equal(e.listenerCount('n'), 1);
    while (got.length < 8) got.push((yield* sub.next())[0]);
    sub.close();
    assert.equal(e.listenerCount('n') + e.listenerCount('error'), 0);
    return got;
  };
  await exploreCancellation(scenario, {
    check: (o) => { if (o.error !== undefined) throw o.error; assert.deepEqual(o.value, [0, 1, 2, 3, 4, 5, 6, 7]); },
  });
});

void test('exploreCancellation: an each() loop over a Queue takes no item it does not hand to the body', async () => {
  const scenario = function* (x: Explorer): Coro<number[]> {
    const q = new Queue<number>();
    for (let i = 0; i < 6; i++) x.loop.callLater(i * 3 + 1, () => q.putNowait(i));
    x.loop.callLater(30, () => q.shutdown());
    const got: number[] = [];
    yield* targetTask(x, function* (): Coro<void> {
      for (const v of yield* each(q)) { got.push(v); yield* sleep(1); yield* each.next(); }
    });
    for (const v of yield* each(q)) { got.push(v); yield* each.next(); }
    return got;
  };
  await exploreCancellation(scenario, {
    check: (o) => { if (o.error !== undefined) throw o.error; assert.deepEqual(o.value, [0, 1, 2, 3, 4, 5]); },
  });
});

void test('exploreCancellation: TextStreamReader.read() keeps a character split across chunks whatever the halt', async () => {
  const text = 'añb€c😀d';
  const bytes = enc.encode(text);
  const scenario = function* (x: Explorer): Coro<string> {
    const reader = new StreamReader();
    for (let i = 0; i < bytes.length; i++) x.loop.callLater(i + 1, () => reader.feedData(bytes.subarray(i, i + 1)));
    x.loop.callLater(bytes.length + 1, () => reader.feedEof());
    const t = new TextStreamReader(reader);
    let s = '';
    yield* targetTask(x, function* (): Coro<void> { for (let i = 0; i < 3; i++) s += yield* t.read(2); });
    for (let part = yield* t.read(2); part !== ''; part = yield* t.read(2)) s += part;
    return s;
  };
  await exploreCancellation(scenario, {
    check: (o) => { if (o.error !== undefined) throw o.error; assert.equal(o.value, text); },
  });
});
