import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, getRunningLoop, sleep, Future, type Coro, type Transport, type Protocol } from '../../src/index.js';
import { runVirtual, type TestEventLoop } from '../../src/testing/index.js';

const dec = new TextDecoder();
function loop(): TestEventLoop { return getRunningLoop() as TestEventLoop; }
function now(): number { return getRunningLoop().time(); }

/** A protocol that records every call into a trace and collects the bytes it receives. */
class Recorder implements Protocol {
  transport!: Transport;
  received = '';
  readonly lost = new Future<Error | undefined>({ description: 'Recorder.lost' });
  constructor(readonly trace: string[], readonly name: string, readonly keepOpen = false) {}
  connectionMade(t: Transport): void { this.transport = t; this.trace.push(`${this.name} made`); }
  dataReceived(d: Uint8Array): void { this.received += dec.decode(d); this.trace.push(`${this.name} data ${dec.decode(d)}`); }
  eofReceived(): boolean { this.trace.push(`${this.name} eof`); return this.keepOpen; }
  connectionLost(e: Error | undefined): void {
    this.trace.push(`${this.name} lost${e ? ` ${(e as { code?: string }).code ?? e.message}` : ''}`);
    this.lost.setResult(e);
  }
  pauseWriting(): void { this.trace.push(`${this.name} pauseWriting`); }
  resumeWriting(): void { this.trace.push(`${this.name} resumeWriting`); }
}

class Echo implements Protocol {
  t!: Transport;
  connectionMade(t: Transport): void { this.t = t; }
  dataReceived(d: Uint8Array): void { this.t.write(d); }
}

function* listen(factory: () => Protocol, host: string | null = 'localhost', port = 0): Coro<[string, number]> {
  const server = yield* loop().createServer(factory, host, port);
  return server.addresses()[0] as [string, number];
}

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

void test('addresses: getAddrInfo, getNameInfo, ENOTFOUND, peername and sockname', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('db', ['10.1.2.3']);
    net.addHost('web');
    assert.deepEqual(net.addressesOf('web'), ['10.0.0.1']);
    const infos = yield* loop().getAddrInfo('localhost', 80);
    assert.deepEqual(infos.map((i) => [i.family, i.addr]), [[4, ['127.0.0.1', 80]], [6, ['::1', 80]]]);
    assert.deepEqual((yield* loop().getAddrInfo('db', '5432')).map((i) => i.addr), [['10.1.2.3', 5432]]);
    assert.deepEqual(yield* loop().getNameInfo(['10.1.2.3', 5432]), ['db', '5432']);
    let err: any;
    try { yield* loop().getAddrInfo('nosuch', 80); } catch (e) { err = e; }
    assert.equal(err.code, 'ENOTFOUND');
    const server = yield* net.onHost('db', function* () { return yield* loop().createServer(() => new Echo(), 'db', 5432); });
    assert.deepEqual(server.addresses(), [['10.1.2.3', 5432]]);
    const [t] = yield* net.onHost('web', () => loop().createConnection(() => new Echo(), 'db', 5432));
    assert.deepEqual(t.getExtraInfo('peername'), ['10.1.2.3', 5432]);
    const [addr, port] = t.getExtraInfo('sockname') as [string, number];
    assert.equal(addr, '10.0.0.1');
    assert.ok(port >= 49152);
    assert.equal(t.getExtraInfo('nothing', 'fallback'), 'fallback');
  });
});

void test('errors carry Node codes: ECONNREFUSED, EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('other');
    const codeOf = function* (body: () => Coro<unknown>): Coro<string> {
      try { yield* body(); } catch (e) { assert.ok(e instanceof Error); return (e as unknown as { code: string }).code; }
      return 'no error';
    };
    assert.equal(yield* codeOf(() => loop().createConnection(() => new Echo(), 'localhost', 9)), 'ECONNREFUSED');
    assert.equal(yield* codeOf(() => loop().createConnection(() => new Echo(), 'other', 9)), 'ECONNREFUSED');
    assert.equal(yield* codeOf(() => loop().createConnection(() => new Echo(), 'nowhere', 9)), 'ENOTFOUND');
    yield* loop().createServer(() => new Echo(), '127.0.0.1', 8080);
    assert.equal(yield* codeOf(() => loop().createServer(() => new Echo(), '127.0.0.1', 8080)), 'EADDRINUSE');
    assert.equal(yield* codeOf(() => loop().createServer(() => new Echo(), '', 8080)), 'EADDRINUSE');
    assert.equal(yield* codeOf(() => loop().createServer(() => new Echo(), 'other', 8081)), 'EADDRNOTAVAIL');
    assert.equal(yield* codeOf(() => loop().createServer(() => new Echo(), '10.0.0.1', 8081)), 'EADDRNOTAVAIL');
    assert.equal(yield* codeOf(() => loop().createServer(() => new Echo(), 'nowhere', 8081)), 'ENOTFOUND');
    // ::1 is free on 8080, and 'localhost' tries 127.0.0.1 first.
    yield* loop().createServer(() => new Echo(), '::1', 8080);
    const a = yield* loop().createServer(() => new Echo(), 'localhost', 0);
    const b = yield* loop().createServer(() => new Echo(), 'localhost', 0);
    assert.notEqual((a.addresses()[0] as [string, number])[1], (b.addresses()[0] as [string, number])[1]);
    assert.equal(a.addresses().length, 2);
  });
});

void test('a connection made as another host: tasks inherit the host of the task that created them', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    assert.equal(net.currentHost(), 'localhost');
    const seen: string[] = [];
    yield* net.onHost('alpha', function* () {
      seen.push(net.currentHost());
      const child = createTask((function* () { yield* sleep(1); seen.push(net.currentHost()); })());
      yield* child;
    });
    seen.push(net.currentHost());
    assert.deepEqual(seen, ['alpha', 'alpha', 'localhost']);
  });
});

void test('latency: connecting takes one round trip, a request/response another', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 50 });
    yield* net.onHost('server', () => listen(() => new Echo(), 'server', 7));
    const t0 = now();
    const [t, p] = yield* loop().createConnection(() => new Recorder([], 'C'), 'server', 7);
    assert.equal(now() - t0, 100);
    t.write('ping');
    while (p.received !== 'ping') yield* sleep(1);
    assert.equal(now() - t0, 200);
  });
});

void test('jitter never reorders a stream, and the same seed gives the same arrival times', async () => {
  const program = (seed: number): Promise<number[]> => runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 20, jitter: 30 });
    const times: number[] = [];
    let got = '';
    class Sink implements Protocol { dataReceived(d: Uint8Array): void { got += dec.decode(d); times.push(now()); } }
    yield* net.onHost('server', () => listen(() => new Sink(), 'server', 7));
    const [t] = yield* loop().createConnection(() => new Echo(), 'server', 7);
    let sent = '';
    for (let i = 0; i < 50; i++) { t.write(`${i},`); sent += `${i},`; yield* sleep(2); }
    yield* sleep(100);
    assert.equal(got, sent);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!);
    return times;
  }, { seed });
  const a = await program(3);
  assert.deepEqual(await program(3), a);
  assert.notDeepEqual(await program(4), a);
});

void test('bandwidth is per direction and shared by the connections of a link', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10, bandwidth: 10_000 });
    const done: number[] = [];
    class Count implements Protocol {
      n = 0;
      dataReceived(d: Uint8Array): void { this.n += d.length; if (this.n === 20_000) done.push(now()); }
    }
    yield* net.onHost('server', () => listen(() => new Count(), 'server', 7));
    const [a] = yield* loop().createConnection(() => new Echo(), 'server', 7);
    const [b] = yield* loop().createConnection(() => new Echo(), 'server', 7);
    const t0 = now();
    a.write(new Uint8Array(20_000));
    b.write(new Uint8Array(20_000));
    yield* sleep(10_000);
    assert.equal(done.length, 2);
    // 40 kB through one 10 kB/s direction: the second finishes at 4 s (+ latency).
    assert.ok(Math.abs(done[1]! - t0 - 4010) < 1, `finished at ${done[1]! - t0}`);
    assert.ok(done[0]! - t0 < 4010);
  });
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

void test('partition: connection attempts and data wait, and are delivered in order after heal', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 5 });
    let server!: Recorder;
    yield* net.onHost('server', () => listen(() => (server = new Recorder([], 'S')), 'server', 7));
    net.partition('localhost', 'server');
    loop().callLater(1000, () => net.heal('server', 'localhost'));
    const t0 = now();
    const [t] = yield* loop().createConnection(() => new Echo(), 'server', 7);
    assert.equal(now() - t0, 1010);
    t.write('one,');
    yield* sleep(1);
    net.partition('localhost', 'server');
    t.write('two,');
    t.write('three');
    yield* sleep(500);
    assert.equal(server.received, '');
    net.heal('localhost', 'server');
    yield* sleep(5);
    assert.equal(server.received, 'one,two,three');
  });
});

void test('resetConnections: both ends see ECONNRESET and data in flight is dropped', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10 });
    let server!: Recorder;
    yield* net.onHost('server', () => listen(() => (server = new Recorder(trace, 'S')), 'server', 7));
    const [t, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'server', 7);
    t.write('lost in flight');
    yield* sleep(5);
    net.resetConnections('server');
    yield* p.lost;
    yield* server.lost;
    yield* sleep(20);
    assert.equal(server.received, '');
  });
  assert.deepEqual(trace, ['S made', 'C made', 'C lost ECONNRESET', 'S lost ECONNRESET']);
});

void test('server: waitClosed waits for its connections; closeClients, serveForever, startServing', async () => {
  await runVirtual(function* () {
    const server = yield* loop().createServer(() => new Echo(), 'localhost', 0, { startServing: false });
    const [, port] = server.addresses()[0] as [string, number];
    assert.equal(server.isServing(), false);
    let code = '';
    try { yield* loop().createConnection(() => new Echo(), '127.0.0.1', port); } catch (e) { code = (e as { code: string }).code; }
    assert.equal(code, 'ECONNREFUSED');
    const forever = createTask(server.serveForever());
    yield* sleep(1);
    assert.equal(server.isServing(), true);
    const [, p1] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    const [, p2] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    forever.cancel();
    yield* sleep(1);
    assert.equal(forever.cancelled(), true);
    assert.equal(server.isServing(), false);
    const closed = createTask(server.waitClosed());
    yield* sleep(10);
    assert.equal(closed.done(), false);
    server.closeClients();
    yield* closed;
    yield* p1.lost; yield* p2.lost;
    // the port is free again
    yield* loop().createServer(() => new Echo(), '127.0.0.1', port);
  });
});

void test('a cancelled connection attempt resets the accepted end', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10 });
    yield* net.onHost('server', () => listen(() => new Recorder(trace, 'S'), 'server', 7));
    const attempt = createTask(loop().createConnection(() => new Recorder(trace, 'C'), 'server', 7));
    yield* sleep(15);
    attempt.cancel();
    yield* sleep(50);
    assert.equal(attempt.cancelled(), true);
  });
  assert.deepEqual(trace, ['S made', 'S lost ECONNRESET']);
});

void test('datagrams: delivery with addresses, loss drawn from the seed, reordering by jitter', async () => {
  const program = (seed: number): Promise<number[]> => runVirtual(function* () {
    const net = loop().network;
    net.addHost('a');
    net.addHost('b');
    net.setLink('a', 'b', { latency: 10, jitter: 20, loss: 0.25 });
    const got: number[] = [];
    let from: unknown;
    yield* net.onHost('b', () => loop().createDatagramEndpoint(() => ({
      datagramReceived(d: Uint8Array, addr: [string, number]) { got.push(Number(dec.decode(d))); from = addr; },
    }), { localAddr: ['b', 53] }));
    const [t] = yield* net.onHost('a', () => loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { remoteAddr: ['b', 53] }));
    assert.throws(() => t.sendto('x', ['10.0.0.2', 54]));
    for (let i = 0; i < 200; i++) t.sendto(String(i));
    yield* sleep(100);
    assert.equal((from as [string, number])[0], '10.0.0.1');
    assert.ok(got.length > 120 && got.length < 180, `received ${got.length}`);
    assert.ok(got.some((x, i) => i > 0 && x < got[i - 1]!), 'jitter reorders datagrams');
    let code = '';
    try { yield* net.onHost('b', () => loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { localAddr: ['b', 53] })); } catch (e) { code = (e as { code: string }).code; }
    assert.equal(code, 'EADDRINUSE');
    t.close();
    return got;
  }, { seed });
  assert.deepEqual(await program(9), await program(9));
});

void test('datagrams wait out a partition', async () => {
  await runVirtual(function* () {
    const got: string[] = [];
    const [server] = yield* loop().createDatagramEndpoint(() => ({ datagramReceived(d: Uint8Array) { got.push(dec.decode(d)); } }), { localAddr: ['127.0.0.1', 0] });
    const addr = server.getExtraInfo('sockname') as [string, number];
    const [client] = yield* loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), {});
    loop().network.partition('localhost', 'localhost');
    client.sendto('a', addr);
    client.sendto('b', addr);
    yield* sleep(100);
    assert.deepEqual(got, []);
    loop().network.heal('localhost', 'localhost');
    yield* sleep(1);
    assert.deepEqual(got, ['a', 'b']);
  });
});
