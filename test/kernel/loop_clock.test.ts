// The loop reads its clock at most once per batch and only when a timer may be due or time() is called
// (base_loop.ts): a batch often holds one task step, and reading the clock costs about as much as the step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeEventLoop, cede, createTask, getRunningLoop, sleep, type Coro } from '../../src/index.js';

class CountingLoop extends NodeEventLoop {
  reads = 0;
  protected override _clock(): number { this.reads++; return super._clock(); }
}

function* bounce(n: number): Coro<void> { for (let i = 0; i < n; i++) yield* cede(); }

void test('tasks that only cede do not read the clock once per batch', async () => {
  const loop = new CountingLoop();
  await loop.runUntilComplete(function* () {
    const a = createTask(bounce(2000)), b = createTask(bounce(2000));
    yield* a; yield* b;
  }());
  loop.close();
  assert.ok(loop.reads < 100, `${loop.reads} clock reads for 2,000 batches`);
});

void test('time() is still read once per batch, and timers still fall due', async () => {
  const loop = new CountingLoop();
  const seen: number[] = [];
  await loop.runUntilComplete(function* () {
    yield* cede();
    const l = getRunningLoop();
    const before = loop.reads;
    const t0 = l.time();
    for (let i = 0; i < 1e5; i++) Math.sqrt(i);
    seen.push(l.time() - t0, loop.reads - before <= 1 ? 1 : 0);
    yield* sleep(5);
    seen.push(l.time() - t0 >= 5 ? 1 : 0);
  }());
  loop.close();
  assert.deepEqual(seen, [0, 1, 1]);
});
