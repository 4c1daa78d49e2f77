/**
 * The HTTP/1.1 parser on its own: what it makes of requests and responses,
 * and the properties it must keep whatever the network does to the bytes:
 * every split of the input parses as the whole does, and random bytes end
 * in a parse error (an HttpError with a status), never a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HttpError } from '../../../src/protocols/http/errors.js';
import type { Headers } from '../../../src/protocols/http/headers.js';
import { HttpParser, type ParserSink } from '../../../src/protocols/http/parser.js';
import type { ParsedHead } from '../../../src/protocols/http/syntax.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records what the parser reports; serves requests at once (like a handler that answers without waiting). */
class Recorder implements ParserSink {
  readonly events: string[] = [];
  parser!: HttpParser;
  body: Uint8Array[] = [];
  methods: string[] = [];
  constructor(readonly auto = true) {}
  _onHead(h: ParsedHead): void {
    const fields = [...h.headers].map(([n, v]) => `${n}=${v}`).join('|');
    this.events.push(h.method !== ''
      ? `head ${h.method} ${h.target} ${h.version} ka=${h.keepAlive} kind=${h.bodyKind} len=${h.length} [${fields}]`
      : `head ${h.status} ${h.reason} ${h.version} ka=${h.keepAlive} kind=${h.bodyKind} len=${h.length} [${fields}]`);
    if (h.bodyKind === 0 && this.auto) this.#next();
  }
  _onBody(chunk: Uint8Array): void { this.body.push(chunk.slice()); }
  _onEnd(trailers: Headers | null): void {
    const total = this.body.reduce((n, c) => n + c.length, 0);
    const all = new Uint8Array(total);
    let off = 0;
    for (const c of this.body) { all.set(c, off); off += c.length; }
    this.body = [];
    this.events.push(`body ${JSON.stringify(dec.decode(all))}`);
    this.events.push(`end${trailers === null ? '' : ` [${[...trailers].map(([n, v]) => `${n}=${v}`).join('|')}]`}`);
    if (this.auto) this.#next();
  }
  _onError(e: HttpError): void {
    assert.ok(e instanceof HttpError);
    this.events.push(`error ${e.status}`);
  }
  _onInformational(h: ParsedHead): void { this.events.push(`info ${h.status}`); }
  #next(): void {
    const m = this.methods.shift();
    if (m !== undefined) this.parser.expectResponse(m);
    else this.parser.nextMessage();
  }
}

/** Feed `data` split at `cuts` through getBuffer/bufferUpdated (the in-place read path); return the events. */
function parse(kind: 'request' | 'response', data: Uint8Array, cuts: number[] = [], opts: { methods?: string[]; eof?: boolean } = {}): string[] {
  const r = new Recorder();
  const p = new HttpParser(kind, r);
  r.parser = p;
  r.methods = [...(opts.methods ?? [])];
  if (kind === 'response') p.expectResponse(r.methods.shift() ?? 'GET');
  const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  let prev = 0;
  for (const end of [...points, data.length]) {
    let off = prev;
    while (off < end) {
      const buf = p.getBuffer();
      const n = Math.min(buf.length, end - off);
      buf.set(data.subarray(off, off + n));
      p.bufferUpdated(n);
      off += n;
    }
    prev = end;
  }
  if (opts.eof === true) p.feedEof();
  return r.events;
}

const req = (s: string): Uint8Array => enc.encode(s);

void test('a request with headers, repeats kept in order, values trimmed', () => {
  const ev = parse('request', req('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept:  text/plain \r\nX-A: 1\r\nx-a: 2\r\n\r\n'));
  assert.deepEqual(ev, ['head GET /a?b=1 1.1 ka=true kind=0 len=-1 [Host=x|Accept=text/plain|X-A=1|x-a=2]']);
});

void test('bodies: Content-Length, chunked with extensions and trailers, then the next pipelined request', () => {
  const data = req('POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'
    + 'POST /y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c="d e"\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n'
    + 'GET /z HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.deepEqual(parse('request', data), [
    'head POST /x 1.1 ka=true kind=1 len=5 [Host=h|Content-Length=5]', 'body "hello"', 'end',
    'head POST /y 1.1 ka=true kind=2 len=-1 [Host=h|Transfer-Encoding=chunked]', 'body "abcde"', 'end [X-T=1]',
    'head GET /z 1.1 ka=false kind=0 len=-1 [Host=h|Connection=close]',
  ]);
});

void test('HTTP/1.0: keep-alive only when asked; leading empty lines are skipped', () => {
  assert.deepEqual(parse('request', req('\r\n\r\nGET / HTTP/1.0\r\n\r\n')), ['head GET / 1.0 ka=false kind=0 len=-1 []']);
  assert.deepEqual(parse('request', req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')), ['head GET / 1.0 ka=true kind=0 len=-1 [Connection=Keep-Alive]']);
});

void test('obs-text in a value reads as one character per byte', () => {
  const data = new Uint8Array([...req('GET / HTTP/1.1\r\nHost: h\r\nX: a'), 0xe9, 0xff, ...req('b\r\n\r\n')]);
  assert.deepEqual(parse('request', data), ['head GET / 1.1 ka=true kind=0 len=-1 [Host=h|X=a\u00e9\u00ffb]']);
});

void test('responses: framing by status and request method, 1xx skipped, read-to-close bodies', () => {
  assert.deepEqual(parse('response', req('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi')),
    ['info 100', 'head 200 OK 1.1 ka=true kind=1 len=2 [Content-Length=2]', 'body "hi"', 'end']);
  assert.deepEqual(parse('response', req('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n'), [], { methods: ['HEAD'] }),
    ['head 200 OK 1.1 ka=true kind=0 len=2 [Content-Length=2]']);
  assert.deepEqual(parse('response', req('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n'), [], { methods: ['GET', 'GET'] }),
    ['head 204 No Content 1.1 ka=true kind=0 len=-1 []', 'head 304 Not Modified 1.1 ka=true kind=0 len=-1 []']);
  assert.deepEqual(parse('response', req('HTTP/1.0 200 OK\r\n\r\nuntil the end'), [], { eof: true }),
    ['head 200 OK 1.0 ka=false kind=3 len=-1 []', 'body "until the end"', 'end']);
  assert.deepEqual(parse('response', req('HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n')),
    ['head 200  1.1 ka=true kind=2 len=-1 [Transfer-Encoding=chunked]', 'body "a"', 'end']);
});

void test('limits: request line 8 KiB (414), header section 16 KiB or 100 fields (431)', () => {
  const line = (n: number): string => `GET /${'a'.repeat(n - 14)} HTTP/1.1`;
  assert.equal(line(8192).length, 8192);
  assert.deepEqual(parse('request', req(`${line(8192)}\r\nHost: h\r\n\r\n`)).map((e) => e.slice(0, 8)), ['head GET']);
  assert.deepEqual(parse('request', req(`${line(8193)}\r\nHost: h\r\n\r\n`)), ['error 414']);
  assert.deepEqual(parse('request', req(`GET /${'a'.repeat(9000)}`)), ['error 414']);   // no CRLF in time
  const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: v`).join('\r\n');
  assert.equal(parse('request', req(`GET / HTTP/1.1\r\nHost: h\r\n${fields(99)}\r\n\r\n`))[0]!.slice(0, 8), 'head GET');
  assert.deepEqual(parse('request', req(`GET / HTTP/1.1\r\nHost: h\r\n${fields(100)}\r\n\r\n`)), ['error 431']);
  const big = `X: ${'v'.repeat(16384 - 9 - 5)}`;   // with "Host: h\r\n" (9 bytes) and its own CRLF: exactly 16384
  assert.equal(parse('request', req(`GET / HTTP/1.1\r\nHost: h\r\n${big}\r\n\r\n`))[0]!.slice(0, 8), 'head GET');
  assert.deepEqual(parse('request', req(`GET / HTTP/1.1\r\nHost: h\r\n${big}v\r\n\r\n`)), ['error 431']);
  assert.deepEqual(parse('request', req(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'v'.repeat(20000)}`)), ['error 431']);   // no end in time
});

void test('chunk limits: more than 16 hex digits, overflow, extensions past 16 KiB per message', () => {
  const chunked = (body: string): Uint8Array => req(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
  const head = 'head POST / 1.1 ka=true kind=2 len=-1 [Host=h|Transfer-Encoding=chunked]';
  assert.deepEqual(parse('request', chunked('00000000000000001\r\na\r\n0\r\n\r\n')), [head, 'error 400']);
  assert.deepEqual(parse('request', chunked('0000000000000001\r\na\r\n0\r\n\r\n')), [head, 'body "a"', 'end']);
  assert.deepEqual(parse('request', chunked('ffffffffffffffff\r\n')), [head, 'error 400']);
  const ext = `;x=${'y'.repeat(8000)}`;
  assert.deepEqual(parse('request', chunked(`1${ext}\r\na\r\n1${ext}\r\nb\r\n0\r\n\r\n`)), [head, 'body "ab"', 'end']);
  assert.deepEqual(parse('request', chunked(`1${ext}\r\na\r\n1${ext}\r\nb\r\n1${ext}\r\nc\r\n0\r\n\r\n`)), [head, 'error 413']);
  assert.deepEqual(parse('request', chunked(`1;${'y'.repeat(20000)}`)), [head, 'error 413']);   // no CRLF in time
});

/** A few valid request streams with every kind of framing. */
const VALID = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world',
  'PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',   // 501, then nothing
  'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\r\nhello\r\n6\r\n world\r\n0\r\nT: x\r\n\r\n',
  '\r\nGET /pipelined HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nGET /second HTTP/1.0\r\n\r\n',
];
const ALL = req(VALID.join(''));

void test('property: every split of valid requests parses as the whole', () => {
  const whole = parse('request', ALL);
  assert.equal(whole.at(-1), 'error 501');
  fc.assert(fc.property(fc.array(fc.nat(ALL.length), { maxLength: 40 }), (cuts) => {
    assert.deepEqual(parse('request', ALL, cuts), whole);
  }), { numRuns: 300 });
  // and one byte at a time
  assert.deepEqual(parse('request', ALL, Array.from({ length: ALL.length }, (_, i) => i)), whole);
});

void test('property: every split of responses parses as the whole', () => {
  const data = req('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'
    + 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n'
    + 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n'
    + 'HTTP/1.0 200 OK\r\n\r\nthe rest');
  const opts = { methods: ['GET', 'GET', 'HEAD', 'GET'], eof: true };
  const whole = parse('response', data, [], opts);
  assert.equal(whole.length, 11);
  fc.assert(fc.property(fc.array(fc.nat(data.length), { maxLength: 30 }), (cuts) => {
    assert.deepEqual(parse('response', data, cuts, opts), whole);
  }), { numRuns: 300 });
});

void test('property: random bytes end in an HttpError or wait for more, never a crash', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 8 }), (bytes, cuts) => {
    for (const kind of ['request', 'response'] as const) {
      const ev = parse(kind, bytes, cuts, { eof: true });
      for (const e of ev) assert.match(e, /^(head|body|end|info|error (400|413|414|431|501|505|502))/);
      assert.ok(ev.filter((e) => e.startsWith('error')).length <= 1);
      if (ev.some((e) => e.startsWith('error'))) assert.match(ev.at(-1)!, /^error/);   // nothing after a refusal
    }
  }), { numRuns: 500 });
  // random bytes after a valid prefix (a head, then garbage where a chunk size or the next request goes)
  fc.assert(fc.property(fc.constantFrom(...VALID.slice(0, 4)), fc.uint8Array({ maxLength: 300 }), (prefix, tail) => {
    const data = new Uint8Array([...req(prefix), ...tail]);
    const ev = parse('request', data, [], { eof: true });
    for (const e of ev) assert.match(e, /^(head|body|end|error (400|413|414|431|501|505))/);
  }), { numRuns: 500 });
});

void test('property: random mutations of valid requests are parsed or refused, split or whole alike', () => {
  fc.assert(fc.property(fc.nat(ALL.length - 1), fc.nat(255), fc.array(fc.nat(ALL.length), { maxLength: 10 }), (at, byte, cuts) => {
    const data = ALL.slice();
    data[at] = byte;
    assert.deepEqual(parse('request', data, cuts), parse('request', data));
  }), { numRuns: 500 });
});

void test('a server that answers later: pipelined requests wait in the buffer until nextMessage()', () => {
  const r = new Recorder(false);
  const p = new HttpParser('request', r);
  r.parser = p;
  const data = req('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
  const buf = p.getBuffer();
  buf.set(data);
  p.bufferUpdated(data.length);
  assert.equal(r.events.length, 1);
  assert.equal(p.backlog, data.length / 2);
  p.nextMessage();
  assert.equal(r.events.length, 2);
  assert.match(r.events[1]!, /^head GET \/2 /);
  assert.equal(p.backlog, 0);
});
