import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkProtocol, type Coro, type ExceptionContext, Future, getRunningLoop, type Protocol, ProtocolTransport, type PushProducer,
  sleep, stack, StackedProtocol, SubprocessPipesProtocol, type Transport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { portOf, str } from '../net_helpers.js';

const T = { timeout: 10_000 };

/** An upper protocol that records its calls (messages as text). */
class Upper implements Protocol {
  readonly trace: string[] = [];
  readonly lost = new Future<Error | undefined>({ description: 'Upper.lost' });
  transport: Transport | null = null;
  constructor(readonly hooks: { data?: (m: string, self: Upper) => void; eof?: () => boolean | void } = {}) {}
  connectionMade(t: Transport): void { this.transport = t; this.trace.push('made'); }
  dataReceived(m: Uint8Array): void { this.trace.push(`data ${str(m)}`); this.hooks.data?.(str(m), this); }
  eofReceived(): boolean | void { this.trace.push('eof'); return this.hooks.eof?.(); }
  connectionLost(e: Error | undefined): void { this.trace.push(`lost ${e?.message ?? ''}`.trim()); this.lost.setResult(e); }
}

/** A raw peer: the bytes it received and its transport. */
class Peer implements Protocol {
  readonly chunks: Buffer[] = [];
  transport: Transport | null = null;
  readonly gone = new Future<void>({ description: 'Peer.gone' });
  connectionMade(t: Transport): void { this.transport = t; }
  dataReceived(d: Uint8Array): void { this.chunks.push(Buffer.from(d)); }
  connectionLost(): void { this.gone.setResult(); }
  text(): string { return Buffer.concat(this.chunks).toString(); }
}

/** A server running `upper` over '\n' framing, and a raw client connected to it. */
function* pair(upper: Upper, opts: { maxChunkLength?: number } = {}): Coro<{ peer: Peer; stacked: StackedProtocol<ChunkProtocol, Upper>; close(): void }> {
  const loop = getRunningLoop();
  let stacked: StackedProtocol<ChunkProtocol, Upper> | null = null;
  const server = yield* loop.createServer(() => (stacked = stack((d) => new ChunkProtocol('\n', d, opts), upper)), '127.0.0.1', 0);
  const [, peer] = yield* loop.createConnection(() => new Peer(), '127.0.0.1', portOf(server));
  while (stacked === null || upper.transport === null) yield* sleep(1);
  return { peer, stacked, close: () => server.close() };
}

function* until(cond: () => boolean, ms = 3000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  while (!cond()) { assert.ok(getRunningLoop().time() < end, 'timed out'); yield* sleep(2); }
}

void test('over TCP: the upper protocol gets one message per dataReceived, its writes are framed, then eof and lost once', T, async () => {
  const r = await runRecording(function* () {
    const upper = new Upper({ data: (m, u) => u.transport!.write(`echo ${m}`) });
    const { peer, close } = yield* pair(upper);
    peer.transport!.write('al');
    yield* sleep(20);
    peer.transport!.writeLines(['pha\nbe', 'ta\n\ngam']);   // a message split across reads, two in one, an empty one
    peer.transport!.write('ma\n');
    peer.transport!.writeEof();
    yield* upper.lost;
    yield* peer.gone;
    close();
    assert.ok(upper.transport instanceof ProtocolTransport);
    return { trace: upper.trace, wire: peer.text() };
  });
  assert.deepEqual(r.trace, ['made', 'data alpha', 'data beta', 'data ', 'data gamma', 'eof', 'lost']);
  assert.equal(r.wire, 'echo alpha\necho beta\necho \necho gamma\n');
});

void test('pauseReading holds messages already de-framed; they and the EOF behind them arrive in order after resumeReading', T, async () => {
  const r = await runRecording(function* () {
    const upper = new Upper({ data: (m, u) => { if (m === 'a') u.transport!.pauseReading(); } });
    const { peer, close } = yield* pair(upper);
    peer.transport!.write('a\nb\nc\n');
    peer.transport!.writeEof();
    yield* sleep(50);
    const whilePaused = [...upper.trace];
    assert.equal(upper.transport!.isReading(), false);
    upper.trace.push('resume');
    upper.transport!.resumeReading();
    yield* upper.lost;
    close();
    return { whilePaused, trace: upper.trace };
  });
  assert.deepEqual(r.whilePaused, ['made', 'data a']);
  assert.deepEqual(r.trace, ['made', 'data a', 'resume', 'data b', 'data c', 'eof', 'lost']);
});

void test('close() inside dataReceived: no message follows; eofReceived returning true keeps a half-open stack writable', T, async () => {
  const r = await runRecording(function* () {
    const u1 = new Upper({ data: (_m, u) => u.transport!.close() });
    const a = yield* pair(u1);
    a.peer.transport!.write('one\ntwo\nthree\n');
    yield* u1.lost;
    a.close();
    const u2 = new Upper({ eof: () => true });
    const b = yield* pair(u2);
    b.peer.transport!.write('q\n');
    b.peer.transport!.writeEof();
    yield* until(() => u2.trace.includes('eof'));
    u2.transport!.write('still here');
    u2.transport!.close();
    yield* b.peer.gone;
    b.close();
    return { t1: u1.trace, t2: u2.trace, wire2: b.peer.text() };
  });
  assert.deepEqual(r.t1, ['made', 'data one', 'lost']);
  assert.deepEqual(r.t2, ['made', 'data q', 'eof', 'lost']);
  assert.equal(r.wire2, 'still here\n');
});

void test('an upper protocol that throws: the exception handler hears it and the stack is aborted with it', T, async () => {
  const errors: ExceptionContext[] = [];
  const trace = await runRecording(function* () {
    const upper = new Upper({ data: (m) => { if (m === 'boom') throw new Error('boom'); } });
    const { peer, close } = yield* pair(upper);
    peer.transport!.write('ok\nboom\nnever\n');
    yield* upper.lost;
    yield* peer.gone;
    close();
    return upper.trace;
  }, errors);
  assert.deepEqual(trace, ['made', 'data ok', 'data boom', 'lost boom']);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]!.message), /dataReceived/);
});

void test('extra info, write-buffer limits and producers pass through to the transport below', T, async () => {
  const r = await runRecording(function* () {
    const upper = new Upper();
    const { peer, stacked, close } = yield* pair(upper);
    const t = upper.transport!;
    const below = t.getExtraInfo('lowerTransport') as Transport;
    assert.equal(t.getExtraInfo('lowerProtocol'), stacked.lower);
    assert.deepEqual(t.getExtraInfo('sockname'), below.getExtraInfo('sockname'));
    assert.equal(t.getExtraInfo('nope', 42), 42);
    t.setWriteBufferLimits(1000);
    assert.deepEqual(below.getWriteBufferLimits(), [250, 1000]);
    peer.transport!.pauseReading();
    const trace: string[] = [];
    const producer: PushProducer = { pauseProducing: () => trace.push('pause'), resumeProducing: () => trace.push('resume'), stopProducing: () => trace.push('stop') };
    t.registerProducer(producer);
    for (let i = 0; i < 200 && trace.length === 0; i++) t.write('x'.repeat(64 * 1024));
    assert.deepEqual(trace, ['pause']);
    assert.ok(t.getWriteBufferSize() > 1000);
    peer.transport!.resumeReading();
    yield* until(() => trace.length === 2);
    peer.transport!.abort();
    yield* upper.lost;
    close();
    return trace;
  });
  assert.deepEqual(r, ['pause', 'resume', 'stop']);
});

/** A lower protocol of another shape: 4-byte big-endian length prefixes, with `sendMessage`. */
class LengthPrefixed implements Protocol {
  transport: Transport | null = null;
  #buf = Buffer.alloc(0);
  constructor(readonly deliver: (m: Uint8Array) => void) {}
  connectionMade(t: Transport): void { this.transport = t; }
  dataReceived(d: Uint8Array): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readUInt32BE(0)) {
      const n = this.#buf.readUInt32BE(0);
      this.deliver(this.#buf.subarray(4, 4 + n));
      this.#buf = this.#buf.subarray(4 + n);
    }
  }
  sendMessage(m: Uint8Array | string): void {
    const b = Buffer.from(m);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(b.length);
    this.transport!.writeLines([h, b]);
  }
}

void test('any lower protocol with sendMessage and a deliver callback; stacks nest; a lower without a way down is refused', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const upper = new Upper({ data: (m, u) => u.transport!.write(m.toUpperCase()) });
    // '\n' lines inside length-prefixed frames: a message "a\nb\n" arrives as two upper messages.
    const server = yield* loop.createServer(() => stack((d) => new LengthPrefixed(d), stack((d) => new ChunkProtocol('\n', d), upper)), '127.0.0.1', 0);
    const client = new Upper();
    yield* loop.createConnection(() => stack((d) => new LengthPrefixed(d), client), '127.0.0.1', portOf(server));
    const ct = client.transport!;
    ct.write('a\nb\n');
    yield* until(() => client.trace.length >= 3);
    ct.close();
    yield* upper.lost;
    server.close();
    assert.throws(() => stack(() => ({}), new Upper()), /sendMessage/);
    const custom = stack(() => ({}), new Upper(), { send: () => undefined });
    assert.ok(custom instanceof StackedProtocol);
    return { server: upper.trace, client: client.trace };
  });
  assert.deepEqual(r.server, ['made', 'data a', 'data b', 'eof', 'lost']);
  assert.deepEqual(r.client, ['made', 'data A\n', 'data B\n', 'lost']);
});

void test('over a child process (SubprocessPipesProtocol): the same stack talks to `cat`, then eof and lost after the child exits', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const upper = new Upper({ data: (m, u) => { if (m === 'two') u.transport!.writeEof(); } });
    const [sub, pp] = yield* loop.subprocessExec(() => new SubprocessPipesProtocol(stack((d) => new ChunkProtocol('\n', d), upper)), 'cat', []);
    upper.transport!.write('one');
    upper.transport!.write('two');
    yield* upper.lost;
    assert.equal(sub.getReturncode(), 0);
    assert.equal(pp.transport!.getExtraInfo('pid'), sub.getPid());
    return upper.trace;
  });
  assert.deepEqual(r, ['made', 'data one', 'data two', 'eof', 'lost']);
});

void test('the PEP 3153 names are exported from the main entry', async () => {
  const mod = (await import('../../src/index.js')) as Record<string, unknown>;
  for (const n of ['stack', 'StackedProtocol', 'ProtocolTransport', 'SubprocessPipesProtocol', 'JsonRpcProtocol', 'JsonRpcError',
    'JsonRpcErrorCode', 'FileProducer', 'ChunkProtocol']) assert.equal(typeof mod[n], n === 'JsonRpcErrorCode' ? 'object' : 'function', n);
});
