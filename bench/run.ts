/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name
 * contains one of the arguments), each in a process of its own, so that no
 * benchmark measures the JIT and heap state another left behind. Each file
 * exports `main()`, which runs its comparisons side by side with mitata (in
 * that one process) and prints the ratios its issue asks for. The ratios
 * are also kept (lib.ts `record()`) in bench/results.json, replacing those
 * of the files that ran, and drawn as docs/bench.svg (scripts/bench_chart.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHART, renderChart, RESULTS, type BenchResults } from '../scripts/bench_chart.js';
import type { RatioRecord } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--one') {
  const mod = (await import(pathToFileURL(join(here, args[1]!)).href)) as { main(): Promise<void> };
  await mod.main();
} else {
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => args.length === 0 || args.some((x) => f.includes(x)));
  let failed = 0;
  const recordFile = join(tmpdir(), `tulip-bench-${process.pid}.jsonl`);
  const ran = new Set<string>();
  for (const f of files) {
    console.log(`\n### ${f}`);
    const bench = f.replace(/\.bench\.ts$/, '');
    const env = { ...process.env, TULIP_BENCH_RECORD: recordFile, TULIP_BENCH_FILE: bench };
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', f], { stdio: 'inherit', env });
    if (r.status !== 0) { failed++; console.log(`${f} failed (exit ${r.status ?? r.signal})`); } else ran.add(bench);
  }
  if (existsSync(recordFile)) {
    const fresh = readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RatioRecord)
      .filter((r) => ran.has(r.bench));
    rmSync(recordFile);
    const old = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults).records : [];
    const results: BenchResults = {
      generated: new Date().toISOString(), node: process.version, machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
      records: [...old.filter((r) => !ran.has(r.bench)), ...fresh].sort((a, b) => a.bench.localeCompare(b.bench)),
    };
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(CHART, renderChart(results));
    console.log(`\nratios: ${RESULTS}; chart: ${CHART}`);
  }
  if (failed > 0) process.exitCode = 1;
}
