/**
 * The transport scenarios: the contract of docs/design.md "Transports and
 * protocols" checked through `createServer`/`createConnection` on
 * 127.0.0.1, so real sockets and virtual ones answer the same questions.
 * Every protocol is wrapped in a checker that records a violation if a
 * call comes out of order (`connectionMade` → `dataReceived`* →
 * `eofReceived`? → `connectionLost`, exactly once). Data may arrive in any
 * chunking, so consecutive `dataReceived` calls count as one event.
 */
import * as assert from './assert.js';
import { ContextVar } from '../kernel/context.js';
import { createTask, sleep } from '../kernel/coro.js';
import type { Coro, EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { Protocol, Server, Transport } from '../kernel/transport_types.js';
import { runOn, type Scenario, within } from './scenario.js';

const dec = new TextDecoder();

class Checked implements Protocol {
  transport!: Transport;
  text = '';
  bytes = 0;
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  readonly made: Future<void>;
  readonly lost: Future<Error | undefined>;
  readonly eof: Future<void>;
  #state: 'new' | 'open' | 'eof' | 'lost' = 'new';
  onData?: (d: Uint8Array) => void;
  onEof?: () => boolean;

  constructor(loop: EventLoop, readonly name: string) {
    this.made = new Future({ loop, description: `${name}.connectionMade` });
    this.lost = new Future({ loop, description: `${name}.connectionLost` });
    this.eof = new Future({ loop, description: `${name}.eofReceived` });
  }
  #event(e: string): void { if (this.trace[this.trace.length - 1] !== e || e !== 'data') this.trace.push(e); }
  connectionMade(t: Transport): void {
    if (this.#state !== 'new') this.violations.push(`connectionMade in state ${this.#state}`);
    this.#state = 'open';
    this.transport = t;
    this.#event('made');
    this.made.setResult();
  }
  dataReceived(d: Uint8Array): void {
    if (this.#state !== 'open') this.violations.push(`dataReceived in state ${this.#state}`);
    this.bytes += d.length;
    this.text += dec.decode(d);
    this.#event('data');
    this.onData?.(d);
  }
  eofReceived(): boolean {
    if (this.#state !== 'open') this.violations.push(`eofReceived in state ${this.#state}`);
    this.#state = 'eof';
    this.#event('eof');
    this.eof.setResult();
    return this.onEof?.() ?? false;
  }
  connectionLost(e: Error | undefined): void {
    if (this.#state === 'new' || this.#state === 'lost') this.violations.push(`connectionLost in state ${this.#state}`);
    this.#state = 'lost';
    this.#event('lost');
    if (!this.lost.done()) this.lost.setResult(e);
  }
  pauseWriting(): void { this.trace.push('pauseWriting'); }
  resumeWriting(): void { this.trace.push('resumeWriting'); }
}

/** Start a server whose protocols are `Checked`, connect one client; returns both ends. */
function* pair(loop: EventLoop, onServer?: (p: Checked) => void): Coro<{ server: Server; s: Checked; c: Checked; t: Transport }> {
  const made: Checked[] = [];
  const server = yield* loop.createServer(() => { const p = new Checked(loop, 'server'); onServer?.(p); made.push(p); return p; }, '127.0.0.1', 0);
  const [, port] = server.addresses()[0] as [string, number];
  const [t, c] = yield* loop.createConnection(() => new Checked(loop, 'client'), '127.0.0.1', port);
  while (made.length === 0) yield* sleep(1);
  yield* within(5000, 'server connectionMade', made[0]!.made);
  return { server, s: made[0]!, c, t };
}

function* shutdown(server: Server, ...ps: Checked[]): Coro<void> {
  for (const p of ps) if (!p.lost.done()) p.transport.abort();
  server.close();
  yield* within(5000, 'server.waitClosed()', server.waitClosed());
  for (const p of ps) assert.deepEqual(p.violations, [], `${p.name}: calls out of order`);
}

export const transportScenarios: Scenario[] = [
  {
    name: 'transport: call order',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop, (p) => { p.onData = (d) => p.transport.write(d); });
        t.write('hello');
        while (c.text.length < 5) yield* within(5000, 'echo', sleep(1));
        assert.equal(c.text, 'hello');
        t.close();
        assert.equal(t.isClosing(), true);
        yield* within(5000, 'client connectionLost', c.lost);
        yield* within(5000, 'server connectionLost', s.lost);
        assert.deepEqual(c.trace, ['made', 'data', 'lost']);
        assert.deepEqual(s.trace, ['made', 'data', 'eof', 'lost']);
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: flow control',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop);
        s.transport.pauseReading();
        assert.equal(s.transport.isReading(), false);
        const chunk = new Uint8Array(64 * 1024);
        let sent = 0;
        for (let i = 0; i < 1024 && !c.trace.includes('pauseWriting'); i++) {
          t.write(chunk);
          sent += chunk.length;
          yield* sleep(1);
        }
        assert.ok(c.trace.includes('pauseWriting'), 'pauseWriting was not called while the reader did not read');
        const [, high] = t.getWriteBufferLimits();
        assert.ok(t.getWriteBufferSize() > high);
        s.transport.resumeReading();
        assert.equal(s.transport.isReading(), true);
        while (s.bytes < sent) yield* within(10_000, 'the reader got every byte', sleep(1));
        assert.equal(s.bytes, sent);
        assert.equal(t.getWriteBufferSize(), 0);
        assert.deepEqual(c.trace, ['made', 'pauseWriting', 'resumeWriting']);
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: half-close',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop, (p) => {
          p.onEof = () => { p.transport.write(`got ${p.text}`); p.transport.close(); return true; };
        });
        c.onEof = () => true;
        assert.equal(t.canWriteEof(), true);
        t.write('ping');
        t.writeEof();
        yield* within(5000, 'client connectionLost', c.lost);
        yield* within(5000, 'server connectionLost', s.lost);
        assert.equal(c.text, 'got ping');
        assert.deepEqual(s.trace, ['made', 'data', 'eof', 'lost']);
        assert.deepEqual(c.trace, ['made', 'data', 'eof', 'lost']);
        assert.equal(c.lost.result(), undefined);
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: abort',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop);
        s.transport.pauseReading();
        for (let i = 0; i < 64; i++) t.write(new Uint8Array(64 * 1024));
        const err = new Error('conformance abort');
        t.abort(err);
        assert.equal(t.isClosing(), true);
        assert.equal(t.getWriteBufferSize(), 0);
        assert.equal(yield* within(5000, 'client connectionLost', c.lost), err);
        s.transport.resumeReading();
        const e = yield* within(5000, 'server connectionLost', s.lost);
        if (e !== undefined) assert.equal((e as { code?: string }).code, 'ECONNRESET');
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: pauseReading stops dataReceived until resumeReading',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop);
        s.transport.pauseReading();
        t.write('held');
        yield* sleep(50);
        assert.equal(s.bytes, 0, 'dataReceived was called while reading was paused');
        s.transport.resumeReading();
        while (s.bytes < 4) yield* within(5000, 'data after resumeReading', sleep(1));
        assert.equal(s.text, 'held');
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: close flushes the buffer before connectionLost',
    async run(loop) {
      await runOn(loop, function* () {
        const { server, s, c, t } = yield* pair(loop);
        s.transport.pauseReading();
        const total = 4 * 1024 * 1024;
        t.write(new Uint8Array(total));
        t.close();
        assert.equal(t.isClosing(), true);
        yield* sleep(20);
        s.transport.resumeReading();
        yield* within(10_000, 'client connectionLost', c.lost);
        yield* within(10_000, 'server connectionLost', s.lost);
        assert.equal(s.bytes, total);
        assert.deepEqual(s.trace, ['made', 'data', 'eof', 'lost']);
        yield* shutdown(server, s, c);
      });
    },
  },
  {
    name: 'transport: protocol methods run in the context the connection was made in',
    async run(loop) {
      const where = new ContextVar<string>('conformance.where', { default: 'unset' });
      const seen: string[] = [];
      await runOn(loop, function* () {
        where.set('server side');
        const server = yield* loop.createServer(() => ({
          connectionMade: () => seen.push(`server made: ${where.get()}`),
          dataReceived: () => seen.push(`server data: ${where.get()}`),
        }), '127.0.0.1', 0);
        const [, port] = server.addresses()[0] as [string, number];
        const client = createTask((function* () {
          where.set('client side');
          const [t] = yield* loop.createConnection(() => ({ connectionMade: () => seen.push(`client made: ${where.get()}`) }), '127.0.0.1', port);
          t.write('x');
          return t;
        })());
        const t = yield* client;
        while (seen.length < 3) yield* within(5000, 'protocol calls', sleep(1));
        t.abort();
        server.close();
        yield* within(5000, 'server.waitClosed()', server.waitClosed());
      });
      assert.deepEqual([...seen].sort(), ['client made: client side', 'server data: server side', 'server made: server side']);
    },
  },
  {
    name: 'transport: ECONNREFUSED',
    async run(loop) {
      await runOn(loop, function* () {
        const server = yield* loop.createServer(() => ({}), '127.0.0.1', 0);
        const [, port] = server.addresses()[0] as [string, number];
        server.close();
        yield* server.waitClosed();
        let error: unknown;
        try { yield* loop.createConnection(() => ({}), '127.0.0.1', port); } catch (e) { error = e; }
        assert.ok(error instanceof Error, 'connecting to a closed port must fail');
        assert.equal((error as { code?: string }).code, 'ECONNREFUSED');
      });
    },
  },
];
