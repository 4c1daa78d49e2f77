/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name
 * contains one of the arguments). Each file exports `main()`, which runs
 * its comparisons side by side with mitata and prints the ratios its issue
 * asks for.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
for (const f of files) {
  console.log(`\n### ${f}`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { main(): Promise<void> };
  await mod.main();
}
