import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeEventLoop, type ExceptionContext } from '../../src/index.js';

function loopUntil(loop: NodeEventLoop, ms: number): Promise<void> {
  loop.callLater(ms, () => loop.stop());
  return loop.runForever();
}

test('callSoon runs callbacks FIFO; those queued during a batch run in a later batch', async () => {
  const loop = new NodeEventLoop();
  const trace: string[] = [];
  loop.callSoon(() => { trace.push('a'); loop.callSoon(() => trace.push('a-child')); });
  loop.callSoon(() => { trace.push('b'); loop.callSoon(() => { trace.push('b-child'); loop.stop(); }); });
  loop.callSoon(() => trace.push('c'));
  await loop.runForever();
  assert.deepEqual(trace, ['a', 'b', 'c', 'a-child', 'b-child']);
  loop.close();
});

test('timers due together run in the order they were scheduled; callLater(0) never before queued callSoon', async () => {
  const loop = new NodeEventLoop();
  const trace: string[] = [];
  loop.callSoon(() => {
    const when = loop.time() + 3;
    for (const x of ['t1', 't2', 't3']) loop.callAt(when, () => trace.push(x));
    loop.callLater(0, () => trace.push('later0'));
    loop.callSoon(() => trace.push('soon'));
    loop.callAt(when, () => loop.stop());
  });
  await loop.runForever();
  assert.deepEqual(trace, ['soon', 'later0', 't1', 't2', 't3']);
  loop.close();
});

test('time() is read once per batch: timers set in one batch with one delay fall due together', async () => {
  const loop = new NodeEventLoop();
  const whens: number[] = [];
  loop.callSoon(() => {
    const t0 = loop.time();
    for (let i = 0; i < 1e5; i++) Math.sqrt(i); // some work in the same batch
    whens.push(loop.callLater(5, () => {}).when(), loop.callLater(5, () => {}).when());
    assert.equal(loop.time(), t0);
  });
  await loopUntil(loop, 10);
  assert.equal(whens[0], whens[1]);
  loop.close();
});

test('cancelled timers do not run and the heap compacts', async () => {
  const loop = new NodeEventLoop();
  const ran: number[] = [];
  const hs = [];
  for (let i = 0; i < 1000; i++) hs.push(loop.callLater(1 + (i % 7), () => ran.push(i)));
  for (let i = 0; i < 1000; i++) if (i % 10 !== 0) hs[i]!.cancel();
  assert.equal(loop.pendingTimers(), 100);
  assert.equal(hs[1]!.cancelled(), true);
  await loopUntil(loop, 15);
  assert.equal(ran.length, 100);
  assert.ok(ran.every((i) => i % 10 === 0));
  assert.equal(loop.pendingTimers(), 0);
  loop.close();
});

test('timers run in time order whatever order they were scheduled in', async () => {
  const loop = new NodeEventLoop();
  const trace: number[] = [];
  loop.callSoon(() => {   // one batch: one clock reading for all five
    for (const d of [9, 3, 7, 1, 5]) loop.callLater(d, () => trace.push(d));
    loop.callLater(15, () => loop.stop());
  });
  await loop.runForever();
  assert.deepEqual(trace, [1, 3, 5, 7, 9]);
  loop.close();
});

test('the loop yields to Node every maxCallbacksPerTick callbacks so other work is not starved', async () => {
  const loop = new NodeEventLoop();
  loop.maxCallbacksPerTick = 100;
  let count = 0;
  let countWhenNodeRan = -1;
  const spin = (): void => { count++; if (count < 1000) loop.callSoon(spin); else loop.stop(); };
  loop.callSoon(() => { setImmediate(() => { countWhenNodeRan = count; }); spin(); });
  await loop.runForever();
  assert.equal(count, 1000);
  assert.ok(countWhenNodeRan > 0 && countWhenNodeRan <= 100, `Node ran after ${countWhenNodeRan} callbacks`);
  loop.close();
});

test('an exception escaping a callback goes to the exception handler, and the loop goes on', async () => {
  const loop = new NodeEventLoop();
  const seen: ExceptionContext[] = [];
  loop.setExceptionHandler((_l, ctx) => seen.push(ctx));
  const trace: string[] = [];
  loop.callSoon(function failing() { throw new Error('cb failed'); });
  loop.callSoon(() => trace.push('next callback ran'));
  await loopUntil(loop, 2);
  assert.equal(seen.length, 1);
  assert.match(seen[0]!.message, /failing/);
  assert.equal((seen[0]!.exception as Error).message, 'cb failed');
  assert.deepEqual(trace, ['next callback ran']);
  assert.equal(typeof loop.getExceptionHandler(), 'function');
  loop.setExceptionHandler(null);
  assert.equal(loop.getExceptionHandler(), null);
  loop.close();
});

test('a failing exception handler falls back to the default handler', async () => {
  const loop = new NodeEventLoop();
  loop.setExceptionHandler(() => { throw new Error('handler broke'); });
  const logged: string[] = [];
  const orig = console.error;
  console.error = (s: string) => { logged.push(s); };
  try {
    loop.callSoon(() => { throw new Error('x'); });
    await loopUntil(loop, 2);
  } finally { console.error = orig; }
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /Unhandled error in exception handler/);
  loop.close();
});

test('stop, run again, close; closed and running loops refuse what they cannot do', async () => {
  const loop = new NodeEventLoop();
  let n = 0;
  loop.callSoon(() => { n++; loop.stop(); });
  await loop.runForever();
  assert.equal(loop.isRunning(), false);
  loop.callSoon(() => { n++; loop.stop(); });
  const p = loop.runForever();
  assert.equal(loop.isRunning(), true);
  await assert.rejects(loop.runForever(), /already running/);
  assert.throws(() => loop.close(), /running/);
  await p;
  assert.equal(n, 2);
  loop.close();
  assert.equal(loop.isClosed(), true);
  assert.throws(() => loop.callSoon(() => {}), /closed/);
  await assert.rejects(loop.runForever(), /closed/);
});

test('a cancelled handle does not run; callbacks get their arguments', async () => {
  const loop = new NodeEventLoop();
  const trace: string[] = [];
  const h = loop.callSoon(() => trace.push('cancelled'));
  loop.callSoon((a: string, b: number) => trace.push(`${a}${b}`), 'x', 1);
  h.cancel();
  assert.equal(h.cancelled(), true);
  await loopUntil(loop, 2);
  assert.deepEqual(trace, ['x1']);
  loop.close();
});

test('debug mode reports a slow callback by name', async () => {
  const loop = new NodeEventLoop();
  loop.setDebug(true);
  assert.equal(loop.getDebug(), true);
  loop.slowCallbackDuration = 20;
  const seen: string[] = [];
  loop.setExceptionHandler((_l, ctx) => seen.push(ctx.message));
  loop.callSoon(function slowOne() { const end = performance.now() + 30; while (performance.now() < end) { /* busy */ } });
  await loopUntil(loop, 40);
  loop.close();
  assert.equal(seen.length, 1);
  assert.match(seen[0]!, /slowOne\(\) took \d+\.\d ms/);
});

test('the clock is read lazily: a batch that sets no timer and has none due does not read it', async () => {
  class CountingLoop extends NodeEventLoop {
    reads = 0;
    protected override _clock(): number { this.reads++; return super._clock(); }
  }
  const loop = new CountingLoop();
  let left = 2000;
  const bounce = (): void => { if (--left > 0) loop.callSoon(bounce); else loop.stop(); };
  loop.callSoon(bounce);
  const before = loop.reads;
  await loop.runForever();
  assert.ok(loop.reads - before < 50, `${loop.reads - before} clock reads for 2000 batches`);
  loop.close();
});
