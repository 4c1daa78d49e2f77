/**
 * HTTP on the virtual network (the protocol code has no `node:` import, so
 * it runs on every loop): a client and a server on two hosts with latency
 * and jitter, a partition that a timeout gives up on, the heal, and
 * slowloris cut at the default 10 s header deadline, all in virtual time.
 * A run is a pure function of its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, gather, getRunningLoop, sleep, timeout, TimeoutError, type Coro, type Protocol, type Transport } from '../../../src/index.js';
import { HttpClient, serveHttp } from '../../../src/protocols/http/index.js';
import { runVirtual, type TestEventLoop } from '../../../src/testing/index.js';

function* scenario(): Coro<string[]> {
  const loop = getRunningLoop() as TestEventLoop;
  const net = loop.network;
  const trace: string[] = [];
  const at = (what: string): void => { trace.push(`${loop.time().toFixed(3)} ${what}`); };
  net.addHost('server');
  net.addHost('client');
  net.setLink('client', 'server', { latency: 20, jitter: 15 });
  const halted: string[] = [];
  const server = yield* net.onHost('server', () => serveHttp(function* (req, res) {
    try {
      yield* sleep(Math.floor(loop.random() * 50));
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.path} from ${String((req.transport.getExtraInfo('peername') as [string, number])[0])}`);
    } finally {
      if (!res.finished) halted.push(req.path);
    }
  }, 'server', 8080, { sendDate: false }));
  yield* net.onHost('client', function* () {
    const client = new HttpClient({ maxConnectionsPerOrigin: 2 });
    const get = function* (path: string): Coro<string> {
      const res = yield* client.request('GET', `http://server:8080${path}`);
      return `${res.status} ${yield* res.text()}`;
    };
    const answers = yield* gather(['/a', '/b', '/c', '/d'].map((p) => get(p)));
    at(`answers ${answers.join(', ')}`);
    // A partition holds the request; the caller's timeout gives up on it and the connection is discarded.
    net.partition('client', 'server');
    try {
      yield* timeout(1000, () => get('/cut'));
      at('no timeout?');
    } catch (e) {
      assert.ok(e instanceof TimeoutError);
      at('timed out in the partition');
    }
    net.heal('client', 'server');
    at(`after the heal: ${yield* get('/healed')}`);
    client.close();
    // Slowloris: one byte a second, cut with 408 at the default 10 s header deadline.
    const received: string[] = [];
    const slow: Protocol & { t?: Transport } = {
      connectionMade(t: Transport) { this.t = t; },
      dataReceived(d: Uint8Array) { received.push(new TextDecoder().decode(d)); },
      connectionLost() { at(`slowloris connection closed, got ${JSON.stringify(received.join('').split('\r\n')[0])}`); },
    };
    const [t] = yield* loop.createConnection(() => slow, 'server', 8080);
    at('slowloris connected');
    const bytes = 'GET / HTTP/1.1\r\nHost: server\r\nX-Slow: '.concat('a'.repeat(100));
    const writer = createTask((function* () { for (const b of bytes) { if (t.isClosing()) return; t.write(b); yield* sleep(1000); } })());
    while (!t.isClosing()) yield* sleep(100);
    yield* writer;
  });
  yield* sleep(5000);   // whatever the server still does (the halted request's cleanup)
  at(`halted handlers: ${halted.join(', ')}`);
  server.close();
  yield* server.waitClosed();
  return trace;
}

void test('virtual network: latency, jitter, a partition and slowloris, deterministic by seed', { timeout: 30_000 }, async () => {
  const a = await runVirtual(scenario, { seed: 7 });
  const b = await runVirtual(scenario, { seed: 7 });
  const c = await runVirtual(scenario, { seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const lines = a.map((l) => l.replace(/^[\d.]+ /, ''));
  assert.deepEqual(lines, [
    'answers 200 /a from 10.0.0.2, 200 /b from 10.0.0.2, 200 /c from 10.0.0.2, 200 /d from 10.0.0.2',
    'timed out in the partition',
    'after the heal: 200 /healed from 10.0.0.2',
    'slowloris connected',
    'slowloris connection closed, got "HTTP/1.1 408 Request Timeout"',
    'halted handlers: /cut',
  ]);
  // The 408 came at the 10 s deadline after the connection, give or take the link's one-way delays (20-35 ms).
  const time = (i: number): number => Number(a[i]!.split(' ')[0]);
  const cut = time(4) - time(3);
  assert.ok(Math.abs(cut - 10_000) < 35, `the head was cut after ${cut} ms`);
});
