// tulip lints itself with tulip/require-rehalt (npm run lint); this test makes `npm test` catch a new suspending
// cleanup without rehalt() under src/ as well, and pins the audited exemptions (issue 15, class 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import plugin from '../../src/eslint/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

void test('every finally under src/ that waits ends with yield* rehalt(), but for the audited exemptions', async () => {
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      linterOptions: { reportUnusedDisableDirectives: 'off' },   // the directives for the project's other rules
      plugins: { tulip: plugin },
      rules: { 'tulip/require-rehalt': 'error' },
    }],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  const problems = results.flatMap((r) => r.messages.map((m) => `${relative(ROOT, r.filePath)}:${m.line} ${m.message}`));
  assert.deepEqual(problems, []);
  // Each exemption is a frame whose caller re-halts (an interrupted wait returns undefined) or a task's own
  // coroutine; a new one needs the same review.
  const exempt = results.flatMap((r) => {
    const lines = readFileSync(r.filePath, 'utf8').split('\n');
    return lines.flatMap((l) => (/eslint-disable-(next-)?line tulip\/require-rehalt/.test(l) ? [relative(ROOT, r.filePath)] : []));
  });
  assert.deepEqual(exempt.sort(), [
    'src/conformance/loop_scenarios.ts', 'src/conformance/loop_scenarios.ts',
    // a region's cleanup drain, interrupted: the frame that drains re-halts (st.interrupted); a scope's drive:
    // unwind() re-halts in its own finally
    'src/kernel/cleanup.ts', 'src/kernel/scope.ts',
    'src/kernel/scope.ts', 'src/toolkit/condition.ts',
    'src/toolkit/gather.ts', 'src/toolkit/microthreads/parallel_map.ts', 'src/toolkit/task_group.ts',
  ]);
});
