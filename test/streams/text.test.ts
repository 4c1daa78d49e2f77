import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cede, createTask, each, fromPromise, LimitOverrunError, openConnection, sleep, startServer, StreamReader, TextStreamReader, type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { expectThrow } from '../interop_helpers.js';

const enc = new TextEncoder();
const TEXT = 'aé€😀 line one\r\nsecond: ünïcödé ✓\n\nlast without newline 😀';

/** Feed `bytes` into a new reader split at `cuts` (byte offsets), then EOF. */
function fedReader(bytes: Uint8Array, cuts: number[], limit?: number): StreamReader {
  const r = new StreamReader({ limit });
  let at = 0;
  for (const c of [...cuts, bytes.length]) { if (c > at) r.feedData(bytes.slice(at, c)); at = c; }
  r.feedEof();
  return r;
}

void test('lines() decodes UTF-8 split at every byte boundary and strips \\n and \\r\\n', async () => {
  await runRecording(function* () {
    const bytes = enc.encode(TEXT);
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = fedReader(bytes, [cut]);
      const got: string[] = [];
      for (const line of yield* each(r.lines())) { got.push(line); yield* each.next(); }
      assert.deepEqual(got, ['aé€😀 line one', 'second: ünïcödé ✓', '', 'last without newline 😀'], `cut at ${cut}`);
    }
    // one byte per chunk
    const r = fedReader(bytes, Array.from({ length: bytes.length }, (_, i) => i));
    const got: string[] = [];
    for (const line of yield* each(r.lines())) { got.push(line); yield* each.next(); }
    assert.equal(got.join('|'), 'aé€😀 line one|second: ünïcödé ✓||last without newline 😀');
  });
});

void test('TextStreamReader: read(n) keeps a split character for the next call; readLine() keeps the newline', async () => {
  await runRecording(function* () {
    const bytes = enc.encode(TEXT);
    const t = new TextStreamReader(fedReader(bytes, Array.from({ length: bytes.length }, (_, i) => i)));
    assert.equal(t.encoding, 'utf-8');
    let s = '';
    for (;;) {
      const part = yield* t.read(1);   // one byte at a time: never half a character
      if (part === '') break;
      assert.ok(!/\uFFFD/.test(part));
      s += part;
    }
    assert.equal(s, TEXT);

    const t2 = new TextStreamReader(fedReader(bytes, [2, 5, 9]));
    assert.equal(yield* t2.readLine(), 'aé€😀 line one\r\n');
    assert.equal(yield* t2.readUntil('✓'), 'second: ünïcödé ✓');
    assert.equal(yield* t2.read(), '\n\nlast without newline 😀');
    assert.equal(yield* t2.readLine(), '');
    // a truncated character at EOF is decoded as U+FFFD (or throws with fatal)
    const cutOff = enc.encode('x😀').slice(0, 3);
    assert.equal(yield* new TextStreamReader(fedReader(cutOff, [])).read(), 'x\uFFFD');
    yield* expectThrow(new TextStreamReader(fedReader(cutOff, []), { fatal: true }).read(), TypeError);
  });
});

void test('other ASCII-compatible encodings work; UTF-16 is refused', async () => {
  await runRecording(function* () {
    const latin1 = Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x6e, 0x61, 0xef, 0x76, 0x65]);   // 'café\nnaïve'
    const r = fedReader(latin1, [4]);
    const got: string[] = [];
    for (const l of yield* each(r.lines({ encoding: 'latin1' }))) { got.push(l); yield* each.next(); }
    assert.deepEqual(got, ['café', 'naïve']);
    assert.throws(() => new TextStreamReader(new StreamReader(), { encoding: 'utf-16le' }), RangeError);
    assert.throws(() => new TextStreamReader(new StreamReader(), { encoding: 'bogus' }), RangeError);
  });
});

void test('a line over the limit throws LimitOverrunError and the lines after it still come', async () => {
  await runRecording(function* () {
    const r = fedReader(enc.encode(`short\n${'x'.repeat(100)}\nafter\n`), [3, 50], 16);
    const it = r.lines();
    assert.deepEqual(yield* it.next(), { done: false, value: 'short' });
    yield* expectThrow(it.next(), LimitOverrunError);
    assert.deepEqual(yield* it.next(), { done: false, value: 'after' });
    assert.deepEqual(yield* it.next(), { done: true, value: undefined });
  });
});

void test('leaving or halting a lines() loop leaves the rest in the reader', async () => {
  await runRecording(function* () {
    const r = new StreamReader();
    r.feedData(enc.encode('one\ntwo\nthr'));
    const first: string[] = [];
    for (const l of yield* each(r.lines())) { first.push(l); break; }
    assert.deepEqual(first, ['one']);
    // a loop halted while it waits for the rest of a line
    const t = createTask(function* (): Coro<void> { for (const l of yield* each(r.lines())) { first.push(l); yield* each.next(); } }());
    yield* cede(); yield* cede();
    t.cancel();
    yield* cede();
    assert.deepEqual(first, ['one', 'two']);
    r.feedData(enc.encode('ee\nfour\n'));
    r.feedEof();
    const rest = yield* fromPromise((async () => { const out: string[] = []; for await (const l of r.lines()) { out.push(l); } return out; })());
    assert.deepEqual(rest, ['three', 'four']);
  });
});

void test('lines over a real TCP connection, written a byte at a time', async () => {
  await runRecording(function* () {
    const bytes = enc.encode(TEXT);
    const server = yield* startServer(function* (_r, w) {
      for (let i = 0; i < bytes.length; i++) { w.write(bytes.subarray(i, i + 1)); yield* w.drain(); if (i % 7 === 0) yield* sleep(1); }
    }, '127.0.0.1', 0);
    const [host, port] = server.addresses()[0] as [string, number];
    const [reader, writer] = yield* openConnection(host, port);
    const got: string[] = [];
    for (const l of yield* each(reader.lines())) { got.push(l); yield* each.next(); }
    assert.deepEqual(got, ['aé€😀 line one', 'second: ünïcödé ✓', '', 'last without newline 😀']);
    writer.close();
    server.close();
    yield* server.waitClosed();
  });
});
