/** Streams (openConnection/startServer, from branch `net`) run unchanged over the virtual network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, getRunningLoop, openConnection, sleep, startServer, type Coro, type StreamReader, type StreamWriter } from '../../src/index.js';
import { runVirtual, type TestEventLoop } from '../../src/testing/index.js';

const dec = new TextDecoder();
function loop(): TestEventLoop { return getRunningLoop() as TestEventLoop; }
function now(): number { return getRunningLoop().time(); }

function* upper(r: StreamReader, w: StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* r.readLine();
    if (line.length === 0) break;
    w.write(dec.decode(line).toUpperCase());
    yield* w.drain();
  }
}

void test('a line server and client over the virtual network, with latency', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 25 });
    const server = yield* net.onHost('server', () => startServer(upper, 'server', 7000));
    const t0 = now();
    const [r, w] = yield* openConnection('server', 7000);
    assert.equal(now() - t0, 50);
    const replies: string[] = [];
    for (const word of ['alpha', 'beta', 'gamma']) {
      w.write(`${word}\n`);
      replies.push(dec.decode(yield* r.readLine()));
    }
    assert.deepEqual(replies, ['ALPHA\n', 'BETA\n', 'GAMMA\n']);
    assert.equal(now() - t0, 50 + 3 * 50);
    w.writeEof();
    assert.equal((yield* r.read()).length, 0);
    assert.equal(r.atEof(), true);
    w.close();
    yield* w.waitClosed();
    server.close();
    yield* server.waitClosed();
  });
});

void test('drain() waits for a slow virtual reader, so the writer never buffers without bound', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 5, bandwidth: 100_000 });
    let received = 0;
    yield* net.onHost('server', () => startServer(function* (r) {
      for (;;) {
        const chunk = yield* r.read(4096);
        if (chunk.length === 0) break;
        received += chunk.length;
        yield* sleep(10);   // a slow consumer
      }
    }, 'server', 7001));
    const [, w] = yield* openConnection('server', 7001);
    const chunk = new Uint8Array(16 * 1024);
    let maxBuffered = 0;
    for (let i = 0; i < 64; i++) {
      w.write(chunk);
      maxBuffered = Math.max(maxBuffered, w.transport.getWriteBufferSize());
      yield* w.drain();
    }
    assert.ok(maxBuffered <= 64 * 1024 + chunk.length, `buffered ${maxBuffered}`);
    w.close();
    yield* w.waitClosed();
    while (received < 64 * chunk.length) yield* sleep(100);
    assert.equal(received, 64 * chunk.length);
    assert.ok(now() > 1000, 'a MiB at 4 KiB per 10 ms takes seconds of virtual time');
  });
});

void test('a reset reaches a stream reader as ECONNRESET', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    yield* net.onHost('server', () => startServer(function* (r) { yield* r.read(); yield* sleep(10_000); }, 'server', 7002));
    const [r, w] = yield* openConnection('server', 7002);
    w.write('x');
    const reading = createTask(r.read());
    yield* sleep(10);
    net.resetConnections();
    let code = '';
    try { yield* reading; } catch (e) { code = (e as { code?: string }).code ?? String(e); }
    assert.equal(code, 'ECONNRESET');
  });
});
