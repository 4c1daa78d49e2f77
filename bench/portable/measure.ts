/**
 * The portable benchmark's measurements, the same code on every runtime
 * (Node, Deno, Bun, Chromium): each runtime is compared with itself.
 *
 * - Yielding: one task doing `sleep(0)` 200k times on each tulip loop the
 *   runtime has, against the runtime's fastest way to yield to its event
 *   loop (a macrotask: `setImmediate`, a `MessageChannel` message,
 *   `scheduler.yield()`, `scheduler.postTask()`, whichever is fastest here).
 * - Queue(1) ping-pong: a producer and a consumer through a tulip
 *   `Queue(1)`, against a Promise-based bounded channel of the same
 *   semantics.
 *
 * Cases alternate over several rounds; each ratio is taken within a round
 * (cases measured moments apart) and the median over the rounds is kept,
 * so a noisy neighbour hurts both sides of a ratio alike.
 */
import { Queue, createTask, sleep, type Coro, type EventLoop } from '../../src/core.js';

export const N_YIELD = 200_000;
const N_MACRO = 20_000;
const N_MSG = 100_000;
const ROUNDS = 7;

interface Globals {
  setImmediate?: (cb: () => void) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close(): void }; port2: { postMessage(m: unknown): void; close(): void } };
  scheduler?: { yield?: () => Promise<void>; postTask?: (cb: () => void) => Promise<void> };
}
const g = globalThis as unknown as Globals;

/** A case: `run()` does `ops` operations. */
interface Case { name: string; ops: number; run: () => Promise<unknown> }

/** The runtime's ways of yielding one macrotask, those it has. */
function macrotaskYields(): Case[] {
  const out: Case[] = [];
  if (typeof g.setImmediate === 'function') {
    const si = g.setImmediate;
    out.push({ name: 'setImmediate', ops: N_MACRO, run: async () => { for (let i = 0; i < N_MACRO; i++) await new Promise((r) => si(r as () => void)); } });
  }
  if (typeof g.MessageChannel === 'function') {
    out.push({ name: 'MessageChannel', ops: N_MACRO, run: async () => {
      const { port1, port2 } = new g.MessageChannel!();
      let wake: () => void = () => undefined;
      port1.onmessage = () => wake();
      for (let i = 0; i < N_MACRO; i++) await new Promise<void>((r) => { wake = r; port2.postMessage(null); });
      port1.close(); port2.close();
    } });
  }
  const y = g.scheduler?.yield;
  if (typeof y === 'function') out.push({ name: 'scheduler.yield', ops: N_MACRO, run: async () => { for (let i = 0; i < N_MACRO; i++) await y.call(g.scheduler); } });
  const pt = g.scheduler?.postTask;
  if (typeof pt === 'function') out.push({ name: 'scheduler.postTask', ops: N_MACRO, run: async () => { for (let i = 0; i < N_MACRO; i++) await pt.call(g.scheduler, () => undefined); } });
  return out;
}

function* yielder(n: number): Coro<void> { for (let i = 0; i < n; i++) yield* sleep(0); }

function* producer(q: Queue<number>, n: number): Coro<void> { for (let i = 0; i < n; i++) yield* q.put(i); }
function* pingPong(n: number): Coro<number> {
  const q = new Queue<number>(1);
  const p = createTask(producer(q, n));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* q.get();
  yield* p;
  return sum;
}

/** A Promise-based bounded channel: put waits while full, get while empty (Queue's semantics). */
class PromiseChannel<T> {
  readonly #items: T[] = [];
  readonly #getters: (() => void)[] = [];
  readonly #putters: (() => void)[] = [];
  constructor(readonly max: number) {}
  async put(v: T): Promise<void> {
    while (this.#items.length >= this.max) await new Promise<void>((r) => this.#putters.push(r));
    this.#items.push(v);
    this.#getters.shift()?.();
  }
  async get(): Promise<T> {
    while (this.#items.length === 0) await new Promise<void>((r) => this.#getters.push(r));
    const v = this.#items.shift()!;
    this.#putters.shift()?.();
    return v;
  }
}
async function promisePingPong(n: number): Promise<number> {
  const ch = new PromiseChannel<number>(1);
  const p = (async () => { for (let i = 0; i < n; i++) await ch.put(i); })();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await ch.get();
  await p;
  return sum;
}

/** Ns per operation of each case in each of the alternating rounds (after one warm-up round). */
async function rounds(cases: Case[], now: () => number): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r <= ROUNDS; r++) {
    for (const c of cases) {
      const t0 = now();
      await c.run();
      const dt = now() - t0;
      if (r > 0) samples.get(c.name)!.push((dt * 1e6) / c.ops);
    }
  }
  return samples;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One runtime's results: ns per operation of every case, and the ratios the issue asks for. */
export interface PortableResult {
  runtime: string;
  nsPerOp: Record<string, number>;
  fastestYield: string;
  /** tulip sleep(0) rate / fastest macrotask yield rate, per loop. */
  yieldRatios: Record<string, number>;
  /** tulip Queue(1) rate / Promise channel rate, per loop. */
  queueRatios: Record<string, number>;
}

/** Measure on `runtime` with each of `loops` (name, factory). */
export async function measurePortable(runtime: string, loops: [string, () => EventLoop][], now: () => number): Promise<PortableResult> {
  const onLoop = <T>(make: () => EventLoop, c: Coro<T>): Promise<T> => {
    const loop = make();
    return loop.runUntilComplete(c).finally(() => loop.close());
  };
  const macro = macrotaskYields();
  const yields = await rounds([
    ...loops.map(([n, make]): Case => ({ name: `${n} sleep(0)`, ops: N_YIELD, run: () => onLoop(make, yielder(N_YIELD)) })),
    ...macro,
  ], now);
  const queues = await rounds([
    ...loops.map(([n, make]): Case => ({ name: `${n} Queue(1)`, ops: N_MSG, run: () => onLoop(make, pingPong(N_MSG)) })),
    { name: 'Promise channel', ops: N_MSG, run: () => promisePingPong(N_MSG) },
  ], now);
  const nsPerOp: Record<string, number> = {};
  for (const [k, v] of [...yields, ...queues]) nsPerOp[k] = median(v);
  const fastest = macro.map((c) => c.name).sort((a, b) => nsPerOp[a]! - nsPerOp[b]!)[0]!;
  // Per round: the fastest macrotask yield of that round against tulip's sleep(0) of that round.
  const bestYield = Array.from({ length: ROUNDS }, (_, r) => Math.min(...macro.map((c) => yields.get(c.name)![r]!)));
  const channel = queues.get('Promise channel')!;
  const yieldRatios: Record<string, number> = {}, queueRatios: Record<string, number> = {};
  for (const [n] of loops) {
    yieldRatios[n] = median(bestYield.map((b, r) => b / yields.get(`${n} sleep(0)`)![r]!));
    queueRatios[n] = median(channel.map((c, r) => c / queues.get(`${n} Queue(1)`)![r]!));
  }
  return { runtime, nsPerOp, fastestYield: fastest, yieldRatios, queueRatios };
}
