/** handleNodeRequests: node:http (and Express) in front of tulip coroutines, driven by real curl processes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import {
  createSubprocessExec, createTask, type ExceptionContext, fromReadable, handleNodeRequests, once, sleep, type Coro, type Task,
} from '../../src/index.js';
import { go } from '../net_helpers.js';

const T = { timeout: 30_000 };

/** Run curl with `args` and return [exit code, stdout]. */
function* curl(...args: string[]): Coro<[number, string]> {
  const p = yield* createSubprocessExec('curl', ['-s', '-S', ...args], { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' });
  const [out] = yield* p.communicate();
  return [p.returncode!, Buffer.from(out!).toString()];
}

function* listen(server: HttpServer): Coro<string> {
  server.listen(0, '127.0.0.1');
  yield* once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function* shut(server: HttpServer): Coro<void> {
  server.closeAllConnections();
  server.close();
  yield* once(server, 'close');
}

void test('each request is a coroutine: it can sleep, read the body with fromReadable and answer', T, async () => {
  await go(function* () {
    const listener = handleNodeRequests(function* (req, res) {
      yield* sleep(5);
      const body = yield* fromReadable(req).read(-1);
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${Buffer.from(body).toString().toUpperCase()}`);
    });
    const server = createServer(listener);
    const url = yield* listen(server);
    assert.deepEqual(yield* curl(`${url}/a`), [0, 'GET /a ']);
    assert.deepEqual(yield* curl('-d', 'héllo', `${url}/b`), [0, 'POST /b HÉLLO']);
    // several at once
    const many = Array.from({ length: 8 }, (_, i) => createTask(curl('-d', `n${i}`, `${url}/m`)));
    for (const [i, t] of many.entries()) assert.deepEqual(yield* t, [0, `POST /m N${i}`]);
    assert.equal(listener.active, 0);
    yield* shut(server);
    yield* listener.close();
  });
});

void test('a listener made before any loop runs serves on the loop running when requests come', T, async () => {
  const listener = handleNodeRequests(function* (_req, res) { yield* sleep(1); res.end('late-bound'); });
  const server = createServer(listener);
  await go(function* () {
    const url = yield* listen(server);
    assert.deepEqual(yield* curl(url), [0, 'late-bound']);
    yield* shut(server);
    yield* listener.close();
  });
});

void test('a client that disconnects halts its request\'s task, whose finally runs', T, async () => {
  await go(function* () {
    const log: string[] = [];
    let started = 0;
    const listener = handleNodeRequests(function* (_req, res) {
      started++;
      try {
        yield* sleep(20_000);
        res.end('too late');
      } finally {
        log.push('cleanup');
      }
    });
    const server = createServer(listener);
    const url = yield* listen(server);
    const [code] = yield* curl('--max-time', '0.5', url);
    assert.equal(code, 28);   // curl: timed out
    for (let i = 0; i < 200 && (log.length === 0 || listener.active > 0); i++) yield* sleep(10);
    assert.deepEqual(log, ['cleanup']);
    assert.equal(started, 1);
    assert.equal(listener.active, 0);
    yield* shut(server);
  });
});

void test('close() halts the running requests, waits for their cleanup, and refuses new ones with 503', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const listener = handleNodeRequests(function* (req, res) {
      try {
        res.writeHead(200);   // headers sent: a halted request's connection is destroyed
        if (req.url === '/early') res.write('partial ');
        yield* sleep(20_000);
      } finally {
        yield* sleep(30);    // cleanup that waits
        log.push(`cleaned ${req.url}`);
      }
    });
    const server = createServer(listener);
    const url = yield* listen(server);
    const a = createTask(curl(`${url}/early`));
    const b = createTask(curl(`${url}/late`));
    while (listener.active < 2) yield* sleep(5);
    yield* listener.close();
    assert.deepEqual(log.sort(), ['cleaned /early', 'cleaned /late']);
    assert.equal(listener.active, 0);
    const [codeA, outA] = yield* a;
    assert.notEqual(codeA, 0);   // the response was cut off
    assert.equal(outA, 'partial ');
    assert.notEqual((yield* b)[0], 0);
    assert.deepEqual(yield* curl('-o', '/dev/null', '-w', '%{http_code}', url), [0, '503']);
    yield* shut(server);
  });
});

void test('a halted request whose headers were not sent gets 503; a failing one 500 and the exception handler hears of it', T, async () => {
  const errors: ExceptionContext[] = [];
  await go(function* () {
    let waiting: Task<unknown> | undefined;
    const listener = handleNodeRequests(function* (req, res) {
      if (req.url === '/boom') throw new Error('handler broke');
      if (req.url === '/forgot') { res.statusCode = 204; return; }   // never ends the response
      waiting = createTask(sleep(20_000));
      yield* waiting;
    });
    const server = createServer(listener);
    const url = yield* listen(server);
    assert.deepEqual(yield* curl('-o', '/dev/null', '-w', '%{http_code}', `${url}/boom`), [0, '500']);
    assert.deepEqual(yield* curl('-o', '/dev/null', '-w', '%{http_code}', `${url}/forgot`), [0, '204']);
    const slow = createTask(curl('-o', '/dev/null', '-w', '%{http_code}', `${url}/slow`));
    while (listener.active < 1) yield* sleep(5);
    yield* listener.close();
    assert.deepEqual(yield* slow, [0, '503']);
    waiting?.cancel();
    yield* shut(server);
  }, errors);
  assert.equal(errors.length, 1);
  assert.match(String((errors[0]!.exception as Error).message), /handler broke/);
  assert.match(errors[0]!.message, /GET \/boom/);
});

void test('behind Express and its middleware: params, headers set by middleware, disconnects', T, async () => {
  await go(function* () {
    const log: string[] = [];
    const app = express();
    app.use((req, res, next) => { res.setHeader('x-seen-by', 'middleware'); log.push(`mw ${req.path}`); next(); });
    const listener = handleNodeRequests<Request, Response>(function* (req, res) {
      if (req.params['id'] === 'slow') {
        try { yield* sleep(20_000); } finally { log.push('slow halted'); }
      }
      yield* sleep(1);
      res.json({ id: req.params['id'], q: req.query['q'] });
    });
    app.get('/items/:id', listener);
    const server = createServer(app);
    const url = yield* listen(server);
    assert.deepEqual(yield* curl(`${url}/items/42?q=x`), [0, '{"id":"42","q":"x"}']);
    const [, headers] = yield* curl('-D', '-', '-o', '/dev/null', `${url}/items/7`);
    assert.match(headers, /x-seen-by: middleware/i);
    const [code] = yield* curl('--max-time', '0.5', `${url}/items/slow`);
    assert.equal(code, 28);
    for (let i = 0; i < 200 && !log.includes('slow halted'); i++) yield* sleep(10);
    assert.ok(log.includes('slow halted'));
    assert.deepEqual(log.filter((l) => l.startsWith('mw')), ['mw /items/42', 'mw /items/7', 'mw /items/slow']);
    yield* shut(server);
    yield* listener.close();
  });
});
