/**
 * Every acquisition path of the Node loop owns what it acquired until it
 * hands it over, whatever moment a cancel lands on. Each path runs once to
 * count its suspension points, then once per point and per way of landing
 * a cancel (during the step, a batch later, in the batch its wait
 * completes); after each run no file descriptor, listener, child process
 * or Node handle may be left, and a server peer may keep no ghost
 * connection. Real sockets, pipes, processes, files and worker threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, openSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import {
  type BaseTransport, createSubprocessExec, type Coro, FileProducer, Future, getRunningLoop, moveOnAfter, type Protocol, type Server, sleep, type Transport,
  ThreadPoolExecutor,
} from '../../src/index.js';
import { go, portOf, tempDir, testCert, which } from '../net_helpers.js';
import { activeHandles, cancelAtEveryPoint, childPids, settlesTo, snapshot } from './leaks.js';

const T = { timeout: 120_000 };
const { key, cert } = testCert();

/** A server whose connections count themselves in and out (a ghost is one made and never lost). */
function* countingServer(host: string | string[], opts: Record<string, unknown> = {}): Coro<[Server, { made: number; lost: number }]> {
  const n = { made: 0, lost: 0 };
  const server = yield* getRunningLoop().createServer(() => ({
    connectionMade: () => { n.made++; },
    connectionLost: () => { n.lost++; },
  }), host, 0, opts);
  return [server, n];
}

function* noGhosts(n: { made: number; lost: number }, what: string): Coro<void> {
  for (let i = 0; i < 300 && n.lost < n.made; i++) yield* sleep(10);
  assert.equal(n.lost, n.made, `${what}: the server keeps ${n.made - n.lost} ghost connection(s)`);
}

function* closeServer(s: Server): Coro<void> {
  s.close();
  s.abortClients();
  yield* s.waitClosed();
}

/** A transport's close, waiting until its connectionLost. */
function lossTracked(): { protocol: () => Protocol; lost: () => boolean } {
  let lost = false;
  return { protocol: () => ({ connectionLost: () => { lost = true; } }), lost: () => lost };
}

function* closeTransport(t: { close(): void }, lost: () => boolean): Coro<void> {
  t.close();
  for (let i = 0; i < 300 && !lost(); i++) yield* sleep(10);
}

const report: string[] = [];

void test('createConnection (TCP), cancelled at every suspension point: no fd, no ghost connection on the server', T, () => go(function* () {
  const [server, n] = yield* countingServer('127.0.0.1');
  const port = portOf(server);
  for (const host of ['127.0.0.1', 'localhost']) {
    const l = lossTracked();
    const points = yield* cancelAtEveryPoint(`createConnection(${host})`, {
      acquire: () => getRunningLoop().createConnection(l.protocol, host, port),
      release: ([t]) => closeTransport(t, l.lost),
      check: () => noGhosts(n, 'createConnection'),
    });
    report.push(`createConnection(${host}): ${points} points`);
  }
  yield* closeServer(server);
}));

void test('createConnection with happy eyeballs over two addresses, cancelled at every point', T, () => go(function* () {
  const [server, n] = yield* countingServer('127.0.0.1');
  const port = portOf(server);
  const l = lossTracked();
  // Two attempts race: 'localhost' twice in the resolver's order is not available here, so give the family explicitly.
  const points = yield* cancelAtEveryPoint('createConnection(happy eyeballs)', {
    acquire: () => getRunningLoop().createConnection(l.protocol, 'localhost', port, { happyEyeballsDelay: 1, family: 4 }),
    release: ([t]) => closeTransport(t, l.lost),
    check: () => noGhosts(n, 'happy eyeballs'),
  });
  report.push(`happy eyeballs: ${points} points`);
  yield* closeServer(server);
}));

void test('createConnection over TLS (connect, then handshake), cancelled at every point', T, () => go(function* () {
  const [server, n] = yield* countingServer('127.0.0.1', { ssl: { key, cert } });
  const l = lossTracked();
  const points = yield* cancelAtEveryPoint('createConnection(TLS)', {
    acquire: () => getRunningLoop().createConnection(l.protocol, '127.0.0.1', portOf(server), { ssl: { ca: cert } }),
    release: ([t]) => closeTransport(t, l.lost),
    check: () => noGhosts(n, 'TLS'),
  });
  report.push(`createConnection(TLS): ${points} points`);
  yield* closeServer(server);
}));

void test('createUnixConnection (plain and TLS), cancelled at every point', T, () => go(function* () {
  const dir = tempDir();
  for (const ssl of [false, true]) {
    const path = join(dir, `s${ssl ? 'tls' : ''}.sock`);
    const n = { made: 0, lost: 0 };
    const server = yield* getRunningLoop().createUnixServer(() => ({ connectionMade: () => { n.made++; }, connectionLost: () => { n.lost++; } }), path,
      ssl ? { ssl: { key, cert } } : {});
    const l = lossTracked();
    const points = yield* cancelAtEveryPoint(`createUnixConnection(${ssl ? 'TLS' : 'plain'})`, {
      acquire: () => getRunningLoop().createUnixConnection(l.protocol, path, ssl ? { ssl: { ca: cert }, serverHostname: 'localhost' } : {}),
      release: ([t]) => closeTransport(t, l.lost),
      check: () => noGhosts(n, 'Unix'),
    });
    report.push(`createUnixConnection(${ssl ? 'TLS' : 'plain'}): ${points} points`);
    yield* closeServer(server);
  }
}));

function* refused(port: number): Coro<void> {
  const loop = getRunningLoop();
  try {
    const [t] = yield* loop.createConnection(() => ({}), '127.0.0.1', port);
    t.abort();
    assert.fail(`port ${port} still accepts connections`);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  }
}

void test('createServer (one and two addresses, TLS) and createUnixServer, cancelled at every point: no listening socket is left', T, () => go(function* () {
  const loop = getRunningLoop();
  const cases: Array<[string, () => Coro<Server>]> = [
    ['createServer(127.0.0.1)', () => loop.createServer(() => ({}), '127.0.0.1', 0)],
    ['createServer(localhost)', () => loop.createServer(() => ({}), 'localhost', 0)],
    ['createServer([127.0.0.1, 127.0.0.1])', () => loop.createServer(() => ({}), ['127.0.0.1', '127.0.0.1'], 0)],
    ['createServer(TLS)', () => loop.createServer(() => ({}), '127.0.0.1', 0, { ssl: { key, cert } })],
    ['createUnixServer', () => loop.createUnixServer(() => ({}), join(tempDir(), 'srv.sock'))],
  ];
  for (const [name, make] of cases) {
    let ports: number[] = [];
    const points = yield* cancelAtEveryPoint(name, {
      acquire: make,
      release: function* (s) {
        ports = s.addresses().filter((a) => Array.isArray(a)).map((a) => a[1]);
        yield* closeServer(s);
      },
      check: function* () { for (const p of ports) yield* refused(p); },
    });
    report.push(`${name}: ${points} points`);
  }
}));

void test('startTls on both sides, cancelled at every point: the connection is closed, no fd is left', T, () => go(function* () {
  const loop = getRunningLoop();
  // The peer upgrades every connection it accepts (server side) as soon as it arrives.
  const peer = net.createServer((s) => {
    const t = new tls.TLSSocket(s, { isServer: true, key, cert });
    t.on('error', () => { t.destroy(); });
    t.on('data', (d) => t.write(d));
  });
  yield* loop.createTask(new Promise<void>((r) => peer.listen(0, '127.0.0.1', r)));
  const port = (peer.address() as net.AddressInfo).port;
  const l = lossTracked();
  const points = yield* cancelAtEveryPoint('startTls (client side)', {
    acquire: function* () {
      const p = l.protocol();
      const [t] = yield* loop.createConnection(() => p, '127.0.0.1', port);
      return yield* loop.startTls(t, p, { ca: cert }, { serverHostname: 'localhost' });
    },
    release: (t) => closeTransport(t, l.lost),
  });
  report.push(`startTls (client side): ${points} points`);
  peer.close();
  // Server side: a connection a tulip server accepted is upgraded by the explored coroutine; a Node TLS client is the peer.
  let next: Future<Transport> | null = null;
  const server = yield* loop.createServer(() => ({ connectionMade: (t: Transport) => { next?.setResult(t); next = null; } }), '127.0.0.1', 0);
  const points2 = yield* cancelAtEveryPoint<[Transport, tls.TLSSocket]>('startTls (server side)', {
    acquire: function* () {
      const accepted = next = new Future<Transport>({ loop, description: 'accepted' });
      const c = tls.connect({ port: portOf(server), host: '127.0.0.1', ca: cert, servername: 'localhost' });
      c.on('error', () => { c.destroy(); });
      let ok = false;
      try {
        const t = yield* accepted;
        const upgraded = yield* loop.startTls(t, t.getProtocol(), { key, cert }, { serverSide: true });
        ok = true;
        return [upgraded, c];
      } finally {
        if (!ok) c.destroy();   // the peer goes; the connection accepted meanwhile ends with it
      }
    },
    release: function* ([t, c]) {
      t.close();
      c.destroy();
      yield* sleep(1);
    },
  });
  report.push(`startTls (server side): ${points2} points`);
  yield* closeServer(server);
}));

void test('createDatagramEndpoint (bound, and connected), cancelled at every point', T, () => go(function* () {
  const loop = getRunningLoop();
  for (const remote of [false, true]) {
    const l = { lost: false };
    const points = yield* cancelAtEveryPoint(`createDatagramEndpoint(${remote ? 'connected' : 'bound'})`, {
      acquire: () => loop.createDatagramEndpoint(() => ({ datagramReceived: () => {}, connectionLost: () => { l.lost = true; } }),
        remote ? { remoteAddr: ['127.0.0.1', 9] } : { localAddr: ['127.0.0.1', 0] }),
      release: function* ([t]) { l.lost = false; t.close(); for (let i = 0; i < 300 && !l.lost; i++) yield* sleep(10); },
    });
    report.push(`createDatagramEndpoint(${remote ? 'connected' : 'bound'}): ${points} points`);
  }
}));

void test('connectReadPipe / connectWritePipe on a FIFO\'s fd, cancelled at every point: the pipe handed over is closed', { ...T, skip: !which('mkfifo') }, () => go(function* () {
  const loop = getRunningLoop();
  const fifo = join(tempDir(), 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const dir of ['read', 'write'] as const) {
    const l = lossTracked();
    const points = yield* cancelAtEveryPoint<[BaseTransport, unknown]>(`connect${dir === 'read' ? 'Read' : 'Write'}Pipe`, {
      acquire: () => {
        // O_RDWR: opening a FIFO so never blocks. The fd is handed over with the call.
        const fd = openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK);
        return dir === 'read' ? loop.connectReadPipe(l.protocol, fd) : loop.connectWritePipe(l.protocol, fd);
      },
      release: ([t]) => closeTransport(t, l.lost),
    });
    report.push(`connect${dir}Pipe: ${points} points`);
  }
}));

void test('subprocessExec and createSubprocessExec, cancelled at every point: no child, no zombie, no pipe left', T, () => go(function* () {
  const loop = getRunningLoop();
  const before = childPids();
  const points = yield* cancelAtEveryPoint('subprocessExec', {
    acquire: () => loop.subprocessExec(() => ({}), 'sleep', ['30']),
    release: function* ([t]) {
      t.kill();
      for (let i = 0; i < 300 && t.getReturncode() === null; i++) yield* sleep(10);
      t.close();
    },
  });
  const points2 = yield* cancelAtEveryPoint('createSubprocessExec', {
    acquire: () => createSubprocessExec('sleep', ['30'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' }),
    release: function* (p) { p.kill(); yield* p.wait(); },
  });
  assert.deepEqual(childPids(), before);
  report.push(`subprocessExec: ${points} points; createSubprocessExec: ${points2} points`);
}));

void test('sendfile and FileProducer.streamTo, cancelled at every point: the file handle they opened is closed', T, () => go(function* () {
  const loop = getRunningLoop();
  const file = join(tempDir(), 'data.bin');
  writeFileSync(file, new Uint8Array(600 * 1024).fill(7));
  const [server] = yield* countingServer('127.0.0.1');
  const [t] = yield* loop.createConnection(() => ({}), '127.0.0.1', portOf(server));
  const points = yield* cancelAtEveryPoint('sendfile', {
    acquire: () => loop.sendfile(t, file),
    release: () => undefined,
  });
  const points2 = yield* cancelAtEveryPoint('FileProducer.streamTo', {
    acquire: () => new FileProducer(file).streamTo(t),
    release: () => undefined,
  });
  report.push(`sendfile: ${points} points; FileProducer.streamTo: ${points2} points`);
  t.abort();
  yield* closeServer(server);
}));

void test('getAddrInfo and runInExecutor, cancelled at every point: nothing is left; a cancelled job never runs to its end', T, () => go(function* () {
  const loop = getRunningLoop();
  const p1 = yield* cancelAtEveryPoint('getAddrInfo', { acquire: () => loop.getAddrInfo('localhost', 80), release: () => undefined });
  const pool = new ThreadPoolExecutor({ minThreads: 0, maxThreads: 1, idleTimeout: 10 });
  // The job marks that it started, blocks its thread for 150 ms, then marks that it finished.
  const fn = { module: new URL('../fixtures/worker_fns.mjs', import.meta.url), name: 'markThenBlock' };
  let flags = new Int32Array(new SharedArrayBuffer(8));
  let terminated = 0;
  const p2 = yield* cancelAtEveryPoint('runInExecutor', {
    acquire: function* () {
      flags = new Int32Array(new SharedArrayBuffer(8));
      return yield* loop.runInExecutor<number>(pool, fn, flags, 150);
    },
    release: () => undefined,
    check: function* ({ completed, mode }) {
      assert.equal(pool.queueSize, 0);
      if (completed || mode === 'as the wait completes') return;   // then the job had finished
      yield* sleep(300);
      // Halted while queued, it never ran; halted while running, its worker was terminated before the end.
      assert.equal(Atomics.load(flags, 1), 0, 'a cancelled job ran to its end');
      if (Atomics.load(flags, 0) === 1) terminated++;
    },
  });
  yield* loop.createTask(pool.shutdown());
  report.push(`getAddrInfo: ${p1} points; runInExecutor: ${p2} points, ${terminated} job(s) terminated while running`);
}));

/** `op` must fail, and leave nothing behind (nor a ghost connection on `ghosts`' server). */
function* failsCleanly(name: string, op: () => Coro<unknown>, ghosts?: { made: number; lost: number }): Coro<void> {
  const base = snapshot();
  try {
    yield* op();
    assert.fail(`${name} did not fail`);
  } catch (e) {
    assert.ok(e instanceof Error && !(e instanceof assert.AssertionError), `${name}: ${String(e)}`);
  }
  yield* settlesTo(base, name);
  if (ghosts !== undefined) yield* noGhosts(ghosts, name);
  report.push(`${name}: fails cleanly`);
}

const boom = (): never => { throw new Error('factory failed'); };

void test('createDatagramEndpoint whose protocol factory throws closes the bound socket', T, () => go(function* () {
  yield* failsCleanly('createDatagramEndpoint, factory throws', () => getRunningLoop().createDatagramEndpoint(boom, { localAddr: ['127.0.0.1', 0] }));
}));

void test('subprocessExec whose protocol factory throws leaves no child running', T, () => go(function* () {
  const before = childPids();
  yield* failsCleanly('subprocessExec, factory throws', () => getRunningLoop().subprocessExec(boom, 'sleep', ['30']));
  assert.deepEqual(childPids(), before);
}));

void test('connectReadPipe whose protocol factory throws leaves the fd to the caller, with no stream reading it', { ...T, skip: !which('mkfifo') }, () => go(function* () {
  const fifo = join(tempDir(), 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK);
  const base = snapshot();
  try { yield* getRunningLoop().connectReadPipe(boom, fd); } catch { /* expected */ }
  yield* sleep(20);
  assert.deepEqual(activeHandles(), base.handles);
  closeSync(fd);
}));

void test('TLS options that fail after the TCP connect (refused by Node, or of the wrong type) close the connected socket: no fd, no ghost', T, () => go(function* () {
  const loop = getRunningLoop();
  const [server, n] = yield* countingServer('127.0.0.1', { ssl: { key, cert } });
  yield* failsCleanly('createConnection, TLS options Node refuses', () => loop.createConnection(() => ({}), '127.0.0.1', portOf(server), { ssl: { key: 'not a key', cert: 'not a cert' } }), n);
  yield* failsCleanly('createConnection, ssl of the wrong type', () => loop.createConnection(() => ({}), '127.0.0.1', portOf(server), { ssl: 'yes please' }), n);
  yield* closeServer(server);
}));

void test('createUnixConnection with TLS and no serverHostname is refused before it connects', T, () => go(function* () {
  const path = join(tempDir(), 'u.sock');
  const n = { made: 0, lost: 0 };
  const server = yield* getRunningLoop().createUnixServer(() => ({ connectionMade: () => { n.made++; }, connectionLost: () => { n.lost++; } }), path, { ssl: { key, cert } });
  yield* failsCleanly('createUnixConnection, TLS without serverHostname', () => getRunningLoop().createUnixConnection(() => ({}), path, { ssl: { ca: cert } }), n);
  yield* sleep(20);
  assert.equal(n.made, 0, 'refused before connecting');
  yield* closeServer(server);
}));

void test('a TLS server drops clients that connect and never finish the handshake after sslHandshakeTimeout, also one that sends a byte now and then', T, () => go(function* () {
  const loop = getRunningLoop();
  const base = snapshot();
  const server = yield* loop.createServer(() => ({}), '127.0.0.1', 0, { ssl: { key, cert }, sslHandshakeTimeout: 300 });
  const port = portOf(server);
  const silent = Array.from({ length: 5 }, () => net.connect(port, '127.0.0.1'));
  const trickler = net.connect(port, '127.0.0.1');
  let ended = 0;
  const ends = [...silent, trickler].map((s) => new Promise<void>((resolve) => { s.on('error', () => {}); s.on('close', () => { ended++; resolve(); }); }));
  yield* loop.createTask(new Promise<void>((r) => trickler.once('connect', () => r())));
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]);   // the start of a ClientHello, one byte at a time
  let i = 0;
  const drip = setInterval(() => { if (i < hello.length && !trickler.destroyed) trickler.write(hello.subarray(i, ++i)); }, 60);
  const t0 = loop.time();
  yield* moveOnAfter(10_000, function* () { yield* loop.createTask(Promise.all(ends)); });
  clearInterval(drip);
  assert.equal(ended, 6, 'every client without a handshake was dropped');
  const ms = loop.time() - t0;
  report.push(`TLS server: 6 clients without a handshake dropped after ${ms.toFixed(0)} ms (sslHandshakeTimeout 300)`);
  assert.ok(ms >= 250, `dropped after ${ms} ms, before the deadline`);
  // A client that does handshake is served as before.
  const [t] = yield* loop.createConnection(() => ({}), '127.0.0.1', port, { ssl: { ca: cert } });
  t.close();
  yield* closeServer(server);
  yield* settlesTo(base, 'TLS server with silent clients');
  // close() drops the clients still in their handshake at once (default deadline: 60 s).
  const s2 = yield* loop.createServer(() => ({}), '127.0.0.1', 0, { ssl: { key, cert } });
  const quiet = net.connect(portOf(s2), '127.0.0.1');
  quiet.on('error', () => {});
  yield* loop.createTask(new Promise<void>((r) => quiet.once('connect', () => r())));
  yield* sleep(20);
  s2.close();
  yield* loop.createTask(new Promise<void>((r) => { if (quiet.destroyed) r(); else quiet.once('close', () => r()); }));
  yield* s2.waitClosed();
  yield* settlesTo(base, 'TLS server closed with a client in its handshake');
}));

void test('report', () => { console.log(report.map((l) => `# ${l}`).join('\n')); });
