/**
 * PEP 3153's stack: one JsonRpcProtocol class, three transports. The same
 * calls run over '\n'-framed TCP, over a child's pipes, and over HTTP (the
 * HTTP-based transport on the client, the message handler on the server),
 * and give the same answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ChunkProtocol, createTask, getRunningLoop, JsonRpcError, JsonRpcProtocol, type JsonRpcMethod, type Coro, type Protocol, sleep, stack,
  SubprocessPipesProtocol,
} from '../../../src/index.js';
import { createHttpConnection, HttpClient, HttpError, httpMessageHandler, serveHttp } from '../../../src/protocols/http/index.js';
import { go, portOf, rejects } from '../../net_helpers.js';
import { rawIn, statuses } from './helpers.js';

const T = { timeout: 30_000 };
const CHILD = join(import.meta.dirname, '..', '..', 'fixtures', 'jsonrpc_server.mjs');

/** The methods of test/fixtures/jsonrpc_server.mjs, served by tulip. */
const methods: Record<string, JsonRpcMethod> = {
  add: (p) => { const [a, b] = p as number[]; return a! + b!; },
  echo: (p) => p,
  slow: function* (p): Coro<unknown> { const [ms, v] = p as [number, unknown]; yield* sleep(ms); return v; },
  fail: () => { throw new JsonRpcError(-32000, 'nope', 'custom'); },
};

const lines = (rpc: Protocol): Protocol => stack((d) => new ChunkProtocol('\n', d), rpc);

/** The same calls on any transport. */
function* calls(rpc: JsonRpcProtocol): Coro<unknown[]> {
  const sum = yield* rpc.call<number>('add', [20, 22]);
  const echo = yield* rpc.call('echo', { deep: [1, 'two', null] });
  const slow = createTask(rpc.call('slow', [40, 'slow']));
  const quick = yield* rpc.call('slow', [0, 'quick']);
  const fail = (yield* rejects(rpc.call('fail'), JsonRpcError)) as JsonRpcError;
  const missing = (yield* rejects(rpc.call('missing', [1]), JsonRpcError)) as JsonRpcError;
  rpc.notify('echo', ['nobody answers a notification']);
  const after = yield* rpc.call<number>('add', [1, 1]);
  return [sum, echo, quick, yield* slow, [fail.code, fail.message, fail.data], missing.code, after];
}

void test('one JsonRpcProtocol, three transports (TCP lines, a child\'s pipes, HTTP), the same answers', T, async () => {
  const results = await go(function* () {
    const loop = getRunningLoop();
    // TCP, '\n'-framed
    const tcpServer = yield* loop.createServer(() => lines(new JsonRpcProtocol({ methods })), '127.0.0.1', 0);
    const overTcp = new JsonRpcProtocol();
    yield* loop.createConnection(() => lines(overTcp), '127.0.0.1', portOf(tcpServer));
    const tcp = yield* calls(overTcp);
    overTcp.transport!.close();
    tcpServer.close();
    // a child process's stdin/stdout, '\n'-framed
    const overPipes = new JsonRpcProtocol();
    const [child] = yield* loop.subprocessExec(() => new SubprocessPipesProtocol(lines(overPipes)), process.execPath, [CHILD], { stderr: 'inherit' });
    const pipes = yield* calls(overPipes);
    overPipes.transport!.close();
    yield* overPipes.waitClosed();
    child.close();
    // HTTP: POST /rpc
    const httpServer = yield* serveHttp(httpMessageHandler(() => new JsonRpcProtocol({ methods })), '127.0.0.1', 0);
    const [t, overHttp] = yield* createHttpConnection(() => new JsonRpcProtocol(), `http://127.0.0.1:${portOf(httpServer)}/rpc`);
    const http = yield* calls(overHttp);
    t.close();
    assert.equal(yield* overHttp.waitClosed(), undefined);
    httpServer.close();
    return { tcp, pipes, http };
  });
  assert.deepEqual(results.tcp, [42, { deep: [1, 'two', null] }, 'quick', 'slow', [-32000, 'nope', 'custom'], -32601, 2]);
  assert.deepEqual(results.pipes, results.tcp);
  assert.deepEqual(results.http, results.tcp);
});

void test('JSON-RPC over HTTP: 200 with errors in the body, 204 for a notification, 405 for GET, 413 over the limit, batches', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(httpMessageHandler(() => new JsonRpcProtocol({ methods }), { limit: 1000 }), '127.0.0.1', 0, { sendDate: false });
    const port = portOf(server);
    const client = new HttpClient();
    const url = `http://127.0.0.1:${port}/rpc`;
    const err = yield* client.request('POST', url, { body: '{"jsonrpc":"2.0","id":1,"method":"fail"}' });
    assert.equal(err.status, 200);
    assert.equal(err.headers.get('content-type'), 'application/json');
    assert.deepEqual(yield* err.json(), { jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'nope', data: 'custom' } });
    const parse = yield* client.request('POST', url, { body: '{not json' });
    assert.deepEqual(yield* parse.json(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    for (const note of ['{"jsonrpc":"2.0","method":"echo","params":[1]}', '{"jsonrpc":"2.0","method":"slow","params":[20,1]}']) {
      const res = yield* client.request('POST', url, { body: note });
      assert.equal(res.status, 204);
      assert.equal((yield* res.bytes()).length, 0);
    }
    const batch = yield* client.request('POST', url, { body: '[{"jsonrpc":"2.0","id":1,"method":"slow","params":[10,"a"]},{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","id":2,"method":"add","params":[1,2]}]' });
    assert.deepEqual(yield* batch.json(), [{ jsonrpc: '2.0', id: 1, result: 'a' }, { jsonrpc: '2.0', id: 2, result: 3 }]);
    const get = yield* client.request('GET', url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const r = yield* rawIn(port, 'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    assert.deepEqual(statuses(r.text), [413]);
    client.close();
    server.close();
  });
});

void test('the HTTP transport: a request that fails ends it with that error, and every pending call fails with it', T, async () => {
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/gone') { res.status = 503; res.end('down'); return; }
      yield* sleep(10_000);
    }, '127.0.0.1', 0);
    const [, rpc] = yield* createHttpConnection(() => new JsonRpcProtocol(), `http://127.0.0.1:${portOf(server)}/hang`);
    const pending = createTask(rpc.call('anything'));
    yield* sleep(20);
    const [, rpc2] = yield* createHttpConnection(() => new JsonRpcProtocol(), `http://127.0.0.1:${portOf(server)}/gone`);
    const e = (yield* rejects(rpc2.call('add', [1, 2]), HttpError)) as HttpError;
    assert.equal(e.status, 503);
    assert.equal(yield* rpc2.waitClosed(), e);
    (rpc.transport as { abort(e?: Error): void }).abort(new Error('stop'));
    yield* rejects(pending, /stop/);
    server.close();
  });
});
