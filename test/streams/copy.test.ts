import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  cede, copy, createTask, getRunningLoop, openConnection, sleep, startServer, type Coro, type Server, type SockAddr, type StreamReader,
  type StreamWriter, StreamReader as MemoryReader,
} from '../../src/index.js';
import { runVirtual, type TestEventLoop } from '../../src/testing/index.js';
import { go, rejects } from '../net_helpers.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A server that sends `data` in pieces (pausing between some) and then closes. */
function* source(data: Uint8Array, host = '127.0.0.1', port = 0): Coro<Server> {
  return yield* startServer(function* (_r, w) {
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = 1000 + (i * 7919) % 30_000;
      w.write(data.subarray(off, off + n));
      off += n;
      yield* w.drain();
      if (i % 5 === 0) yield* sleep(1);
    }
    w.close();
  }, host, port);
}

/** A server that reads everything (slowly now and then) and, at EOF, replies with its length and hash. */
function* sink(host = '127.0.0.1', port = 0): Coro<Server> {
  return yield* startServer(function* (r, w) {
    const h = createHash('sha256');
    let n = 0;
    for (let i = 0; ; i++) {
      const c = yield* r.read(8192);
      if (c.length === 0) break;
      h.update(c);
      n += c.length;
      if (i % 50 === 0) yield* sleep(2);
    }
    w.write(`${n} ${h.digest('hex')}\n`);
    yield* w.drain();
    w.close();
  }, host, port);
}

const addr = (s: Server): SockAddr => s.addresses()[0] as SockAddr;

void test('copy() moves a stream between two real connections and half-closes the writer, so the reply comes back', async () => {
  await go(function* () {
    const data = randomBytes(8 << 20);
    const src = yield* source(data);
    const dst = yield* sink();
    const [r1, w1] = yield* openConnection(...addr(src));
    const [r2, w2] = yield* openConnection(...addr(dst));
    assert.equal(yield* copy(r1, w2), data.length);
    const reply = Buffer.from(yield* r2.readLine()).toString();   // the writer was half-closed, reading goes on
    assert.equal(reply, `${data.length} ${sha(data)}\n`);
    for (const w of [w1, w2]) w.close();
    for (const s of [src, dst]) { s.close(); yield* s.waitClosed(); }
  });
});

/** Copy r → w, halting a copy after k turns of the loop again and again, then finish with one that runs to the end. */
function* haltedCopies(r: StreamReader, w: StreamWriter, rounds: number): Coro<number> {
  let halted = 0;
  for (let k = 0; k < rounds; k++) {
    const t = createTask(copy(r, w, { end: false, chunkSize: 4096 }));
    for (let i = 0; i < k % 7; i++) yield* cede();
    if (!t.done()) { t.cancel(); halted++; }
    yield* cede();
    assert.ok(!w.isClosing(), 'a halted copy leaves the writer open');
  }
  yield* copy(r, w);
  return halted;
}

void test('copy() halted again and again over real connections loses nothing; a new copy() carries on', async () => {
  await go(function* () {
    const data = randomBytes(2 << 20);
    const src = yield* source(data);
    const dst = yield* sink();
    const [r1, w1] = yield* openConnection(...addr(src));
    const [r2, w2] = yield* openConnection(...addr(dst));
    const halted = yield* haltedCopies(r1, w2, 300);
    assert.ok(halted > 100, `halted ${halted} copies`);
    assert.equal(Buffer.from(yield* r2.readLine()).toString(), `${data.length} ${sha(data)}\n`);
    for (const w of [w1, w2]) w.close();
    for (const s of [src, dst]) { s.close(); yield* s.waitClosed(); }
  });
});

void test('copy() halted at each of its waits in virtual time (slow link: drain waits; slow source: read waits)', async () => {
  await runVirtual(function* () {
    const net = (getRunningLoop() as TestEventLoop).network;
    net.addHost('a'); net.addHost('b');
    net.setLink('localhost', 'a', { latency: 1 });
    net.setLink('localhost', 'b', { latency: 3, bandwidth: 2_000_000 });
    const data = randomBytes(1 << 20);
    const src = yield* net.onHost('a', () => source(data, 'a', 7000));
    const dst = yield* net.onHost('b', () => sink('b', 7001));
    const [r1] = yield* openConnection('a', 7000);
    const [r2, w2] = yield* openConnection('b', 7001);
    const halted = yield* haltedCopies(r1, w2, 400);
    assert.ok(halted > 100, `halted ${halted} copies`);
    assert.equal(Buffer.from(yield* r2.readLine()).toString(), `${data.length} ${sha(data)}\n`);
    w2.close();
    src.close(); dst.close();
  });
});

void test('copy() with end: false leaves the writer open; chunkSize must be positive', async () => {
  await go(function* () {
    const dst = yield* sink();
    const [r2, w2] = yield* openConnection(...addr(dst));
    const mem = new MemoryReader();
    mem.feedData(new TextEncoder().encode('hello '));
    mem.feedEof();
    assert.equal(yield* copy(mem, w2, { end: false }), 6);
    assert.ok(!w2.isClosing());
    w2.write('world');
    w2.writeEof();
    assert.equal(Buffer.from(yield* r2.readLine()).toString(), `11 ${sha(new TextEncoder().encode('hello world'))}\n`);
    yield* rejects(copy(mem, w2, { chunkSize: 0 }), RangeError);
    w2.close();
    dst.close();
    yield* dst.waitClosed();
  });
});
