// WebEventLoop on Node (Node has the web platform's MessageChannel, setTimeout and performance); the runtime matrix
// (npm run test:runtimes) runs it again in Deno, Bun and Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  createTask, DeadlockError, Future, fromPromise, getRunningLoop, run, sleep, WebEventLoop, type Coro,
} from '../../src/index.js';

interface TimerLog { delays: number[]; live: Set<unknown>; maxLive: number }

/** Record every setTimeout the code under test makes (and which are live), then restore the real one. */
async function watchingTimers<T>(body: (log: TimerLog) => Promise<T>): Promise<T> {
  const g = globalThis as unknown as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  const realSet = g.setTimeout, realClear = g.clearTimeout;
  const log: TimerLog = { delays: [], live: new Set(), maxLive: 0 };
  g.setTimeout = ((cb: () => void, ms?: number) => {
    log.delays.push(ms ?? 0);
    const h = realSet(() => { log.live.delete(h); cb(); }, ms);
    log.live.add(h);
    log.maxLive = Math.max(log.maxLive, log.live.size);
    return h;
  }) as typeof setTimeout;
  g.clearTimeout = ((h: NodeJS.Timeout) => { log.live.delete(h); realClear(h); }) as typeof clearTimeout;
  try { return await body(log); } finally { g.setTimeout = realSet; g.clearTimeout = realClear; }
}

void test('run() on a WebEventLoop: tasks, sleeps and a result', async () => {
  const v = await run(function* () {
    const a = createTask(sleep(5, 'a')), b = createTask(sleep(1, 'b'));
    return `${yield* a}${yield* b}`;
  }, { loop: new WebEventLoop(), handleSignals: false });
  assert.equal(v, 'ab');
});

void test('yielding never uses a setTimeout(0): sleep(0), callSoon from outside, a timer due at once', async () => {
  const log = await watchingTimers(async (log) => {
    const loop = new WebEventLoop();
    loop.maxCallbacksPerTick = 10;   // many host wakes
    await run(function* () {
      for (let i = 0; i < 500; i++) yield* sleep(0);
      // A timer due at once, set from outside the loop (from a host callback, as a DOM event handler would).
      const f = new Future<void>({ loop, description: 'outside' });
      yield* fromPromise(new Promise<void>((r) => setTimeout(() => { loop.callLater(0, () => f.setResult()); r(); }, 1)));
      yield* f;
      yield* sleep(3);
    }, { loop, handleSignals: false });
    return log;
  });
  assert.ok(log.delays.length >= 1, 'the 3 ms sleep arms a host timer');
  assert.deepEqual(log.delays.filter((d) => d <= 0), [], `host timers: ${log.delays.join(', ')}`);
});

void test('one host timer for the earliest tulip timer, whatever the number of tulip timers', async () => {
  const log = await watchingTimers(async (log) => {
    const loop = new WebEventLoop();
    const fired: number[] = [];
    await run(function* () {
      for (let i = 0; i < 200; i++) loop.callLater(1 + (i * 7) % 40, () => fired.push(i));
      const sleepers = [];
      for (let i = 0; i < 50; i++) sleepers.push(createTask(sleep(50 - i)));
      for (const s of sleepers) yield* s;
      yield* sleep(5);
    }, { loop, handleSignals: false });
    assert.equal(fired.length, 200);
    return log;
  });
  assert.equal(log.maxLive, 1, `${log.maxLive} host timers were live at once`);
});

void test('loop.time() is performance.now()', async () => {
  await run(function* () {
    const before = performance.now();
    const t = getRunningLoop().time();
    yield* sleep(0);
    assert.ok(t >= before - 1 && t <= performance.now() + 1, `${t} vs ${before}`);
  }, { loop: new WebEventLoop(), handleSignals: false });
});

void test('deadlock: reported at once with nothing pending, never while a Promise is pending', async () => {
  await assert.rejects(run(function* () {
    yield* new Future<void>({ loop: getRunningLoop(), description: 'a reply nobody sends' });
  }, { loop: new WebEventLoop(), handleSignals: false }), (e: unknown) => e instanceof DeadlockError && e.message.includes('a reply nobody sends'));
  // A Promise settled by something tulip does not see (a host timer here, a fetch in a page): no deadlock.
  const v = await run(function* () {
    return yield* fromPromise(new Promise<string>((r) => setTimeout(() => r('settled'), 30)));
  }, { loop: new WebEventLoop(), handleSignals: false });
  assert.equal(v, 'settled');
});

void test('with no scheduler.postTask, asking for it is a clear error; with one, the loop wakes through it', async () => {
  const g = globalThis as { scheduler?: unknown };
  assert.equal(g.scheduler, undefined);
  assert.throws(() => new WebEventLoop({ wake: 'postTask' }), /no postTask/);
  let posts = 0;
  g.scheduler = {
    postTask: (cb: () => void) => { posts++; return new Promise<void>((r) => setImmediate(() => { cb(); r(); })); },
  };
  try {
    const v = await run(function* (): Coro<number> { for (let i = 0; i < 3; i++) yield* sleep(1); return 7; }, { loop: new WebEventLoop({ wake: 'postTask' }), handleSignals: false });
    assert.equal(v, 7);
    assert.ok(posts >= 1);
  } finally {
    delete g.scheduler;
  }
});

void test('a web loop that is stopped but never closed does not keep Node running (its MessagePort is unref\'d while idle)', () => {
  const script = `
    import { WebEventLoop, sleep } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
    const loop = new WebEventLoop();
    console.log(await loop.runUntilComplete(sleep(1, 'ran')));
    await loop.runUntilComplete(sleep(0));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ran\n');
});

void test('tulip/web installs the web loop as the default of run()', async () => {
  const web = await import('../../src/web/index.js');
  const v = await web.run(function* () { yield* web.sleep(1); return getRunningLoop() instanceof WebEventLoop; }, { handleSignals: false });
  assert.equal(v, true);
});

void test('busy tasks run in time slices and the host gets its turns (timers, I/O) in between, on Node as in a page', async () => {
  // Server runtimes drain a MessagePort's queue before anything else: a loop posting to one port would starve them.
  function* busy(until: () => boolean): Coro<void> { while (!until()) yield* sleep(0); }   // never waits but for its turn
  const turnsDuring = async (loop: WebEventLoop, until: () => boolean): Promise<number> => {
    let turns = 0, stop = false;
    const probe = (): void => { turns++; if (!stop) setImmediate(probe); };
    await run(function* () { setImmediate(probe); yield* busy(until); stop = true; }, { loop, handleSignals: false });
    return turns;
  };
  // timeSlice 0: a yield after every batch (100 callbacks here), so 200 batches give the host dozens of turns.
  let n = 0;
  const eager = new WebEventLoop({ timeSlice: 0 });
  eager.maxCallbacksPerTick = 100;
  const turns0 = await turnsDuring(eager, () => ++n >= 20_000);
  assert.ok(turns0 >= 50, `the host had ${turns0} turns in 200 batches`);
  // The default slice (4 ms): 300 ms of busy tasks hold dozens of slices, each ending with a yield.
  const t0 = performance.now();
  const turns4 = await turnsDuring(new WebEventLoop(), () => performance.now() - t0 >= 300);
  assert.ok(turns4 >= 2, `the host had ${turns4} turns in 300 ms of busy tasks`);
  assert.throws(() => new WebEventLoop({ timeSlice: -1 }), RangeError);
});
