/**
 * The HTTP client against other servers (node:http, Python's http.server)
 * and its own: keep-alive reuse, streamed bodies both ways, the pool's
 * limits, cancellation discarding the connection, redirects, limits and
 * malformed responses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import {
  createTask, fromPromise, gather, getRunningLoop, sleep, StreamReader, timeout, TimeoutError, type Coro,
} from '../../../src/index.js';
import { HttpClient, HttpError, serveHttp, type BodyWriter } from '../../../src/protocols/http/index.js';
import { go, portOf, rejects, which } from '../../net_helpers.js';

const T = { timeout: 30_000 };

/** A node:http server for the test; `conns` counts the connections it accepted. */
function* nodeServer(handler: http.RequestListener): Coro<{ server: http.Server; port: number; conns: () => number }> {
  const server = http.createServer(handler);
  let n = 0;
  server.on('connection', () => { n++; });
  yield* fromPromise(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  return { server, port: (server.address() as net.AddressInfo).port, conns: () => n };
}

void test('against node:http: keep-alive reuse, a streamed upload, a chunked download, HEAD, JSON', T, async () => {
  await go(function* () {
    const { server, port, conns } = yield* nodeServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => {
        if (req.url === '/chunked') { res.write('a'); res.write('b'); res.end('c'); return; }
        if (req.url === '/json') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ got: n, te: req.headers['transfer-encoding'] ?? null })); return; }
        res.setHeader('x-len', String(n));
        res.end(`${req.method} ${n}`);
      });
    });
    const client = new HttpClient();
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 3; i++) assert.equal(yield* (yield* client.request('GET', `${base}/`)).text(), 'GET 0');
    const big = new Uint8Array(1 << 20);
    const up = yield* client.request('POST', `${base}/json`, { body: function* (w: BodyWriter) { for (let i = 0; i < 8; i++) { w.write(big); yield* w.drain(); } } });
    assert.deepEqual(yield* up.json(), { got: 8 << 20, te: 'chunked' });
    const reader = new StreamReader();
    reader.feedData(new TextEncoder().encode('from a stream reader'));
    reader.feedEof();
    assert.equal(yield* (yield* client.request('PUT', `${base}/`, { body: reader })).text(), 'PUT 20');
    assert.equal(yield* (yield* client.request('POST', `${base}/`, { body: ['a', new Uint8Array([98])] })).text(), 'POST 2');
    const ch = yield* client.request('GET', `${base}/chunked`);
    assert.equal(ch.headers.get('Transfer-Encoding'), 'chunked');
    assert.equal(yield* ch.text(), 'abc');
    const head = yield* client.request('HEAD', `${base}/`);
    assert.equal(head.headers.get('x-len'), '0');
    assert.equal((yield* head.bytes()).length, 0);
    assert.deepEqual(yield* (yield* client.request('POST', `${base}/json`, { json: { a: 1 } })).json(), { got: 7, te: null });
    assert.equal(conns(), 1, 'every request reused the one connection');
    client.close();
    server.close();
  });
});

void test('against Python\'s http.server: an HTTP/1.0 response read to the close, then a fresh connection', { ...T, skip: !which('python3') }, async () => {
  await go(function* () {
    const py = spawn('python3', ['-c', `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("python says " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.path == "/length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = Number(yield* fromPromise(new Promise<string>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(d.toString())))));
      const client = new HttpClient();
      for (const path of ['/close', '/length', '/close']) {
        const res = yield* client.request('GET', `http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200);
        assert.equal(res.version, '1.0');
        assert.equal(yield* res.text(), `python says ${path}`);
      }
      client.close();
    } finally {
      py.kill();
    }
  });
});

void test('the pool: at most maxConnectionsPerOrigin at once, the rest wait their turn; every request is answered', T, async () => {
  await go(function* () {
    let active = 0, peak = 0;
    const server = yield* serveHttp(function* (_req, res) {
      active++;
      peak = Math.max(peak, active);
      try { yield* sleep(30); res.end('ok'); } finally { active--; }
    }, '127.0.0.1', 0);
    const client = new HttpClient({ maxConnectionsPerOrigin: 2 });
    const url = `http://127.0.0.1:${portOf(server)}/`;
    const results = yield* gather(Array.from({ length: 7 }, () => (function* (): Coro<string> {
      return yield* (yield* client.request('GET', url)).text();
    })()));
    assert.deepEqual(results, Array(7).fill('ok'));
    assert.equal(peak, 2);
    assert.equal(server.connections, 2);
    client.close();
    server.close();
  });
});

void test('a timeout around a request cancels it: the connection is discarded (the server\'s handler is halted), the next request gets a fresh one', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/slow') { try { yield* sleep(5000); } finally { log.push('halted'); } }
      res.end('ok');
    }, '127.0.0.1', 0);
    const client = new HttpClient();
    const base = `http://127.0.0.1:${portOf(server)}`;
    assert.equal(yield* (yield* client.request('GET', `${base}/`)).text(), 'ok');
    yield* rejects(timeout(100, () => client.request('GET', `${base}/slow`)), TimeoutError);
    const end = getRunningLoop().time() + 3000;
    while (log.length === 0 && getRunningLoop().time() < end) yield* sleep(5);
    assert.deepEqual(log, ['halted']);
    assert.equal(yield* (yield* client.request('GET', `${base}/`)).text(), 'ok');
    // a timeout inside text(): the same
    const res = yield* client.request('GET', `${base}/`);
    assert.equal(res.status, 200);
    client.close();
    server.close();
  });
});

void test('a task that ends with a response unread aborts its connection', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (_req, res) { res.write('part'); yield* sleep(5000); res.end(); }, '127.0.0.1', 0);
    const client = new HttpClient();
    const url = `http://127.0.0.1:${portOf(server)}/`;
    const t = createTask((function* () { const r = yield* client.request('GET', url); return r.status; })());
    assert.equal(yield* t, 200);
    const end = getRunningLoop().time() + 3000;
    while (server.connections > 0 && getRunningLoop().time() < end) yield* sleep(5);
    assert.equal(server.connections, 0);
    client.close();
    server.close();
  });
});

void test('redirects are opt-in; 303 turns a POST into a GET; a body over the limit is 413, and its connection still serves', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/old') { res.status = 302; res.setHeader('Location', '/new'); res.end('moved'); return; }
      if (req.path === '/form') { res.status = 303; res.setHeader('Location', '/new'); res.end(); return; }
      if (req.path === '/big') { res.end(new Uint8Array(100_000)); return; }
      res.end(`${req.method} ${req.path} ${(yield* req.text()).length}`);
    }, '127.0.0.1', 0);
    const client = new HttpClient({ bodyLimit: 50_000 });
    const base = `http://127.0.0.1:${portOf(server)}`;
    const plain = yield* client.request('GET', `${base}/old`);
    assert.equal(plain.status, 302);
    assert.equal(yield* plain.text(), 'moved');
    const followed = yield* client.request('GET', `${base}/old`, { redirect: true });
    assert.equal(followed.status, 200);
    assert.equal(followed.url, `${base}/new`);
    assert.equal(yield* followed.text(), 'GET /new 0');
    const form = yield* client.request('POST', `${base}/form`, { body: 'x=1', redirect: 3 });
    assert.equal(yield* form.text(), 'GET /new 0');
    const big = yield* client.request('GET', `${base}/big`);
    const e = (yield* rejects(big.text(), HttpError)) as HttpError;
    assert.equal(e.status, 413);
    assert.equal(yield* (yield* client.request('GET', `${base}/`)).text(), 'GET / 0');   // on a fresh connection
    client.close();
    server.close();
  });
});

void test('malformed or missing responses are HttpError 502; a server that closes a kept-alive connection is retried once', T, async () => {
  const answers = ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', 'HTTP/1.1 2x0 OK\r\n\r\n', ''];
  await go(function* () {
    let i = 0;
    const bad = net.createServer((s) => { s.once('data', () => { s.end(answers[i++ % answers.length]!); }); });
    yield* fromPromise(new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve)));
    const client = new HttpClient();
    const url = `http://127.0.0.1:${(bad.address() as net.AddressInfo).port}/`;
    for (let k = 0; k < answers.length; k++) {
      const e = (yield* rejects(client.request('POST', url, { body: 'x' }), HttpError)) as HttpError;
      assert.equal(e.status, 502);
    }
    bad.close();
    // The server closes idle connections after 100 ms; the client keeps them 4 s: a reuse meets a closed connection.
    const server = yield* serveHttp(function* (_req, res) { res.end('fresh'); }, '127.0.0.1', 0, { keepAliveTimeout: 100 });
    const u = `http://127.0.0.1:${portOf(server)}/`;
    assert.equal(yield* (yield* client.request('GET', u)).text(), 'fresh');
    yield* sleep(300);
    assert.equal(yield* (yield* client.request('GET', u)).text(), 'fresh');
    client.close();
    yield* rejects(client.request('GET', u), /closed/);
    server.close();
  });
});
