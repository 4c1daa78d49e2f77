// What the Node loop does differently on the runtimes that offer Node's API, each checked where it differs: `npm
// test` runs this file on Node, the runtime matrix (ci/runtimes/run.mjs) on Deno and Bun. docs/runtimes.md lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tls from 'node:tls';
import {
  Future, ThreadPoolExecutor, createTask, fromPromise, getRunningLoop, openConnection, sleep, startServer, type Protocol,
} from '../../src/index.js';
import { isSecureContext } from '../../src/node/tls.js';
import { go, portOf, str, testCert } from '../net_helpers.js';

const versions = process.versions as Record<string, string | undefined>;
const runtime = versions.deno !== undefined ? 'deno' : versions.bun !== undefined ? 'bun' : 'node';
const T = { timeout: 20_000 };

test(`a tls.SecureContext is recognised, with or without the class (Deno has none) [${runtime}]`, T, () => go(function* () {
  const { key, cert } = testCert();
  const ctx = tls.createSecureContext({ key, cert });
  assert.equal(isSecureContext(ctx), true);
  assert.equal(isSecureContext({ context: {} }), false);
  assert.equal(isSecureContext(null), false);
  const server = yield* startServer(function* (r, w) { w.write(yield* r.readLine()); yield* w.drain(); }, '127.0.0.1', 0, { ssl: ctx });
  const [r, w] = yield* openConnection('127.0.0.1', portOf(server), { ssl: tls.createSecureContext({ ca: cert }), serverHostname: 'localhost' });
  w.write('over tls\n');
  assert.equal(str(yield* r.readLine()), 'over tls\n');
  w.close();
  server.close();
  yield* server.waitClosed();
}));

class Recorder implements Protocol {
  readonly trace: string[] = [];
  readonly lost = new Future<Error | undefined>({ description: 'Recorder.lost' });
  connectionMade(): void { this.trace.push('made'); }
  dataReceived(d: Uint8Array): void { this.trace.push(`data ${new TextDecoder().decode(d)}`); }
  eofReceived(): void { this.trace.push('eof'); }
  connectionLost(exc?: Error): void { this.trace.push(`lost ${exc?.message}`); this.lost.setResult(exc); }
}

test(`a FIFO as a read pipe and as a write pipe (on Deno and Bun through a file stream) [${runtime}]`, T, () => go(function* () {
  const dir = mkdtempSync(join(tmpdir(), 'tulip-fifo-'));
  try {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const loop = getRunningLoop();
    // The writer first, then a blocking open: it returns once the writer has the FIFO open, so no EOF comes early.
    spawn('sh', ['-c', `printf hello > ${fifo}`], { stdio: 'ignore' });
    const [, p] = yield* loop.connectReadPipe(() => new Recorder(), openSync(fifo, 'r'));
    yield* p.lost;
    assert.deepEqual(p.trace, ['made', 'data hello', 'eof', 'lost undefined']);

    const out = join(dir, 'out');
    const reader = spawn('sh', ['-c', `cat ${fifo} > ${out}; cat ${out}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    reader.stdout.on('data', (d: Buffer) => { got += String(d); });
    // A Promise, not a Future set from the event: Bun cannot list the child, and a pending Promise is waited for.
    const exited = fromPromise(new Promise<void>((r) => reader.on('close', () => r())));
    const [t, q] = yield* loop.connectWritePipe(() => new Recorder(), openSync(fifo, 'w'));
    t.write('to the fifo');
    t.close();
    yield* q.lost;
    yield* exited;
    assert.equal(got, 'to the fifo');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));

test(`cancelling a task whose job runs on a worker: the task ends at once and the pool goes on; the job is stopped, except on Deno [${runtime}]`, T, async () => {
  const fns = fileURLToPath(new URL('../fixtures/worker_fns.mjs', import.meta.url));
  const pool = new ThreadPoolExecutor({ minThreads: 1, maxThreads: 1 });
  const flags = new Int32Array(new SharedArrayBuffer(16));
  try {
    const r = await go(function* () {
      const loop = getRunningLoop();
      const job = createTask((function* () { return yield* loop.runInExecutor(pool, { module: fns, name: 'markThenBlock' }, flags, 1500); })());
      while (Atomics.load(flags, 0) === 0) yield* sleep(5);
      job.cancel();
      try { yield* job; } catch { /* CancelledError */ }
      // The task ended before the job would have: cancelling did not wait for it.
      const jobDoneWhenCancelled = Atomics.load(flags, 1);
      const next = yield* loop.runInExecutor<number>(pool, { module: fns }, 1, 1);
      for (let i = 0; i < 40 && Atomics.load(flags, 1) === 0; i++) yield* sleep(50);   // 2 s: past the job's 1.5 s
      return { jobDoneWhenCancelled, next, cancelled: job.cancelled() };
    });
    assert.equal(r.jobDoneWhenCancelled, 0, 'the cancelled task waited for its job');
    assert.equal(r.cancelled, true);
    assert.equal(r.next, 2);
    // Deno's worker_threads terminate() does not interrupt a worker that is running: the job runs to its end
    // (in the background; nobody waits for it). Node and Bun stop it.
    assert.equal(Atomics.load(flags, 1), runtime === 'deno' ? 1 : 0, 'whether the job ran to its end');
  } finally {
    await pool.shutdown();
  }
});
