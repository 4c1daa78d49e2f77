/**
 * The parsers under hostile segmentation: ChunkProtocol and
 * StreamReader.readUntil/readLine give the same answer however the stream
 * is cut (every split point, one- and two-cut, byte by byte), a chunk of
 * exactly maxChunkLength passes even when its delimiter is split, and a
 * long line dripped one byte at a time costs work linear in its length
 * (counted, not timed: bytes copied and scanned by the typed-array methods).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkProtocol, type Coro, createTask, LimitOverrunError, sleep, StreamReader, type Transport } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function fakeTransport(log: string[]): Transport {
  let closing = false;
  return {
    writeLines: () => undefined,
    abort: (e?: Error) => { closing = true; log.push(e instanceof LimitOverrunError ? 'overrun' : `abort ${String(e)}`); },
    isClosing: () => closing,
  } as unknown as Transport;
}

/** Cut `s` at the given offsets. */
function cut(s: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const a of [...at, s.length]) { out.push(s.slice(prev, a)); prev = a; }
  return out;
}

/** Every way to cut `n` bytes in one or two places (and not at all). */
function* cuts(n: number): Generator<number[]> {
  yield [];
  for (let i = 0; i <= n; i++) for (let j = i; j <= n; j++) yield [i, j];
}

function chunkOutputs(delim: string, pieces: Uint8Array[], max?: number): string[] {
  const got: string[] = [];
  const log: string[] = [];
  const p = new ChunkProtocol(delim, (c) => { got.push(dec.decode(c)); }, { maxChunkLength: max });
  p.connectionMade(fakeTransport(log));
  for (const x of pieces) { if (log.length > 0) break; p.dataReceived(x); }
  return [...got, ...log];
}

const STREAMS: Array<[string, string]> = [
  ['\n', 'alpha\nbe\n\nta\ngamma\nrest'],
  ['\r\n', 'one\r\ntw\ro\r\n\r\n\rthree\r\r\nrest\r'],
  ['abcab', 'xxabcabyyabcabcabzzabcaabcabab'],   // a delimiter that overlaps itself
];

void test('ChunkProtocol: the same chunks at every one- and two-cut split point, and byte by byte', () => {
  for (const [delim, text] of STREAMS) {
    const expected = text.split(delim).slice(0, -1);
    const bytes = enc.encode(text);
    for (const at of cuts(bytes.length)) assert.deepEqual(chunkOutputs(delim, cut(bytes, at)), expected, `${JSON.stringify(delim)} cut at ${at.join(',')}`);
    assert.deepEqual(chunkOutputs(delim, [...bytes].map((b) => Uint8Array.of(b))), expected);
  }
});

void test('ChunkProtocol: a chunk of exactly maxChunkLength passes however its delimiter is split; one byte more never does', () => {
  for (const delim of ['\n', '\r\n', '<END>']) {
    const max = 16;
    const ok = enc.encode(`${'m'.repeat(max)}${delim}${'n'.repeat(max)}${delim}`);
    const bad = enc.encode(`${'m'.repeat(max + 1)}${delim}`);
    for (const at of cuts(ok.length)) assert.deepEqual(chunkOutputs(delim, cut(ok, at), max), ['m'.repeat(max), 'n'.repeat(max)], `${JSON.stringify(delim)} cut at ${at.join(',')}`);
    for (const at of cuts(bad.length)) assert.deepEqual(chunkOutputs(delim, cut(bad, at), max), ['overrun'], `${JSON.stringify(delim)} cut at ${at.join(',')}`);
  }
  // A peer that never sends the delimiter is cut off within (delimiter length - 1) bytes past the limit.
  const log: string[] = [];
  const p = new ChunkProtocol('\r\n', () => undefined, { maxChunkLength: 8 });
  p.connectionMade(fakeTransport(log));
  for (let i = 0; i < 9 && log.length === 0; i++) p.dataReceived(enc.encode('x'));
  assert.deepEqual(log, []);
  p.dataReceived(enc.encode('x'));
  assert.deepEqual(log, ['overrun']);
});

/** readUntil(delim) until EOF over `pieces`, fed one piece per batch. */
function readerOutputs(delim: string, pieces: Uint8Array[]): Promise<string[]> {
  return runVirtual(function* () {
    const r = new StreamReader({ limit: 1024 });
    createTask(function* () { for (const x of pieces) { r.feedData(x); yield* sleep(0); } r.feedEof(); }());
    const out: string[] = [];
    for (;;) {
      try {
        out.push(dec.decode(yield* r.readUntil(delim)));
      } catch (e) {
        out.push(`partial ${dec.decode((e as { partial: Uint8Array }).partial)}`);
        return out;
      }
    }
  });
}

void test('StreamReader.readUntil and readLine: the same answers at every split point', async () => {
  for (const [delim, text] of STREAMS) {
    const parts = text.split(delim);
    const expected = [...parts.slice(0, -1).map((x) => x + delim), `partial ${parts.at(-1)!}`];
    const bytes = enc.encode(text);
    for (const at of cuts(bytes.length)) assert.deepEqual(await readerOutputs(delim, cut(bytes, at)), expected, `${JSON.stringify(delim)} cut at ${at.join(',')}`);
    assert.deepEqual(await readerOutputs(delim, [...bytes].map((b) => Uint8Array.of(b))), expected);
  }
  const lines = await runVirtual(function* () {
    const r = new StreamReader();
    createTask(function* () { for (const b of enc.encode('ab\ncd\n\nlast')) { r.feedData(Uint8Array.of(b)); yield* sleep(0); } r.feedEof(); }());
    const out: string[] = [];
    for (let l = yield* r.readLine(); l.length > 0; l = yield* r.readLine()) out.push(dec.decode(l));
    return out;
  });
  assert.deepEqual(lines, ['ab\n', 'cd\n', '\n', 'last']);
});

/** Count the bytes the typed-array methods copy and scan while `body` runs (the parsers' only bulk work). */
async function countWork(body: () => Promise<void>): Promise<number> {
  const P = Uint8Array.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = { set: P.set!, indexOf: P.indexOf!, slice: P.slice!, subarray: P.subarray! };
  let work = 0;
  P.set = function (this: Uint8Array, src: unknown, off?: unknown) { work += (src as ArrayLike<number>).length + 1; return saved.set.call(this, src, off); };
  P.indexOf = function (this: Uint8Array, v: unknown, from?: unknown) { work += this.length - Number(from ?? 0) + 1; return saved.indexOf.call(this, v, from); };
  P.slice = function (this: Uint8Array, a?: unknown, b?: unknown) { const r = saved.slice.call(this, a, b) as Uint8Array; work += r.length + 1; return r; };
  P.subarray = function (this: Uint8Array, a?: unknown, b?: unknown) { work += 1; return saved.subarray.call(this, a, b); };
  try {
    await body();
  } finally {
    Object.assign(P, saved);
  }
  return work;
}

function dripChunk(n: number): Promise<void> {
  const p = new ChunkProtocol('\r\n', (c) => { assert.equal(c.length, n); }, { maxChunkLength: n });
  p.connectionMade(fakeTransport([]));
  const one = new Uint8Array(1);
  one[0] = 120;
  for (let i = 0; i < n; i++) p.dataReceived(one);
  p.dataReceived(enc.encode('\r'));
  p.dataReceived(enc.encode('\n'));
  return Promise.resolve();
}

function dripLine(n: number): Promise<void> {
  return runVirtual(function* (): Coro<void> {
    const r = new StreamReader({ limit: 2 * n });
    const x = Uint8Array.of(120), nl = Uint8Array.of(10);
    const reading = createTask(r.readLine());
    for (let i = 0; i < n; i++) { r.feedData(x); yield* sleep(0); }
    r.feedData(nl);
    assert.equal((yield* reading).length, n + 1);
  });
}

void test('a 64 KiB chunk or line dripped one byte at a time costs linear work (16 KiB vs 64 KiB: about 4x, not 16x)', async () => {
  for (const [name, drip] of [['ChunkProtocol', dripChunk], ['StreamReader.readLine', dripLine]] as const) {
    const small = await countWork(() => drip(16 * 1024));
    const large = await countWork(() => drip(64 * 1024));
    const ratio = large / small;
    assert.ok(ratio < 5, `${name}: ${large} units for 64 KiB vs ${small} for 16 KiB (${ratio.toFixed(1)}x): not linear`);
    assert.ok(large < 40 * 64 * 1024, `${name}: ${large} units of work for a 64 KiB line`);
  }
});

void test('StreamReader: after readUntil() overruns (the buffer is left), a readUntil() for another separator searches from the start', () => runVirtual(function* () {
  const r = new StreamReader({ limit: 8 });
  const reading = createTask(r.readUntil('\n'));
  for (const piece of ['ab;cd', 'efghij', 'klmnop']) { r.feedData(enc.encode(piece)); yield* sleep(0); }   // the search moves on each time
  try { yield* reading; assert.fail('no overrun'); } catch (e) { assert.ok(e instanceof LimitOverrunError, String(e)); }
  assert.equal(dec.decode(yield* r.readUntil(';')), 'ab;');
}));
