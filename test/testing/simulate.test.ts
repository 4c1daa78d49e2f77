/**
 * simulate itself: faults and timing perturbation reach the scenario, a
 * planted bug is shrunk to a minimal case whose replay handle reproduces
 * it, and correct code passes every case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Coro, openConnection, sleep, startServer, type StreamReader, type StreamWriter } from '../../src/index.js';
import { simulate, type Simulation, SimulationError, TestEventLoop } from '../../src/testing/index.js';

const dec = new TextDecoder();
const connectionError = (e: unknown): boolean => ['ECONNRESET', 'EPIPE'].includes((e as { code?: string }).code ?? '');

function* echo(r: StreamReader, w: StreamWriter): Coro<void> {
  try {
    for (let l = yield* r.readLine(); l.length > 0; l = yield* r.readLine()) { w.write(l); yield* w.drain(); }
  } catch (e) {
    if (!connectionError(e)) throw e;
  }
}

/** Five lines echoed over the virtual network; returns what came back. */
function* exchange(sim: Simulation): Coro<string[]> {
  const server = yield* sim.network.onHost('server', () => startServer(echo, 'server', 7));
  try {
    const [r, w] = yield* sim.network.onHost('client', () => openConnection('server', 7));
    const got: string[] = [];
    try {
      for (let i = 0; i < 5; i++) { w.write(`m${i}\n`); got.push(dec.decode(yield* r.readLine())); }
    } finally { w.close(); }
    return got;
  } finally {
    server.close(); server.abortClients();
    yield* server.waitClosed();
  }
}

void test('correct code passes every case: the answer is right or the connection failed, nothing leaks', async () => {
  const faults = new Set<string>();
  const r = await simulate(exchange, {
    runs: 60,
    allowError: connectionError,
    check: (o) => {
      for (const f of o.case.faults) faults.add(f.kind);
      if (o.error === undefined) assert.deepEqual(o.value, ['m0\n', 'm1\n', 'm2\n', 'm3\n', 'm4\n']);
    },
  });
  assert.equal(r.runs, 60);
  assert.deepEqual([...faults].sort(), ['link', 'partition', 'reset']);
});

void test('a planted bug (a deadline too tight for a partition) is shrunk to one fault, and the handle replays it', async () => {
  const check = (o: { time: number }): void => { assert.ok(o.time < 300, `the exchange took ${o.time} ms`); };
  const e = await simulate(exchange, { runs: 100, allowError: connectionError, check }).then(() => null, (err: unknown) => err);
  assert.ok(e instanceof SimulationError, String(e));
  assert.equal(e.case.faults.length, 1, e.message);
  assert.equal(e.case.faults[0]!.kind, 'partition');
  assert.equal(e.case.seed, 0, 'the seed shrinks to 0');
  assert.match(e.message, /replay: simulate\(scenario, \{ replay: 'sim:[A-Za-z0-9_-]+' \}\)/);
  const again = await simulate(exchange, { replay: e.replay, allowError: connectionError, check }).then(() => null, (err: unknown) => err);
  assert.ok(again instanceof SimulationError);
  assert.deepEqual(again.case, e.case);
  assert.equal(again.outcome.time, e.outcome.time, 'the replay runs the same way');
});

void test('timer lag perturbs timing within its bound and keeps the loop\'s order', async () => {
  const loop = new TestEventLoop({ seed: 3, timerLag: 7 });
  const order: string[] = [];
  const late: number[] = [];
  await loop.runUntilComplete(function* () {
    for (let i = 0; i < 50; i++) {
      const t0 = loop.time();
      loop.callSoon(() => order.push('soon'));
      loop.callLater(0, () => order.push('later0'));
      yield* sleep(10);
      late.push(loop.time() - t0 - 10);
    }
  }());
  loop.close();
  assert.ok(late.every((x) => x >= 0 && x <= 7), late.join(','));
  assert.ok(late.some((x) => x > 0), 'some timers ran late');
  for (let i = 0; i < order.length; i += 2) assert.deepEqual(order.slice(i, i + 2), ['soon', 'later0']);
});
