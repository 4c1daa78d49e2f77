/** StreamWriter edges: drain() after close() raises a connection error, as asyncio's does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openConnection, sleep, startServer, type StreamReader, type StreamWriter } from '../../src/index.js';
import { go, portOf, rejects } from '../net_helpers.js';

void test('drain() after close() throws ECONNRESET, at once and after the connection is gone (real sockets)', () => go(function* () {
  const server = yield* startServer(function* (_r: StreamReader, _w: StreamWriter) { yield* sleep(60_000); }, '127.0.0.1', 0);
  const [, w] = yield* openConnection('127.0.0.1', portOf(server));
  w.write('bye');
  w.close();
  yield* rejects(w.drain(), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  yield* w.waitClosed();
  yield* rejects(w.drain(), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  assert.equal(w.isClosing(), true);
  server.close(); server.abortClients();
  yield* server.waitClosed();
}));
