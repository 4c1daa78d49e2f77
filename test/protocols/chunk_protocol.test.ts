import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkProtocol, Future, getRunningLoop, LimitOverrunError, type Transport } from '../../src/index.js';
import { bytes, go, portOf, str } from '../net_helpers.js';

/** Just enough of a transport for ChunkProtocol. */
function fakeTransport(log: string[]): Transport {
  let closing = false;
  return {
    writeLines: (l: Iterable<Uint8Array | string>) => { log.push(`write ${[...l].map((x) => typeof x === 'string' ? x : str(x)).join('|')}`); },
    abort: (e?: Error) => { closing = true; log.push(`abort ${e instanceof LimitOverrunError ? e.name : String(e)}`); },
    isClosing: () => closing,
  } as unknown as Transport;
}

void test('chunks are cut at the delimiter across reads, without it; writeChunk appends it', () => {
  const got: string[] = [];
  const log: string[] = [];
  const p = new ChunkProtocol('\r\n', (c, proto) => { got.push(str(c)); proto.writeChunk(c); });
  p.connectionMade(fakeTransport(log));
  p.dataReceived(bytes('one\r'));
  p.dataReceived(bytes('\ntwo\r\n\r\nthr'));
  p.dataReceived(bytes('ee\r\nrest'));
  assert.deepEqual(got, ['one', 'two', '', 'three']);
  assert.deepEqual(log, ['write one|\r\n', 'write two|\r\n', 'write |\r\n', 'write three|\r\n']);
});

void test('a chunk longer than maxChunkLength aborts the transport with LimitOverrunError, found or not', () => {
  const log: string[] = [];
  const got: string[] = [];
  const p = new ChunkProtocol('\n', (c) => { got.push(str(c)); }, { maxChunkLength: 4 });
  p.connectionMade(fakeTransport(log));
  p.dataReceived(bytes('ok\ntoolong\nnever'));
  assert.deepEqual(got, ['ok']);
  assert.deepEqual(log, ['abort LimitOverrunError']);
  const log2: string[] = [];
  const q = new ChunkProtocol('\n', () => undefined, { maxChunkLength: 4 });
  q.connectionMade(fakeTransport(log2));
  q.dataReceived(bytes('abc'));
  q.dataReceived(bytes('def'));
  assert.deepEqual(log2, ['abort LimitOverrunError']);
  assert.throws(() => new ChunkProtocol('', () => undefined), RangeError);
});

void test('a line echo server made of ChunkProtocol over TCP', () => go(function* () {
  const loop = getRunningLoop();
  const server = yield* loop.createServer(() => new ChunkProtocol('\n', (line, p) => p.writeChunk(`echo ${str(line)}`)), '127.0.0.1', 0);
  const lines: string[] = [];
  const two = new Future<void>({ loop, description: 'two lines' });
  const [t] = yield* loop.createConnection(() => new ChunkProtocol('\n', (l) => { lines.push(str(l)); if (lines.length === 2) two.setResult(); }), '127.0.0.1', portOf(server));
  t.write('a\nb\n');
  yield* two;
  assert.deepEqual(lines, ['echo a', 'echo b']);
  t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
}));
