// Every @example in src/ compiles against the built package's types, and every export is documented
// (scripts/check_examples.ts; npm test builds first). Two examples made up here show the check bites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExamples, type Example } from '../../scripts/check_examples.js';

const good: Example = {
  file: 'made-up.ts', line: 1, owner: 'good',
  code: "const q = new Queue<number>(1);\nyield* q.put(1);\nconst n: number = yield* q.get();\nconsole.log(n);",
};
const bad: Example = {
  file: 'made-up.ts', line: 2, owner: 'bad',
  code: "yield* sleep('ten');",
};

void test('every @example compiles and every export has a summary and an example; a broken example is reported', () => {
  const { examples, problems } = checkExamples([good, bad]);
  assert.ok(examples > 150, `only ${examples} examples found`);
  const others = problems.filter((p) => !p.where.startsWith('made-up.ts'));
  assert.deepEqual(others, [], others.map((p) => `${p.where}: ${p.message}`).join('\n'));
  const mine = problems.filter((p) => p.where.startsWith('made-up.ts'));
  assert.equal(mine.length, 1, JSON.stringify(mine));
  assert.match(mine[0]!.where, /made-up\.ts:2 bad/);
  assert.match(mine[0]!.message, /not assignable to parameter of type 'number'/);
});
