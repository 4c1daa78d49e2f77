/**
 * examples/http_server.js, as its header and the README promise, run as a
 * real process against the build (npm test builds first): every route,
 * `halted /slow` when a client leaves, and exit 0 within 1 s of SIGINT or
 * SIGTERM with clients connected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { fromPromise, JsonRpcProtocol, sleep, getRunningLoop, type Coro } from '../../../src/index.js';
import { createHttpConnection, HttpClient, type BodyWriter } from '../../../src/protocols/http/index.js';
import { go } from '../../net_helpers.js';
import { raw, statuses } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/http_server.js', import.meta.url));
const T = { timeout: 60_000 };

interface Running { child: ChildProcess; port: number; out: () => string; exited: Promise<{ code: number | null; signal: string | null }> }

function* start(): Coro<Running> {
  const child = spawn(process.execPath, [EXAMPLE, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = yield* fromPromise(new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`the example exited: ${out}`)));
  }));
  return { child, port, out: () => out, exited };
}

function* waitFor(cond: () => boolean, ms = 5000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  while (!cond()) { assert.ok(getRunningLoop().time() < end, 'not in time'); yield* sleep(10); }
}

void test('examples/http_server.js: /hello, /echo (both framings, any size), /slow, /rpc, 404 and 405', T, async () => {
  await go(function* () {
    const ex = yield* start();
    try {
      const base = `http://127.0.0.1:${ex.port}`;
      const client = new HttpClient();
      const hello = yield* client.request('GET', `${base}/hello`);
      assert.equal(hello.status, 200);
      assert.equal(hello.headers.get('content-type'), 'text/plain');
      assert.equal(yield* hello.text(), 'hello');
      // echo: Content-Length in and out
      const data = new Uint8Array(3 << 20).map((_, i) => i % 251);
      const e1 = yield* client.request('POST', `${base}/echo`, { body: data });
      assert.equal(e1.headers.get('content-length'), String(data.length));
      assert.ok(Buffer.from(yield* e1.bytes({ limit: 8 << 20 })).equals(data));
      // echo: chunked in and out
      const e2 = yield* client.request('POST', `${base}/echo`, { body: function* (w: BodyWriter) { for (let i = 0; i < 3; i++) { w.write(data.subarray(i << 20, (i + 1) << 20)); yield* w.drain(); } } });
      assert.equal(e2.headers.get('transfer-encoding'), 'chunked');
      assert.ok(Buffer.from(yield* e2.bytes({ limit: 8 << 20 })).equals(data));
      const slow = yield* client.request('GET', `${base}/slow?ms=30`);
      assert.equal(yield* slow.text(), 'slow');
      // JSON-RPC through the HTTP transport
      const [t, rpc] = yield* createHttpConnection(() => new JsonRpcProtocol(), `${base}/rpc`, { client });
      assert.equal(yield* rpc.call<number>('add', [2, 40]), 42);
      assert.deepEqual(yield* rpc.call('echo', [{ x: [1, 2] }]), { x: [1, 2] });
      t.close();
      assert.equal((yield* client.request('GET', `${base}/rpc`)).status, 405);
      assert.equal((yield* client.request('POST', `${base}/hello`, { body: 'x' })).status, 405);
      assert.equal((yield* client.request('GET', `${base}/nothing`)).status, 404);
      const big = yield* fromPromise(raw(ex.port, `POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 << 20}\r\n\r\n`));
      assert.deepEqual(statuses(big.text), [413]);
      // A client that leaves /slow early: its handler is halted.
      const s = net.connect(ex.port, '127.0.0.1');
      s.write('GET /slow?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n');
      yield* sleep(100);
      s.destroy();
      yield* waitFor(() => ex.out().includes('halted /slow\n'));
      client.close();
    } finally {
      ex.child.kill('SIGKILL');
    }
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  void test(`examples/http_server.js exits 0 within 1 s of ${signal} with clients connected`, T, async () => {
    await go(function* () {
      const ex = yield* start();
      // an idle keep-alive connection, a request in /slow, and an upload in progress
      const idle = net.connect(ex.port, '127.0.0.1');
      idle.write('GET /hello HTTP/1.1\r\nHost: x\r\n\r\n');
      const waiting = net.connect(ex.port, '127.0.0.1');
      waiting.write('GET /slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n');
      const upload = net.connect(ex.port, '127.0.0.1');
      upload.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      for (const s of [idle, waiting, upload]) s.on('error', () => undefined);
      yield* sleep(300);
      const t0 = performance.now();
      ex.child.kill(signal);
      const { code } = yield* fromPromise(ex.exited);
      const took = performance.now() - t0;
      for (const s of [idle, waiting, upload]) s.destroy();
      assert.equal(code, 0);
      assert.ok(took < 1000, `exited ${took.toFixed(0)} ms after ${signal}`);
      assert.match(ex.out(), /halted \/slow\n/);
    });
  });
}
