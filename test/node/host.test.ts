// NodeEventLoop on a runtime that offers Node's API but does not list its active resources (Bun's
// process.getActiveResourcesInfo() is always empty), simulated here on Node: the deadlock check then counts what
// tulip itself has open (transports, servers, children, worker jobs) and trusts pending Promises. The runtime
// matrix runs the real thing on Bun (the tour's TCP step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

// Before anything asks: this process now lists nothing, as Bun does.
(process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo = () => [];

const { DeadlockError, Future, NodeEventLoop, fromPromise, getRunningLoop, openConnection, run, startServer, toThread } = await import('../../src/index.js');
const { nodeHost } = await import('../../src/node/host.js');

const opts = () => ({ loop: new NodeEventLoop(), handleSignals: false });

test('a runtime whose list of active resources misses a timer of ours is one that cannot tell', () => {
  assert.equal(nodeHost.foreignWakers(), null);
});

test('main waiting on a socket that answers late is no deadlock: the open transport counts', async () => {
  const line = await run(function* () {
    // The server answers when a host timer fires (no tulip timer, no Promise): only the open sockets can tell the
    // deadlock check that something may still happen.
    const server = yield* startServer(function* (_r, w) {
      const later = new Future<void>({ loop: getRunningLoop(), description: 'host timer' });
      setTimeout(() => later.setResult(), 100);
      yield* later;
      w.write('late reply\n');
      yield* w.drain();
    }, '127.0.0.1', 0);
    const [r, w] = yield* openConnection('127.0.0.1', (server.addresses()[0] as [string, number])[1]);
    const l = new TextDecoder().decode(yield* r.readLine());
    w.close();
    server.close();
    yield* server.waitClosed();
    return l;
  }, opts());
  assert.equal(line, 'late reply\n');
});

test('main waiting on a job on a worker thread is no deadlock', async () => {
  const fns = fileURLToPath(new URL('../fixtures/worker_fns.mjs', import.meta.url));
  const v = await run(function* () {
    const flags = new Int32Array(new SharedArrayBuffer(8));
    return yield* toThread<string>({ module: fns, name: 'markThenBlock' }, flags, 150);
  }, opts());
  assert.equal(v, 'finished');
});

test('a Promise settled by something the runtime does not list is waited for; with nothing open or pending, a deadlock', async () => {
  assert.equal(await run(function* () { return yield* fromPromise(new Promise<number>((r) => setTimeout(() => r(5), 50))); }, opts()), 5);
  await assert.rejects(run(function* () { yield* new Future<void>({ loop: getRunningLoop(), description: 'nobody' }); }, opts()), DeadlockError);
});
