/**
 * Issue 6's micro-pipe benchmark, side by side in one run (mitata's
 * measure, in alternating rounds so load from neighbours hurts all alike): a
 * rendezvous ping-pong (A puts into one pipe, B takes it and puts it back
 * through another; a message is one value through one pipe, so a round trip
 * is two) through tulip's `pipe()`, through a Promise-based rendezvous
 * channel written here as the raw-JS baseline (it hands a value over
 * without a Promise when the other side already waits), and through js-csp's
 * unbuffered channels. Targets: >= 0.8x the raw baseline, >= 10x js-csp.
 */
import csp from 'js-csp';
import { measure } from 'mitata';
import { NodeEventLoop, createTask, pipe, type Coro, type PipeReader, type PipeWriter } from '../src/index.js';
import { record } from './lib.js';

const ROUND_TRIPS = 50_000;        // per iteration: 100,000 messages (mitata runs many iterations)
const CSP_ROUND_TRIPS = 5_000;     // js-csp is much slower: fewer per iteration, compared as msg/s

// ---- tulip ---------------------------------------------------------------------------
function* pinger(out: PipeWriter<number>, back: PipeReader<number>, n: number): Coro<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    yield* out.put(i);
    const r = yield* back.next();
    if (r.done !== true) sum += r.value;
  }
  out.close();
  return sum;
}
function* ponger(input: PipeReader<number>, back: PipeWriter<number>): Coro<void> {
  for (;;) {
    const r = yield* input.next();
    if (r.done === true) return;
    yield* back.put(r.value);
  }
}
function* tulipPingPong(n: number): Coro<number> {
  const [w1, r1] = pipe<number>();
  const [w2, r2] = pipe<number>();
  const b = createTask(ponger(r1, w2));
  const sum = yield* pinger(w1, r2, n);
  yield* b;
  return sum;
}

// ---- raw JS: a Promise-based rendezvous channel ----------------------------------------
class RawRendezvous<T> {
  readonly #takers: Array<(v: T) => void> = [];
  readonly #putters: Array<{ v: T; done: () => void }> = [];
  /** Hands `v` to a waiting taker at once, else waits for one. */
  put(v: T): Promise<void> | undefined {
    const t = this.#takers.shift();
    if (t !== undefined) { t(v); return undefined; }
    return new Promise<void>((done) => { this.#putters.push({ v, done }); });
  }
  take(): Promise<T> | T {
    const p = this.#putters.shift();
    if (p !== undefined) { p.done(); return p.v; }
    return new Promise<T>((resolve) => { this.#takers.push(resolve); });
  }
}
async function rawPonger(input: RawRendezvous<number>, back: RawRendezvous<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await back.put(await input.take());
}
async function rawPingPong(n: number): Promise<number> {
  const a = new RawRendezvous<number>(), b = new RawRendezvous<number>();
  const p = rawPonger(a, b, n);
  let sum = 0;
  for (let i = 0; i < n; i++) { await a.put(i); sum += await b.take(); }
  await p;
  return sum;
}

// ---- js-csp: unbuffered channels ------------------------------------------------------
function* cspPonger(input: csp.Channel, back: csp.Channel, n: number): Generator<unknown, void, unknown> {
  for (let i = 0; i < n; i++) { const v = yield csp.take(input); yield csp.put(back, v); }
}
function* cspPinger(n: number): Generator<unknown, number, unknown> {
  const a = csp.chan(), b = csp.chan();
  csp.go(cspPonger, [a, b, n]);
  let sum = 0;
  for (let i = 0; i < n; i++) { yield csp.put(a, i); sum += (yield csp.take(b)) as number; }
  return sum;
}
function cspPingPong(n: number): Promise<number> {
  return new Promise((resolve) => { csp.takeAsync(csp.go(cspPinger, [n]), resolve); });
}

// ---- harness: mitata, alternating rounds so a noisy neighbour hurts every case alike ----
interface Case { name: string; msgs: number; fn: () => unknown }

interface Timing { p50: number; min: number }

/** Per case: the median over `rounds` of mitata's median time (ns) per call, and the best time seen. */
async function compare(cases: Case[], rounds = 5): Promise<Map<string, Timing>> {
  const samples = new Map<string, Timing[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) {   // let the JIT settle first
    const until = performance.now() + 500;
    do await c.fn(); while (performance.now() < until);
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      globalThis.gc?.();
      const s = await measure(c.fn, { min_samples: 5, max_samples: 30, min_cpu_time: 300e6, warmup_samples: 2, inner_gc: false, gc: false });
      samples.get(c.name)!.push({ p50: s.p50, min: s.min });
      if (process.env.BENCH_VERBOSE) console.log(`  round ${r} ${c.name}: p50 ${(s.p50 / 1e6).toFixed(1)} ms, min ${(s.min / 1e6).toFixed(1)} ms`);
    }
  }
  const out = new Map<string, Timing>();
  for (const [name, xs] of samples) {
    const p50s = xs.map((x) => x.p50).sort((a, b) => a - b);
    out.set(name, { p50: p50s[p50s.length >> 1]!, min: Math.min(...xs.map((x) => x.min)) });
  }
  return out;
}

function rate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(1)}k`;
}

export async function main(): Promise<void> {
  const loop = new NodeEventLoop();
  const cases: Case[] = [
    { name: 'tulip pipe()', msgs: 2 * ROUND_TRIPS, fn: () => loop.runUntilComplete(tulipPingPong(ROUND_TRIPS)) },
    { name: 'raw Promise rendezvous', msgs: 2 * ROUND_TRIPS, fn: () => rawPingPong(ROUND_TRIPS) },
    { name: 'js-csp chan()', msgs: 2 * CSP_ROUND_TRIPS, fn: () => cspPingPong(CSP_ROUND_TRIPS) },
  ];
  const times = await compare(cases);
  loop.close();
  const rateOf = (c: Case, stat: keyof Timing): number => c.msgs / (times.get(c.name)![stat] / 1e9);
  const [tulip, raw, js] = cases as [Case, Case, Case];
  console.log(`rendezvous pipe ping-pong: ${cases.map((c) => `${c.name} ${rate(rateOf(c, 'p50'))} msg/s`).join(', ')}`);
  console.log(`  tulip vs raw: ${(rateOf(tulip, 'p50') / rateOf(raw, 'p50')).toFixed(2)}x (target >= 0.8x)`);
  console.log(`  tulip vs js-csp: ${(rateOf(tulip, 'p50') / rateOf(js, 'p50')).toFixed(1)}x (target >= 10x)`);
  for (const other of [raw, js]) {
    record({ measurement: 'rendezvous pipe ping-pong', subject: tulip.name, baseline: other.name, ratio: rateOf(tulip, 'p50') / rateOf(other, 'p50'), higherIsBetter: true });
  }
  console.log(`  best runs (least disturbed by other processes): tulip ${rate(rateOf(tulip, 'min'))}, raw ${rate(rateOf(raw, 'min'))} msg/s -> ${(rateOf(tulip, 'min') / rateOf(raw, 'min')).toFixed(2)}x raw`);
}
