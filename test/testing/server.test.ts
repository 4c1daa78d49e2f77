/** The virtual server: the Server API of API.md. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, fromPromise, sleep } from '../../src/index.js';
import { runVirtual, VirtualServer } from '../../src/testing/index.js';
import { Echo, listen, loop, Recorder } from './helpers.js';

void test('server: waitClosed waits for its connections; closeClients, serveForever (halting it ends the connections too), startServing', async () => {
  await runVirtual(function* () {
    const server = yield* loop().createServer(() => new Echo(), 'localhost', 0, { startServing: false });
    const [, port] = server.addresses()[0] as [string, number];
    assert.equal(server.isServing(), false);
    let code = '';
    try { yield* loop().createConnection(() => new Echo(), '127.0.0.1', port); } catch (e) { code = (e as { code: string }).code; }
    assert.equal(code, 'ECONNREFUSED');
    const forever = createTask(server.serveForever());
    yield* sleep(1);
    assert.equal(server.isServing(), true);
    const [, p1] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    const [, p2] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    server.close();
    assert.equal(server.isServing(), false);
    yield* sleep(1);
    assert.equal(forever.cancelled(), true);   // close() ends serveForever() and leaves the connections open
    const closed = createTask(server.waitClosed());
    yield* sleep(10);
    assert.equal(closed.done(), false);
    server.closeClients();
    yield* closed;
    yield* p1.lost; yield* p2.lost;
    // the port is free again
    yield* loop().createServer(() => new Echo(), '127.0.0.1', port);
  });
});

void test('a cancelled connection attempt resets the accepted end', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10 });
    yield* net.onHost('server', () => listen(() => new Recorder(trace, 'S'), 'server', 7));
    const attempt = createTask(loop().createConnection(() => new Recorder(trace, 'C'), 'server', 7));
    yield* sleep(15);
    attempt.cancel();
    yield* sleep(50);
    assert.equal(attempt.cancelled(), true);
  });
  assert.deepEqual(trace, ['S made', 'S lost ECONNRESET']);
});

void test('server: wildcard addresses, abortClients, misuse errors, no TLS', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('srv', ['10.9.0.1', 'fd00::1']);
    const server = yield* net.onHost('srv', () => loop().createServer(() => new Recorder(trace, 'S'), null, 80));
    assert.deepEqual(server.addresses(), [['0.0.0.0', 80]]);
    const [, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'fd00::1', 80);
    server.abortClients();
    yield* p.lost;
    const forever = createTask(server.serveForever());
    yield* sleep(0);
    let err: unknown;
    try { yield* server.serveForever(); } catch (e) { err = e; }
    assert.match(String(err), /already being awaited/);
    server.close();
    yield* sleep(0);
    assert.equal(forever.cancelled(), true);
    assert.throws(() => server.startServing(), /closed/);
    yield* server.waitClosed();
    let tls: unknown;
    try { yield* loop().createServer(() => new Echo(), 'localhost', 0, { ssl: {} }); } catch (e) { tls = e; }
    assert.equal((tls as Error).name, 'NotImplementedError');
  });
  assert.deepEqual(trace, ['S made', 'C made', 'S lost', 'C lost ECONNRESET']);
});

void test('a server protocol factory that throws: the error is reported and the client sees a reset', async () => {
  const errors: unknown[] = [];
  const trace: string[] = [];
  await runVirtual(function* () {
    loop().setExceptionHandler((_l, ctx) => { errors.push(ctx.exception); });
    const [, port] = yield* listen(() => { throw new Error('no protocol today'); });
    const [, p] = yield* loop().createConnection(() => new Recorder(trace, 'C'), 'localhost', port);
    yield* p.lost;
  });
  assert.equal((errors[0] as Error).message, 'no protocol today');
  assert.deepEqual(trace, ['C made', 'C lost ECONNRESET']);
});

void test('server: Symbol.dispose stops listening; Symbol.asyncDispose also closes the clients and settles once they are gone', async () => {
  await runVirtual(function* () {
    const a = yield* loop().createServer(() => new Echo(), '127.0.0.1', 0);
    a[Symbol.dispose]();
    assert.equal(a.isServing(), false);

    const server = (yield* loop().createServer(() => new Echo(), '127.0.0.1', 0)) as VirtualServer;
    const [, port] = server.addresses()[0] as [string, number];
    const [, p1] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    const [, p2] = yield* loop().createConnection(() => new Recorder([], 'C'), '127.0.0.1', port);
    yield* sleep(1);
    assert.equal([...server._connections()].length, 2);
    yield* fromPromise(server[Symbol.asyncDispose]());
    assert.equal([...server._connections()].length, 0);
    assert.equal(server.isServing(), false);
    yield* p1.lost; yield* p2.lost;   // the clients saw their connections close
    // nothing left: a second dispose settles at once
    yield* fromPromise(server[Symbol.asyncDispose]());
  });
});
