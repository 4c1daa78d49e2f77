/**
 * A server owns its connections: halting the task in `serveForever()` or
 * `waitClosed()` stops listening, halts the handler tasks (their cleanups
 * run and may flush), closes what is left (aborting what has not gone after
 * `closeGrace`), waits for it, and only then completes the halt. Real
 * sockets on the Node loop, a real child process for Ctrl-C, and the same
 * rules on the virtual network in virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CancelledError, createTask, type Coro, getRunningLoop, moveOnAfter, type Protocol, sleep, startServer, type StreamReader,
  type StreamWriter, type Task, type Transport,
} from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { go, portOf, rejects, waitPromise } from '../net_helpers.js';

/** A raw node:net client that records what it reads and how its connection ended. */
class RawClient {
  readonly socket: net.Socket;
  data = '';
  ending: 'eof' | 'reset' | null = null;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  constructor(port: number, readNothing = false) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    if (readNothing) this.socket.pause();
    this.socket.on('data', (d: Buffer) => { this.data += d.toString('latin1'); });
    this.socket.on('end', () => { this.ending ??= 'eof'; this.socket.end(); });
    this.socket.on('error', () => { this.ending ??= 'reset'; });
    this.connected = new Promise((resolve, reject) => { this.socket.once('connect', resolve); this.socket.once('error', reject); });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }
}

function* connectAll(port: number, n: number, readNothing = false): Coro<RawClient[]> {
  const cs = Array.from({ length: n }, () => new RawClient(port, readNothing));
  yield* waitPromise(Promise.all(cs.map((c) => c.connected)));
  return cs;
}

/** `task` must end cancelled (waited on as a task, so that virtual time runs on). */
function* endsCancelled(task: Task<unknown>): Coro<void> {
  try {
    yield* task;
  } catch (e) {
    assert.ok(e instanceof CancelledError, String(e));
    return;
  }
  assert.fail('the task was not cancelled');
}

/** Wait (bounded) until `pred()` holds. */
function* until(pred: () => boolean, what: string, ms = 5000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  while (!pred()) {
    assert.ok(getRunningLoop().time() < end, `timed out waiting for ${what}`);
    yield* sleep(2);
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** A protocol server's connection that counts itself in and out. */
function counting(counts: { made: number; lost: number }): () => Protocol {
  return () => ({ connectionMade: () => { counts.made++; }, connectionLost: () => { counts.lost++; } });
}

void test('halting serveForever() of a protocol server closes every connection it accepted, waits for them, then ends cancelled (not as if it returned)', () => go(function* () {
  const counts = { made: 0, lost: 0 };
  const server = yield* getRunningLoop().createServer(counting(counts), '127.0.0.1', 0);
  const port = portOf(server);
  const clients = yield* connectAll(port, 5);
  yield* until(() => counts.made === 5, 'five connections');
  const trace: string[] = [];
  const forever = createTask(function* () { yield* server.serveForever(); trace.push('resumed after serveForever'); }());
  yield* sleep(5);
  forever.cancel();
  yield* rejects(forever, CancelledError);
  assert.equal(counts.lost, 5, 'every connection was gone before the halt completed');
  yield* waitPromise(Promise.all(clients.map((c) => c.closed)));
  assert.deepEqual(clients.map((c) => c.ending), ['eof', 'eof', 'eof', 'eof', 'eof']);
  assert.deepEqual(trace, []);
  assert.equal(yield* waitPromise(refused(port)), true);
}));

void test('close() from elsewhere ends serveForever() with CancelledError and leaves the connections open (asyncio\'s close)', () => go(function* () {
  const server = yield* getRunningLoop().createServer(() => {
    let t: Transport;
    return { connectionMade: (x: Transport) => { t = x; }, dataReceived: (d: Uint8Array) => { t.write(d); } };
  }, '127.0.0.1', 0);
  const [c] = yield* connectAll(portOf(server), 1);
  const forever = createTask(server.serveForever());
  yield* sleep(5);
  server.close();
  yield* rejects(forever, CancelledError);
  c!.socket.write('still here');
  yield* until(() => c!.data === 'still here', 'the echo');
  assert.equal(c!.ending, null);
  server.closeClients();
  yield* waitPromise(c!.closed);
  yield* server.waitClosed();
}));

/** A stream handler that echoes lines and says 'bye' from its finally (after `cleanupMs` of cleanup). */
function byeHandler(trace: string[], cleanupMs = 0) {
  return function* (r: StreamReader, w: StreamWriter): Coro<void> {
    trace.push('handler start');
    try {
      for (;;) {
        const line = yield* r.readLine();
        if (line.length === 0) return;
        w.write(line);
      }
    } finally {
      trace.push('handler cleanup');
      if (cleanupMs > 0) yield* sleep(cleanupMs);
      w.write('bye\n');
      yield* w.drain();
      trace.push('handler flushed');
    }
  };
}

void test('a streams server: halting serveForever() halts every idle handler; each finally runs and flushes before the connection closes', () => go(function* () {
  const trace: string[] = [];
  const server = yield* startServer(byeHandler(trace, 5), '127.0.0.1', 0);
  const clients = yield* connectAll(portOf(server), 3);
  yield* until(() => trace.filter((e) => e === 'handler start').length === 3, 'three handlers');
  clients[0]!.socket.write('hello\n');
  yield* until(() => clients[0]!.data === 'hello\n', 'the echo');
  const forever = createTask(server.serveForever());
  yield* sleep(5);
  forever.cancel();
  yield* rejects(forever, CancelledError);
  assert.equal(trace.filter((e) => e === 'handler flushed').length, 3, 'every cleanup finished before the halt completed');
  yield* waitPromise(Promise.all(clients.map((c) => c.closed)));
  assert.deepEqual(clients.map((c) => [c.data, c.ending]), [['hello\nbye\n', 'eof'], ['bye\n', 'eof'], ['bye\n', 'eof']]);
}));

void test('a deadline around waitClosed() shuts the server down within it: handlers halted, connections gone when it returns', () => go(function* () {
  const trace: string[] = [];
  const server = yield* startServer(byeHandler(trace), '127.0.0.1', 0);
  const clients = yield* connectAll(portOf(server), 2);
  yield* until(() => trace.filter((e) => e === 'handler start').length === 2, 'two handlers');
  const r = yield* moveOnAfter(20, () => server.waitClosed());
  assert.equal(r, undefined);
  assert.equal(server.isServing(), false);
  assert.equal(trace.filter((e) => e === 'handler flushed').length, 2);
  yield* waitPromise(Promise.all(clients.map((c) => c.closed)));
  assert.deepEqual(clients.map((c) => c.data), ['bye\n', 'bye\n']);
  yield* server.waitClosed();   // returns at once now
}));

void test('closeGrace: a connection that cannot flush (its peer never reads) is aborted after closeGrace ms; a handler blocked in drain() fails then', () => go(function* () {
  const trace: string[] = [];
  const big = new Uint8Array(8 << 20);
  const server = yield* startServer(function* (_r, w) {
    try {
      w.write(big);
      yield* w.drain();
      trace.push('drained');
    } finally {
      trace.push('cleanup');
    }
  }, '127.0.0.1', 0, { closeGrace: 100 });
  const [c] = yield* connectAll(portOf(server), 1, true);
  yield* sleep(20);
  const forever = createTask(server.serveForever());
  yield* sleep(5);
  const t0 = getRunningLoop().time();
  forever.cancel();
  yield* rejects(forever, CancelledError);
  assert.ok(getRunningLoop().time() - t0 >= 95, 'the connection had closeGrace ms to flush');
  assert.deepEqual(trace, ['cleanup']);
  c!.socket.resume();   // a paused socket does not see its end
  yield* waitPromise(c!.closed);
  assert.ok(c!.data.length < big.length, 'what was buffered in the server was dropped');
}));

void test('a second halt interrupts a shutdown whose handler cleanups hang: they are halted again and every connection is aborted', () => go(function* () {
  const trace: string[] = [];
  const server = yield* startServer(byeHandler(trace, 60_000), '127.0.0.1', 0);
  const [c] = yield* connectAll(portOf(server), 1);
  yield* until(() => trace.includes('handler start'), 'the handler');
  const forever = createTask(server.serveForever());
  yield* sleep(5);
  forever.cancel();
  yield* until(() => trace.includes('handler cleanup'), 'the cleanup');
  yield* sleep(20);
  assert.equal(forever.done(), false, 'the shutdown waits for the cleanup');
  forever.cancel();
  yield* rejects(forever, CancelledError);
  yield* waitPromise(c!.closed);
  assert.ok(!trace.includes('handler flushed'));
  yield* server.waitClosed();
}));

void test('Ctrl-C on a streams server in a real child process with 100 idle clients: the process ends within 1 s, every client gets the handler\'s goodbye and EOF', { timeout: 60_000 }, async () => {
  const fixture = fileURLToPath(new URL('../fixtures/stream_server_sigint.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let wake: () => void = () => {};
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = async (pred: (l: string) => boolean): Promise<string> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const l = lines.find(pred);
      if (l !== undefined) return l;
      assert.ok(Date.now() < deadline, `the child printed ${JSON.stringify(lines)}; stderr: ${stderr}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
    }
  };
  const clients: RawClient[] = [];
  try {
    const port = Number((await line((l) => l.startsWith('port '))).slice(5));
    for (let i = 0; i < 100; i++) clients.push(new RawClient(port));
    await Promise.all(clients.map((c) => c.connected));
    await line((l) => l === 'connected 100');
    const t0 = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    const ms = performance.now() - t0;
    console.log(`# SIGINT to exit with 100 idle clients: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 1000, `the process took ${ms.toFixed(0)} ms to end`);
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines.slice(-1), ['run rejected: CancelledError']);
    await Promise.all(clients.map((c) => c.closed));
    const endings = new Set(clients.map((c) => `${JSON.stringify(c.data)} ${c.ending}`));
    assert.deepEqual([...endings], ['"bye\\n" eof']);
  } finally {
    child.kill('SIGKILL');
    for (const c of clients) c.socket.destroy();
  }
});

void test('virtual network: halting serveForever() halts the handlers and closes the connections; closeGrace is kept to the virtual ms', async () => {
  const trace: string[] = [];
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const server = yield* startServer(byeHandler(trace, 30), '127.0.0.1', 0);
    const port = portOf(server);
    const got: string[] = [];
    const lost: Array<Error | undefined> = [];
    const [t] = yield* loop.createConnection(() => ({
      dataReceived: (d: Uint8Array) => { got.push(new TextDecoder().decode(d)); },
      connectionLost: (e: Error | undefined) => { lost.push(e); },
    }), '127.0.0.1', port);
    yield* sleep(1);
    const forever = createTask(server.serveForever());
    yield* sleep(1);
    const t0 = loop.time();
    forever.cancel();
    yield* endsCancelled(forever);
    assert.equal(loop.time() - t0, 30, 'the halt completed as soon as the handler\'s 30 ms cleanup was done');
    yield* sleep(1);
    assert.deepEqual(got, ['bye\n']);
    assert.deepEqual(lost, [undefined]);
    assert.equal(t.isClosing(), true);

    // A peer that never reads: the connection is aborted after closeGrace.
    const s2 = yield* loop.createServer(() => ({ connectionMade: (x: Transport) => { x.write(new Uint8Array(1 << 20)); } }), '127.0.0.1', 0, { closeGrace: 250 });
    const lost2: Array<Error | undefined> = [];
    const [t2] = yield* loop.createConnection(() => ({ connectionLost: (e: Error | undefined) => { lost2.push(e); } }), '127.0.0.1', portOf(s2));
    t2.pauseReading();
    yield* sleep(5);
    const f2 = createTask(s2.serveForever());
    yield* sleep(1);
    const t1 = loop.time();
    f2.cancel();
    yield* endsCancelled(f2);
    assert.equal(loop.time() - t1, 250);
    yield* sleep(5);
    assert.equal((lost2[0] as NodeJS.ErrnoException).code, 'ECONNRESET');
  });
  assert.deepEqual(trace, ['handler start', 'handler cleanup', 'handler flushed']);
});
