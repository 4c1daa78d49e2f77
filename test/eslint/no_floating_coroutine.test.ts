// tulip/no-floating-coroutine under ESLint's RuleTester, with tulip's real types (the fixture project); and its
// refusal to run without type information.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linter } from 'eslint';
import plugin from '../../src/eslint/index.js';
import { TULIP, TYPED_FILE, typed } from './rule_tester.js';

const rule = plugin.rules['no-floating-coroutine'];

const ok = (code: string) => ({ filename: TYPED_FILE, code: TULIP + code });
/** One error per entry of `suggestions`: the output its "add yield*" suggestion gives, or null for none. */
const bad = (code: string, ...suggestions: (string | null)[]) => ({
  filename: TYPED_FILE,
  code: TULIP + code,
  errors: suggestions.map((output) => ({
    messageId: 'floating',
    suggestions: output === null ? [] : [{ messageId: 'addYieldStar', output: TULIP + output }],
  })),
});

typed.run('tulip/no-floating-coroutine', rule, {
  valid: [
    // driven, started, stored, passed on, returned
    ok('export function* f(): Coro<void> { yield* sleep(1); }'),
    ok('export function* f(): Coro<void> { const s = sleep(1); yield* s; }'),
    ok('export function f(): void { createTask(sleep(1)); }'),
    ok('export function f(): void { createTask(function* () { yield* sleep(1); }); }'),
    ok('export function f(): Coro<void> { return sleep(1); }'),
    ok('declare function take(c: Coro<void>): void; export function f(): void { take(sleep(1)); }'),
    ok('export function f(): Coro<void>[] { const all = [sleep(1)]; all.push(sleep(2)); return all; }'),
    // dropped on purpose
    ok('export function f(): void { void sleep(1); }'),
    // calls that are not coroutines
    ok('export function f(q: Queue<number>, fut: Future<number>): void { q.putNowait(1); fut.cancel(); [1].map((x) => x); }'),
    ok('export function f(): void { createTask(sleep(1)).cancel(); }'),
    // a coroutine's own next() steps it: an IteratorResult, not a coroutine
    ok('export function f(c: Coro<void>): void { c.next(); }'),
    // a plain generator of numbers is not a coroutine
    ok('function* nums() { yield 1; } export function f(): void { nums(); }'),
    // a future (a task) runs by itself
    ok('export function f(t: Future<number>): void { t.then(() => undefined); }'),
  ],
  invalid: [
    bad('export function* f(): Coro<void> { sleep(1); }', 'export function* f(): Coro<void> { yield* sleep(1); }'),
    bad('export function* f(q: Queue<number>): Coro<void> { q.put(1); }', 'export function* f(q: Queue<number>): Coro<void> { yield* q.put(1); }'),
    bad('export function* f(q: Queue<number>): Coro<void> { q.get(); }', 'export function* f(q: Queue<number>): Coro<void> { yield* q.get(); }'),
    bad('export function* f(l: Lock): Coro<void> { l.acquire(); }', 'export function* f(l: Lock): Coro<void> { yield* l.acquire(); }'),
    bad('export function* f(fut: Future<number>): Coro<void> { fut[Symbol.iterator](); }',
      'export function* f(fut: Future<number>): Coro<void> { yield* fut[Symbol.iterator](); }'),
    bad('export function* f(): Coro<void> { new CancelScope().run(sleep(1)); }',
      'export function* f(): Coro<void> { yield* new CancelScope().run(sleep(1)); }'),
    // a user's coroutine functions, annotated or inferred
    bad('function* work(): Coro<number> { yield* sleep(1); return 1; } export function* f(): Coro<void> { work(); }',
      'function* work(): Coro<number> { yield* sleep(1); return 1; } export function* f(): Coro<void> { yield* work(); }'),
    bad('function* work() { yield* sleep(1); return 1; } export function* f(): Coro<void> { work(); }',
      'function* work() { yield* sleep(1); return 1; } export function* f(): Coro<void> { yield* work(); }'),
    // outside a generator there is nothing to add yield* to
    bad('export function f(): void { sleep(1); }', null),
    bad('export const f = (): void => { sleep(1); };', null),
    // optional calls, both branches of a conditional, the right of a logical
    bad('export function* f(o?: { run(): Coro<void> }): Coro<void> { o?.run(); }', null),
    bad('export function* f(c: boolean): Coro<void> { c ? sleep(1) : sleep(2); }', null, null),
    bad('export function* f(c: boolean): Coro<void> { c && sleep(1); }', null),
  ],
});

void test('tulip/no-floating-coroutine without type information is a clear error, not silence', () => {
  const linter = new Linter({ configType: 'flat' });
  assert.throws(
    () => linter.verify('sleep(1);', [{ plugins: { tulip: plugin }, rules: { 'tulip/no-floating-coroutine': 'error' } }]),
    /no-floating-coroutine needs type information/,
  );
});

void test('the recommended config: require-rehalt everywhere, no-floating-coroutine on TypeScript files', () => {
  const [all, ts] = plugin.configs.recommended;
  assert.deepEqual(all?.rules, { 'tulip/require-rehalt': 'error' });
  assert.equal(all?.files, undefined);
  assert.deepEqual(ts?.rules, { 'tulip/no-floating-coroutine': 'error' });
  assert.ok(ts?.files?.includes('**/*.ts'));
  assert.equal(all?.plugins?.tulip, plugin);
  // Plain JavaScript linted with the recommended config: the syntax-only rule runs, nothing throws.
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify('function* f() { try { yield* a(); } finally { yield* b(); } }', plugin.configs.recommended, 'x.js');
  assert.deepEqual(messages.map((m) => m.ruleId), ['tulip/require-rehalt']);
});
