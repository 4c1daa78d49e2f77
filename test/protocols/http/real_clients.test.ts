/**
 * The server against real clients, as real processes: curl (keep-alive
 * reuse, a chunked upload from stdin, HTTP/1.0, HEAD, 100-continue),
 * Python's http.client, and a one-second wrk run (no errors, every
 * response 2xx).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Coro } from '../../../src/index.js';
import { serveHttp, type HttpServer } from '../../../src/protocols/http/index.js';
import { go, portOf, tempDir, which } from '../../net_helpers.js';
import { runIn } from './helpers.js';

const T = { timeout: 60_000 };

/** A server that counts the connections its requests came on. */
function* server(): Coro<{ server: HttpServer; base: string; conns: Set<number> }> {
  const conns = new Set<number>();
  const s = yield* serveHttp(function* (req, res) {
    conns.add((req.transport.getExtraInfo('peername') as [string, number])[1]);
    if (req.path === '/echo') {
      for (let c = yield* req.read(); c !== null; c = yield* req.read()) { res.write(c); yield* res.drain(); }
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    res.end(`hello ${req.method} ${req.version}`);
  }, '127.0.0.1', 0);
  return { server: s, base: `http://127.0.0.1:${portOf(s)}`, conns };
}

void test('curl: keep-alive reuse, a chunked upload from stdin (-T -), --http1.0, HEAD, Expect: 100-continue', { ...T, skip: !which('curl') }, async () => {
  await go(function* () {
    const { server: s, base, conns } = yield* server();
    let r = yield* runIn('curl', ['-sv', `${base}/a`, `${base}/b`, `${base}/c`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello GET 1.1'.repeat(3));
    assert.match(r.stderr, /Re-using existing connection/);
    assert.equal(conns.size, 1);
    const input = 'x'.repeat(200_000) + 'end';
    r = yield* runIn('curl', ['-sv', '-T', '-', `${base}/echo`], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /> Transfer-Encoding: chunked/);
    assert.equal(r.stdout, input);
    r = yield* runIn('curl', ['-sv', '--http1.0', `${base}/old`]);
    assert.equal(r.stdout, 'hello GET 1.0');
    assert.match(r.stderr, /< Connection: close/);
    r = yield* runIn('curl', ['-sI', `${base}/head`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /Content-Length: 14\r\n/);
    const file = join(tempDir(), 'body');
    writeFileSync(file, 'y'.repeat(100_000));
    r = yield* runIn('curl', ['-sv', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${base}/echo`]);
    assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
    assert.equal(r.stdout, 'y'.repeat(100_000));
    s.close();
  });
});

void test('Python\'s http.client: keep-alive, a body, a chunked body, HEAD', { ...T, skip: !which('python3') }, async () => {
  await go(function* () {
    const { server: s, conns } = yield* server();
    const script = `
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
out = []
for path in ("/one", "/two"):
    c.request("GET", path); r = c.getresponse(); out.append([r.status, r.read().decode()])
c.request("POST", "/echo", body=b"posted"); r = c.getresponse(); out.append([r.status, r.read().decode()])
c.request("POST", "/echo", body=iter([b"chun", b"ked"]), encode_chunked=True); r = c.getresponse(); out.append([r.status, r.read().decode()])
c.request("HEAD", "/h"); r = c.getresponse(); out.append([r.status, r.getheader("Content-Length"), r.read().decode()])
print(json.dumps(out))
`;
    const r = yield* runIn('python3', ['-c', script, String(portOf(s))]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [[200, 'hello GET 1.1'], [200, 'hello GET 1.1'], [200, 'posted'], [200, 'chunked'], [200, '14', '']]);
    assert.equal(conns.size, 1);
    s.close();
  });
});

void test('wrk: one second at 20 connections, every response 2xx, no socket errors', { ...T, skip: !which('wrk') }, async () => {
  await go(function* () {
    const { server: s, base } = yield* server();
    const r = yield* runIn('wrk', ['-t1', '-c20', '-d1s', `${base}/hello`], { timeout: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    const n = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
    assert.ok(n > 0, r.stdout);
    assert.doesNotMatch(r.stdout, /Non-2xx|Socket errors/);
    s.close();
  });
});
