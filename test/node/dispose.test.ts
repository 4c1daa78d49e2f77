/**
 * `using` and `await using` on what must be closed: a `Server` (dispose:
 * close(); asyncDispose: close() + closeClients() + waitClosed()), every
 * transport and a `StreamWriter` (close()), a `Process` (kill if it runs;
 * asyncDispose also waits until it is reaped) and a `ThreadPoolExecutor`
 * (shutdown). Synchronous `using` inside coroutines (it also disposes when
 * the task is halted), `await using` in async functions. Real sockets,
 * processes and worker threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import ts from 'typescript';
import {
  createSubprocessExec, createTask, type Coro, getRunningLoop, openConnection, type Process, type Server, sleep,
  ThreadPoolExecutor, type Transport,
} from '../../src/index.js';
import { go, portOf, tempDir, waitPromise } from '../net_helpers.js';

const T = { timeout: 20_000 };

function isRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** A server whose connections echo and count themselves out. */
function* echoServer(lost: { n: number }): Coro<Server> {
  return yield* getRunningLoop().createServer(() => {
    let t: Transport;
    return {
      connectionMade: (x: Transport) => { t = x; },
      dataReceived: (d: Uint8Array) => { t.write(d); },
      connectionLost: () => { lost.n++; },
    };
  }, '127.0.0.1', 0);
}

void test('using a Server in a coroutine: close() when the block ends (no more listening; the accepted connection carries on)', T, () => go(function* () {
  const lost = { n: 0 };
  let port: number;
  let client: Transport;
  const got: string[] = [];
  {
    using server = yield* echoServer(lost);
    port = portOf(server);
    [client] = yield* getRunningLoop().createConnection(() => ({ dataReceived: (d: Uint8Array) => { got.push(Buffer.from(d).toString()); } }), '127.0.0.1', port);
  }
  assert.equal(yield* waitPromise(isRefused(port)), true);
  client.write('still echoing');
  for (let i = 0; i < 500 && got.join('') !== 'still echoing'; i++) yield* sleep(2);
  assert.equal(got.join(''), 'still echoing');
  client.close();
}));

void test('await using a Server in an async function: close(), closeClients() and the wait until every connection is gone', T, () => go(function* () {
  const lost = { n: 0 };
  const loop = getRunningLoop();
  let port = 0;
  async function serve(): Promise<void> {
    await using server = await loop.createTask(echoServer(lost));
    port = portOf(server);
    await loop.createTask(loop.createConnection(() => ({}), '127.0.0.1', port));
    await loop.createTask(sleep(10));
  }
  yield* createTask(serve());
  assert.equal(lost.n, 1, 'the accepted connection was gone when the block was left');
  assert.equal(yield* waitPromise(isRefused(port)), true);
}));

void test('using a transport or a StreamWriter: closed when the block ends, also when the task is halted inside it', T, () => go(function* () {
  const lost = { n: 0 };
  const server = yield* echoServer(lost);
  const loop = getRunningLoop();
  let t1: Transport;
  {
    using t = (yield* loop.createConnection(() => ({}), '127.0.0.1', portOf(server)))[0];
    t1 = t;
  }
  assert.equal(t1.isClosing(), true);
  let w1: { isClosing(): boolean } | null = null;
  const halted = createTask(function* () {
    using w = (yield* openConnection('127.0.0.1', portOf(server)))[1];
    w1 = w;
    yield* sleep(60_000);
  }());
  for (let i = 0; i < 500 && w1 === null; i++) yield* sleep(2);
  halted.cancel();
  try { yield* halted; } catch { /* cancelled */ }
  assert.equal(w1!.isClosing(), true);
  for (let i = 0; i < 500 && lost.n < 2; i++) yield* sleep(2);
  assert.equal(lost.n, 2, 'the server saw both connections end');
  server.close();
  yield* server.waitClosed();
}));

void test('using a datagram transport: closed when the block ends', T, () => go(function* () {
  let lost = false;
  let t1: { isClosing(): boolean };
  {
    using t = (yield* getRunningLoop().createDatagramEndpoint(() => ({ datagramReceived: () => {}, connectionLost: () => { lost = true; } }), { localAddr: ['127.0.0.1', 0] }))[0];
    t1 = t;
  }
  assert.equal(t1.isClosing(), true);
  for (let i = 0; i < 500 && !lost; i++) yield* sleep(2);
  assert.equal(lost, true);
}));

void test('using a Process kills it if it still runs; await using also waits until it is reaped; a finished one is left alone', T, () => go(function* () {
  let p1: Process;
  {
    using p = yield* createSubprocessExec('sleep', ['30']);
    p1 = p;
  }
  assert.equal(yield* p1.wait(), -9);
  const loop = getRunningLoop();
  let p2: Process | null = null;
  async function spawnAndLeave(): Promise<void> {
    await using p = await loop.createTask(createSubprocessExec('sleep', ['30']));
    p2 = p;
  }
  yield* createTask(spawnAndLeave());
  assert.equal(p2!.returncode, -9, 'reaped when the block was left');
  {
    using p = yield* createSubprocessExec('true', []);
    p1 = p;
    assert.equal(yield* p.wait(), 0);
  }
  assert.equal(p1.returncode, 0);
}));

void test('using / await using a ThreadPoolExecutor shuts it down', T, () => go(function* () {
  const fixture = { module: new URL('../fixtures/worker_fns.mjs', import.meta.url) };
  const loop = getRunningLoop();
  let pool1: ThreadPoolExecutor;
  {
    using pool = new ThreadPoolExecutor({ maxThreads: 1 });
    pool1 = pool;
    assert.equal(yield* loop.runInExecutor<number>(pool, fixture, 1, 2), 3);
  }
  yield* waitPromise(pool1.shutdown());   // the same shutdown, already under way
  assert.equal(pool1.threads, 0);
  let pool2: ThreadPoolExecutor | null = null;
  async function work(): Promise<number> {
    await using pool = new ThreadPoolExecutor({ maxThreads: 1 });
    pool2 = pool;
    return await loop.runInExecutor<number>(pool, fixture, 2, 3);
  }
  assert.equal(yield* createTask(work()), 5);
  assert.equal(pool2!.threads, 0, 'every worker exited when the block was left');
  yield* waitPromise(pool2!.submit(fixture, 1, 1).then(() => assert.fail('ran after shutdown'), (e: Error) => assert.match(e.message, /shut down/)));
}));

void test('TypeScript\'s own downlevel of using / await using (target ES2022) works against the built package on this Node', T, async () => {
  const dist = new URL('../../dist/index.js', import.meta.url);
  assert.ok(existsSync(dist), 'run npm run build first');
  assert.equal(typeof Symbol.dispose, 'symbol');
  assert.equal(typeof Symbol.asyncDispose, 'symbol');
  const source = `
    import { run, getRunningLoop, createTask, sleep } from ${JSON.stringify(dist.href)};
    const out = [];
    await run(function* () {
      const loop = getRunningLoop();
      function* inner() {
        using server = yield* loop.createServer(() => ({}), '127.0.0.1', 0);
        out.push('serving ' + server.isServing());
        return server;
      }
      const s = yield* inner();
      out.push('after block ' + s.isServing());
      async function a() {
        await using s2 = await loop.createTask(loop.createServer(() => ({}), '127.0.0.1', 0));
        out.push('async serving ' + s2.isServing());
        return s2;
      }
      const s2 = yield* createTask(a());
      out.push('after async block ' + s2.isServing());
      yield* sleep(1);
    }, { handleSignals: false });
    console.log(out.join('; '));
  `;
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  assert.match(js, /__addDisposableResource/, 'TypeScript lowered the using declarations');
  const file = join(tempDir(), 'using.mjs');
  writeFileSync(file, js);
  const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(out.trim(), 'serving true; after block false; async serving true; after async block false');
});
