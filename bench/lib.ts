/**
 * Shared benchmark helpers: measure several cases side by side in one run
 * with mitata (alternating rounds, so a noisy neighbour hurts every case
 * alike) and print rates and ratios.
 */
import { appendFileSync } from 'node:fs';
import { measure } from 'mitata';

/**
 * One ratio of a run, as `npm run bench` collects them into bench/results.json
 * (scripts/bench_chart.ts draws them): `subject` measured against `baseline`.
 */
export interface RatioRecord {
  /** The bench file (set by bench/run.ts). */
  bench: string;
  /** What was measured, e.g. 'spawn+join 100000 tasks'. */
  measurement: string;
  subject: string;
  baseline: string;
  ratio: number;
  /** True for rates (more is better), false for memory and wall time (less is better). */
  higherIsBetter: boolean;
  /** 'node' when the baseline is raw Node (or a Promise-based equivalent), 'peer' for another library or runtime. */
  kind: 'node' | 'peer';
}

const PEERS = /effection|js-csp|asyncio|python|piscina/i;

/** Keep a ratio for bench/results.json (a no-op unless bench/run.ts asked for it). */
export function record(r: Omit<RatioRecord, 'bench' | 'kind'> & { kind?: RatioRecord['kind'] }): void {
  const file = process.env.TULIP_BENCH_RECORD;
  if (file === undefined || !Number.isFinite(r.ratio)) return;
  const full: RatioRecord = { bench: process.env.TULIP_BENCH_FILE ?? '?', kind: PEERS.test(r.baseline) ? 'peer' : 'node', ...r };
  appendFileSync(file, `${JSON.stringify(full)}\n`);
}

/** A case: `fn` does `ops` operations per call (a Promise is awaited). */
export interface Case { name: string; fn: () => unknown; ops?: number }

/** Median time per call (ns) of each case, over `rounds` alternating rounds. */
export async function compare(cases: Case[], opts: { rounds?: number; minSamples?: number } = {}): Promise<Map<string, number>> {
  const rounds = opts.rounds ?? 3;
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      globalThis.gc?.();
      const s = await measure(c.fn, { min_samples: opts.minSamples ?? 5, max_samples: 20, min_cpu_time: 300e6, warmup_samples: 1, inner_gc: false, gc: false });
      samples.get(c.name)!.push(s.p50);
    }
  }
  const out = new Map<string, number>();
  for (const [name, xs] of samples) out.set(name, median(xs));
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Format a rate. */
export function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(1);
}

/** Operations per second of each case. */
export function rates(cases: Case[], times: Map<string, number>): Map<string, number> {
  return new Map(cases.map((c) => [c.name, (c.ops ?? 1) / (times.get(c.name)! / 1e9)]));
}

/** Print the rates and the ratios `a / b` of the rates. */
export function report(label: string, unit: string, cases: Case[], times: Map<string, number>, ratios: Array<[string, string, string]>): Map<string, number> {
  const r = rates(cases, times);
  console.log(`${label}: ${[...r].map(([n, x]) => `${n} ${rate(x)} ${unit}/s`).join(', ')}`);
  for (const [a, b, target] of ratios) {
    console.log(`  ${a} vs ${b}: ${(r.get(a)! / r.get(b)!).toFixed(2)}x  (target ${target})`);
    record({ measurement: label, subject: a, baseline: b, ratio: r.get(a)! / r.get(b)!, higherIsBetter: true });
  }
  return r;
}
