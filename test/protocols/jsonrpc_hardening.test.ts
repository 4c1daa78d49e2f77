/**
 * JSON-RPC under bad and greedy peers, on real sockets: results JSON cannot
 * encode are answered with -32603 and the connection carries on; an id that
 * is not a finite number makes the request invalid; a client that pipelines
 * requests and never reads its answers stops the server reading instead of
 * growing its write buffer one answer per request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkProtocol, type Coro, Future, getRunningLoop, type JsonRpcMethod, JsonRpcProtocol, type Protocol, sleep, stack, type Transport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { portOf } from '../net_helpers.js';

const T = { timeout: 60_000 };
const framed = (rpc: JsonRpcProtocol): Protocol => stack((d) => new ChunkProtocol('\n', d, { maxChunkLength: 1 << 20 }), rpc);

/** A raw client: writes lines, collects the answers (parsed, or only counted). */
class RawClient implements Protocol {
  transport: Transport | null = null;
  readonly answers: unknown[] = [];
  lines = 0;
  #buf = '';
  #want = 0;
  #got: Future<void> | null = null;
  constructor(readonly parse = true) {}
  connectionMade(t: Transport): void { this.transport = t; }
  dataReceived(d: Uint8Array): void {
    if (!this.parse) {
      for (const b of d) if (b === 10) this.lines++;
    } else {
      this.#buf += Buffer.from(d).toString();
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        this.answers.push(JSON.parse(this.#buf.slice(0, i)));
        this.lines++;
        this.#buf = this.#buf.slice(i + 1);
      }
    }
    if (this.lines >= this.#want) this.#got?.setResult();
  }
  /** Wait until `n` answers in all have come. */
  *until(n: number): Coro<void> {
    if (this.lines >= n) return;
    this.#want = n;
    this.#got = new Future<void>({ description: `${n} answers` });
    yield* this.#got;
    this.#got = null;
  }
}

function cycle(): unknown { const o: Record<string, unknown> = { a: 1 }; o.self = o; return o; }

const bad: Record<string, JsonRpcMethod> = {
  bigint: () => 10n,
  cycle: () => cycle(),
  echo: (p) => p,
  asyncBigint: function* (): Coro<unknown> { yield* sleep(1); return 10n; },
  asyncCycle: () => Promise.resolve(cycle()),
  asyncEcho: function* (p): Coro<unknown> { yield* sleep(1); return p; },
  ping: () => 'pong',
};

void test('results JSON cannot encode (BigInt, cycle, 5,000-deep) get -32603, sync and async, alone or in a batch; the connection carries on', T, async () => {
  const answers = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: bad })), '127.0.0.1', 0);
    const c = new RawClient();
    const [t] = yield* loop.createConnection(() => c, '127.0.0.1', portOf(server));
    const deepParams = `[${'['.repeat(5000)}0${']'.repeat(5000)}]`;   // JSON.stringify itself cannot write it
    const reqs = [
      { method: 'bigint', id: 1 }, { method: 'cycle', id: 2 }, { method: 'echo', id: 3, params: 'DEEP' },
      { method: 'asyncBigint', id: 4 }, { method: 'asyncCycle', id: 5 }, { method: 'asyncEcho', id: 6, params: 'DEEP' },
    ];
    for (const r of reqs) t.write(`${JSON.stringify({ jsonrpc: '2.0', ...r }).replace('"DEEP"', deepParams)}\n`);
    t.write(`${JSON.stringify([{ jsonrpc: '2.0', method: 'ping', id: 7 }, { jsonrpc: '2.0', method: 'bigint', id: 8 }])}\n`);
    t.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'ping', id: 9 })}\n`);
    yield* c.until(8);
    t.close();
    server.close();
    return c.answers;
  });
  const byId = new Map<unknown, unknown>();
  for (const a of answers) for (const x of Array.isArray(a) ? a : [a]) byId.set((x as { id: unknown }).id, x);
  for (const id of [1, 2, 3, 4, 5, 6, 8]) {
    const a = byId.get(id) as { error?: { code: number } } | undefined;
    assert.equal(a?.error?.code, -32603, `request ${id}: ${JSON.stringify(a)}`);
  }
  assert.deepEqual(byId.get(7), { jsonrpc: '2.0', id: 7, result: 'pong' });
  assert.deepEqual(byId.get(9), { jsonrpc: '2.0', id: 9, result: 'pong' });
});

void test('an id that is not a finite number (1e400) makes the request invalid: -32600 with id null', T, async () => {
  const answers = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: bad })), '127.0.0.1', 0);
    const c = new RawClient();
    const [t] = yield* loop.createConnection(() => c, '127.0.0.1', portOf(server));
    t.write('{"jsonrpc":"2.0","method":"ping","id":1e400}\n');
    t.write('{"jsonrpc":"2.0","method":"ping","id":-1e400}\n');
    t.write('{"jsonrpc":"2.0","method":"ping","id":1.5}\n');
    yield* c.until(3);
    t.close();
    server.close();
    return c.answers;
  });
  assert.deepEqual(answers.slice(0, 2), [
    { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } },
    { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } },
  ]);
  assert.deepEqual(answers[2], { jsonrpc: '2.0', id: 1.5, result: 'pong' });
});

void test('a client that pipelines requests and never reads stops the server reading; nothing is lost once it reads (real sockets)', T, async () => {
  const N = 1000;
  const BIG = 'x'.repeat(64 * 1024);
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    let handled = 0;
    let serverSide: Transport | null = null;
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({
      methods: { big: (_p, info) => { handled++; serverSide = info.protocol.transport; return BIG; } },
    })), '127.0.0.1', 0);
    const c = new RawClient(false);
    const [t] = yield* loop.createConnection(() => c, '127.0.0.1', portOf(server));
    t.pauseReading();   // never reads its answers
    for (let i = 1; i <= N; i++) t.write(`{"jsonrpc":"2.0","method":"big","id":${i}}\n`);
    // Wait (bounded) until the server either stops reading or has answered everything.
    const end = loop.time() + 20_000;
    while ((serverSide === null || (serverSide as Transport).isReading()) && handled < N && loop.time() < end) yield* sleep(5);
    const paused = serverSide !== null && !(serverSide as Transport).isReading();
    const handledWhenPaused = handled;
    yield* sleep(200);   // nothing more is dispatched while it stays paused
    const handledLater = handled;
    const buffered = (serverSide as Transport | null)?.getWriteBufferSize() ?? -1;
    t.resumeReading();
    yield* c.until(N);
    t.close();
    server.close();
    return { paused, handledWhenPaused, handledLater, buffered, answered: c.lines };
  });
  assert.ok(r.paused, `the server never paused reading (it answered ${r.handledWhenPaused} of ${N})`);
  assert.ok(r.handledLater < N / 2, `the server answered ${r.handledLater} of ${N} requests nobody read`);
  assert.ok(r.buffered < 4 * 64 * 1024, `the server buffered ${r.buffered} bytes of answers`);
  assert.equal(r.answered, N);
});

void test('two endpoints that both pipeline big messages do not wait for each other forever (a caller keeps reading its answers)', T, async () => {
  const N = 200;
  const BIG = 'y'.repeat(64 * 1024);
  const results = await runRecording(function* () {
    const loop = getRunningLoop();
    const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods: { echo: (p) => p } })), '127.0.0.1', 0);
    const rpc = new JsonRpcProtocol();
    const [t] = yield* loop.createConnection(() => framed(rpc), '127.0.0.1', portOf(server));
    const calls = [];
    for (let i = 0; i < N; i++) calls.push(loop.createTask(rpc.call<string[]>('echo', [BIG])));
    let ok = 0;
    for (const c of calls) if ((yield* c)[0] === BIG) ok++;
    t.close();
    server.close();
    return ok;
  });
  assert.equal(results, N);
});
