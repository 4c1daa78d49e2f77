/**
 * The HTTP server over real sockets, driven by raw clients (so that every
 * byte on the wire is checked): keep-alive, pipelining, HEAD, HTTP/1.0,
 * framing, 100-continue, back-pressure both ways, errors, limits and
 * timeouts, handlers halted when the client goes, shutdown in bounded
 * time, upgrades, Unix sockets and TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { join } from 'node:path';
import {
  createTask, Event, type ExceptionContext, fromPromise, getRunningLoop, sleep, type Coro, type Protocol, type Transport,
} from '../../../src/index.js';
import { HttpClient, HttpError, serveHttp, serveHttpUnix, type HttpHandler } from '../../../src/protocols/http/index.js';
import { go, portOf, rejects, tempDir, testCert } from '../../net_helpers.js';
import { raw, rawIn, statuses } from './helpers.js';

const T = { timeout: 30_000 };

function* until(cond: () => boolean, ms = 5000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  while (!cond()) {
    assert.ok(getRunningLoop().time() < end, 'condition not reached in time');
    yield* sleep(5);
  }
}

void test('keep-alive: requests on one connection; pipelined requests are answered in order', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      const ms = Number(req.query.get('ms') ?? 0);
      if (ms > 0) yield* sleep(ms);
      res.end(req.path);
    }, '127.0.0.1', 0);
    const r = yield* rawIn(portOf(server), [
      'GET /a?ms=60 HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c?ms=20 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    assert.deepEqual(statuses(r.text), [200, 200, 200, 200]);
    const bodies = [...r.text.matchAll(/\r\n\r\n(\/[a-d])/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['/a', '/b', '/c', '/d']);
    assert.match(r.text, /Connection: close\r\n\r\n\/d$/);
    assert.ok(r.closed);
    server.close();
  });
});

void test('framing: Content-Length from end(body), chunked after write(), HEAD without a body, 204 without a length', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/stream') { res.write('ab'); res.write(new Uint8Array([99])); res.end('d'); return; }
      if (req.path === '/none') { res.status = 204; res.end(); return; }
      res.setHeader('Content-Type', 'text/plain');
      res.end('héllo');   // 6 bytes in UTF-8
    }, '127.0.0.1', 0, { sendDate: false });
    const r = yield* rawIn(portOf(server), 'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n'
      + 'HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(r.text, Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhéllo'
      + 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n'
      + 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n1\r\nd\r\n0\r\n\r\n'
      + 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
      + 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n').toString('latin1'));
    server.close();
  });
});

void test('HTTP/1.0: closed after the response unless keep-alive is asked; a streamed body ends with the connection', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/stream') { res.write('x'); yield* sleep(5); res.end('y'); return; }
      res.end('ok');
    }, '127.0.0.1', 0, { sendDate: false });
    const port = portOf(server);
    let r = yield* rawIn(port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(r.text, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    assert.ok(r.closed);
    r = yield* rawIn(port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(r.text, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok'
      + 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxy');
    assert.ok(r.closed);
    server.close();
  });
});

void test('Expect: 100-continue: 100 when the handler reads; a declared length over the route limit is 413 without a 100', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      res.end(yield* req.text({ limit: 10 }));
    }, '127.0.0.1', 0, { sendDate: false });
    const port = portOf(server);
    const conn = net.connect(port, '127.0.0.1');
    let got = '';
    conn.on('data', (d) => { got += d.toString('latin1'); });
    conn.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    yield* until(() => got.length > 0);
    assert.equal(got, 'HTTP/1.1 100 Continue\r\n\r\n');
    conn.write('hello');
    yield* until(() => got.includes('hello'));
    assert.equal(got, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    conn.destroy();
    const r = yield* rawIn(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    assert.deepEqual(statuses(r.text), [413]);
    assert.ok(!r.text.includes('100 Continue'));
    assert.ok(r.closed);
    server.close();
  });
});

void test('what a handler leaves of a small body is dropped and the connection serves on; a large one closes it', T, async () => {
  await go(function* () {
    let n = 0;
    const server = yield* serveHttp(function* (req, res) {
      n++;
      if (req.path === '/wait') yield* sleep(100);
      res.end('done');
    }, '127.0.0.1', 0);
    const port = portOf(server);
    const small = 'x'.repeat(1000);
    let r = yield* rawIn(port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${small.length}\r\n\r\n`, small, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gap: 20 });
    assert.deepEqual(statuses(r.text), [200, 200]);
    // A whole body that filled the queue (and paused the reading), left unread: dropped, and reading resumes.
    const full = 'y'.repeat(100_000);
    r = yield* rawIn(port, `POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: ${full.length}\r\n\r\n${full}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200, 200]);
    r = yield* rawIn(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 20}\r\n\r\nxx`);
    assert.deepEqual(statuses(r.text), [200]);
    assert.match(r.text, /Connection: close/);
    assert.ok(r.closed);
    assert.equal(n, 5);
    server.close();
  });
});

void test('back-pressure: an unread request body stops the reading; an unread response holds the handler in drain()', T, async () => {
  await go(function* () {
    const go1 = new Event();
    let received = -1;
    let writes = 0;
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/up') {
        yield* go1.wait();
        received = req.body.received;
        let n = 0;
        for (let c = yield* req.read(); c !== null; c = yield* req.read()) n += c.length;
        res.end(String(n));
        return;
      }
      const chunk = new Uint8Array(256 * 1024);
      for (let i = 0; i < 64; i++) { res.write(chunk); writes++; yield* res.drain(); }
      res.end();
    }, '127.0.0.1', 0);
    const port = portOf(server);
    // Upload 32 MiB to a handler that does not read yet: the server stops reading (TCP holds the rest).
    const size = 32 << 20;
    const up = raw(port, [`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`, Buffer.alloc(size, 1)], { ms: 20_000 });
    yield* sleep(300);
    go1.set();
    const r = yield* fromPromise(up);
    assert.ok(received >= 0 && received < 1 << 20, `the server buffered ${received} bytes of an unread body`);
    assert.match(r.text, new RegExp(`\\r\\n\\r\\n${size}$`));
    // A client that does not read: the handler stops in drain() after a few writes.
    const s = net.connect(port, '127.0.0.1');
    s.pause();
    s.write('GET /down HTTP/1.1\r\nHost: x\r\n\r\n');
    yield* sleep(300);
    const stuck = writes;
    assert.ok(stuck > 0 && stuck < 64, `${stuck} writes`);
    let got = 0;
    const done = new Promise<void>((resolve) => { s.on('data', (d) => { got += d.length; if (got >= 64 * 256 * 1024) resolve(); }); });
    s.resume();
    yield* fromPromise(done);
    assert.equal(writes, 64);
    s.destroy();
    server.close();
  });
});

void test('handler errors: 500 (reported), an HttpError its status and headers, a failure after the head aborts the response', T, async () => {
  const errors: ExceptionContext[] = [];
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/boom') throw new Error('boom');
      if (req.path === '/405') throw new HttpError(405, 'no', { headers: { Allow: 'GET' } });
      res.write('partial');
      yield* sleep(1);
      throw new Error('late');
    }, '127.0.0.1', 0, { sendDate: false });
    const port = portOf(server);
    let r = yield* rawIn(port, 'GET /boom HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(r.text), [500]);
    assert.ok(r.closed);
    r = yield* rawIn(port, 'GET /405 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 405 Method Not Allowed\r\nAllow: GET\r\n/);
    r = yield* rawIn(port, 'GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.text, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n');   // no last chunk: broken
    assert.ok(r.closed);
    server.close();
  }, errors);
  assert.deepEqual(errors.map((e) => (e.exception as Error).message), ['boom', 'late']);
});

void test('limits: 414, 431, 413 by maxBodySize, maxRequestsPerConnection', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (_req, res) { res.end('ok'); }, '127.0.0.1', 0, { maxRequestsPerConnection: 2, maxBodySize: 100 });
    const port = portOf(server);
    let r = yield* rawIn(port, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [414]);
    r = yield* rawIn(port, `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(17000)}\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [431]);
    r = yield* rawIn(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(r.text), [200, 200]);
    assert.match(r.text, /Connection: close\r\n\r\nok$/);
    assert.ok(r.closed);
    server.close();
  });
});

void test('timeouts: a slow head is cut with 408 at the deadline (slowloris); an idle keep-alive connection is closed', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (_req, res) { res.end('ok'); }, '127.0.0.1', 0, { headersTimeout: 400, keepAliveTimeout: 200 });
    const port = portOf(server);
    const loop = getRunningLoop();
    // One byte every 50 ms, forever: cut at 400 ms.
    const bytes = [...'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200)];
    let t0 = loop.time();
    let r = yield* rawIn(port, bytes, { gap: 50, ms: 5000 });
    assert.deepEqual(statuses(r.text), [408]);
    assert.ok(r.closed && !r.timedOut);
    assert.ok(loop.time() - t0 >= 390 && loop.time() - t0 < 3000, `${loop.time() - t0} ms`);
    // A connection that sends nothing at all
    r = yield* rawIn(port, []);
    assert.deepEqual(statuses(r.text), [408]);
    // Idle after a response: closed without a word.
    t0 = loop.time();
    r = yield* rawIn(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(r.text), [200]);
    assert.ok(r.closed && loop.time() - t0 >= 190);
    server.close();
  });
});

void test('the client going away halts its handler (its finally runs); the server serves on', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const server = yield* serveHttp(function* (_req, res) {
      try {
        yield* sleep(10_000);
        res.end('late');
      } finally {
        log.push('halted');
      }
    }, '127.0.0.1', 0);
    const s = net.connect(portOf(server), '127.0.0.1');
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    yield* until(() => server.connections === 1);
    yield* sleep(50);
    s.destroy();
    yield* until(() => log.length === 1);
    yield* until(() => server.connections === 0);
    server.close();
    yield* server.waitClosed();
  });
});

void test('cancelling serveForever() halts every handler (503 if nothing was sent) and closes every connection in bounded time', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/stuck') {
        try { yield* sleep(60_000); } finally { log.push('stuck halted'); }
      }
      if (req.path === '/flood') {
        try { for (;;) { res.write(new Uint8Array(1 << 20)); yield* res.drain(); } } finally { log.push('flood halted'); }
      }
      res.end('ok');
    }, '127.0.0.1', 0, { shutdownTimeout: 300 });
    const port = portOf(server);
    const serving = createTask(server.serveForever());
    const stuck = raw(port, 'GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n');
    const idle = raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');   // answered, then idle in keep-alive
    const flood = net.connect(port, '127.0.0.1');   // never reads: its flush cannot finish, so it is aborted
    flood.pause();
    flood.on('error', () => undefined);
    flood.write('GET /flood HTTP/1.1\r\nHost: x\r\n\r\n');
    yield* until(() => server.connections === 3);
    yield* sleep(100);
    const t0 = getRunningLoop().time();
    serving.cancel();
    yield* rejects(serving, () => true);
    const took = getRunningLoop().time() - t0;
    assert.ok(took < 2000, `shutdown took ${took} ms`);
    assert.equal(server.connections, 0);
    assert.deepEqual(log.sort(), ['flood halted', 'stuck halted']);
    const [s, i] = (yield* fromPromise(Promise.all([stuck, idle])));
    assert.deepEqual(statuses(s.text), [503]);
    assert.deepEqual(statuses(i.text), [200]);
    assert.ok(s.closed && i.closed);
    flood.destroy();
  });
});

void test('close(): idle connections close now, a busy one after its response (with Connection: close)', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/slow') yield* sleep(200);
      res.end('ok');
    }, '127.0.0.1', 0);
    const port = portOf(server);
    const idle = raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const busy = raw(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    yield* sleep(100);
    server.close();
    yield* server.waitClosed();
    const [i, b] = yield* fromPromise(Promise.all([idle, busy]));
    assert.deepEqual(statuses(i.text), [200]);
    assert.deepEqual(statuses(b.text), [200]);
    assert.match(b.text, /Connection: close/);
    assert.ok(i.closed && b.closed);
  });
});

void test('upgrade: 101 and the raw connection to the handler\'s protocol, bytes sent with the head included', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const server = yield* serveHttp(function* (req, res) {
      if (req.upgrade !== 'echo') { res.status = 426; res.end(); return; }
      const echo: Protocol & { t?: Transport } = {
        connectionMade(t: Transport) { this.t = t; },
        dataReceived(d: Uint8Array) { this.t!.write(d); if (new TextDecoder().decode(d).includes('bye')) this.t!.close(); },
        connectionLost() { log.push('echo lost'); },
      };
      res.upgrade(echo, { 'X-Up': '1' });
    }, '127.0.0.1', 0, { sendDate: false });
    const r = yield* rawIn(portOf(server), ['GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst ', 'then bye'], { gap: 30 });
    assert.equal(r.text, 'HTTP/1.1 101 Switching Protocols\r\nX-Up: 1\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nfirst then bye');
    yield* until(() => log.length === 1);
    server.close();
  });
});

void test('a Unix socket server; a TLS server with a verifying client', T, async () => {
  const { key, cert } = testCert();
  await go(function* () {
    const path = join(tempDir(), 'http.sock');
    const hello: HttpHandler = function* (req, res) { res.end(`hello ${req.path}`); };
    const unix = yield* serveHttpUnix(hello, path);
    const r = yield* fromPromise(new Promise<string>((resolve) => {
      const s = net.connect(path);
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      s.on('close', () => resolve(got));
      s.write('GET /unix HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    }));
    assert.match(r, /\r\n\r\nhello \/unix$/);
    unix.close();
    const secure = yield* serveHttp(hello, '127.0.0.1', 0, { ssl: { key, cert } });
    const url = `https://127.0.0.1:${portOf(secure)}/tls`;
    const client = new HttpClient({ ssl: { ca: cert } });
    const res = yield* client.request('GET', url);
    assert.equal(yield* res.text(), 'hello /tls');
    const res2 = yield* client.request('GET', url);   // the same connection, kept alive
    assert.equal(yield* res2.text(), 'hello /tls');
    client.close();
    const strict = new HttpClient();   // system CAs: a self-signed certificate is refused
    yield* rejects(strict.request('GET', url), (e: unknown) => /self[- ]signed|unable to verify|certificate/i.test(String(e)));
    strict.close();
    secure.close();
  });
});

void test('response splitting is impossible: CR, LF and control bytes in names, values and reasons are refused; so is a bad client method', T, async () => {
  await go(function* () {
    const refused: string[] = [];
    const server = yield* serveHttp(function* (req, res) {
      for (const attempt of [
        () => res.setHeader('X-A', 'a\r\nSet-Cookie: evil=1'),
        () => res.setHeader('X-A\r\nSet-Cookie', 'evil=1'),
        () => res.appendHeader('X-B', 'nul\0'),
        () => res.setHeader('X-C', 'wide \u0100'),
        () => { res.reason = 'OK\r\nSet-Cookie: evil=1'; res.write('x'); },
      ]) {
        try { attempt(); } catch (e) { refused.push((e as Error).name); }
      }
      res.reason = null;
      res.setHeader('X-Fine', 'caf\u00e9');   // obs-text: one byte
      res.end(req.path);
    }, '127.0.0.1', 0, { sendDate: false });
    const r = yield* rawIn(portOf(server), 'GET /split HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(refused, ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError']);
    assert.equal(r.text, 'HTTP/1.1 200 OK\r\nX-Fine: caf\u00e9\r\nContent-Length: 6\r\nConnection: close\r\n\r\n/split');
    const client = new HttpClient();
    yield* rejects(client.request('GET /x HTTP/1.1\r\nHost: y\r\n\r\nGET', `http://127.0.0.1:${portOf(server)}/`), TypeError);
    client.close();
    server.close();
  });
});
