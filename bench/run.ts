/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name
 * contains one of the arguments), each in a process of its own, so that no
 * benchmark measures the JIT and heap state another left behind. Each file
 * exports `main()`, which runs its comparisons side by side with mitata (in
 * that one process) and prints the ratios its issue asks for.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--one') {
  const mod = (await import(pathToFileURL(join(here, args[1]!)).href)) as { main(): Promise<void> };
  await mod.main();
} else {
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => args.length === 0 || args.some((x) => f.includes(x)));
  let failed = 0;
  for (const f of files) {
    console.log(`\n### ${f}`);
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', f], { stdio: 'inherit' });
    if (r.status !== 0) { failed++; console.log(`${f} failed (exit ${r.status ?? r.signal})`); }
  }
  if (failed > 0) process.exitCode = 1;
}
