/** The virtual network: hosts, addresses, errors, links, partitions and resets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, sleep, type Coro, type Protocol } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { dec, Echo, listen, loop, now, Recorder } from './helpers.js';

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

void test('bad input: hosts, addresses and link settings are checked', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    assert.deepEqual(net.hosts(), ['localhost']);
    assert.throws(() => net.addHost('localhost'), /already exists/);
    assert.throws(() => net.addHost('x', ['not-an-ip']), TypeError);
    assert.throws(() => net.addHost('y', ['127.0.0.1']), /belongs to host 'localhost'/);
    assert.throws(() => net.addHost('z', []), /at least one address/);
    assert.throws(() => net.setLink('localhost', 'nowhere', {}), /unknown host 'nowhere'/);
    assert.throws(() => net.partition('nowhere', 'localhost'), /unknown host/);
    assert.throws(() => net.resetConnections('nowhere'), /unknown host/);
    net.addHost('a');
    assert.throws(() => net.setLink('a', 'localhost', { latency: -1 }), RangeError);
    assert.throws(() => net.setLink('a', 'localhost', { loss: 2 }), RangeError);
    assert.throws(() => net.setLink('a', 'localhost', { bandwidth: 0 }), RangeError);
    let err: unknown;
    try { yield* loop().createConnection(() => new Echo(), 'localhost', 70_000); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError);
    // onHost adds an unknown host with the next address.
    yield* net.onHost('b', function* () { yield* sleep(0); });
    assert.deepEqual(net.addressesOf('b'), ['10.0.0.2']);
    assert.deepEqual((yield* loop().getAddrInfo('localhost', 1, { family: 6 })).map((i) => i.addr[0]), ['::1']);
  });
});

void test('setLink replaces the whole setting: fields left out go back to their defaults', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    yield* net.onHost('server', () => listen(() => new Echo(), 'server', 7));
    net.setLink('localhost', 'server', { latency: 100, jitter: 50 });
    net.setLink('server', 'localhost', { latency: 10 });
    const t0 = now();
    yield* loop().createConnection(() => new Echo(), 'server', 7);
    assert.equal(now() - t0, 20);
  });
});

void test('a smaller receive window pauses the writer sooner', async () => {
  await runVirtual(function* () {
    loop().network.receiveWindow = 1024;
    let server!: Recorder;
    const [, port] = yield* listen(() => (server = new Recorder([], 'S')));
    const trace: string[] = [];
    const [t] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    t.setWriteBufferLimits(2048);
    yield* sleep(1);
    server.transport.pauseReading();
    t.write(new Uint8Array(3000));
    yield* sleep(1);
    assert.deepEqual(trace, ['C made']);
    t.write(new Uint8Array(100));
    assert.deepEqual(trace, ['C made', 'C pauseWriting']);
    assert.equal(t.getWriteBufferSize(), 3100 - 1024);
  });
});
