/**
 * Issue 3's toolkit benchmarks, side by side in one run with mitata:
 * - Queue ping-pong: two tasks through a Queue(1), against a Promise-based
 *   bounded channel of the same semantics (the raw-JS baseline) and
 *   Effection's channel (strict ping-pong with an ack channel, since
 *   Effection's channels are unbounded and a send never waits).
 * - Lock hand-off between 1,000 tasks, each holding the lock across one
 *   suspension, against a p-limit-style Promise mutex.
 */
import * as effection from 'effection';
import { measure } from 'mitata';
import { cede, createTask, Lock, NodeEventLoop, Queue, type Coro, type Future } from '../src/index.js';
import { record } from './lib.js';

const N_MSG = 100_000;          // messages per iteration (mitata runs many iterations: > 1,000,000 in all)
const N_TASKS = 1_000;
const N_ACQ_PER_TASK = 100;     // 100,000 acquisitions per iteration

// ---- tulip ---------------------------------------------------------------------
function* producer(q: Queue<number>, n: number): Coro<void> {
  for (let i = 0; i < n; i++) yield* q.put(i);
}
function* pingPong(n: number): Coro<number> {
  const q = new Queue<number>(1);
  const p = createTask(producer(q, n));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* q.get();
  yield* p;
  return sum;
}

function* locker(lock: Lock, n: number, counter: { n: number }): Coro<void> {
  for (let i = 0; i < n; i++) {
    yield* lock.acquire();
    try {
      yield* cede();
      counter.n++;
    } finally {
      lock.release();
    }
  }
}
function* lockHandOff(tasks: number, each: number): Coro<number> {
  const lock = new Lock();
  const counter = { n: 0 };
  const ts: Future<void>[] = [];
  for (let i = 0; i < tasks; i++) ts.push(createTask(locker(lock, each, counter)));
  for (const t of ts) yield* t;
  return counter.n;
}

// ---- raw JS: a Promise-based bounded channel, and a p-limit-style mutex ----------------
class RawChannel<T> {
  readonly #items: T[] = [];
  readonly #getters: Array<() => void> = [];
  readonly #putters: Array<() => void> = [];
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
async function rawProducer(ch: RawChannel<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await ch.put(i);
}
async function rawPingPong(n: number): Promise<number> {
  const ch = new RawChannel<number>(1);
  const p = rawProducer(ch, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await ch.get();
  await p;
  return sum;
}

class PromiseMutex {
  #locked = false;
  readonly #queue: Array<() => void> = [];
  acquire(): Promise<void> {
    if (!this.#locked) { this.#locked = true; return Promise.resolve(); }
    return new Promise<void>((r) => this.#queue.push(r));
  }
  release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#locked = false;
  }
}
async function rawLocker(m: PromiseMutex, n: number, counter: { n: number }): Promise<void> {
  for (let i = 0; i < n; i++) {
    await m.acquire();
    try {
      // eslint-disable-next-line @typescript-eslint/await-thenable -- one trip through the microtask queue, as cede() is one through the ready queue
      await null;
      counter.n++;
    } finally {
      m.release();
    }
  }
}
async function rawLockHandOff(tasks: number, each: number): Promise<number> {
  const m = new PromiseMutex();
  const counter = { n: 0 };
  const ps: Promise<void>[] = [];
  for (let i = 0; i < tasks; i++) ps.push(rawLocker(m, each, counter));
  await Promise.all(ps);
  return counter.n;
}

// ---- Effection: ping over one channel, ack over another ----------------------------
function* effPingPong(n: number): effection.Operation<number> {
  const ping = effection.createChannel<number, void>();
  const pong = effection.createChannel<void, void>();
  const pings = yield* ping;
  const pongs = yield* pong;
  const _producer = yield* effection.spawn(function* () {
    for (let i = 0; i < n; i++) {
      yield* ping.send(i);
      yield* pongs.next();
    }
  });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = yield* pings.next();
    sum += r.done ? 0 : r.value;
    yield* pong.send();
  }
  return sum;
}

// ---- harness -----------------------------------------------------------------------
const loop = new NodeEventLoop();
const onLoop = <T>(c: Coro<T>): Promise<T> => loop.runUntilComplete(c);

interface Case { name: string; fn: () => unknown }

interface Timing { median: number; best: number }

/**
 * Time per call (ns) of each case over alternating rounds (a noisy neighbour hurts every case alike):
 * the median of the rounds' p50s, and the best p50 (the least disturbed round, on a shared machine).
 */
async function compare(cases: Case[], rounds = 5): Promise<Map<string, Timing>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      globalThis.gc?.();
      const s = await measure(c.fn, { min_samples: 5, max_samples: 20, min_cpu_time: 200e6, warmup_samples: 1, inner_gc: false, gc: false });
      samples.get(c.name)!.push(s.p50);
    }
  }
  const out = new Map<string, Timing>();
  for (const [name, xs] of samples) {
    const s = [...xs].sort((a, b) => a - b);
    out.set(name, { median: s[s.length >> 1]!, best: s[0]! });
  }
  return out;
}

function rate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(1)}k`;
}

function report(label: string, unit: string, ops: number, times: Map<string, Timing>, ratios: Array<[string, string, string]>): void {
  console.log(`${label}: ${[...times].map(([n, t]) => `${n} ${rate(ops / (t.median / 1e9))} ${unit}/s`).join(', ')}`);
  for (const [a, b, target] of ratios) {
    const ta = times.get(a)!, tb = times.get(b)!;
    console.log(`  ${a} vs ${b}: ${(tb.median / ta.median).toFixed(2)}x (best rounds: ${(tb.best / ta.best).toFixed(2)}x)  (target ${target})`);
    record({ measurement: label, subject: a, baseline: b, ratio: tb.median / ta.median, higherIsBetter: true });
  }
}

export async function main(): Promise<void> {
  const pp = await compare([
    { name: 'tulip Queue(1)', fn: () => onLoop(pingPong(N_MSG)) },
    { name: 'raw Promise channel', fn: () => rawPingPong(N_MSG) },
    { name: 'effection channel', fn: () => effection.run(() => effPingPong(N_MSG)) },
  ]);
  report(`queue ping-pong, ${N_MSG} messages per run`, 'msg', N_MSG, pp, [
    ['tulip Queue(1)', 'raw Promise channel', '>= 0.8x, aim 1x'],
    ['tulip Queue(1)', 'effection channel', '>= 3x'],
  ]);

  const lk = await compare([
    { name: 'tulip Lock', fn: () => onLoop(lockHandOff(N_TASKS, N_ACQ_PER_TASK)) },
    { name: 'Promise mutex', fn: () => rawLockHandOff(N_TASKS, N_ACQ_PER_TASK) },
  ]);
  report(`lock hand-off, ${N_TASKS} tasks x ${N_ACQ_PER_TASK} acquisitions per run`, 'acq', N_TASKS * N_ACQ_PER_TASK, lk, [
    ['tulip Lock', 'Promise mutex', 'reported'],
  ]);
}
