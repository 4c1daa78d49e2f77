/**
 * Shared benchmark helpers: measure several cases side by side in one run
 * with mitata (alternating rounds, so a noisy neighbour hurts every case
 * alike) and print rates and ratios.
 */
import { measure } from 'mitata';

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
  for (const [a, b, target] of ratios) console.log(`  ${a} vs ${b}: ${(r.get(a)! / r.get(b)!).toFixed(2)}x  (target ${target})`);
  return r;
}
