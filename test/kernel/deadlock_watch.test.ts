// Deadlock detection with only what tulip knows of (the default idle hook: a loop with the three documented hooks),
// and the host-neutral deadlock watch driven by a hand-run host, so each of its answers is checked step by step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaseEventLoop, DeadlockError, Future, fromPromise, getRunningLoop, run, sleep, type Host } from '../../src/index.js';
import { DeadlockWatch } from '../../src/kernel/deadlock_watch.js';
import { track, untrack } from '../../src/kernel/resources.js';

/** A loop with the three hooks a loop must have, and nothing else. */
class MinimalLoop extends BaseEventLoop {
  #timer: NodeJS.Timeout | null = null;
  protected _clock(): number { return performance.now(); }
  protected _hostWake(): void { setImmediate(() => this._tick()); }
  protected _hostTimer(when: number | null): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = when === null ? null : setTimeout(() => { this.#timer = null; this._tick(); }, Math.max(0, Math.ceil(when - this._clock())));
  }
}

const opts = () => ({ loop: new MinimalLoop(), handleSignals: false });

test('the default idle hook: no deadlock while a Promise is pending (a fetch, a host timer), and one with nothing pending', async () => {
  const v = await run(function* () { return yield* fromPromise(new Promise<string>((r) => setTimeout(() => r('fetched'), 30))); }, opts());
  assert.equal(v, 'fetched');
  await assert.rejects(run(function* () { yield* new Future<void>({ loop: getRunningLoop(), description: 'nobody' }); }, opts()),
    (e: unknown) => e instanceof DeadlockError && e.message.includes('nobody'));
});

test('the default idle hook: an open transport of the loop\'s may still wake main', async () => {
  const v = await run(function* () {
    const loop = getRunningLoop();
    const f = new Future<string>({ loop, description: 'a message' });
    const conn = { _loopClosing: () => undefined };
    track(loop, conn);
    setTimeout(() => { untrack(loop, conn); f.setResult('arrived'); }, 30);   // as a socket's data event would
    return yield* f;
  }, opts());
  assert.equal(v, 'arrived');
});

/** A host the test runs by hand: `soon` and timer callbacks wait in lists. */
class HandHost implements Host {
  soon: (() => void)[] = [];
  timers: { cb: () => void; ms: number }[] = [];
  foreign: number | null = 0;
  now(): number { return 0; }
  setSoon(cb: () => void): unknown { this.soon.push(cb); return cb; }
  clearSoon(h: unknown): void { this.soon = this.soon.filter((c) => c !== h); }
  setTimer(cb: () => void, ms: number): unknown { const t = { cb, ms }; this.timers.push(t); return t; }
  clearTimer(h: unknown): void { this.timers = this.timers.filter((t) => t !== h); }
  foreignWakers(): number | null { return this.foreign; }
  /** Run what is due: the soon callbacks, else the first timer (and the soon callbacks it makes). */
  step(): number | null {
    if (this.soon.length === 0) {
      const t = this.timers.shift();
      if (t === undefined) return null;
      t.cb();
      this.runSoon();
      return t.ms;
    }
    this.runSoon();
    return 0;
  }
  runSoon(): void { const s = this.soon; this.soon = []; for (const cb of s) cb(); }
}

function watch(host: HandHost, state: { stuck: boolean; other: boolean; promises: number }): { w: DeadlockWatch; declared: () => number } {
  let n = 0;
  const w = new DeadlockWatch({
    host, stuck: () => state.stuck, otherWakers: () => state.other, promisesPending: () => state.promises, declare: () => { n++; },
  });
  return { w, declared: () => n };
}

test('the watch: nothing foreign, nothing pending: declared from the next macrotask', () => {
  const host = new HandHost();
  const { w, declared } = watch(host, { stuck: true, other: false, promises: 0 });
  w.arm(0);
  assert.equal(declared(), 0);
  host.step();
  assert.equal(declared(), 1);
  assert.equal(host.timers.length + host.soon.length, 0);
});

test('the watch: something foreign polls with a backoff until it is gone', () => {
  const host = new HandHost();
  host.foreign = 1;
  const { w, declared } = watch(host, { stuck: true, other: false, promises: 0 });
  w.arm(5);
  const delays: (number | null)[] = [];
  for (let i = 0; i < 5; i++) delays.push(host.step());
  assert.deepEqual(delays, [5, 5, 10, 20, 40]);
  assert.equal(declared(), 0);
  host.foreign = 0;
  host.step();
  assert.equal(declared(), 1);
});

test('the watch: a Promise pending and nothing foreign listed: confirmed over three more polls, then declared', () => {
  const host = new HandHost();
  const { w, declared } = watch(host, { stuck: true, other: false, promises: 1 });
  w.arm(0);
  let steps = 0;
  while (declared() === 0 && steps < 10) { host.step(); steps++; }
  assert.equal(declared(), 1);
  assert.equal(steps, 4);
});

test('the watch: a host that cannot list what it runs (Bun) is trusted with a pending Promise, and stops polling', () => {
  const host = new HandHost();
  host.foreign = null;
  const state = { stuck: true, other: false, promises: 1 };
  const { w, declared } = watch(host, state);
  w.arm(0);
  host.step();
  assert.equal(declared(), 0);
  assert.equal(host.timers.length + host.soon.length, 0, 'it waits for the Promise to wake the loop, which arms it again');
  state.promises = 0;
  w.arm(0);
  host.step();
  assert.equal(declared(), 1);
});

test('the watch: the loop\'s own wakers (a signal handler, an open transport) hold it off; a loop that is not stuck resets it', () => {
  const host = new HandHost();
  const state = { stuck: true, other: true, promises: 0 };
  const { w, declared } = watch(host, state);
  w.arm(0);
  for (let i = 0; i < 6; i++) host.step();
  assert.equal(declared(), 0);
  state.stuck = false;
  host.step();
  assert.equal(host.timers.length + host.soon.length, 0);
  state.stuck = true; state.other = false;
  w.arm(0);
  host.step();
  assert.equal(declared(), 1);
  w.arm(5);
  w.cancel();
  assert.equal(host.timers.length + host.soon.length, 0);
});

test('sleep on a minimal loop is unaffected by the idle hook', async () => {
  assert.equal(await run(function* () { yield* sleep(5); return 1; }, opts()), 1);
});
