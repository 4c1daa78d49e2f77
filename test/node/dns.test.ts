import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, getRunningLoop, sleep } from '../../src/index.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 10_000 };

void test('getAddrInfo resolves localhost and IP literals to AddrInfo entries with [host, port]', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const local = yield* loop.getAddrInfo('localhost', 80);
    const literal = yield* loop.getAddrInfo('127.0.0.1', '8080', { family: 4 });
    const dgram = yield* loop.getAddrInfo('::1', null, { family: 6, type: 2 });
    return { local, literal, dgram };
  });
  assert.ok(r.local.length >= 1);
  for (const a of r.local) {
    assert.ok(a.family === 4 || a.family === 6);
    assert.equal(a.addr[1], 80);
    assert.equal(a.type, 1);
    assert.equal(a.proto, 6);
    assert.equal(a.canonname, '');
  }
  assert.ok(r.local.some((a) => a.addr[0] === '127.0.0.1' || a.addr[0] === '::1'));
  assert.deepEqual(r.literal, [{ family: 4, type: 1, proto: 6, canonname: '', addr: ['127.0.0.1', 8080] }]);
  assert.deepEqual(r.dgram, [{ family: 6, type: 2, proto: 17, canonname: '', addr: ['::1', 0] }]);
});

void test('getAddrInfo: an unknown name fails with Node\'s code; a bad port or family is a TypeError', T, async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    let err: NodeJS.ErrnoException | undefined;
    try { yield* loop.getAddrInfo('nonexistent-host.invalid', 80); } catch (e) { err = e as NodeJS.ErrnoException; }
    assert.ok(err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN', String(err?.code));
    assert.throws(() => loop.getAddrInfo('localhost', 70000).next(), TypeError);
    assert.throws(() => loop.getAddrInfo('localhost', 'http').next(), TypeError);
    assert.throws(() => loop.getAddrInfo('localhost', 1, { family: 5 }).next(), TypeError);
  });
});

void test('getNameInfo gives the host name and service of [host, port]', T, async () => {
  const [host, service] = await runRecording(function* () {
    return yield* getRunningLoop().getNameInfo(['127.0.0.1', 22]);
  });
  assert.equal(typeof host, 'string');
  assert.ok(host.length > 0);
  assert.ok(service === 'ssh' || service === '22', service);
});

void test('cancelling a task waiting on getAddrInfo stops the wait', T, async () => {
  const name = await runRecording(function* () {
    const t = createTask(getRunningLoop().getAddrInfo('localhost', 1));
    yield* sleep(0);
    t.cancel();
    try { yield* t; } catch (e) { return (e as Error).name; }
    return 'not cancelled';
  });
  assert.equal(name, 'CancelledError');
});
