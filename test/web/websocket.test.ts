// The WebSocket transport against a real WebSocket server (the ws package) on 127.0.0.1, with the ws package's
// client (Node 20 has no global WebSocket; the runtime matrix runs Deno's, Bun's and Chromium's own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import {
  createTask, createWebSocketConnection, DeadlockError, Future, getRunningLoop, JsonRpcProtocol, NodeEventLoop, run, sleep,
  StreamReader, StreamReaderProtocol, StreamWriter, WebEventLoop, type Coro, type EventLoop, type Protocol, type Transport,
  type WebSocketConstructor,
} from '../../src/index.js';

const WS = WebSocket as unknown as WebSocketConstructor;
const dec = new TextDecoder();

/** A WebSocket server on 127.0.0.1 whose connections `onConnection` handles; closed by `stop()`. */
async function serve(onConnection: (ws: WebSocket, protocol: string) => void, opts: { protocols?: string[] } = {}): Promise<{ url: string; wss: WebSocketServer; stop(): Promise<void> }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1', port: 0,
    handleProtocols: (offered) => (opts.protocols ?? []).find((p) => offered.has(p)) ?? false,
  });
  await new Promise<void>((r) => wss.once('listening', r));
  wss.on('connection', (ws) => onConnection(ws, ws.protocol));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/`,
    wss,
    stop: () => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }),
  };
}

/** A protocol that records what happens to it. */
class Recorder implements Protocol {
  readonly events: string[] = [];
  readonly messages: Uint8Array[] = [];
  readonly lost: Future<Error | undefined>;
  readonly got: Future<void>;
  want = 1;
  transport!: Transport;
  constructor(loop: EventLoop) {
    this.lost = new Future({ loop, description: 'Recorder.connectionLost' });
    this.got = new Future({ loop, description: 'Recorder.messages' });
  }
  connectionMade(t: Transport): void { this.transport = t; this.events.push('made'); }
  dataReceived(d: Uint8Array): void {
    this.messages.push(d);
    this.events.push(`data ${dec.decode(d)}`);
    if (this.messages.length >= this.want && !this.got.done()) this.got.setResult();
  }
  eofReceived(): void { this.events.push('eof'); }
  connectionLost(e: Error | undefined): void { this.events.push(e === undefined ? 'lost' : `lost ${(e as { code?: string }).code}`); this.lost.setResult(e); }
  pauseWriting(): void { this.events.push('pauseWriting'); }
  resumeWriting(): void { this.events.push('resumeWriting'); }
}

const echo = (ws: WebSocket): void => { ws.on('message', (d: RawData, isBinary: boolean) => ws.send(d, { binary: isBinary })); };

void test('each write is one message, each message one dataReceived; text stays text and bytes stay bytes', async () => {
  const kinds: string[] = [];
  const srv = await serve((ws) => { ws.on('message', (d: RawData, isBinary: boolean) => { kinds.push(isBinary ? 'binary' : 'text'); ws.send(d, { binary: isBinary }); }); });
  try {
    const events = await run(function* () {
      const loop = getRunningLoop();
      const [t, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
      p.want = 4;
      t.write('hello');
      t.write(new Uint8Array([104, 105]));
      t.writeLines(['a', 'b', 'c']);
      t.writeLines(['x', new Uint8Array([121])]);
      yield* p.got;
      assert.equal(t.canWriteEof(), false);
      assert.throws(() => t.writeEof(), /cannot write EOF/);
      t.close();
      yield* p.lost;
      return p.events;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(events, ['made', 'data hello', 'data hi', 'data abc', 'data xy', 'lost']);
    assert.deepEqual(kinds, ['text', 'binary', 'text', 'binary']);
  } finally { await srv.stop(); }
});

void test('JSON-RPC runs on a WebSocket directly: a message is a message', async () => {
  const srv = await serve((ws) => {
    ws.on('message', (d: RawData) => {
      const req = JSON.parse(String(d)) as { id: number; method: string; params: number[] };
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: req.params.reduce((a, b) => a + b, 0) }));
    });
  });
  try {
    const sums = await run(function* () {
      const [t, rpc] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), srv.url, { WebSocket: WS });
      const calls = [createTask(rpc.call<number>('add', [1, 2])), createTask(rpc.call<number>('add', [3, 4, 5]))];
      const out: number[] = [];
      for (const c of calls) out.push(yield* c);
      t.close();
      return out;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(sums, [3, 12]);
  } finally { await srv.stop(); }
});

void test('streams run over a WebSocket: lines cut across messages, and EOF when the server closes', async () => {
  const srv = await serve((ws) => {
    ws.send('first li'); ws.send('ne\nsecond '); ws.send('line\ntail');
    setTimeout(() => ws.close(1000, 'done'), 20);
  });
  try {
    const lines = await run(function* () {
      const loop = getRunningLoop();
      const reader = new StreamReader({ loop });
      const [t, p] = yield* createWebSocketConnection(() => new StreamReaderProtocol(reader, null, loop), srv.url, { WebSocket: WS });
      const writer = new StreamWriter(t, p, reader, loop);
      const out: string[] = [];
      for (;;) { const l = yield* reader.readLine(); if (l.length === 0) break; out.push(dec.decode(l)); }
      yield* writer.waitClosed();
      return out;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(lines, ['first line\n', 'second line\n', 'tail']);
  } finally { await srv.stop(); }
});

void test('flow control from bufferedAmount: pauseWriting past the high-water mark, resumeWriting once it drains, nothing lost', async () => {
  let received = 0;
  let server!: WebSocket;
  const srv = await serve((ws) => { server = ws; ws.on('message', (d: Buffer) => { received += d.length; }); });
  try {
    const events = await run(function* () {
      const loop = getRunningLoop();
      const [t, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
      while (server === undefined) yield* sleep(1);
      (server as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();   // the server stops reading
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      for (let i = 0; i < 2000 && !p.events.includes('pauseWriting'); i++) { t.write(chunk); sent += chunk.length; if (i % 8 === 7) yield* sleep(1); }
      assert.ok(p.events.includes('pauseWriting'), 'pauseWriting was not called while the server did not read');
      assert.ok(t.getWriteBufferSize() > t.getWriteBufferLimits()[1]);
      (server as unknown as { _socket: { resume(): void } })._socket.resume();
      while (!p.events.includes('resumeWriting')) yield* sleep(5);
      while (received < sent) yield* sleep(5);
      assert.equal(received, sent);
      t.close();
      yield* p.lost;
      return p.events;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(events, ['made', 'pauseWriting', 'resumeWriting', 'lost']);
  } finally { await srv.stop(); }
});

void test('pauseReading holds messages until resumeReading, in order', async () => {
  const srv = await serve((ws) => { for (let i = 0; i < 5; i++) ws.send(`m${i}`); });
  try {
    const events = await run(function* () {
      const loop = getRunningLoop();
      let t!: Transport;
      const p = new Recorder(loop);
      p.connectionMade = (tr: Transport) => { t = tr; p.events.push('made'); tr.pauseReading(); };
      yield* createWebSocketConnection(() => p, srv.url, { WebSocket: WS });
      yield* sleep(50);
      assert.equal(p.messages.length, 0, 'a message came while reading was paused');
      assert.equal(t.isReading(), false);
      p.want = 5;
      t.resumeReading();
      yield* p.got;
      t.abort();
      yield* p.lost;
      return p.events;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(events, ['made', 'data m0', 'data m1', 'data m2', 'data m3', 'data m4', 'lost']);
  } finally { await srv.stop(); }
});

void test('a server that vanishes mid-connection: connectionLost with ECONNRESET', async () => {
  const srv = await serve((ws) => { setTimeout(() => ws.terminate(), 10); });
  try {
    const e = await run(function* () {
      const loop = getRunningLoop();
      const [, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
      return yield* p.lost;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.equal((e as { code?: string } | undefined)?.code, 'ECONNRESET');
  } finally { await srv.stop(); }
});

void test('nothing listening: ECONNREFUSED; a task cancelled while connecting closes its WebSocket', async () => {
  const srv = await serve(() => undefined);
  const url = srv.url;
  await srv.stop();
  await assert.rejects(run(function* () {
    yield* createWebSocketConnection(() => ({}), url, { WebSocket: WS });
  }, { loop: new WebEventLoop(), handleSignals: false }), (e: unknown) => (e as { code?: string }).code === 'ECONNREFUSED');

  // A server that never finishes the handshake: the connecting task is cancelled, and the socket goes.
  const net = await import('node:net');
  let closed!: () => void;
  const gone = new Promise<void>((r) => { closed = r; });
  const silent = net.createServer((s) => { s.on('close', closed); s.on('error', () => undefined); s.resume(); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as { port: number };
  try {
    await run(function* () {
      const t = createTask(createWebSocketConnection(() => ({}), `ws://127.0.0.1:${port}/`, { WebSocket: WS }));
      yield* sleep(30);
      t.cancel();
      yield* sleep(1);
      assert.equal(t.cancelled(), true);
    }, { loop: new WebEventLoop(), handleSignals: false });
    await gone;
  } finally { silent.close(); }
});

void test('an open WebSocket keeps a WebEventLoop from reporting a deadlock; once it is gone, the deadlock is reported', async () => {
  const srv = await serve((ws) => { setTimeout(() => ws.send('late'), 100); });
  try {
    const got = await run(function* () {
      const loop = getRunningLoop();
      const [t, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
      yield* p.got;   // only the open WebSocket can wake main: no timer, no Promise
      t.close();
      yield* p.lost;
      return p.events;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(got, ['made', 'data late', 'lost']);
    await assert.rejects(run(function* () {
      const loop = getRunningLoop();
      const [t, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
      t.close();
      yield* p.lost;
      yield* p.got;   // nothing can ever come now
    }, { loop: new WebEventLoop(), handleSignals: false }), (e: unknown) => e instanceof DeadlockError && e.message.includes('Recorder.messages'));
  } finally { await srv.stop(); }
});

void test('loop.close() closes a WebSocket still open (connectionLost is called), on any loop', async () => {
  let serverSaw!: () => void;
  const closedOnServer = new Promise<void>((r) => { serverSaw = r; });
  const srv = await serve((ws) => { ws.on('close', () => serverSaw()); });
  try {
    for (const loop of [new WebEventLoop(), new NodeEventLoop()] as EventLoop[]) {
      const p = await loop.runUntilComplete((function* (): Coro<Recorder> {
        const [, p] = yield* createWebSocketConnection(() => new Recorder(loop), srv.url, { WebSocket: WS });
        return p;
      })());
      loop.close();
      assert.deepEqual(p.events, ['made', 'lost']);
    }
    await closedOnServer;
  } finally { await srv.stop(); }
});

void test('the subprotocol the server picked and the WebSocket itself are extra info', async () => {
  const srv = await serve(echo, { protocols: ['tulip.v1'] });
  try {
    const info = await run(function* () {
      const [t] = yield* createWebSocketConnection(() => ({}), srv.url, { WebSocket: WS, protocols: ['tulip.v2', 'tulip.v1'] });
      const out = [t.getExtraInfo('protocol'), t.getExtraInfo('url'), t.getExtraInfo('websocket') instanceof WebSocket, t.getExtraInfo('peername', 'none')];
      t.close();
      return out;
    }, { loop: new WebEventLoop(), handleSignals: false });
    assert.deepEqual(info, ['tulip.v1', srv.url, true, 'none']);
  } finally { await srv.stop(); }
});
