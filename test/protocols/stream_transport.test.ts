import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContextVar, DEFAULT_HIGH_WATER, getRunningLoop, type Coro, type EventLoop, type ExceptionContext, type Protocol,
  type PushProducer, sleep, StreamTransportBase, type Transport,
} from '../../src/index.js';
import { bytes, go } from '../net_helpers.js';

/** A backend in memory: the test decides when bytes leave the buffer and when the connection ends. */
class MemTransport extends StreamTransportBase {
  size = 0;
  readonly log: string[] = [];
  constructor(loop: EventLoop, p: Protocol) { super(loop, p); }
  protected _send(d: Uint8Array | string): void { this.size += typeof d === 'string' ? d.length : d.length; }
  protected _sendMany(list: Array<Uint8Array | string>): void { this.log.push(`writev ${list.length}`); for (const d of list) this._send(d); }
  protected _bufferSize(): number { return this.size; }
  protected _shutdown(): void { this.log.push('shutdown'); }
  protected _closeGracefully(): void { this.log.push('close'); }
  protected _destroy(): void { this.log.push('destroy'); }
  protected _setReading(on: boolean): void { this.log.push(on ? 'resume' : 'pause'); }
  flushTo(n: number): void { this.size = n; this._flushed(); }
}

function recorder(trace: string[], extra: Partial<Protocol> = {}): Protocol {
  return {
    connectionMade: () => trace.push('made'),
    dataReceived: (d: Uint8Array) => trace.push(`data ${d.length}`),
    eofReceived: () => { trace.push('eof'); },
    connectionLost: (e?: Error) => trace.push(`lost ${e?.message ?? ''}`.trim()),
    pauseWriting: () => trace.push('pauseWriting'),
    resumeWriting: () => trace.push('resumeWriting'),
    ...extra,
  };
}

void test('pauseWriting runs inside the write that crosses the high-water mark; resumeWriting once at the low-water mark', () => go(function* () {
  const trace: string[] = [];
  const t = new MemTransport(getRunningLoop(), recorder(trace));
  t._connectionMade();
  t.setWriteBufferLimits(100);
  assert.deepEqual(t.getWriteBufferLimits(), [25, 100]);
  t.write(new Uint8Array(100));
  assert.deepEqual(trace, ['made']);
  t.write(new Uint8Array(1));
  assert.deepEqual(trace, ['made', 'pauseWriting']);
  t.write(new Uint8Array(50));
  t.flushTo(26);
  assert.deepEqual(trace, ['made', 'pauseWriting']);
  t.flushTo(25);
  assert.deepEqual(trace, ['made', 'pauseWriting', 'resumeWriting']);
  t.flushTo(0);
  assert.equal(trace.length, 3);
}));

void test('write-buffer limits: asyncio defaults, low derived from high and high from low, bad values rejected', () => go(function* () {
  const t = new MemTransport(getRunningLoop(), {});
  assert.deepEqual(t.getWriteBufferLimits(), [DEFAULT_HIGH_WATER / 4, DEFAULT_HIGH_WATER]);
  assert.equal(DEFAULT_HIGH_WATER, 65536);
  t.setWriteBufferLimits(undefined, 10);
  assert.deepEqual(t.getWriteBufferLimits(), [10, 40]);
  t.setWriteBufferLimits(0);
  assert.deepEqual(t.getWriteBufferLimits(), [0, 0]);
  assert.throws(() => t.setWriteBufferLimits(10, 20), RangeError);
  assert.throws(() => t.setWriteBufferLimits(-1), RangeError);
}));

void test('a registered producer is paused, resumed and stopped with the same marks, and stopped on connection lost', () => go(function* () {
  const trace: string[] = [];
  const t = new MemTransport(getRunningLoop(), recorder(trace));
  t._connectionMade();
  t.setWriteBufferLimits(10, 2);
  const prod: PushProducer = { pauseProducing: () => trace.push('p:pause'), resumeProducing: () => trace.push('p:resume'), stopProducing: () => trace.push('p:stop') };
  t.registerProducer(prod);
  assert.throws(() => t.registerProducer(prod), /already registered/);
  t.write(new Uint8Array(11));
  t.flushTo(2);
  t.write(new Uint8Array(20));
  t._connectionLost(undefined);
  assert.deepEqual(trace, ['made', 'pauseWriting', 'p:pause', 'resumeWriting', 'p:resume', 'pauseWriting', 'p:pause', 'p:stop', 'lost']);
  const late: string[] = [];
  t.registerProducer({ pauseProducing: () => late.push('pause'), resumeProducing: () => late.push('resume'), stopProducing: () => late.push('stop') });
  assert.deepEqual(late, ['stop']);
}));

void test('a producer registered while writing is paused is paused at once; unregistered, it hears nothing more', () => go(function* () {
  const t = new MemTransport(getRunningLoop(), {});
  t._connectionMade();
  t.setWriteBufferLimits(1);
  t.write('xx');
  const trace: string[] = [];
  t.registerProducer({ pauseProducing: () => trace.push('pause'), resumeProducing: () => trace.push('resume'), stopProducing: () => trace.push('stop') });
  t.unregisterProducer();
  t.flushTo(0);
  t._connectionLost(undefined);
  assert.deepEqual(trace, ['pause']);
}));

void test('call order: nothing after close(); eofReceived once; connectionLost once; nothing before connectionMade', () => go(function* () {
  const trace: string[] = [];
  const t = new MemTransport(getRunningLoop(), recorder(trace));
  t._dataReceived(bytes('early'));
  t._eofReceived();
  t._connectionMade();
  t._connectionMade();
  t._dataReceived(bytes('abc'));
  t._eofReceived();
  t._eofReceived();
  t._dataReceived(bytes('late'));
  t._connectionLost(undefined);
  t._connectionLost(new Error('again'));
  assert.deepEqual(trace, ['made', 'data 3', 'eof', 'lost']);
  assert.deepEqual(t.log, ['pause', 'close']);   // eofReceived returned nothing: the transport closes
}));

void test('eofReceived returning true keeps the transport open for writing', () => go(function* () {
  const trace: string[] = [];
  const t = new MemTransport(getRunningLoop(), recorder(trace, { eofReceived: () => { trace.push('eof'); return true; } }));
  t._connectionMade();
  t._eofReceived();
  assert.equal(t.isClosing(), false);
  t.write('bye');
  t.writeEof();
  assert.throws(() => t.write('more'), /after writeEof/);
  assert.deepEqual(t.log, ['shutdown']);
}));

void test('abort(exc) drops the buffer and connectionLost gets exc; a dropped connection never made calls nothing', () => go(function* () {
  const trace: string[] = [];
  const t = new MemTransport(getRunningLoop(), recorder(trace));
  t._connectionMade();
  const boom = new Error('boom');
  t.abort(boom);
  t._dataReceived(bytes('x'));
  t._connectionLost(new Error('socket said'));
  assert.deepEqual(trace, ['made', 'lost boom']);
  assert.deepEqual(t.log, ['destroy']);
  const t2 = new MemTransport(getRunningLoop(), recorder(trace));
  t2._connectionLost(new Error('refused'));
  assert.equal(trace.length, 2);
}));

void test('a protocol method that throws goes to the exception handler and aborts the transport with that error', () => {
  const errors: ExceptionContext[] = [];
  return go(function* () {
    const trace: string[] = [];
    const bad = new Error('bad data');
    const p = recorder(trace, { dataReceived: () => { throw bad; } });
    const t = new MemTransport(getRunningLoop(), p);
    t._connectionMade();
    t._dataReceived(bytes('x'));
    t._dataReceived(bytes('y'));
    assert.deepEqual(t.log, ['destroy']);
    t._connectionLost(undefined);
    assert.deepEqual(trace, ['made', 'lost bad data']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.exception, bad);
    assert.equal(errors[0]!.transport, t);
    assert.equal(errors[0]!.protocol, p);
    assert.match(errors[0]!.message, /dataReceived/);
  }, errors);
});

void test('a throwing connectionMade aborts; a throwing connectionLost is only reported', () => {
  const errors: ExceptionContext[] = [];
  return go(function* () {
    const trace: string[] = [];
    const t = new MemTransport(getRunningLoop(), recorder(trace, {
      connectionMade: () => { throw new Error('made failed'); },
      connectionLost: (e?: Error) => { trace.push(`lost ${e?.message}`); throw new Error('lost failed'); },
    }));
    t._connectionMade();
    t._dataReceived(bytes('x'));
    t._connectionLost(undefined);
    assert.deepEqual(trace, ['lost made failed']);
    assert.deepEqual(errors.map((e) => (e.exception as Error).message), ['made failed', 'lost failed']);
  }, errors);
});

const requestId = new ContextVar<string>('requestId', { default: '-' });

void test('protocol methods run with their loop running and in the context captured at creation, which persists between calls', async () => {
  const seen: string[] = [];
  let t: MemTransport | null = null;
  let loop: EventLoop | null = null;
  await go(function* (): Coro<void> {
    loop = getRunningLoop();
    requestId.set('conn-1');
    t = new MemTransport(loop, {
      connectionMade: () => { seen.push(`made ${requestId.get()} ${getRunningLoop() === loop}`); requestId.set('changed'); },
      dataReceived: () => { seen.push(`data ${requestId.get()} ${getRunningLoop() === loop}`); },
    });
    requestId.set('other');
    yield* sleep(0);
  });
  // Called from outside any loop tick (as Node's I/O callbacks are): the loop is still the running one for the call.
  t!._connectionMade();
  t!._dataReceived(bytes('x'));
  assert.deepEqual(seen, ['made conn-1 true', 'data changed true']);
  assert.equal(requestId.get(), '-');
});

void test('writeLines sends one vectored write; bad data is a TypeError; writes after close are dropped', () => go(function* () {
  const t = new MemTransport(getRunningLoop(), {});
  t._connectionMade();
  t.writeLines(['a', bytes('bc'), '']);
  assert.deepEqual(t.log, ['writev 2']);
  assert.equal(t.getWriteBufferSize(), 3);
  assert.throws(() => t.write(42 as unknown as string), TypeError);
  t.close();
  t.write('dropped');
  assert.equal(t.getWriteBufferSize(), 3);
  const tr: Transport = t;
  assert.equal(tr.isClosing(), true);
}));
