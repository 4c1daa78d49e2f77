import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type * as net from 'node:net';
import {
  type Coro, currentTask, type ExceptionContext, Future, getRunningLoop, LimitOverrunError, openConnection, sleep, startServer,
  type StreamReader, type StreamWriter, type Task,
} from '../../src/index.js';
import { go, portOf, rejects, str, waitPromise, which } from '../net_helpers.js';

function* echoLines(r: StreamReader, w: StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* r.readLine();
    if (line.length === 0) return;
    w.write(line);
    yield* w.drain();
  }
}

void test('openConnection/startServer: lines echo; the writer half-closes; the handler returning closes the connection', () => go(function* () {
  const server = yield* startServer(echoLines, '127.0.0.1', 0);
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server));
  w.writeLines(['one\n', 'two\n']);
  assert.equal(str(yield* r.readLine()), 'one\n');
  assert.equal(str(yield* r.readLine()), 'two\n');
  assert.equal(w.canWriteEof(), true);
  w.writeEof();
  assert.equal((yield* r.read()).length, 0);
  assert.ok(r.atEof());
  yield* w.waitClosed();
  assert.deepEqual(w.getExtraInfo('peername'), ['127.0.0.1', portOf(server)]);
  server.close();
  yield* server.waitClosed();
}));

void test('a handler task that is cancelled closes its connection', () => go(function* () {
  const handlers: Task<unknown>[] = [];
  const server = yield* startServer(function* (r) { handlers.push(currentTask()!); yield* r.readLine(); }, '127.0.0.1', 0);
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server));
  yield* sleep(20);
  assert.equal(handlers.length, 1);
  handlers[0]!.cancel();
  assert.equal((yield* r.read()).length, 0);   // EOF: the server closed
  w.close();
  server.close();
  yield* server.waitClosed();
}));

void test('a handler that throws: the exception handler hears of it and the connection is closed', () => {
  const errors: ExceptionContext[] = [];
  return go(function* () {
    const server = yield* startServer(function* () { yield* sleep(1); throw new Error('handler bug'); }, '127.0.0.1', 0);
    const [r, w] = yield* openConnection('127.0.0.1', portOf(server));
    assert.equal((yield* r.read()).length, 0);
    w.close();
    server.close();
    yield* server.waitClosed();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /client_connected_cb/);
    assert.equal((errors[0]!.exception as Error).message, 'handler bug');
  }, errors);
});

void test('drain waits while the peer does not read, then throws the connection\'s error when the peer resets', () => go(function* () {
  const sockets: net.Socket[] = [];
  const server = yield* startServer(function* (_r, w) {
    w.transport.pauseReading();
    sockets.push(w.getExtraInfo('socket') as net.Socket);
    yield* sleep(10_000);
  }, '127.0.0.1', 0);
  const [, w] = yield* openConnection('127.0.0.1', portOf(server));
  const chunk = new Uint8Array(256 * 1024);
  let blocked = false;
  for (let i = 0; i < 256 && !blocked; i++) {
    w.write(chunk);
    const d = getRunningLoop().createTask(w.drain());
    yield* sleep(2);
    blocked = !d.done();
    if (blocked) {
      sockets[0]!.resetAndDestroy();
      const e = yield* rejects(d, Error);
      assert.equal((e as NodeJS.ErrnoException).code, 'ECONNRESET');
    } else yield* d;
  }
  assert.ok(blocked, 'drain never waited');
  yield* rejects(w.drain(), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  yield* rejects(w.waitClosed(), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  server.close();
  server.abortClients();
}));

void test('a line over the limit throws LimitOverrunError over a real connection; the next line reads fine', () => go(function* () {
  const server = yield* startServer(function* (_r, w) { w.write(`${'x'.repeat(200)}\nshort\n`); yield* w.drain(); }, '127.0.0.1', 0);
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server), { limit: 64 });
  yield* rejects(r.readLine(), LimitOverrunError);
  assert.equal(str(yield* r.readLine()), 'short\n');
  w.close();
  server.close();
}));

void test('a Python asyncio client talks to a tulip stream server', { skip: !which('python3') }, () => go(function* () {
  const server = yield* startServer(function* (r, w) {
    const line = str(yield* r.readLine());
    w.write(`hello ${line.trim()} from tulip\n`);
    yield* w.drain();
  }, '127.0.0.1', 0);
  const script = `
import asyncio, sys
async def main():
    r, w = await asyncio.open_connection('127.0.0.1', ${portOf(server)})
    w.write(b'python\\n')
    await w.drain()
    print((await r.readline()).decode().strip())
    print('eof' if await r.read() == b'' else 'no eof')
    w.close()
    await w.wait_closed()
asyncio.run(asyncio.wait_for(main(), 10))
`;
  const out = yield* waitPromise(new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', script], { timeout: 15_000 }, (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout));
  }));
  assert.equal(out, 'hello python from tulip\neof\n');
  server.close();
  yield* server.waitClosed();
}));

void test('curl fetches from a tiny HTTP server written with startServer', { skip: !which('curl') }, () => go(function* () {
  const server = yield* startServer(function* (r, w) {
    const request = str(yield* r.readLine());
    for (;;) { const h = yield* r.readLine(); if (h.length <= 2) break; }
    const body = `you asked for ${request.split(' ')[1]}\n`;
    w.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    yield* w.drain();
  }, '127.0.0.1', 0);
  const out = yield* waitPromise(new Promise<string>((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${portOf(server)}/tulip`], (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout));
  }));
  assert.equal(out, 'you asked for /tulip\n');
  server.close();
  yield* server.waitClosed();
}));

void test('waitClosed returns once the connection is closed by this side', () => go(function* () {
  const got = new Future<string>({ loop: getRunningLoop(), description: 'server got' });
  const server = yield* startServer(function* (r) { got.setResult(str(yield* r.read())); }, '127.0.0.1', 0);
  const [, w] = yield* openConnection('127.0.0.1', portOf(server));
  w.write('bye');
  w.close();
  assert.equal(w.isClosing(), true);
  yield* w.waitClosed();
  assert.equal(yield* got, 'bye');
  server.close();
  yield* server.waitClosed();
}));
