import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  type Coro, getRunningLoop, openConnection, type Protocol, sleep, startServer, TimeoutError, type Transport, Future,
} from '../../src/index.js';
import { go, portOf, rejects, str, testCert } from '../net_helpers.js';

const { key, cert } = testCert();

function echo(): Protocol {
  let t: Transport;
  return { connectionMade: (tr: Transport) => { t = tr; }, dataReceived: (d: Uint8Array) => { t.write(d); } };
}

function* tlsEchoServer(): Coro<[import('../../src/index.js').Server, number]> {
  const server = yield* getRunningLoop().createServer(echo, '127.0.0.1', 0, { ssl: { key, cert } });
  return [server, portOf(server)];
}

void test('TLS echo: the client verifies the server by its IP; call order; peercert, cipher and sslObject; no writeEof over TLS', () => go(function* () {
  const [server, port] = yield* tlsEchoServer();
  const trace: string[] = [];
  const got = new Future<string>({ loop: getRunningLoop(), description: 'echo' });
  const lost = new Future<void>({ loop: getRunningLoop(), description: 'lost' });
  const [t] = yield* getRunningLoop().createConnection(() => ({
    connectionMade: () => { trace.push('made'); },
    dataReceived: (d: Uint8Array) => { trace.push('data'); got.setResult(str(d)); },
    eofReceived: () => { trace.push('eof'); },
    connectionLost: (e?: Error) => { trace.push(`lost ${e?.message ?? ''}`.trim()); lost.setResult(); },
  }), '127.0.0.1', port, { ssl: { ca: cert } });
  t.write('secret');
  assert.equal(yield* got, 'secret');
  const pc = t.getExtraInfo('peercert') as tls.PeerCertificate;
  assert.equal(pc.subject.CN, 'localhost');
  assert.ok(typeof (t.getExtraInfo('cipher') as tls.CipherNameAndProtocol).name === 'string');
  assert.ok(t.getExtraInfo('sslObject') instanceof tls.TLSSocket);
  assert.equal(t.canWriteEof(), false);
  server.closeClients();
  yield* lost;
  assert.deepEqual(trace, ['made', 'data', 'eof', 'lost']);
  server.close();
  yield* server.waitClosed();
}));

void test('verification is on by default: ssl: true (default CAs) rejects a self-signed server', () => go(function* () {
  const [server, port] = yield* tlsEchoServer();
  const e = yield* rejects(getRunningLoop().createConnection(echo, '127.0.0.1', port, { ssl: true }), Error);
  assert.match(String((e as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_VERIFY/);
  server.close();
}));

void test('serverHostname: a wrong name fails, \'\' skips the name check, localhost matches; rejectUnauthorized: false skips verification', () => go(function* () {
  const [server, port] = yield* tlsEchoServer();
  const loop = getRunningLoop();
  const e = yield* rejects(loop.createConnection(echo, '127.0.0.1', port, { ssl: { ca: cert }, serverHostname: 'example.com' }), Error);
  assert.equal((e as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const [t1] = yield* loop.createConnection(echo, '127.0.0.1', port, { ssl: { ca: cert }, serverHostname: '' });
  const [t2] = yield* loop.createConnection(echo, '127.0.0.1', port, { ssl: tls.createSecureContext({ ca: cert }), serverHostname: 'localhost' });
  const [t3] = yield* loop.createConnection(echo, '127.0.0.1', port, { ssl: { rejectUnauthorized: false } });
  for (const t of [t1, t2, t3]) t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
}));

void test('a server with a SecureContext; streams over TLS', () => go(function* () {
  const server = yield* startServer(function* (r, w) { w.write(yield* r.readLine()); yield* w.drain(); }, '127.0.0.1', 0, { ssl: tls.createSecureContext({ key, cert }) });
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server), { ssl: { ca: cert }, serverHostname: 'localhost' });
  w.write('over tls\n');
  assert.equal(str(yield* r.readLine()), 'over tls\n');
  assert.equal((yield* r.read()).length, 0);
  w.close();
  server.close();
  yield* server.waitClosed();
}));

void test('startTls upgrades a live connection on both sides (STARTTLS)', () => go(function* () {
  const server = yield* startServer(function* (r, w) {
    assert.equal(str(yield* r.readLine()), 'STARTTLS\n');
    w.write('OK\n');
    yield* w.drain();
    yield* w.startTls({ key, cert }, { serverSide: true });
    assert.ok(w.getExtraInfo('sslObject') instanceof tls.TLSSocket);
    const line = yield* r.readLine();
    w.write(`secure ${str(line)}`);
    yield* w.drain();
  }, '127.0.0.1', 0);
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server));
  w.write('STARTTLS\n');
  assert.equal(str(yield* r.readLine()), 'OK\n');
  const plain = w.transport;
  yield* w.startTls({ ca: cert });
  assert.notEqual(w.transport, plain);
  assert.equal((w.getExtraInfo('peercert') as tls.PeerCertificate).subject.CN, 'localhost');
  w.write('hello\n');
  assert.equal(str(yield* r.readLine()), 'secure hello\n');
  assert.equal((yield* r.read()).length, 0);
  w.close();
  server.close();
  yield* server.waitClosed();
}));

void test('a client that resets mid-handshake does not stop the server', () => go(function* () {
  const [server, port] = yield* tlsEchoServer();
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    yield* waitEvent(s, 'connect');
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));   // the start of a ClientHello
    yield* sleep(5);
    s.resetAndDestroy();
  }
  const [t] = yield* getRunningLoop().createConnection(echo, '127.0.0.1', port, { ssl: { ca: cert } });
  t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
}));

void test('sslHandshakeTimeout: a server that never answers the handshake times out', () => go(function* () {
  const silent = net.createServer(() => { /* accept and say nothing */ });
  yield* waitEvent(silent.listen(0, '127.0.0.1'), 'listening');
  const port = (silent.address() as net.AddressInfo).port;
  const t0 = getRunningLoop().time();
  yield* rejects(getRunningLoop().createConnection(echo, '127.0.0.1', port, { ssl: { ca: cert }, sslHandshakeTimeout: 100 }), TimeoutError);
  assert.ok(getRunningLoop().time() - t0 < 2000);
  silent.close();
  yield* rejects(getRunningLoop().createConnection(echo, '127.0.0.1', port, { sslHandshakeTimeout: 100 }), TypeError);
}));

function* waitEvent(emitter: NodeJS.EventEmitter, ev: string): Coro<void> {
  const f = new Future<void>({ loop: getRunningLoop(), description: `event ${ev}` });
  emitter.once(ev, () => { if (!f.done()) f.setResult(); });
  yield* f;
}

void test('a BufferedProtocol TLS server gets the decrypted bytes through its buffer (copied: TLS cannot read in place)', () => go(function* () {
  const own = new Uint8Array(100);
  let text = '';
  const done = new Future<void>({ loop: getRunningLoop(), description: 'tls buffered' });
  const server = yield* getRunningLoop().createServer(() => ({
    getBuffer: () => own,
    bufferUpdated: (n: number) => { text += str(own.subarray(0, n)); if (text.length === 1000) done.setResult(); },
  }), '127.0.0.1', 0, { ssl: { key, cert } });
  const [t] = yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', portOf(server), { ssl: { ca: cert } });
  t.write('abcdefghij'.repeat(100));
  yield* done;
  assert.equal(text, 'abcdefghij'.repeat(100));
  t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
}));
