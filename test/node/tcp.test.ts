import { adoptReadingInPlace } from '../../src/node/socket_transport.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as netTypes from 'node:net';
import {
  type BufferedProtocol, type Coro, createTask, type ExceptionContext, Future, getRunningLoop, type Protocol, type Server,
  sleep, type Transport, NodeEventLoop,
} from '../../src/index.js';
import { bytes, go, portOf, rejects, str } from '../net_helpers.js';

const require = createRequire(import.meta.url);
const netCjs = require('node:net') as typeof netTypes;
const dnsCjs = require('node:dns') as typeof import('node:dns');

/** A protocol that records its calls and can wait for them. */
class Rec implements Protocol {
  readonly trace: string[] = [];
  t: Transport | null = null;
  data = '';
  readonly lost: Future<Error | undefined>;
  readonly gotData: Future<void>;
  constructor(readonly opts: { echo?: boolean; keepOpen?: boolean } = {}) {
    this.lost = new Future({ loop: getRunningLoop(), description: 'Rec.lost' });
    this.gotData = new Future({ loop: getRunningLoop(), description: 'Rec.gotData' });
  }
  connectionMade(t: Transport): void { this.t = t; this.trace.push('made'); }
  dataReceived(d: Uint8Array): void {
    if (!this.trace.at(-1)?.startsWith('data')) this.trace.push('data');
    this.data += str(d);
    if (this.opts.echo === true) this.t!.write(d);
    if (!this.gotData.done()) this.gotData.setResult();
  }
  eofReceived(): boolean { this.trace.push('eof'); return this.opts.keepOpen === true; }
  connectionLost(e?: Error): void { this.trace.push(e === undefined ? 'lost' : `lost ${(e as NodeJS.ErrnoException).code ?? e.message}`); this.lost.setResult(e); }
  pauseWriting(): void { this.trace.push('pauseWriting'); }
  resumeWriting(): void { this.trace.push('resumeWriting'); }
}

function* listen(make: () => Protocol, servers: Protocol[] = []): Coro<[Server, number]> {
  const server = yield* getRunningLoop().createServer(() => { const p = make(); servers.push(p); return p; }, '127.0.0.1', 0);
  return [server, portOf(server)];
}

function* shutdown(server: Server): Coro<void> { server.close(); server.abortClients(); yield* server.waitClosed(); }

void test('echo over TCP; call order on both sides when the client closes', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec({ echo: true }), srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  t.write('hello');
  yield* c.gotData;
  assert.equal(c.data, 'hello');
  t.close();
  yield* c.lost;
  yield* srv[0]!.lost;
  assert.deepEqual(c.trace, ['made', 'data', 'lost']);
  assert.deepEqual(srv[0]!.trace, ['made', 'data', 'eof', 'lost']);
  yield* shutdown(server);
}));

void test('close() flushes a large buffer before closing; the data arrives as Node Buffers', () => go(function* () {
  const srv: Rec[] = [];
  let firstChunk: unknown = null;
  const [server, port] = yield* listen(() => { const r = new Rec(); const dr = r.dataReceived.bind(r); r.dataReceived = (d) => { firstChunk ??= d; dr(d); }; return r; }, srv);
  const [t] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  const big = 'x'.repeat(4 * 1024 * 1024);
  t.write(big);
  assert.ok(t.getWriteBufferSize() > 0);
  t.close();
  assert.equal(t.isClosing(), true);
  yield* srv[0]!.lost;
  assert.equal(srv[0]!.data.length, big.length);
  assert.ok(Buffer.isBuffer(firstChunk));
  yield* shutdown(server);
}));

void test('half-close: writeEof, the peer keeps its side open (eofReceived returns true), replies, then closes', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => {
    const r = new Rec({ keepOpen: true });
    r.eofReceived = () => { r.trace.push('eof'); r.t!.write(`got ${r.data}`); r.t!.close(); return true; };
    return r;
  }, srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  assert.equal(t.canWriteEof(), true);
  t.write('question');
  t.writeEof();
  yield* c.lost;
  assert.equal(c.data, 'got question');
  assert.deepEqual(c.trace, ['made', 'data', 'eof', 'lost']);
  assert.deepEqual(srv[0]!.trace, ['made', 'data', 'eof', 'lost']);
  yield* shutdown(server);
}));

void test('reset by the peer: connectionLost gets ECONNRESET, once, with no eofReceived', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec(), srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  t.write('x');
  yield* srv[0]!.gotData;
  (srv[0]!.t!.getExtraInfo('socket') as netTypes.Socket).resetAndDestroy();
  const e = yield* c.lost;
  assert.equal((e as NodeJS.ErrnoException).code, 'ECONNRESET');
  assert.deepEqual(c.trace, ['made', 'lost ECONNRESET']);
  yield* shutdown(server);
}));

void test('abort(exc) drops the buffer; connectionLost gets exc; the peer sees EOF', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec(), srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  yield* sleep(10);
  const why = new Error('giving up');
  t.abort(why);
  t.write('ignored');
  assert.equal(yield* c.lost, why);
  yield* srv[0]!.lost;
  assert.deepEqual(c.trace, ['made', 'lost giving up']);
  assert.deepEqual(srv[0]!.trace, ['made', 'eof', 'lost']);
  yield* shutdown(server);
}));

void test('a protocol method that throws: exception handler, transport aborted, connectionLost once with the error', () => {
  const errors: ExceptionContext[] = [];
  return go(function* () {
    const srv: Rec[] = [];
    const bad = new Error('cannot parse');
    const [server, port] = yield* listen(() => { const r = new Rec(); r.dataReceived = () => { throw bad; }; return r; }, srv);
    const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
    t.write('garbage');
    assert.equal(yield* srv[0]!.lost, bad);
    yield* c.lost;
    assert.deepEqual(srv[0]!.trace, ['made', 'lost cannot parse']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.exception, bad);
    yield* shutdown(server);
  }, errors);
});

void test('connect errors carry Node\'s code and name the address', () => go(function* () {
  const [server, port] = yield* listen(() => new Rec());
  yield* shutdown(server);
  const e = yield* rejects(getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port), Error);
  assert.equal((e as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.match((e as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  const e2 = yield* rejects(getRunningLoop().createConnection(() => new Rec(), 'no-such-host.invalid', 80), Error);
  assert.equal((e2 as NodeJS.ErrnoException).code, 'ENOTFOUND');
  yield* rejects(getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port, { serverHostname: 'x' }), TypeError);
}));

/** Make `dns.lookup` resolve `name` to `addrs` (and `net.connect` hang for addresses in `hang`) while `body` runs. */
function* withFakeNetwork<T>(name: string, addrs: Array<{ address: string; family: number }>, hang: string[], body: () => Coro<T>): Coro<[T, netTypes.Socket[]]> {
  const origLookup = dnsCjs.promises.lookup;
  const origConnect = netCjs.connect;
  const hung: netTypes.Socket[] = [];
  (dnsCjs.promises as { lookup: unknown }).lookup = (h: string, o: unknown) => h === name ? Promise.resolve(addrs) : (origLookup as (h: string, o: unknown) => Promise<unknown>)(h, o);
  (netCjs as { connect: unknown }).connect = (o: netTypes.NetConnectOpts) => {
    if (hang.includes((o as netTypes.TcpNetConnectOpts).host ?? '')) { const s = new netCjs.Socket(); hung.push(s); return s; }
    return origConnect(o);
  };
  syncBuiltinESMExports();
  try {
    return [yield* body(), hung];
  } finally {
    (dnsCjs.promises as { lookup: unknown }).lookup = origLookup;
    (netCjs as { connect: unknown }).connect = origConnect;
    syncBuiltinESMExports();
  }
}

void test('every resolved address is tried in turn: a refused IPv6 address, then the IPv4 one that listens', () => go(function* () {
  const [server, port] = yield* listen(() => new Rec());
  const [[t]] = yield* withFakeNetwork('multi.test', [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }], [],
    () => getRunningLoop().createConnection(() => new Rec(), 'multi.test', port));
  assert.deepEqual(t.getExtraInfo('peername'), ['127.0.0.1', port]);
  t.close();
  yield* shutdown(server);
}));

void test('happy eyeballs: an attempt that hangs is raced by the next one after happyEyeballsDelay, and destroyed', () => go(function* () {
  const [server, port] = yield* listen(() => new Rec());
  const loop = getRunningLoop();
  const t0 = loop.time();
  const [[t], hung] = yield* withFakeNetwork('he.test', [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }], ['::1'],
    () => loop.createConnection(() => new Rec(), 'he.test', port, { happyEyeballsDelay: 30 }));
  const dt = loop.time() - t0;
  assert.ok(dt >= 29 && dt < 2000, `connected after ${dt} ms`);
  assert.equal(hung.length, 1);
  assert.equal(hung[0]!.destroyed, true);
  t.close();
  yield* shutdown(server);
}));

void test('cancelling createConnection while it connects destroys the attempt', () => go(function* () {
  const [[, hung]] = yield* withFakeNetwork('slow.test', [{ address: '::1', family: 6 }], ['::1'], function* () {
    const task = createTask(getRunningLoop().createConnection(() => new Rec(), 'slow.test', 9));
    yield* sleep(10);
    task.cancel();
    yield* rejects(task, (e: unknown) => (e as Error).name === 'CancelledError');
    return [null, null];
  });
  void hung;
}));

void test('localAddr binds the local end; extra info gives peername, sockname and the socket, also after the connection is lost', () => go(function* () {
  const [probe, free] = yield* listen(() => new Rec());
  yield* shutdown(probe);
  const [server, port] = yield* listen(() => new Rec());
  const [t] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port, { localAddr: ['127.0.0.1', free] });
  assert.deepEqual(t.getExtraInfo('sockname'), ['127.0.0.1', free]);
  assert.deepEqual(t.getExtraInfo('peername'), ['127.0.0.1', port]);
  assert.ok(t.getExtraInfo('socket') instanceof netCjs.Socket);
  assert.equal(t.getExtraInfo('peercert', 'none'), 'none');
  const srv: Rec[] = [];
  const [server2, port2] = yield* listen(() => new Rec(), srv);
  const [t2, p2] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port2);
  while (srv.length === 0) yield* sleep(1);
  const clientPort = (t2.getExtraInfo('sockname') as [string, number])[1];
  srv[0]!.t!.abort();   // a reset: the server side never asked for its addresses before
  yield* srv[0]!.lost;
  yield* p2.lost;
  assert.deepEqual(srv[0]!.t!.getExtraInfo('peername'), ['127.0.0.1', clientPort]);   // still known after the connection is gone
  assert.deepEqual(srv[0]!.t!.getExtraInfo('sockname'), ['127.0.0.1', port2]);
  t.close();
  yield* shutdown(server);
  yield* shutdown(server2);
}));

void test('pauseReading stops dataReceived until resumeReading', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec(), srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  t.pauseReading();
  assert.equal(t.isReading(), false);
  yield* sleep(10);
  srv[0]!.t!.write('while paused');
  yield* sleep(50);
  assert.equal(c.data, '');
  t.resumeReading();
  yield* c.gotData;
  assert.equal(c.data, 'while paused');
  t.close();
  yield* shutdown(server);
}));

void test('flow control: pauseWriting inside write() when the peer does not read, resumeWriting once it does', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => { const r = new Rec(); r.connectionMade = (tr) => { r.t = tr; tr.pauseReading(); }; return r; }, srv);
  const [t, c] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  const chunk = new Uint8Array(256 * 1024);
  let writes = 0;
  for (; writes < 256 && !c.trace.includes('pauseWriting'); writes++) {
    t.write(chunk);
    if (!c.trace.includes('pauseWriting')) yield* sleep(1);   // let the OS buffers fill
  }
  assert.ok(c.trace.includes('pauseWriting'), 'never paused');
  assert.ok(t.getWriteBufferSize() > t.getWriteBufferLimits()[1]);
  srv[0]!.t!.resumeReading();
  const deadline = getRunningLoop().time() + 5000;
  while (!c.trace.includes('resumeWriting') && getRunningLoop().time() < deadline) yield* sleep(5);
  assert.deepEqual(c.trace, ['made', 'pauseWriting', 'resumeWriting']);
  assert.ok(t.getWriteBufferSize() <= t.getWriteBufferLimits()[0]);
  t.abort();
  yield* shutdown(server);
}));

void test('writeLines arrives as the concatenation, in order', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec(), srv);
  const [t] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  t.writeLines(['a', bytes('b'), 'c'.repeat(100_000), 'd']);
  t.close();
  yield* srv[0]!.lost;
  assert.equal(srv[0]!.data, `ab${'c'.repeat(100_000)}d`);
  yield* shutdown(server);
}));

void test('a BufferedProtocol client reads into its own buffer', () => go(function* () {
  const total = 300_000;
  const [server, port] = yield* listen(() => {
    const r = new Rec();
    r.connectionMade = (tr) => { tr.write(new Uint8Array(total).fill(7)); tr.close(); };
    return r;
  });
  const own = new Uint8Array(4096);
  let got = 0, sum = 0, otherBuffers = 0;
  const done = new Future<void>({ loop: getRunningLoop(), description: 'buffered done' });
  const p: BufferedProtocol = {
    getBuffer: (hint: number) => { assert.ok(hint > 0); return own; },
    bufferUpdated: (n: number) => { got += n; for (let i = 0; i < n; i++) sum += own[i]!; },
    dataReceived: () => { otherBuffers++; },
    connectionLost: () => done.setResult(),
  };
  yield* getRunningLoop().createConnection(() => p, '127.0.0.1', port);
  yield* done;
  assert.equal(got, total);
  assert.equal(sum, 7 * total);
  assert.equal(otherBuffers, 0);
  yield* shutdown(server);
}));

void test('loop.close() aborts transports and servers still open: connectionLost is delivered, the port is released', async () => {
  const loop = new NodeEventLoop();
  let port = 0;
  const trace: string[] = [];
  await loop.runUntilComplete(createTask2(loop, function* () {
    const server = yield* loop.createServer(() => ({ connectionLost: () => { trace.push('server side lost'); } }), '127.0.0.1', 0);
    port = portOf(server);
    yield* loop.createConnection(() => ({ connectionLost: () => { trace.push('client lost'); } }), '127.0.0.1', port);
    yield* sleep(20);
  }));
  loop.close();
  assert.deepEqual(trace.sort(), ['client lost', 'server side lost']);
  await new Promise<void>((resolve, reject) => {
    const s = netCjs.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); reject(new Error('still listening')); });
    s.on('error', () => resolve());
  });
});

function createTask2<T>(loop: NodeEventLoop, body: () => Coro<T>): Future<T> { return loop.createTask(body()); }

void test('a BufferedProtocol on the server side: Node reads straight into its buffers, every byte arrives in order', () => go(function* () {
  const total = 123_456;
  const own = new Uint8Array(1000);
  let got = 0, bad = 0, copies = 0, hints = 0;
  const done = new Future<void>({ loop: getRunningLoop(), description: 'server eof' });
  const server = yield* getRunningLoop().createServer((): BufferedProtocol => ({
    getBuffer: (hint: number) => { if (hint > 0) hints++; return own; },
    bufferUpdated: (n: number) => { for (let i = 0; i < n; i++) if (own[i] !== (got + i) % 251) bad++; got += n; },
    dataReceived: () => { copies++; },
    eofReceived: () => { done.setResult(); },
  }), '127.0.0.1', 0);
  const [t] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', portOf(server));
  const data = new Uint8Array(total);
  for (let i = 0; i < total; i++) data[i] = i % 251;
  t.write(data);
  t.writeEof();
  yield* done;
  assert.equal(got, total);
  assert.equal(bad, 0);
  assert.equal(copies, 0);
  assert.ok(hints > 0);
  t.close();
  server.close();
  yield* server.waitClosed();   // the remade socket is counted and uncounted like any other
}));

void test('a BufferedProtocol echo server that writes from its own buffer (a fresh one while a write is pending)', () => go(function* () {
  class BufferedEcho implements BufferedProtocol {
    t: Transport | null = null;
    buf = new Uint8Array(4096);
    connectionMade(t: Transport): void { this.t = t; }
    getBuffer(): Uint8Array {
      if (this.t!.getWriteBufferSize() > 0) this.buf = new Uint8Array(4096);   // the last write still holds it
      return this.buf;
    }
    bufferUpdated(n: number): void { this.t!.write(this.buf.subarray(0, n)); }
  }
  const server = yield* getRunningLoop().createServer(() => new BufferedEcho(), '127.0.0.1', 0);
  const total = 2_000_000;
  const back = new Uint8Array(total);
  let n = 0;
  const all = new Future<void>({ loop: getRunningLoop(), description: 'echo back' });
  const [t] = yield* getRunningLoop().createConnection((): Protocol => ({
    dataReceived: (d: Uint8Array) => { back.set(d, n); n += d.length; if (n === total) all.setResult(); },
  }), '127.0.0.1', portOf(server));
  const data = new Uint8Array(total);
  for (let i = 0; i < total; i++) data[i] = (i * 7) % 253;
  t.write(data);
  yield* all;
  let bad = 0;
  for (let i = 0; i < total; i++) if (back[i] !== data[i]) bad++;
  assert.equal(bad, 0);
  t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
}));

void test('setProtocol switches the protocol that receives the next bytes', () => go(function* () {
  const srv: Rec[] = [];
  const [server, port] = yield* listen(() => new Rec(), srv);
  const [t, first] = yield* getRunningLoop().createConnection(() => new Rec(), '127.0.0.1', port);
  const second = new Rec();
  t.setProtocol(second);
  assert.equal(t.getProtocol(), second);
  yield* sleep(10);
  srv[0]!.t!.write('to the second');
  yield* second.gotData;
  assert.equal(first.data, '');
  t.close();
  yield* second.lost;
  yield* shutdown(server);
}));

void test('TCP_NODELAY is on for connections made and accepted: write-write-read round trips do not wait for delayed ACKs (~40 ms each)', () => go(function* () {
  const loop = getRunningLoop();
  // Server side under test: a tulip server answers each 2-byte request with two 1-byte writes, a tick apart.
  const server = yield* loop.createServer(() => {
    let t: Transport;
    let n = 0;
    return {
      connectionMade: (tr: Transport) => { t = tr; },
      dataReceived: (d: Uint8Array) => { for (n += d.length; n >= 2; n -= 2) { t.write('k'); loop.callSoon(() => t.write('k')); } },
    };
  }, '127.0.0.1', 0);
  // Client side under test: a tulip client sends each request as two 1-byte writes, a tick apart.
  let waiting: Future<void> | null = null;
  let got = 0;
  const [t] = yield* loop.createConnection(() => ({
    dataReceived: (d: Uint8Array) => { got += d.length; if (got >= 2 && waiting !== null) { got -= 2; waiting.setResult(); } },
  }), '127.0.0.1', portOf(server));
  const rounds = 20;
  const t0 = loop.time();
  for (let i = 0; i < rounds; i++) {
    waiting = new Future<void>({ loop, description: 'reply' });
    t.write('a');
    yield* sleep(0);
    t.write('b');
    yield* waiting;
  }
  const perRound = (loop.time() - t0) / rounds;
  assert.ok(perRound < 25, `${perRound.toFixed(1)} ms per round trip: Nagle's algorithm is on somewhere (delayed ACKs take ~40 ms)`);
  t.close();
  yield* shutdown(server);
}));

void test('a socket that cannot be remade to read in place is kept as it is (the copy path serves it)', () => {
  const unconnected = new netCjs.Socket();   // no handle to move
  assert.equal(adoptReadingInPlace(unconnected, { buffer: new Uint8Array(16), callback: () => true }), null);
  assert.equal(unconnected.destroyed, false);
  unconnected.destroy();
});
