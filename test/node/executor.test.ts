import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createTask, type Executor, getRunningLoop, NodeEventLoop, run, sleep, ThreadPoolExecutor, toThread, type WorkerFunction,
} from '../../src/index.js';
import { resolveWorkerModule } from '../../src/node/executor.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 15_000 };
const FIXTURE = new URL('../fixtures/worker_fns.mjs', import.meta.url);
const fn = (name?: string): WorkerFunction => ({ module: FIXTURE, name });

void test('toThread runs an export on the default pool: URL, file: URL string or absolute path; default export by default', T, async () => {
  const r = await runRecording(function* () {
    const a = yield* toThread<number>({ module: FIXTURE }, 2, 3);
    const b = yield* toThread<number>({ module: FIXTURE.href, name: 'default' }, 4, 5);
    const c = yield* toThread<number>({ module: fileURLToPath(FIXTURE) }, 6, 7);
    const d = yield* toThread<string>(fn('later'), 'async ok');
    const e = yield* toThread<string>({ module: 'node:path', name: 'join' }, 'a', 'b');
    return [a, b, c, d, e];
  });
  assert.deepEqual(r, [5, 9, 13, 'async ok', 'a/b']);
});

void test('arguments and results cross by structured clone', T, async () => {
  const value = { m: new Map([[1, new Uint8Array([1, 2, 3])]]), d: new Date(0), big: 10n };
  const back = await runRecording(function* () {
    return yield* getRunningLoop().runInExecutor<typeof value>(null, fn('echo'), value);
  });
  assert.deepEqual(back, value);
  assert.notEqual(back, value);
});

void test('a worker function that throws: the error crosses back with its message', T, async () => {
  const err = await runRecording(function* () {
    try { yield* toThread(fn('fail'), 'it went wrong'); } catch (e) { return e as Error; }
    return undefined;
  });
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'it went wrong');
  assert.equal(err.name, 'RangeError');
});

void test('bad WorkerFunctions: a missing export, a relative path, a missing module', T, async () => {
  const errs = await runRecording(function* () {
    const out: string[] = [];
    for (const f of [fn('nope'), { module: './x.js' }, { module: '/nonexistent/mod.mjs' }]) {
      try { yield* toThread(f); out.push('no error'); } catch (e) { out.push(`${(e as Error).name}: ${(e as Error).message}`); }
    }
    return out;
  });
  assert.match(errs[0]!, /no exported function 'nope'/);
  assert.match(errs[1]!, /^TypeError: .*absolute/);
  assert.match(errs[2]!, /Cannot find module|ERR_MODULE_NOT_FOUND|not found/i);
});

void test('resolveWorkerModule: package names resolve to file: URLs', () => {
  assert.match(resolveWorkerModule('piscina'), /^file:.*piscina/);
  assert.equal(resolveWorkerModule('/a/b.js'), pathToFileURL('/a/b.js').href);
  assert.throws(() => resolveWorkerModule(''), TypeError);
});

void test('cancelling a task whose job is queued drops the job: it never runs', T, async () => {
  const pool = new ThreadPoolExecutor({ minThreads: 1, maxThreads: 1 });
  const flags = new Int32Array(new SharedArrayBuffer(16));
  try {
    const r = await runRecording(function* () {
      const loop = getRunningLoop();
      const busy = loop.runInExecutor<string>(pool, fn('markThenBlock'), flags, 300);
      const queued = createTask((function* () { return yield* loop.runInExecutor(pool, fn('mark'), flags, 2); })());
      yield* sleep(50);
      const queuedBefore = pool.queueSize;
      queued.cancel();
      yield* sleep(10);
      const queuedAfter = pool.queueSize;
      const first = yield* busy;
      yield* sleep(200);
      return { first, queuedBefore, queuedAfter, cancelled: queued.cancelled() };
    });
    assert.deepEqual(r, { first: 'finished', queuedBefore: 1, queuedAfter: 0, cancelled: true });
    assert.equal(Atomics.load(flags, 2), 0, 'the dropped job ran');
  } finally {
    await pool.shutdown();
  }
});

void test('cancelling a task whose job runs terminates that worker; the pool replaces it', T, async () => {
  const pool = new ThreadPoolExecutor({ minThreads: 1, maxThreads: 1 });
  const flags = new Int32Array(new SharedArrayBuffer(16));
  try {
    const r = await runRecording(function* () {
      const loop = getRunningLoop();
      const job = createTask((function* () { return yield* loop.runInExecutor(pool, fn('markThenBlock'), flags, 600); })());
      while (Atomics.load(flags, 0) === 0) yield* sleep(5);
      const t0 = loop.time();
      job.cancel();
      try { yield* job; } catch { /* CancelledError */ }
      const cancelMs = loop.time() - t0;
      const next = yield* loop.runInExecutor<number>(pool, fn(), 1, 1);
      yield* sleep(800);
      return { cancelMs, next };
    });
    assert.ok(r.cancelMs < 300, `cancel took ${r.cancelMs} ms`);
    assert.equal(r.next, 2);
    assert.equal(Atomics.load(flags, 1), 0, 'the terminated job finished anyway');
  } finally {
    await pool.shutdown();
  }
});

void test('setDefaultExecutor: runInExecutor(null) and toThread use it; run() shuts it down on the way out', T, async () => {
  const calls: string[] = [];
  const inline: Executor = {
    submit<R>(f: WorkerFunction, ...args: unknown[]): Promise<R> {
      calls.push(`submit ${f.name}`);
      return import(String(f.module)).then((m: Record<string, (...a: unknown[]) => R>) => m[f.name ?? 'default']!(...args));
    },
    shutdown(): Promise<void> { calls.push('shutdown'); return Promise.resolve(); },
  };
  const loop = new NodeEventLoop();
  loop.setDefaultExecutor(inline);
  const v = await run(function* () { return yield* toThread<number>({ module: FIXTURE.href, name: 'default' }, 20, 22); }, { loop, handleSignals: false });
  assert.equal(v, 42);
  assert.deepEqual(calls, ['submit default', 'shutdown']);
  assert.throws(() => new NodeEventLoop().setDefaultExecutor({} as Executor), TypeError);
});

void test('a shut-down executor refuses new jobs', T, async () => {
  const pool = new ThreadPoolExecutor({ maxThreads: 1 });
  assert.equal(await pool.submit<number>(fn(), 1, 2), 3);
  await pool.shutdown();
  await assert.rejects(pool.submit(fn(), 1, 2), /shut down/);
});
