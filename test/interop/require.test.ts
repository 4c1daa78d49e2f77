/**
 * `require('tulip')` from CommonJS, in a real child process, against the build (npm test builds first):
 * Node >= 20.19 loads an ES module with require() when nothing in its graph uses top-level await, and
 * the package's `exports` lets `require` reach the ESM entry points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../net_helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const canRequireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);

const program = `
const { run, sleep, createTask, each } = require('tulip');
const { runVirtual } = require('tulip/testing');
const { runConformance } = require('tulip/conformance');
if (typeof runConformance !== 'function') throw new Error('tulip/conformance');
run(function* () {
  const t = createTask(sleep(5, 'slept'));
  let sum = 0;
  for (const x of yield* each([1, 2, 3])) { sum += x; yield* each.next(); }
  return [yield* t, sum];
}).then(async (r) => {
  const v = await runVirtual(function* () { yield* sleep(60_000); return 'an hour of virtual time later'; });
  console.log(JSON.stringify([...r, v]));
});
`;

void test('require(\'tulip\') from a CommonJS file in a child process: every entry point loads and runs', { skip: canRequireEsm ? false : `Node ${process.versions.node} cannot require() an ES module` }, () => {
  // A project outside the repository with tulip in its node_modules, as if installed.
  const dir = tempDir();
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'tulip'), 'dir');
  const file = join(dir, 'uses-tulip.cjs');
  writeFileSync(file, program);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000, cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), JSON.stringify(['slept', 6, 'an hour of virtual time later']));
  assert.doesNotMatch(r.stderr, /ERR_REQUIRE_ASYNC_MODULE|top-level await/);
});
