import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Future, getRunningLoop, openUnixConnection, startUnixServer } from '../../src/index.js';
import { go, rejects, str, tempDir, which } from '../net_helpers.js';

void test('Unix sockets: stream echo; addresses() and extra info give the path; the file is removed on close', () => go(function* () {
  const path = join(tempDir(), 's.sock');
  const server = yield* startUnixServer(function* (r, w) { w.write(yield* r.readLine()); yield* w.drain(); }, path);
  assert.deepEqual(server.addresses(), [path]);
  const [r, w] = yield* openUnixConnection(path);
  assert.equal(w.getExtraInfo('peername'), path);
  w.write('over unix\n');
  assert.equal(str(yield* r.readLine()), 'over unix\n');
  assert.equal((yield* r.read()).length, 0);
  w.close();
  server.close();
  yield* server.waitClosed();
  assert.equal(fs.existsSync(path), false);
}));

void test('a stale socket file is removed before binding; a regular file in the way is an error', { skip: !which('python3') }, () => go(function* () {
  const dir = tempDir();
  const path = join(dir, 'stale.sock');
  // A process that binds and exits leaves its socket file behind (libuv would unlink it on close).
  execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
  assert.ok(fs.statSync(path).isSocket());
  const got = new Future<string>({ loop: getRunningLoop(), description: 'data' });
  const server = yield* getRunningLoop().createUnixServer(() => ({ dataReceived: (d: Uint8Array) => { got.setResult(str(d)); } }), path);
  const [t] = yield* getRunningLoop().createUnixConnection(() => ({}), path);
  (t).write('fresh');
  assert.equal(yield* got, 'fresh');
  t.close();
  server.close();
  server.closeClients();
  yield* server.waitClosed();
  const file = join(dir, 'plain');
  fs.writeFileSync(file, 'not a socket');
  yield* rejects(getRunningLoop().createUnixServer(() => ({}), file), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EADDRINUSE');
  yield* rejects(getRunningLoop().createUnixConnection(() => ({}), join(dir, 'missing.sock')), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
}));


void test('a BufferedProtocol Unix server reads in place: every byte through its buffer, none through dataReceived', () => go(function* () {
  const path = join(tempDir(), 'buffered.sock');
  const own = new Uint8Array(700);
  let got = 0, bad = 0, copies = 0;
  const done = new Future<void>({ loop: getRunningLoop(), description: 'server eof' });
  const server = yield* getRunningLoop().createUnixServer(() => ({
    getBuffer: () => own,
    bufferUpdated: (n: number) => { for (let i = 0; i < n; i++) if (own[i] !== (got + i) % 199) bad++; got += n; },
    dataReceived: () => { copies++; },
    eofReceived: () => { done.setResult(); },
  }), path);
  const [t] = yield* getRunningLoop().createUnixConnection(() => ({}), path);
  const data = new Uint8Array(50_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 199;
  t.write(data);
  t.writeEof();
  yield* done;
  assert.deepEqual([got, bad, copies], [50_000, 0, 0]);
  t.close();
  server.close();
  yield* server.waitClosed();
}));
