// examples/retry_backoff.ts in virtual time, against flaky servers on the virtual network: exact
// timings of the backoff, retries through a partition, and a run that is a function of its seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRunningLoop, startServer, type Coro, type StreamReader, type StreamWriter } from 'tulip';
import { runVirtual, type TestEventLoop } from 'tulip/testing';
import { ask, flakyServer, withRetry, type RetryOptions } from '../../examples/retry_backoff.js';
import { reap, runExample } from './helpers.js';

const opts: RetryOptions = { attempts: 5, baseDelay: 1_000, maxDelay: 30_000, timeout: 2_000 };

void test('retry: a reset, then a silent server, then an answer; waits of 1 s and 2 s (no jitter), exact in virtual time', async () => {
  const seen: number[] = [];
  const failures: string[] = [];
  const { answer, took } = await runVirtual(function* () {
    const loop = getRunningLoop() as TestEventLoop;
    loop.network.addHost('api');
    const server = yield* loop.network.onHost('api', () => flakyServer('api', 80));
    const start = loop.time();
    const answer = yield* withRetry(() => { seen.push(loop.time() - start); return ask('api', 80, 'ping'); }, {
      ...opts, random: () => 1, onRetry: (n, e, delay) => failures.push(`${n} ${(e as { code?: string }).code ?? (e as Error).name} ${delay}`),
    });
    const took = loop.time() - start;
    server.close();
    return { answer, took };
  }, { seed: 1 });
  assert.equal(answer, 'answer to ping');
  // The link has no latency: attempt 1 is reset at once, attempt 2 times out after 2 s.
  assert.deepEqual(seen, [0, 1_000, 1_000 + 2_000 + 2_000]);
  assert.deepEqual(failures, ['1 ECONNRESET 1000', '2 TimeoutError 2000']);
  assert.equal(took, 5_000);
});

void test('retry: through a 20 s partition; every wait is between half and all of its backoff', async () => {
  const delays: number[] = [];
  const took = await runVirtual(function* () {
    const loop = getRunningLoop() as TestEventLoop;
    const net = loop.network;
    net.addHost('api');
    net.setLink('localhost', 'api', { latency: 50 });
    // Connections held by the partition arrive after the heal, from clients that gave up: they are reset.
    const echoOnce = function* (r: StreamReader, w: StreamWriter): Coro<void> {
      try { w.write(yield* r.readLine()); } catch (e) { if ((e as { code?: string }).code !== 'ECONNRESET') throw e; }
    };
    yield* net.onHost('api', () => startServer(echoOnce, 'api', 80));
    net.partition('localhost', 'api');
    loop.callLater(20_000, () => net.heal('localhost', 'api'));
    const start = loop.time();
    const answer = yield* withRetry(() => ask('api', 80, 'hello'), {
      ...opts, attempts: 10, random: () => loop.random(), onRetry: (_n, _e, d) => delays.push(d),
    });
    assert.equal(answer, 'hello');
    return loop.time() - start;
  }, { seed: 7 });
  assert.ok(took > 20_000, `answered after ${took} ms, before the heal`);
  assert.ok(delays.length >= 4, `${delays.length} retries`);
  delays.forEach((d, i) => {
    const backoff = Math.min(opts.maxDelay, opts.baseDelay * 2 ** i);
    assert.ok(d >= backoff / 2 && d <= backoff, `wait ${i + 1}: ${d} ms for a backoff of ${backoff}`);
  });
});

void test('retry: a server that is never up fails after the last attempt; the same seed gives the same run', async () => {
  function* once(): Coro<[number, string]> {
    const loop = getRunningLoop() as TestEventLoop;
    const start = loop.time();
    try {
      yield* withRetry(() => ask('localhost', 9, 'anyone?'), { ...opts, random: () => loop.random() });
      return [loop.time() - start, 'answered'];
    } catch (e) {
      return [loop.time() - start, (e as { code?: string }).code ?? String(e)];
    }
  }
  const a = await runVirtual(once, { seed: 3 });
  const b = await runVirtual(once, { seed: 3 });
  const c = await runVirtual(once, { seed: 4 });
  assert.equal(a[1], 'ECONNREFUSED');
  assert.deepEqual(a, b);
  assert.notEqual(a[0], c[0]);
  assert.ok(a[0] >= (1_000 + 2_000 + 4_000 + 8_000) / 2 && a[0] <= 15_000, `${a[0]} ms of waits`);
});

void test('retry_backoff.ts as a program: against a real flaky server on 127.0.0.1', async () => {
  const ex = runExample('retry_backoff.ts');
  try {
    assert.equal(await ex.exited, 0, ex.err());
    assert.match(ex.out(), /^attempt 1 failed \(.+\); retrying in \d+ ms\nattempt 2 failed \(TimeoutError\); retrying in \d+ ms\ngot 'answer to ping' after \d+ ms\n$/);
  } finally {
    reap(ex);
  }
});
