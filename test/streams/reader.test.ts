import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTask, IncompleteReadError, LimitOverrunError, NodeEventLoop, run, sleep, StreamReader, WebEventLoop, type Coro, type ReadTransport,
} from '../../src/index.js';
import { bytes as b, go, rejects, str as s, str, waitPromise } from '../net_helpers.js';
void test('readLine returns lines split across chunks, then what is left, then empty at EOF', () => go(function* () {
  const r = new StreamReader();
  r.feedData(b('hel')); r.feedData(b('lo\nwor')); r.feedData(b('ld\ntail'));
  r.feedEof();
  assert.equal(s(yield* r.readLine()), 'hello\n');
  assert.equal(s(yield* r.readLine()), 'world\n');
  assert.equal(s(yield* r.readLine()), 'tail');
  assert.equal((yield* r.readLine()).length, 0);
  assert.ok(r.atEof());
}));

void test('read(n) waits for data and returns at most n bytes; read() reads to EOF; a whole chunk is returned without copy', () => go(function* () {
  const r = new StreamReader();
  const t = createTask(r.read(3));
  yield* sleep(0);
  assert.equal(t.done(), false);
  const chunk = b('abcdef');
  r.feedData(chunk);
  assert.equal(s(yield* t), 'abc');
  assert.equal(s(yield* r.read(100)), 'def');
  const c2 = b('xyz');
  r.feedData(c2);
  assert.equal(yield* r.read(3), c2);
  r.feedData(b('1')); r.feedData(b('2')); r.feedEof();
  assert.equal(s(yield* r.read()), '12');
  assert.equal((yield* r.read()).length, 0);
}));

void test('readExactly at EOF throws IncompleteReadError with the partial bytes and the expected count', () => go(function* () {
  const r = new StreamReader();
  r.feedData(b('abc'));
  assert.equal(s(yield* r.readExactly(2)), 'ab');
  r.feedEof();
  try { yield* r.readExactly(5); assert.fail('no error'); } catch (e) {
    assert.ok(e instanceof IncompleteReadError);
    assert.equal(s(e.partial), 'c');
    assert.equal(e.expected, 5);
  }
  assert.equal((yield* r.readExactly(0)).length, 0);
}));

void test('readUntil finds a multi-byte separator across chunks; at EOF without it throws IncompleteReadError', () => go(function* () {
  const r = new StreamReader();
  r.feedData(b('a\r')); r.feedData(b('\nb\r'));
  assert.equal(s(yield* r.readUntil('\r\n')), 'a\r\n');
  r.feedEof();
  try { yield* r.readUntil('\r\n'); assert.fail('no error'); } catch (e) {
    assert.ok(e instanceof IncompleteReadError);
    assert.equal(s(e.partial), 'b\r');
    assert.equal(e.expected, null);
  }
}));

void test('over the limit, readUntil throws LimitOverrunError and leaves the data in the buffer', () => go(function* () {
  const r = new StreamReader({ limit: 4 });
  r.feedData(b('abcdefgh!rest'));
  try { yield* r.readUntil('!'); assert.fail('no error'); } catch (e) {
    assert.ok(e instanceof LimitOverrunError);
    assert.equal(e.consumed, 8);
  }
  assert.equal(r.buffered, 13);
  assert.equal(s(yield* r.read(13)), 'abcdefgh!rest');
}));

void test('over the limit, readLine throws LimitOverrunError and discards that line, even the part not yet received', () => go(function* () {
  const r = new StreamReader({ limit: 4 });
  r.feedData(b('123456789\nok\n'));
  yield* rejects(r.readLine(), LimitOverrunError);
  assert.equal(s(yield* r.readLine()), 'ok\n');
  r.feedData(b('abcdefgh'));           // a long line whose end has not arrived
  yield* rejects(r.readLine(), LimitOverrunError);
  r.feedData(b('ijk\nnext\n'));
  assert.equal(s(yield* r.readLine()), 'next\n');
}));

void test('setException makes a waiting read and later reads throw', () => go(function* () {
  const r = new StreamReader();
  const t = createTask(r.readLine());
  yield* sleep(0);
  const boom = new Error('boom');
  r.setException(boom);
  yield* rejects(t, (e: unknown) => e === boom);
  yield* rejects(r.read(1), (e: unknown) => e === boom);
}));

void test('two coroutines reading at once is an error', () => go(function* () {
  const r = new StreamReader();
  const t = createTask(r.read(1));
  yield* sleep(0);
  yield* rejects(r.read(1), /already waiting/);
  r.feedData(b('x'));
  assert.equal(s(yield* t), 'x');
}));

void test('reading pauses the transport past twice the limit and resumes it under the limit', () => go(function* () {
  const log: string[] = [];
  const t = { pauseReading: () => log.push('pause'), resumeReading: () => log.push('resume') } as unknown as ReadTransport;
  const r = new StreamReader({ limit: 4 });
  r.setTransport(t);
  r.feedData(b('12345678'));
  assert.deepEqual(log, []);
  r.feedData(b('9'));
  assert.deepEqual(log, ['pause']);
  yield* r.read(4);
  assert.deepEqual(log, ['pause']);
  yield* r.read(1);
  assert.deepEqual(log, ['pause', 'resume']);
}));

void test('bad input: limit <= 0, negative readExactly, empty separator, feedData after feedEof', () => go(function* () {
  assert.throws(() => new StreamReader({ limit: 0 }), RangeError);
  const r = new StreamReader();
  yield* rejects(r.readExactly(-1), RangeError);
  yield* rejects(r.readUntil(''), RangeError);
  r.feedEof();
  assert.throws(() => r.feedData(b('x')), /after feedEof/);
}));

void test('async iteration yields lines until EOF', () => go(function* () {
  const r = new StreamReader();
  r.feedData(b('a\nb\nc'));
  r.feedEof();
  assert.deepEqual(yield* fromAsync(r), ['a\n', 'b\n', 'c']);
}));

function* fromAsync(r: StreamReader): Coro<string[]> {
  const out: string[] = [];
  const it = r[Symbol.asyncIterator]();
  for (;;) {
    const res = yield* waitPromise(it.next());
    if (res.done === true) return out;
    out.push(str(res.value));
  }
}

void test('bytes joined from several chunks are of the kind the loop\'s I/O makes: a Buffer on a Node loop, a Uint8Array on a web loop', async () => {
  function* joined(): Coro<Uint8Array[]> {
    const r = new StreamReader();
    r.feedData(Buffer.from('hello ')); r.feedData(Buffer.from('world\n'));
    const u = new StreamReader();
    u.feedData(new Uint8Array([1, 2])); u.feedData(new Uint8Array([3]));
    return [yield* r.readLine(), yield* u.readExactly(3)];
  }
  const [line, all] = await run(joined, { loop: new NodeEventLoop(), handleSignals: false });
  assert.ok(Buffer.isBuffer(line) && Buffer.isBuffer(all));
  assert.equal(line.toString(), 'hello world\n');
  assert.deepEqual([...all], [1, 2, 3]);
  const [wline, wall] = await run(joined, { loop: new WebEventLoop(), handleSignals: false });
  assert.equal(Object.getPrototypeOf(wline), Uint8Array.prototype);
  assert.equal(Object.getPrototypeOf(wall), Uint8Array.prototype);
  assert.equal(new TextDecoder().decode(wline), 'hello world\n');
  assert.deepEqual([...wall!], [1, 2, 3]);
});
