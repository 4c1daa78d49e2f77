/**
 * The request-smuggling corpus, against a real server over real sockets:
 * every message a proxy and a server could read two ways (RFC 9112's
 * ambiguities and the classic CL.TE / TE.CL / TE.TE tricks) is refused with
 * one response and `Connection: close`, and the request hidden behind it
 * (`GET /smuggled`) is never served. The server keeps serving others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveHttp } from '../../../src/protocols/http/index.js';
import { go, portOf } from '../../net_helpers.js';
import { rawIn, statuses } from './helpers.js';

const HIDDEN = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

/** [name, request bytes (HIDDEN follows), expected status] */
const REFUSED: Array<[string, string, number]> = [
  ['CL.TE: both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX', 400],
  ['TE.CL: both, the other order', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n', 400],
  ['differing duplicate Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400],
  ['differing Content-Length list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!', 400],
  ['Content-Length with a sign', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello', 400],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ['hex Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello', 400],
  ['Content-Length with inner space', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello', 400],
  ['empty Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n', 400],
  ['Content-Length overflow', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n', 400],
  ['Transfer-Encoding without a final chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: gzip alone', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
  ['Transfer-Encoding: xchunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: chunk', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunk\r\n\r\n0\r\n\r\n', 400],
  ['an unknown coding before chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['chunked twice in one field', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 400],
  ['chunked twice in two fields', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['an empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n', 400],
  ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['obs-fold of Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n', 400],
  ['obs-fold of a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n', 400],
  ['whitespace before the first field', 'GET / HTTP/1.1\r\n Host: x\r\n\r\n', 400],
  ['space before the colon', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n', 400],
  ['tab before the colon', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length\t: 5\r\n\r\nhello', 400],
  ['a vertical tab in Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n', 400],
  ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n', 400],
  ['bare CR in the request line', 'GET /\r HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: x\n\n', 400],
  ['bare LF inside the head', 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n', 400],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n', 400],
  ['NUL in a name', 'GET / HTTP/1.1\r\nHost: x\r\nX\0Y: a\r\n\r\n', 400],
  ['DEL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n', 400],
  ['ESC in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x1bb\r\n\r\n', 400],
  ['a space inside a name', 'GET / HTTP/1.1\r\nHost: x\r\nX Y: z\r\n\r\n', 400],
  ['a separator in a name', 'GET / HTTP/1.1\r\nHost: x\r\n(X): z\r\n\r\n', 400],
  ['an empty name', 'GET / HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n', 400],
  ['a line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n', 400],
  ['negative chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n', 400],
  ['0x chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', 400],
  ['space before a chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n', 400],
  ['junk after a chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n', 400],
  ['an empty chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n', 400],
  ['a chunk size over 16 hex digits', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n0\r\n\r\n', 400],
  ['a chunk size that overflows', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff0\r\nhello\r\n', 400],
  ['a chunk size line ended by a bare LF', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', 400],
  ['the last chunk ended by bare LFs', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\n\n', 400],
  ['chunk data longer than its size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n', 400],
  ['an unterminated quoted chunk extension', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n', 400],
  ['a chunk extension without a name', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;=b\r\nhello\r\n0\r\n\r\n', 400],
  ['chunk extensions past the limit', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${`1;e=${'x'.repeat(4000)}\r\na\r\n`.repeat(5)}0\r\n\r\n`, 413],
  ['obs-fold in a trailer', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\n b\r\n\r\n', 400],
  ['a control byte in a trailer', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\x01\r\n\r\n', 400],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['a trailing space in the request line', 'GET / HTTP/1.1 \r\nHost: x\r\n\r\n', 400],
  ['a tab in the target', 'GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['obs-text in the target', 'GET /\xfc HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['a lower-case version', 'GET / http/1.1\r\nHost: x\r\n\r\n', 400],
  ['a malformed version', 'GET / HTTP/1.10\r\nHost: x\r\n\r\n', 400],
  ['HTTP/2.0 on HTTP/1.1', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['a separator in the method', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400],
  ['an expectation other than 100-continue', 'GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n', 417],
  ['a body over maxBodySize, declared', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n', 413],
  ['a chunked body over maxBodySize', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'200\r\n'.concat('y'.repeat(512), '\r\n').repeat(3)}0\r\n\r\n`, 413],
];

/** Messages that look odd but are well-formed: served, and the request behind them too. */
const SERVED: Array<[string, string]> = [
  ['identical duplicate Content-Lengths', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello'],
  ['an identical Content-Length list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello'],
  ['Transfer-Encoding in any case, with whitespace', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \tChunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ['chunk extensions and trailers', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = b ; c="d \\" e"\r\nhello\r\n0\r\nTrailer-A: 1\r\nContent-Length: 99\r\n\r\n'],
  ['a request inside a body', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`],
];

void test('smuggling corpus: each ambiguous request is refused once, with Connection: close, and nothing behind it is read', { timeout: 120_000 }, async () => {
  const hidden: string[] = [];
  const failures: string[] = [];
  await go(function* () {
    const server = yield* serveHttp(function* (req, res) {
      if (req.path === '/smuggled') hidden.push(req.target);
      const body = yield* req.text();
      res.end(`ok ${body.length}`);
    }, '127.0.0.1', 0, { maxBodySize: 1024 });
    const port = portOf(server);
    for (const [name, request, status] of REFUSED) {
      const r = yield* rawIn(port, Buffer.from(request + HIDDEN, 'latin1'));
      const got = statuses(r.text);
      if (got.length !== 1 || got[0] !== status || !/\r\nConnection: close\r\n/i.test(r.text) || !r.closed) {
        failures.push(`${name}: got ${JSON.stringify(r.text.slice(0, 200))} (closed: ${r.closed})`);
      }
    }
    const last = 'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    for (const [name, request] of SERVED) {
      const r = yield* rawIn(port, Buffer.from(request + (request.includes(HIDDEN) ? '' : HIDDEN) + last, 'latin1'));
      const got = statuses(r.text);
      const expected = request.includes(HIDDEN) ? [200, 200] : [200, 200, 200];
      if (JSON.stringify(got) !== JSON.stringify(expected)) failures.push(`${name}: got ${JSON.stringify(r.text.slice(0, 300))}`);
    }
    // still serving
    const r = yield* rawIn(port, 'GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statuses(r.text), [200]);
    server.close();
    yield* server.waitClosed();
  });
  assert.deepEqual(failures, []);
  // The hidden request ran only where it was a request of its own (after a well-formed message).
  assert.equal(hidden.length, SERVED.length - 1);
});
