import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer as httpServer } from 'node:http';
import {
  cede, copy, createTask, each, fromPromise, fromReadableStream, fromWritableStream, openConnection, sleep, startServer, StreamReader,
  toReadableStream, toWritableStream, type SockAddr,
} from '../../src/index.js';
import { go, rejects } from '../net_helpers.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const enc = new TextEncoder();

/** A ReadableStream that produces `chunk`-byte chunks on demand forever, counting pulls; records cancel(). */
function counting(chunk: number): { rs: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => unknown } {
  let pulls = 0;
  let reason: unknown = 'not cancelled';
  const rs = new ReadableStream<Uint8Array>({
    pull(c) { pulls++; c.enqueue(new Uint8Array(chunk).fill(pulls % 256)); },
    cancel(r) { reason = r; },
  }, { highWaterMark: 2 });
  return { rs, pulled: () => pulls, cancelled: () => reason };
}

void test('fromReadableStream(new Response(...).body) reads bytes and lines', async () => {
  await go(function* () {
    const r = fromReadableStream(new Response('first ✓\nsecond\r\nthird').body!);
    const got: string[] = [];
    for (const l of yield* each(r.lines())) { got.push(l); yield* each.next(); }
    assert.deepEqual(got, ['first ✓', 'second', 'third']);
    // a stream of strings is encoded as UTF-8
    const strings = new ReadableStream<string>({ start(c) { c.enqueue('é'); c.enqueue('!'); c.close(); } });
    assert.equal(Buffer.from(yield* fromReadableStream(strings).read(-1)).toString(), 'é!');
    // a signal's abort listener goes once the stream has ended
    const ac = new AbortController();
    const whole = fromReadableStream(new Response('all of it').body!, { signal: ac.signal });
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    assert.equal(Buffer.from(yield* whole.read(-1)).toString(), 'all of it');
    yield* sleep(1);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    // a chunk that is not bytes ends the reader with a TypeError
    const objs = new ReadableStream<unknown>({ start(c) { c.enqueue({}); c.close(); } });
    yield* rejects(fromReadableStream(objs as ReadableStream<Uint8Array>).read(-1), TypeError);
  });
});

void test('fromReadableStream of a real fetch() body from node:http', async () => {
  const body = randomBytes(3 << 20);
  const server = httpServer((_req, res) => { res.writeHead(200); res.end(body); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  try {
    await go(function* () {
      const res = yield* fromPromise(fetch(`http://127.0.0.1:${port}/`));
      const data = yield* fromReadableStream(res.body!).read(-1);
      assert.equal(sha(data), sha(body));
    });
  } finally { server.close(); }
});

void test('fromReadableStream: an unread reader stops pulling; a halted read loses nothing; the signal cancels', async () => {
  await go(function* () {
    const { rs, pulled, cancelled } = counting(1000);
    const ac = new AbortController();
    const r = fromReadableStream(rs, { limit: 4096, signal: ac.signal });
    yield* r.readExactly(10);
    yield* sleep(20);
    const p = pulled();
    yield* sleep(20);
    assert.equal(pulled(), p, 'no pull while the reader is paused');
    assert.ok(p < 20, `bounded: ${p} pulls`);
    // a read halted while waiting takes nothing
    const all: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) {
      const t = createTask(r.readExactly(999));
      if (i % 3 === 0) { t.cancel(); yield* cede(); }
      else all.push(yield* t);
    }
    const total = all.reduce((n, c) => n + c.length, 0);
    assert.equal(total, 20 * 999);
    ac.abort(new Error('enough'));
    yield* rejects(r.read(), /enough/);
    yield* sleep(1);
    assert.match(String(cancelled()), /enough/);
  });
});

void test('toReadableStream: new Response(stream).text() reads a reader to its end', async () => {
  await go(function* () {
    const reader = new StreamReader();
    createTask(function* () { for (const part of ['hé', 'llo', ' ', 'world']) { reader.feedData(enc.encode(part)); yield* sleep(1); } reader.feedEof(); }());
    assert.equal(yield* fromPromise(new Response(toReadableStream(reader)).text()), 'héllo world');
  });
});

void test('toReadableStream: cancelled after a chunk or while a pull waits, the reader keeps the rest', async () => {
  await go(function* () {
    const reader = new StreamReader();
    reader.feedData(enc.encode('abc'));
    reader.feedData(enc.encode('defgh'));
    const rs = toReadableStream(reader, { chunkSize: 2 });
    const rd = rs.getReader();
    const first = yield* fromPromise(rd.read());
    assert.deepEqual(Buffer.from(first.value!).toString(), 'ab');
    yield* fromPromise(rd.cancel());
    assert.equal(reader.buffered, 6);   // nothing was read ahead
    // a pull waiting on an empty reader, then cancelled: a later chunk stays in the reader
    const rs2 = toReadableStream(reader);
    const rd2 = rs2.getReader();
    const pending = rd2.read();
    yield* cede(); yield* cede();
    yield* fromPromise(rd2.cancel());
    yield* cede();
    reader.feedData(enc.encode('late'));
    reader.feedEof();
    assert.equal(Buffer.from(yield* reader.read(-1)).toString(), 'cdefghlate');
    assert.deepEqual(yield* fromPromise(pending), { done: true, value: undefined });
    // a reader's error errors the stream
    const broken = new StreamReader();
    broken.setException(new Error('gone'));
    yield* rejects(fromPromise(new Response(toReadableStream(broken)).text()), /gone/);
  });
});

void test('toWritableStream: pipeTo() into a tulip connection waits while the peer does not read', async () => {
  await go(function* () {
    let reading = false;
    let got = 0;
    const server = yield* startServer(function* (r, w) {
      while (!reading) yield* sleep(5);
      for (;;) { const c = yield* r.read(65536); if (c.length === 0) break; got += c.length; }
      w.write(`${got}\n`);
      w.close();
    }, '127.0.0.1', 0);
    const [r, w] = yield* openConnection(...(server.addresses()[0] as SockAddr));
    const { rs, pulled } = counting(16384);
    const ac = new AbortController();
    const piping = rs.pipeTo(toWritableStream(w), { signal: ac.signal }).catch(() => 'stopped');
    yield* sleep(150);
    const p = pulled();
    yield* sleep(50);
    assert.equal(pulled(), p, 'the source is held back while the peer reads nothing');
    assert.ok(p * 16384 < 64 << 20, `bounded: ${p} chunks`);
    reading = true;
    yield* sleep(100);
    ac.abort();   // stops the pipe; the abort leaves the writer to us
    assert.equal(yield* fromPromise(piping), 'stopped');
    assert.ok(!w.isClosing());
    w.writeEof();
    const n = Number(Buffer.from(yield* r.readLine()).toString());
    assert.ok(n >= p * 16384 - 4 * 16384, `the peer got what was written: ${n}`);
    w.close();
    server.close();
    yield* server.waitClosed();
  });
});

void test('fromWritableStream: drain() waits for a slow sink; close() closes it; a failing sink fails the writer', async () => {
  await go(function* () {
    const chunks: Uint8Array[] = [];
    let closed = false;
    let inFlight = 0, maxInFlight = 0;
    const ws = new WritableStream<Uint8Array>({
      async write(c) { inFlight += c.length; maxInFlight = Math.max(maxInFlight, inFlight); await new Promise((r) => setTimeout(r, 1)); chunks.push(c); inFlight -= c.length; },
      close() { closed = true; },
    });
    const w = fromWritableStream(ws);
    const data = randomBytes(1 << 20);
    for (let off = 0; off < data.length; off += 8192) {
      w.write(data.subarray(off, off + 8192));
      yield* w.drain();
      assert.ok(w.transport.getWriteBufferSize() <= 64 * 1024 + 8192);
    }
    w.close();
    yield* w.waitClosed();
    assert.ok(closed);
    assert.equal(sha(Buffer.concat(chunks)), sha(data));
    assert.ok(maxInFlight <= 64 * 1024 + 8192, `at most the high-water mark in flight: ${maxInFlight}`);

    const bad = fromWritableStream(new WritableStream<Uint8Array>({ write() { throw new Error('sink broke'); } }));
    bad.write('x');
    yield* sleep(1);
    yield* rejects(bad.drain(), /sink broke/);
    yield* rejects(bad.waitClosed(), /sink broke/);
  });
});

void test('copy() from a fetch body into a WritableStream and from a Response into a tulip connection', async () => {
  await go(function* () {
    const body = randomBytes(1 << 20);
    const parts: Uint8Array[] = [];
    const w = fromWritableStream(new WritableStream<Uint8Array>({ write(c) { parts.push(c); } }));
    assert.equal(yield* copy(fromReadableStream(new Response(body).body!), w), body.length);
    yield* w.waitClosed();
    assert.equal(sha(Buffer.concat(parts)), sha(body));
  });
});
