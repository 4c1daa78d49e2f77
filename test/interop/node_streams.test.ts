import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { createServer as netServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import {
  cede, createTask, each, fromPromise, fromReadable, moveOnAfter, openConnection, sleep, startServer, StreamReader, toDuplex,
  toReadable, toWritable, type Coro,
} from '../../src/index.js';
import { go, rejects, tempDir, testCert } from '../net_helpers.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A Readable that produces `chunk`-sized buffers forever (or `limit` bytes), counting what it produced. */
function counting(chunk: number, limit = Infinity): Readable & { produced: number } {
  let produced = 0;
  const r = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (produced >= limit) { this.push(null); return; }
      const n = Math.min(chunk, limit - produced);
      const b = Buffer.alloc(n, produced % 251);
      produced += n;
      this.push(b);
    },
  }) as Readable & { produced: number };
  Object.defineProperty(r, 'produced', { get: () => produced });
  return r;
}

void test('fromReadable(fs.createReadStream) reads a file whole, and its lines', async () => {
  const dir = tempDir();
  const path = join(dir, 'data.txt');
  const text = Array.from({ length: 5000 }, (_, i) => `line ${i} ✓`).join('\n') + '\n';
  writeFileSync(path, text);
  await go(function* () {
    const all = yield* fromReadable(createReadStream(path, { highWaterMark: 1000 })).read(-1);
    assert.equal(Buffer.from(all).toString(), text);
    let n = 0;
    for (const line of yield* each(fromReadable(createReadStream(path, { highWaterMark: 777 })).lines())) {
      assert.equal(line, `line ${n} ✓`);
      n++;
      yield* each.next();
    }
    assert.equal(n, 5000);
  });
});

void test('fromReadable(Readable.from(...)) takes strings and bytes; other objects end it with a TypeError', async () => {
  await go(function* () {
    const r = fromReadable(Readable.from(['ab', Buffer.from('cd'), new Uint8Array([101, 102])]));
    assert.equal(Buffer.from(yield* r.read(-1)).toString(), 'abcdef');
    const bad = fromReadable(Readable.from([Buffer.from('ok'), { not: 'bytes' }]));
    yield* rejects(bad.read(-1), /gave a chunk of type object, not bytes or a string/);
  });
});

void test('fromReadable: a reader that stops reading stops the Readable; reading again resumes it', async () => {
  await go(function* () {
    const src = counting(4096);
    const reader = fromReadable(src, { limit: 16 * 1024 });
    for (let i = 0; i < 10; i++) yield* reader.readExactly(4096);
    yield* sleep(30);
    const p1 = src.produced;
    yield* sleep(30);
    assert.equal(src.produced, p1, 'the source was asked for nothing while the reader did not read');
    assert.ok(p1 <= 10 * 4096 + 2 * 16 * 1024 + 16 * 1024 + 2 * 4096, `bounded: ${p1}`);
    for (let i = 0; i < 50; i++) yield* reader.readExactly(4096);
    assert.ok(src.produced > p1);
    src.destroy();
  });
});

void test('fromReadable: the stream\'s error is thrown by the next read, after the data before it', async () => {
  await go(function* () {
    const r = new Readable({ read() { /* pushed by hand */ } });
    const reader = fromReadable(r);
    r.push('before');
    yield* sleep(1);
    r.destroy(new Error('disk on fire'));
    assert.equal(Buffer.from(yield* reader.readExactly(6)).toString(), 'before');
    yield* rejects(reader.read(), /disk on fire/);
  });
});

void test('fromReadable: reads halted at every point lose nothing', async () => {
  await go(function* () {
    const data = randomBytes(200_000);
    const reader = fromReadable(Readable.from([data.subarray(0, 50_000), data.subarray(50_000, 120_000), data.subarray(120_000)]), { limit: 8192 });
    const got: Uint8Array[] = [];
    for (let k = 0; ; k++) {
      // a read that is halted after k turns of the loop, then a read that completes
      const t = createTask(reader.read(1000));
      for (let i = 0; i < k % 4; i++) yield* cede();
      if (!t.done()) { t.cancel(); yield* cede(); }
      if (t.done() && !t.cancelled()) got.push(t.result());
      const c = yield* reader.read(3000);
      if (c.length === 0) break;
      got.push(c);
    }
    assert.equal(sha(Buffer.concat(got)), sha(data));
  });
});

void test('toWritable: pipeline() into a tulip connection honours back-pressure and ends it', async () => {
  await go(function* () {
    let received = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let eof = false;
    const server = netServer((s: Socket) => {
      s.pause();
      void gate.then(() => s.resume());
      s.on('data', (d: Buffer) => { received += d.length; });
      s.on('end', () => { eof = true; s.end(); });
    });
    yield* fromPromise(new Promise<void>((r) => server.listen(0, '127.0.0.1', r)));
    const port = (server.address() as { port: number }).port;
    const [, writer] = yield* openConnection('127.0.0.1', port);
    const src = counting(64 * 1024, 32 * 1024 * 1024);
    const done = pipeline(src, toWritable(writer));
    yield* sleep(100);
    // the peer reads nothing: the source is held back (socket buffers + transport high water + stream buffers)
    const stalled = src.produced;
    yield* sleep(50);
    assert.equal(src.produced, stalled);
    assert.ok(stalled < 32 * 1024 * 1024, `held back at ${stalled}`);
    release();
    yield* fromPromise(done);
    while (!eof) yield* sleep(5);
    assert.equal(received, 32 * 1024 * 1024);
    writer.close();
    server.close();
  });
});

void test('toReadable: a tulip connection into a Node Writable; destroyed midway it leaves the rest in the reader', async () => {
  await go(function* () {
    const data = randomBytes(1 << 20);
    const server = yield* startServer(function* (_r, w) { w.write(data); yield* w.drain(); w.close(); }, '127.0.0.1', 0);
    const [host, port] = server.addresses()[0] as [string, number];
    const [reader, writer] = yield* openConnection(host, port);
    const first = yield* reader.readExactly(1000);
    const got: Buffer[] = [Buffer.from(first)];
    let seen = 0;
    const readable = toReadable(reader, { chunkSize: 4096 });
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        got.push(chunk);
        seen += chunk.length;
        if (seen >= 100_000) { readable.unpipe(sink); readable.destroy(); }
        cb();
      },
    });
    readable.pipe(sink);
    while (!readable.destroyed) yield* sleep(1);
    yield* sleep(5);
    got.push(Buffer.from(yield* reader.read(-1)));   // the rest is still in the reader
    assert.equal(sha(Buffer.concat(got)), sha(data));
    writer.close();
    server.close();
    yield* server.waitClosed();
  });
});

void test('toDuplex: node:tls runs over a tulip connection', async () => {
  await go(function* () {
    const { key, cert } = testCert();
    const server = tlsServer({ key, cert }, (s) => { s.on('data', (d: Buffer) => s.write(`echo:${d.toString()}`)); s.on('end', () => s.end()); });
    yield* fromPromise(new Promise<void>((r) => server.listen(0, '127.0.0.1', r)));
    const port = (server.address() as { port: number }).port;
    const [r, w] = yield* openConnection('127.0.0.1', port);
    const secure = tlsConnect({ socket: toDuplex(r, w), ca: cert, servername: 'localhost' });
    yield* fromPromise(new Promise<void>((res, rej) => { secure.once('secureConnect', res); secure.once('error', rej); }));
    secure.write('hello');
    const [reply] = (yield* fromPromise(new Promise<[Buffer]>((res) => secure.once('data', (d: Buffer) => res([d])))));
    assert.equal(reply.toString(), 'echo:hello');
    secure.end();
    yield* fromPromise(new Promise<void>((res) => secure.once('close', () => res())));
    server.close();
  });
});

void test('toReadable of a reader that fails destroys the Readable with its error', async () => {
  await go(function* () {
    const reader = new StreamReader();
    const readable = toReadable(reader);
    const errored = new Promise<Error>((res) => readable.once('error', res));
    readable.resume();
    reader.feedData(new Uint8Array([1, 2, 3]));
    yield* sleep(1);
    reader.setException(new Error('reader broke'));
    const e = yield* fromPromise(errored);
    assert.match(e.message, /reader broke/);
    // halting work around the bridges leaves no task behind
    const done = yield* moveOnAfter(5, function* (): Coro<void> { yield* sleep(100); });
    assert.equal(done, undefined);
  });
});

void test('toWritable destroyed while a write waits for drain: the writer stays open, what was written arrives, in order', async () => {
  await go(function* () {
    const got: Buffer[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let ended!: () => void;
    const done = new Promise<void>((r) => { ended = r; });
    const server = netServer((s: Socket) => {
      s.pause();
      void gate.then(() => s.resume());
      s.on('data', (d: Buffer) => got.push(d));
      s.on('end', () => { ended(); s.end(); });
    });
    yield* fromPromise(new Promise<void>((r) => server.listen(0, '127.0.0.1', r)));
    const [, writer] = yield* openConnection('127.0.0.1', (server.address() as { port: number }).port);
    const w = toWritable(writer);
    const errors: unknown[] = [];
    w.on('error', (e) => errors.push(e));
    let acked = 0, i = 0;
    const chunk = (n: number): Buffer => Buffer.alloc(65536, n % 256);
    while (w.write(chunk(i), () => { acked++; })) i++;
    i++;
    while (w.writableNeedDrain && acked === i - 1) yield* sleep(5);   // the peer reads nothing: a write waits on drain
    yield* sleep(20);
    w.destroy();
    yield* sleep(5);
    assert.deepEqual(errors, []);
    assert.ok(!writer.isClosing(), 'the writer is still its owner\'s');
    writer.write('END');
    writer.writeEof();
    release();
    yield* fromPromise(done);
    const all = Buffer.concat(got);
    assert.equal(all.subarray(all.length - 3).toString(), 'END');
    const body = all.subarray(0, all.length - 3);
    assert.equal(body.length % 65536, 0);
    assert.ok(body.length >= acked * 65536, `${body.length} bytes arrived, ${acked} writes were acknowledged`);
    for (let k = 0; k < body.length / 65536; k++) assert.equal(body[k * 65536], k % 256);
    writer.close();
    server.close();
  });
});
