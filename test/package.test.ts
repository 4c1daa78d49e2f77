// The package's `exports` pick the entry by runtime: node/deno/bun get the Node entry, a browser bundle (and any
// other runtime: `default`) the web one; each entry's types go with it. Resolved here as a bundler or runtime does
// (the first key whose condition is active, in the object's order); the runtime matrix resolves them for real
// (Deno, Bun, and a bundler targeting a browser and Node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown>; sideEffects: string[] };

function resolve(subpath: string, conditions: string[]): string | undefined {
  let target: unknown = pkg.exports[subpath];
  while (target !== null && typeof target === 'object') {
    const next = Object.entries(target as Record<string, unknown>).find(([k]) => conditions.includes(k));
    if (next === undefined) return undefined;
    target = next[1];
  }
  return target as string;
}

const RUNTIMES: Record<string, string[]> = {
  node: ['node', 'import', 'default'],
  'node (require)': ['node', 'require', 'module-sync', 'default'],
  deno: ['deno', 'node', 'import', 'default'],
  bun: ['bun', 'node', 'import', 'default'],
  'a browser bundler': ['browser', 'import', 'default'],
  'a worker runtime': ['worker', 'import', 'default'],
};

test('tulip resolves to the Node entry on Node, Deno and Bun, to the web entry for a browser and elsewhere', () => {
  for (const [runtime, conds] of Object.entries(RUNTIMES)) {
    const web = runtime === 'a browser bundler' || runtime === 'a worker runtime';
    assert.equal(resolve('.', conds), web ? './dist/web/index.js' : './dist/index.js', runtime);
  }
  for (const sub of ['./core', './web', './testing', './conformance']) {
    const all = new Set(Object.values(RUNTIMES).map((c) => resolve(sub, c)));
    assert.equal(all.size, 1, `${sub} is the same everywhere`);
  }
});

test('TypeScript finds the types that go with each entry', () => {
  const ts = (conds: string[]): string | undefined => resolve('.', ['types', ...conds]);
  assert.equal(ts(['node', 'import']), './dist/index.d.ts');
  assert.equal(ts(['browser', 'import']), './dist/web/index.d.ts');
  assert.equal(resolve('./core', ['types', 'import']), './dist/core.d.ts');
});

test('every file exports and sideEffects name exists in the build; require() loads the Node entry', () => {
  const files = new Set<string>(pkg.sideEffects);
  for (const conds of [...Object.values(RUNTIMES), ['types', 'import'], ['types', 'browser']]) {
    for (const sub of Object.keys(pkg.exports)) { const f = resolve(sub, conds); if (f !== undefined) files.add(f); }
  }
  for (const f of files) assert.ok(existsSync(new URL(f, root)), `${f} is missing (npm test builds first)`);
  const req = createRequire(new URL('package.json', root));
  assert.equal(typeof (req('tulip') as { NodeEventLoop?: unknown }).NodeEventLoop, 'function');
});
