/**
 * Issue 2's kernel benchmarks: spawn/join, yielding to the scheduler,
 * many concurrent sleeps, and memory per idle task, each side by side with
 * raw Node and Effection.
 */
import * as effection from 'effection';
import { createTask, eagerTaskFactory, Future, NodeEventLoop, sleep, type Coro } from '../src/index.js';
import { compare, record, report } from './lib.js';

const N_SPAWN = 100_000;
const N_YIELD = 200_000;
const N_SLEEP = 100_000;
const N_IDLE = 100_000;

function* child(i: number): Coro<number> { return i; }
function* spawnJoin(n: number): Coro<number> {
  const tasks = new Array<Future<number>>(n);
  for (let i = 0; i < n; i++) tasks[i] = createTask(child(i));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* tasks[i]!;
  return sum;
}
async function rawChild(i: number): Promise<number> { return i; }
async function rawSpawnJoin(n: number): Promise<number> {
  const ps = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) ps[i] = rawChild(i);
  const rs = await Promise.all(ps);
  let sum = 0;
  for (const r of rs) sum += r;
  return sum;
}
function* effChild(i: number): effection.Operation<number> { return i; }
function* effSpawnJoin(n: number): effection.Operation<number> {
  const tasks: effection.Task<number>[] = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = yield* effection.spawn(() => effChild(i));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* tasks[i]!;
  return sum;
}

function* yielder(n: number): Coro<void> { for (let i = 0; i < n; i++) yield* sleep(0); }
async function rawYielder(n: number): Promise<void> { for (let i = 0; i < n; i++) await new Promise(setImmediate); }
function* effYielder(n: number): effection.Operation<void> { for (let i = 0; i < n; i++) yield* effection.sleep(0); }

function* sleeper(ms: number): Coro<void> { yield* sleep(ms); }
/** Each sleep its own task: the task drives the sleep directly (a sleep is a coroutine), as each setTimeout is its own promise. */
function* manySleeps(n: number): Coro<void> {
  const ts = new Array<Future<void>>(n);
  for (let i = 0; i < n; i++) ts[i] = createTask(sleep((i * 7919) % 51));
  for (let i = 0; i < n; i++) yield* ts[i]!;
}
/** The same with a generator frame around each sleep (one more object per task). */
function* manySleepers(n: number): Coro<void> {
  const ts = new Array<Future<void>>(n);
  for (let i = 0; i < n; i++) ts[i] = createTask(sleeper((i * 7919) % 51));
  for (let i = 0; i < n; i++) yield* ts[i]!;
}
async function rawManySleeps(n: number): Promise<void> {
  const ps = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) ps[i] = new Promise((r) => setTimeout(r, (i * 7919) % 51));
  await Promise.all(ps);
}

const loop = new NodeEventLoop();
const onLoop = <T>(c: Coro<T>): Promise<T> => loop.runUntilComplete(c);
const eagerLoop = new NodeEventLoop();
eagerLoop.setTaskFactory(eagerTaskFactory);

function heapAfterGc(): number { globalThis.gc?.(); globalThis.gc?.(); return process.memoryUsage().heapUsed; }

function* idle(f: Future<void>): Coro<void> { yield* f; }
async function rawIdle(p: Promise<void>): Promise<void> { await p; }

async function memoryPerIdleTask(): Promise<void> {
  if (typeof globalThis.gc !== 'function') { console.log('memory per idle task: run with --expose-gc'); return; }
  // tulip: N tasks each blocked on its own pending future
  const gate = new Future<void>({ loop });
  const futures: Future<void>[] = [];
  let tulipBytes = 0;
  await onLoop((function* () {
    const before = heapAfterGc();
    for (let i = 0; i < N_IDLE; i++) { const f = new Future<void>(); futures.push(f); createTask(idle(f)); }
    yield* sleep(5);
    tulipBytes = (heapAfterGc() - before) / N_IDLE;
    for (const f of futures) f.setResult();
    yield* sleep(5);
    gate.setResult();
  })());
  // raw: N async functions each awaiting its own pending Promise
  const resolvers: Array<() => void> = [];
  const before = heapAfterGc();
  const running: Promise<void>[] = [];
  for (let i = 0; i < N_IDLE; i++) running.push(rawIdle(new Promise<void>((r) => resolvers.push(r))));
  await new Promise((r) => setTimeout(r, 5));
  const rawBytes = (heapAfterGc() - before - 8 * N_IDLE /* the two arrays' slots */) / N_IDLE;
  for (const r of resolvers) r();
  await Promise.all(running);
  console.log(`memory per idle task: tulip ${tulipBytes.toFixed(0)} B (task + generator + its future), async function ${rawBytes.toFixed(0)} B (frame + promise + awaited promise)`);
  console.log(`  tulip vs async: ${(tulipBytes / rawBytes).toFixed(2)}x memory  (target <= 1.0x)`);
  record({ measurement: 'memory per idle task', subject: 'tulip task', baseline: 'async function', ratio: tulipBytes / rawBytes, higherIsBetter: false });
}

// Effection's sleep(0) is a real 0 ms timer (about 1 ms each), and its spawn is slow: it gets smaller runs, compared by rate.
const N_EFF_SPAWN = 5_000;
const N_EFF_YIELD = 500;

export async function main(): Promise<void> {
  const spawnCases = [
    { name: 'tulip', fn: () => onLoop(spawnJoin(N_SPAWN)), ops: N_SPAWN },
    { name: 'tulip eager', fn: () => eagerLoop.runUntilComplete(spawnJoin(N_SPAWN)), ops: N_SPAWN },
    { name: 'async+Promise.all', fn: () => rawSpawnJoin(N_SPAWN), ops: N_SPAWN },
    { name: 'effection', fn: async () => { await effection.run(() => effSpawnJoin(N_EFF_SPAWN)); }, ops: N_EFF_SPAWN },
  ];
  report(`spawn+join ${N_SPAWN} tasks`, 'tasks', spawnCases, await compare(spawnCases), [
    ['tulip', 'async+Promise.all', '>= 0.3x, aim 0.5x'], ['tulip eager', 'async+Promise.all', 'aim 0.5x'],
    ['tulip', 'effection', '>= 2x'],
  ]);

  const yieldCases = [
    { name: 'tulip sleep(0)', fn: () => onLoop(yielder(N_YIELD)), ops: N_YIELD },
    { name: 'await setImmediate', fn: () => rawYielder(N_YIELD), ops: N_YIELD },
    { name: 'effection sleep(0)', fn: async () => { await effection.run(() => effYielder(N_EFF_YIELD)); }, ops: N_EFF_YIELD },
  ];
  report(`one task yielding ${N_YIELD} times`, 'yields', yieldCases, await compare(yieldCases, { rounds: 2, minSamples: 2 }), [
    ['tulip sleep(0)', 'await setImmediate', '>= 10x'], ['tulip sleep(0)', 'effection sleep(0)', '>= 3x'],
  ]);

  const sleeps = await compare([
    { name: 'tulip sleep', fn: () => onLoop(manySleeps(N_SLEEP)) },
    { name: 'tulip sleeper()', fn: () => onLoop(manySleepers(N_SLEEP)) },
    { name: 'setTimeout promises', fn: () => rawManySleeps(N_SLEEP) },
  ], { rounds: 3, minSamples: 2 });
  const t = sleeps.get('tulip sleep')!, g = sleeps.get('tulip sleeper()')!, r = sleeps.get('setTimeout promises')!;
  console.log(`${N_SLEEP} concurrent sleeps over 0-50 ms: tulip task per sleep ${(t / 1e6).toFixed(1)} ms, tulip task per sleeper() generator ${(g / 1e6).toFixed(1)} ms, setTimeout promises ${(r / 1e6).toFixed(1)} ms wall`);
  console.log(`  tulip wall time / setTimeout wall time: ${(t / r).toFixed(2)}x  (target <= 1.2x); with a generator frame per task: ${(g / r).toFixed(2)}x`);
  record({ measurement: `${N_SLEEP} concurrent sleeps (wall time)`, subject: 'tulip sleep', baseline: 'setTimeout promises', ratio: t / r, higherIsBetter: false });

  await memoryPerIdleTask();
}
