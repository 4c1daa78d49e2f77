/**
 * `npm run bench portable`: tulip on Node, Deno, Bun and Chromium, each
 * runtime against its own baseline, in a process (or a page) of its own
 * (bench/portable/measure.ts holds the measurements):
 * - `sleep(0)` x 200k >= 10x the runtime's fastest macrotask yield;
 * - `Queue(1)` ping-pong >= 0.8x a Promise channel.
 * Deno and Bun come from ci/runtimes (installed on first use), Chromium from
 * Debian (/usr/bin/chromium).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUN, DENO, ROOT, TMP, bundleForBrowser, exec, inChromium, install, serve } from '../ci/runtimes/lib.mjs';
import { record } from './lib.js';
import type { PortableResult } from './portable/measure.js';

async function inProcess(runtime: string, cmd: string, args: string[]): Promise<PortableResult> {
  const r = await exec(cmd, [...args, 'bench/portable/server_entry.ts', runtime], { cwd: ROOT, timeout: 600_000 });
  const line = r.out.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.code !== 0 || line === undefined) throw new Error(`${runtime}: exit ${r.code}\n${r.out}`);
  return JSON.parse(line.slice('RESULT '.length)) as PortableResult;
}

async function inBrowser(): Promise<PortableResult> {
  const dir = join(TMP, 'bench');
  mkdirSync(dir, { recursive: true });
  await bundleForBrowser('bench/portable/browser_entry.ts', join(dir, 'bench.js'));
  const srv = await serve(dir, 'bench.js');
  try {
    const b = await inChromium(`${srv.origin}/`, '__bench', 600_000) as { result?: PortableResult; error?: string };
    if (b.result === undefined) throw new Error(`chromium: ${b.error}`);
    return b.result;
  } finally { srv.close(); }
}

const fmt = (ns: number): string => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

export async function main(): Promise<void> {
  await install();
  const results: PortableResult[] = [];
  const runs: [string, () => Promise<PortableResult>][] = [
    ['node', () => inProcess('node', process.execPath, ['--import', 'tsx'])],
    ['deno', () => inProcess('deno', DENO, ['run', '-A', '--sloppy-imports'])],
    ['bun', () => inProcess('bun', BUN, [])],
    ['chromium', inBrowser],
  ];
  for (const [name, go] of runs) {
    console.log(`measuring on ${name}...`);
    results.push(await go());
  }
  console.log('\n| runtime | loop | sleep(0) | fastest macrotask yield | ratio (>= 10x) | Queue(1) ping-pong | Promise channel | ratio (>= 0.8x) |');
  console.log('|---|---|---|---|---|---|---|---|');
  let ok = true;
  for (const r of results) {
    for (const loop of Object.keys(r.yieldRatios)) {
      const y = r.yieldRatios[loop]!, q = r.queueRatios[loop]!;
      ok &&= y >= 10 && q >= 0.8;
      record({ measurement: `${r.runtime}: one task yielding 200k times`, subject: `tulip sleep(0) on ${loop}`, baseline: `${r.runtime}'s ${r.fastestYield}`, ratio: y, higherIsBetter: true, kind: 'node' });
      record({ measurement: `${r.runtime}: Queue(1) ping-pong`, subject: `tulip Queue(1) on ${loop}`, baseline: `${r.runtime}'s Promise channel`, ratio: q, higherIsBetter: true, kind: 'node' });
      console.log(`| ${r.runtime} | ${loop} | ${fmt(r.nsPerOp[`${loop} sleep(0)`]!)} | ${fmt(r.nsPerOp[r.fastestYield]!)} (${r.fastestYield}) | ${y.toFixed(0)}x | `
        + `${fmt(r.nsPerOp[`${loop} Queue(1)`]!)} | ${fmt(r.nsPerOp['Promise channel']!)} | ${q.toFixed(2)}x |`);
    }
  }
  console.log('\ntimes per operation are medians over 7 alternating rounds; ratios are medians of the ratios within each round. Every macrotask yield:');
  for (const r of results) {
    const macro = Object.entries(r.nsPerOp).filter(([k]) => !k.includes('sleep(0)') && !k.includes('Queue(1)') && k !== 'Promise channel');
    console.log(`  ${r.runtime}: ${macro.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  }
  console.log(ok ? '\nevery runtime meets both targets' : '\nsome runtime misses a target (see the ratios above)');
}
