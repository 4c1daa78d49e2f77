/** The stream transport of the virtual network: the Transport/Protocol contract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, type Transport } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { Echo, listen, loop, Recorder } from './helpers.js';

void test('echo over the virtual network: call order on both ends', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const [, port] = yield* listen(() => new Recorder(trace, 'S', false));
    const [t, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    t.write('hello');
    t.writeEof();
    yield* p.lost;
    assert.equal(t.isClosing(), true);
  });
  assert.deepEqual(trace, ['S made', 'C made', 'S data hello', 'S eof', 'S lost', 'C eof', 'C lost']);
});

void test('flow control: a reader that does not read pauses the writer; resuming drains everything in order', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder([], 'S')));
    const [t] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    yield* sleep(1);
    server.transport.pauseReading();
    assert.equal(server.transport.isReading(), false);
    const chunk = 'x'.repeat(1024);
    let written = 0;
    while (!trace.includes('C pauseWriting') && written < 1000) { t.write(chunk); written++; yield* sleep(1); }
    // 64 KiB in the receive window, then 64 KiB in the writer's buffer.
    assert.ok(trace.includes('C pauseWriting'));
    assert.equal(written, 129);
    assert.ok(t.getWriteBufferSize() > 64 * 1024);
    assert.equal(server.received.length, 0);
    server.transport.resumeReading();
    yield* sleep(1);
    assert.equal(server.received.length, written * 1024);
    assert.equal(t.getWriteBufferSize(), 0);
    assert.deepEqual(trace, ['C made', 'C pauseWriting', 'C resumeWriting']);
  });
});

void test('write buffer limits and a registered producer follow pauseWriting/resumeWriting', async () => {
  await runVirtual(function* () {
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder([], 'S')));
    const [t] = yield* loop().createConnection(() => new Echo(), 'localhost', port);
    yield* sleep(1);
    assert.deepEqual(t.getWriteBufferLimits(), [16384, 65536]);
    t.setWriteBufferLimits(1000);
    assert.deepEqual(t.getWriteBufferLimits(), [250, 1000]);
    assert.throws(() => t.setWriteBufferLimits(10, 20), RangeError);
    const events: string[] = [];
    t.registerProducer({ pauseProducing: () => events.push('pause'), resumeProducing: () => events.push('resume'), stopProducing: () => events.push('stop') });
    assert.throws(() => t.registerProducer({ pauseProducing() {}, resumeProducing() {}, stopProducing() {} }));
    server.transport.pauseReading();
    t.write(new Uint8Array(64 * 1024 + 999));
    assert.deepEqual(events, []);
    t.write(new Uint8Array(2));
    assert.deepEqual(events, ['pause']);
    server.transport.resumeReading();
    yield* sleep(1);
    assert.deepEqual(events, ['pause', 'resume']);
    t.abort();
    yield* sleep(1);
    assert.deepEqual(events, ['pause', 'resume', 'stop']);
  });
});

void test('half-close: writeEof reaches eofReceived; the other side may answer before closing', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    class Answer extends Recorder {
      override eofReceived(): boolean { super.eofReceived(); this.transport.write(`got ${this.received}`); this.transport.close(); return true; }
    }
    const [, port] = yield* listen(() => new Answer(trace, 'S'));
    const [t, p] = yield* loop().createConnection(() => new Recorder(trace, 'C', true), 'localhost', port);
    assert.equal(t.canWriteEof(), true);
    t.write('abc');
    t.writeEof();
    assert.throws(() => t.write('more'), /writeEof/);
    yield* p.lost;
  });
  assert.deepEqual(trace, ['S made', 'C made', 'S data abc', 'S eof', 'S lost', 'C data got abc', 'C eof', 'C lost']);
});

void test('abort drops the buffer: the peer sees ECONNRESET, the aborting end its own error', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder(trace, 'S')));
    const [t, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    yield* sleep(1);
    server.transport.pauseReading();
    t.write(new Uint8Array(100_000));
    assert.ok(t.getWriteBufferSize() > 0);
    t.abort(new Error('gave up'));
    assert.equal(t.getWriteBufferSize(), 0);
    assert.equal(t.isClosing(), true);
    yield* p.lost;
    yield* server.lost;
  });
  assert.deepEqual(trace, ['S made', 'C made', 'C lost gave up', 'S lost ECONNRESET']);
});

void test('close flushes the buffer before the connection goes', async () => {
  await runVirtual(function* () {
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder([], 'S')));
    const [t, p] = yield* loop().createConnection(() => new Recorder([], 'C'), 'localhost', port);
    yield* sleep(1);
    server.transport.pauseReading();
    t.write(new Uint8Array(200_000));
    t.close();
    assert.equal(t.isClosing(), true);
    yield* sleep(100);
    assert.equal(p.lost.done(), false);
    server.transport.resumeReading();
    yield* p.lost;
    yield* server.lost;
    assert.equal(server.received.length, 200_000);
  });
});

void test('writeLines, extra info, setProtocol and bad writes', async () => {
  await runVirtual(function* () {
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder([], 'S')));
    const [t, p] = yield* loop().createConnection(() => new Recorder([], 'C'), 'localhost', port);
    assert.equal(t.getProtocol(), p);
    t.writeLines(['a', new TextEncoder().encode('b'), 'c']);
    assert.throws(() => t.write(42 as unknown as string), TypeError);
    yield* sleep(1);
    assert.equal(server.received, 'abc');
    assert.deepEqual(server.transport.getExtraInfo('peername'), t.getExtraInfo('sockname'));
    assert.deepEqual(server.transport.getExtraInfo('sockname'), ['127.0.0.1', port]);
    const other = new Recorder([], 'C2');
    t.setProtocol(other);
    server.transport.write('to the new protocol');
    yield* sleep(1);
    assert.equal(other.received, 'to the new protocol');
    assert.equal(p.received, '');
  });
});

void test('an exception in a protocol method goes to the exception handler and aborts the transport', async () => {
  const errors: unknown[] = [];
  const trace: string[] = [];
  await runVirtual(function* () {
    loop().setExceptionHandler((_l, ctx) => { errors.push(ctx.exception); });
    class Bad extends Recorder { override dataReceived(): void { throw new Error('bad protocol'); } }
    const [, port] = yield* listen(() => new Bad(trace, 'S'));
    const [t, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    t.write('x');
    yield* p.lost;
  });
  assert.equal((errors[0] as Error).message, 'bad protocol');
  assert.deepEqual(trace, ['S made', 'C made', 'S lost bad protocol', 'C lost ECONNRESET']);
});

void test('closing the loop drops open connections without calling their protocols', async () => {
  const trace: string[] = [];
  const l = new (await import('../../src/testing/index.js')).TestEventLoop();
  await l.runUntilComplete(l.createTask((function* () {
    const [, port] = yield* listen(() => new Recorder(trace, 'S'));
    const [t] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    loop().network.setLink('localhost', 'localhost', { latency: 10 });
    t.write('in flight');
  })()));
  assert.equal(l.pendingTimers(), 1);
  l.close();
  assert.deepEqual(trace, ['S made', 'C made']);
});

void test('a BufferedProtocol receives into its own buffers', async () => {
  await runVirtual(function* () {
    const chunks: string[] = [];
    const buf = new Uint8Array(4);
    class Buffered {
      getBuffer(hint: number): Uint8Array { assert.ok(hint > 0); return buf; }
      bufferUpdated(n: number): void { chunks.push(new TextDecoder().decode(buf.subarray(0, n))); }
    }
    const [, port] = yield* listen(() => new Buffered() as unknown as Recorder);
    const [t] = yield* loop().createConnection(() => new Echo(), 'localhost', port);
    t.write('0123456789');
    yield* sleep(1);
    assert.deepEqual(chunks, ['0123', '4567', '89']);
  });
});

void test('writing to the sending end from inside a delivery neither duplicates nor leaks timers', async () => {
  await runVirtual(function* () {
    const ref: { client?: Transport } = {};
    let got = '';
    class Relay {
      dataReceived(d: Uint8Array): void {
        got += new TextDecoder().decode(d);
        if (got.length < 5) ref.client!.write(String(got.length));   // the same pipe that is delivering
      }
    }
    const [, port] = yield* listen(() => new Relay());
    const [client] = yield* loop().createConnection(() => new Echo(), 'localhost', port);
    ref.client = client;
    client.write('x');
    yield* sleep(10);
    assert.equal(got, 'x1234');
    assert.equal(loop().pendingTimers(), 0);
  });
});
