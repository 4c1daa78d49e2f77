/**
 * JSON-RPC 2.0 over '\n' framing, over TCP and over a child's pipes: the
 * same JsonRpcProtocol class on both (PEP 3153's reuse across transports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ChunkProtocol, type Coro, createTask, type ExceptionContext, Future, getRunningLoop, JsonRpcError, JsonRpcErrorCode,
  type JsonRpcMethod, JsonRpcProtocol, LimitOverrunError, type Protocol, sleep, stack, SubprocessPipesProtocol, type Transport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { portOf, rejects } from '../net_helpers.js';

const T = { timeout: 15_000 };
const SERVER = join(import.meta.dirname, '..', 'fixtures', 'jsonrpc_server.mjs');

const framed = (rpc: JsonRpcProtocol, maxChunkLength?: number): Protocol => stack((d) => new ChunkProtocol('\n', d, { maxChunkLength }), rpc);

function methods(log: string[]): Record<string, JsonRpcMethod> {
  return {
    add: (p) => { const [a, b] = p as number[]; return a! + b!; },
    double: function* (p): Coro<number> { yield* sleep(5); return (p as { x: number }).x * 2; },
    later: (p) => Promise.resolve(`later ${String((p as string[])[0])}`),
    fail: () => { throw new JsonRpcError(-32000, 'custom failure', { why: 'because' }); },
    crash: () => { throw new TypeError('oops'); },
    log: (p) => { log.push(String((p as string[])[0])); },
    askBack: function* (p, info): Coro<number> { return 10 * (yield* info.protocol.call<number>('clientSide', p as number[])); },
    hang: function* (): Coro<never> {
      try { for (;;) yield* sleep(1000); } finally { log.push('hang halted'); }
    },
  };
}

/** A raw line client: send lines, read JSON answers one per line. */
class LineClient implements Protocol {
  transport: Transport | null = null;
  readonly answers: unknown[] = [];
  readonly lost = new Future<void>({ description: 'LineClient.lost' });
  #buf = '';
  connectionMade(t: Transport): void { this.transport = t; }
  dataReceived(d: Uint8Array): void {
    this.#buf += Buffer.from(d).toString();
    for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
      this.answers.push(JSON.parse(this.#buf.slice(0, i)));
      this.#buf = this.#buf.slice(i + 1);
    }
  }
  connectionLost(): void { this.lost.setResult(); }
  *next(): Coro<unknown> {
    const end = getRunningLoop().time() + 3000;
    while (this.answers.length === 0) { assert.ok(getRunningLoop().time() < end, 'no answer'); yield* sleep(2); }
    return this.answers.shift();
  }
}

void test('over TCP: calls (sync, coroutine, Promise), errors with codes, notifications, concurrent calls matched by id', T, async () => {
  const log: string[] = [];
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: methods(log) })), '127.0.0.1', 0);
    const rpc = new JsonRpcProtocol({ methods: { clientSide: (p) => (p as number[])[0]! + 1 } });
    yield* loop.createConnection(() => framed(rpc), '127.0.0.1', portOf(server));
    const slow = createTask(rpc.call<number>('double', { x: 21 }));
    const fast = yield* rpc.call<number>('add', [1, 2]);
    assert.equal(rpc.pendingCalls(), 1);
    const doubled = yield* slow;
    const askBack = yield* rpc.call<number>('askBack', [4]);   // the server calls the client inside its handler
    const later = yield* rpc.call('later', ['x']);
    const fail = (yield* rejects(rpc.call('fail'), JsonRpcError)) as JsonRpcError;
    const crash = (yield* rejects(rpc.call('crash'), JsonRpcError)) as JsonRpcError;
    const missing = (yield* rejects(rpc.call('missing', [1]), JsonRpcError)) as JsonRpcError;
    rpc.notify('log', ['hello']);
    rpc.notify('missing');   // no answer, no error
    const afterNotify = yield* rpc.call('add', [2, 3]);
    assert.equal(rpc.pendingCalls(), 0);
    rpc.transport!.close();
    assert.equal(yield* rpc.waitClosed(), undefined);
    server.close();
    return { fast, doubled, later, fail, crash, missing, afterNotify, askBack };
  });
  assert.equal(r.askBack, 50);
  assert.equal(r.fast, 3);
  assert.equal(r.doubled, 42);
  assert.equal(r.later, 'later x');
  assert.deepEqual([r.fail.code, r.fail.message, r.fail.data], [-32000, 'custom failure', { why: 'because' }]);
  assert.deepEqual([r.crash.code, r.crash.data], [JsonRpcErrorCode.InternalError, 'oops']);
  assert.equal(r.missing.code, JsonRpcErrorCode.MethodNotFound);
  assert.equal(r.afterNotify, 5);
  assert.deepEqual(log, ['hello']);
});

void test('bad input: parse error (-32700), invalid requests (-32600), batches; the connection keeps working', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: methods([]) })), '127.0.0.1', 0);
    const [t, c] = yield* loop.createConnection(() => new LineClient(), '127.0.0.1', portOf(server));
    const out: unknown[] = [];
    for (const line of [
      'not json',
      '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}',
      '[]',
      '42',
      '{"jsonrpc":"1.0","method":"add","id":2}',
      '{"jsonrpc":"2.0","method":7,"id":3}',
      '{"jsonrpc":"2.0","method":"add","params":5,"id":4}',
      '{"jsonrpc":"2.0","method":"nope","id":"s"}',
      '[{"jsonrpc":"2.0","method":"add","params":[2,2],"id":5},{"jsonrpc":"2.0","method":"log","params":["n"]},1,{"jsonrpc":"2.0","method":"double","params":{"x":4},"id":6}]',
      '[{"jsonrpc":"2.0","method":"log","params":["only notifications"]}]',
      '{"jsonrpc":"2.0","method":"add","params":[40,2],"id":7}',
    ]) {
      t.write(line + '\n');
      if (!line.includes('only notifications')) out.push(yield* c.next());
    }
    t.write(Buffer.from([0xff, 0xfe, 0x0a]));   // not UTF-8
    out.push(yield* c.next());
    yield* sleep(20);
    assert.equal(c.answers.length, 0, 'nothing answers a batch of notifications');
    t.close();
    server.close();
    return out;
  });
  const err = (id: unknown, code: number): unknown => ({ jsonrpc: '2.0', id, error: { code, message: code === -32700 ? 'Parse error' : 'Invalid Request' } });
  assert.deepEqual(r[0], err(null, -32700));
  assert.deepEqual(r[1], { jsonrpc: '2.0', id: 1, result: 3 });
  assert.deepEqual(r[2], err(null, -32600));
  assert.deepEqual(r[3], err(null, -32600));
  assert.deepEqual(r[4], err(2, -32600));
  assert.deepEqual(r[5], err(3, -32600));
  assert.deepEqual(r[6], err(4, -32600));
  assert.deepEqual(r[7], { jsonrpc: '2.0', id: 's', error: { code: -32601, message: 'Method not found', data: 'nope' } });
  assert.deepEqual(r[8], [{ jsonrpc: '2.0', id: 5, result: 4 }, err(null, -32600), { jsonrpc: '2.0', id: 6, result: 8 }]);
  assert.deepEqual(r[9], { jsonrpc: '2.0', id: 7, result: 42 });
  assert.deepEqual(r[10], err(null, -32700));
});

void test('an oversized frame closes the transport with LimitOverrunError; pending calls fail with it, handlers are cancelled', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    let serverRpc: JsonRpcProtocol | null = null;
    const log: string[] = [];
    const server = yield* loop.createServer(() => framed(serverRpc = new JsonRpcProtocol({ methods: methods(log) }), 1024), '127.0.0.1', 0);
    const [t, c] = yield* loop.createConnection(() => new LineClient(), '127.0.0.1', portOf(server));
    t.write('{"jsonrpc":"2.0","method":"hang","id":1}\n');
    while (serverRpc === null) yield* sleep(1);
    const rpc: JsonRpcProtocol = serverRpc;
    const pending = createTask(rpc.call('ping'));   // the raw client never answers
    yield* sleep(20);
    t.write('x'.repeat(5000));
    const exc = yield* rpc.waitClosed();
    const callErr = yield* rejects(pending, LimitOverrunError);
    yield* c.lost;
    server.close();
    return { exc, callErr, answers: c.answers, log };
  });
  assert.ok(r.exc instanceof LimitOverrunError);
  assert.equal(r.callErr, r.exc);
  assert.deepEqual((r.answers[0] as { method: string }).method, 'ping');
  assert.equal(r.answers.length, 1, 'the cancelled handler never answered');
  assert.deepEqual(r.log, ['hang halted']);
});

void test('a call cancelled while waiting forgets its id (its late answer is dropped quietly); a call on a closed connection fails at once', T, async () => {
  const errors: ExceptionContext[] = [];
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: {
      slow: function* (): Coro<string> { yield* sleep(30); return 'late'; },
    } })), '127.0.0.1', 0);
    const rpc = new JsonRpcProtocol();
    yield* loop.createConnection(() => framed(rpc), '127.0.0.1', portOf(server));
    const task = createTask(rpc.call('slow'));
    yield* sleep(5);
    task.cancel();
    yield* sleep(60);   // the late answer arrives for nobody
    const cancelled = task.cancelled();
    const pending = rpc.pendingCalls();
    const quiet = errors.length;
    rpc.dataReceived(new TextEncoder().encode('{"jsonrpc":"2.0","id":999,"result":1}'));   // an answer to a call never made
    rpc.transport!.close();
    yield* rpc.waitClosed();
    const closedErr = yield* rejects(rpc.call('slow'), (e: unknown) => (e as { code?: string }).code === 'ECONNRESET');
    server.close();
    return { cancelled, pending, closedErr, quiet };
  }, errors);
  assert.equal(r.cancelled, true);
  assert.equal(r.pending, 0);
  assert.equal(r.quiet, 0, 'the late answer to the cancelled call is expected: dropped quietly');
  assert.equal(errors.length, 1, 'a response to no call ever made is reported, never lost');
  assert.match(String(errors[0]!.message), /no pending call/);
});

void test('over a child process: the same JsonRpcProtocol talks to a Node JSON-RPC server on its stdin/stdout', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const rpc = new JsonRpcProtocol();
    const [sub] = yield* loop.subprocessExec(() => new SubprocessPipesProtocol(framed(rpc)), process.execPath, [SERVER], { stderr: 'inherit' });
    const sum = yield* rpc.call<number>('add', [20, 22]);
    const echo = yield* rpc.call('echo', { deep: [1, 'two', null] });
    const pid = yield* rpc.call<number>('pid');
    const slow = createTask(rpc.call('slow', [30, 'slow']));
    const quick = yield* rpc.call('slow', [0, 'quick']);
    const fail = (yield* rejects(rpc.call('fail'), JsonRpcError)) as JsonRpcError;
    const missing = (yield* rejects(rpc.call('missing'), JsonRpcError)) as JsonRpcError;
    const slowV = yield* slow;
    rpc.transport!.close();   // closes the child's stdin: it exits
    const exc = yield* rpc.waitClosed();
    return { sum, echo, pid, child: sub.getPid(), quick, slowV, fail, missing, exc, code: sub.getReturncode() };
  });
  assert.equal(r.sum, 42);
  assert.deepEqual(r.echo, { deep: [1, 'two', null] });
  assert.equal(r.pid, r.child);
  assert.deepEqual([r.quick, r.slowV], ['quick', 'slow']);
  assert.deepEqual([r.fail.code, r.fail.message, r.fail.data], [-32000, 'nope', 'custom']);
  assert.equal(r.missing.code, JsonRpcErrorCode.MethodNotFound);
  assert.equal(r.exc, undefined);
  assert.equal(r.code, 0);
});

void test('over a child process: aborting (the child is killed) fails the pending call with the abort error', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const rpc = new JsonRpcProtocol();
    const [sub] = yield* loop.subprocessExec(() => new SubprocessPipesProtocol(framed(rpc)), process.execPath, [SERVER], { stderr: 'inherit' });
    const pending = createTask(rpc.call('slow', [10_000, 'never']));
    yield* sleep(20);
    rpc.transport!.abort(new Error('stop it'));
    const e = yield* rejects(pending, /stop it/);
    const exc = yield* rpc.waitClosed();
    return { same: e === exc, code: sub.getReturncode() };
  });
  assert.equal(r.same, true);
  assert.ok(r.code !== null && r.code !== 0, `killed: ${r.code}`);
});
