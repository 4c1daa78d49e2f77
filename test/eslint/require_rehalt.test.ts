// tulip/require-rehalt under ESLint's RuleTester: plain JavaScript (syntax only) and TypeScript with types.
import type { RuleTester } from 'eslint';
import plugin from '../../src/eslint/index.js';
import { TULIP, TYPED_FILE, typed, untyped } from './rule_tester.js';

const rule = plugin.rules['require-rehalt'];
/** An error whose one suggestion turns the code into `output`. */
const suggests = (output: string): RuleTester.TestCaseError => ({ messageId: 'missing', suggestions: [{ messageId: 'addRehalt', output }] });
/** An invalid case: one error, whose suggestion turns `code` into `output`. */
const bad = (code: string, output: string) => ({ code, errors: [suggests(output)] });
/** The same for a type-aware case (tulip's imports first). */
const badTyped = (code: string, output: string) => ({ filename: TYPED_FILE, code: TULIP + code, errors: [suggests(TULIP + output)] });

untyped.run('tulip/require-rehalt', rule, {
  valid: [
    // ends with yield* rehalt()
    'function* f() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } }',
    // through a namespace
    'function* f() { try { yield* a(); } finally { yield* b(); yield* tulip.rehalt(); } }',
    // a finally that does not wait
    'function* f() { try { yield* a(); } finally { cleanup(); } }',
    'function* f() { try { yield* a(); } finally { } }',
    // the conditional forms tulip's frames use
    'function* f() { let ok = false; try { yield* a(); ok = true; } finally { if (!ok) { yield* b(); yield* rehalt(); } } }',
    'function* f() { let ok = false; try { yield* a(); ok = true; } finally { if (!ok && (yield* b()) !== false) yield* rehalt(); } }',
    'function* f() { try { yield* a(); } finally { const w = yield* b(); w && (yield* rehalt()); } }',
    'function* f() { try { yield* a(); } finally { if (x) { yield* b(); yield* rehalt(); } else { log(); } } }',
    'function* f() { try { yield* a(); } finally { if (x) { yield* b(); yield* rehalt(); } else { yield* c(); yield* rehalt(); } } }',
    'function* f() { try { yield* a(); } finally { if (x) log(); else { yield* c(); yield* rehalt(); } } }',
    // a nested try whose own finally ends with it
    'function* f() { try { yield* a(); } finally { try { yield* b(); } finally { yield* rehalt(); } } }',
    'function* f() { try { yield* a(); } finally { try { yield* b(); yield* rehalt(); } finally { log(); } } }',
    'function* f() { try { yield* a(); } finally { done: { yield* b(); yield* rehalt(); } } }',
    // a yield* inside a nested function is that function's business
    'function* f() { try { yield* a(); } finally { later(function* () { yield* b(); }); } }',
    'function* f() { try { yield* a(); } finally { later(() => g()); } }',
    // not a generator: await is not yield*
    'async function f() { try { await a(); } finally { await b(); } }',
    'function f() { try { a(); } finally { b(); } }',
    // a generator method, fixed
    'class A { *m() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } } }',
  ],
  invalid: [
    {
      code: 'function* f() { try { yield* a(); } finally { yield* b(); } }',
      errors: [suggests('function* f() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } }')],
    },
    {
      code: [
        'function* f() {',
        '  try {',
        '    yield* a();',
        '  } finally {',
        '    yield* b();',
        '    log();',
        '  }',
        '}',
      ].join('\n'),
      errors: [suggests([
        'function* f() {',
        '  try {',
        '    yield* a();',
        '  } finally {',
        '    yield* b();',
        '    log();',
        '    yield* rehalt();',
        '  }',
        '}',
      ].join('\n'))],
    },
    // rehalt() must come last
    bad('function* f() { try { yield* a(); } finally { yield* rehalt(); yield* b(); } }',
      'function* f() { try { yield* a(); } finally { yield* rehalt(); yield* b(); yield* rehalt(); } }'),
    // a wait on one path without rehalt()
    bad('function* f() { let ok = false; try { yield* a(); ok = true; } finally { if (!ok) yield* b(); } }',
      'function* f() { let ok = false; try { yield* a(); ok = true; } finally { if (!ok) yield* b(); yield* rehalt(); } }'),
    bad('function* f() { try { yield* a(); } finally { if (x) { yield* b(); yield* rehalt(); } else { yield* c(); } } }',
      'function* f() { try { yield* a(); } finally { if (x) { yield* b(); yield* rehalt(); } else { yield* c(); } yield* rehalt(); } }'),
    bad('function* f() { try { yield* a(); } finally { if (x) { yield* c(); } else { yield* b(); yield* rehalt(); } } }',
      'function* f() { try { yield* a(); } finally { if (x) { yield* c(); } else { yield* b(); yield* rehalt(); } yield* rehalt(); } }'),
    // rehalt() without yield* does nothing
    bad('function* f() { try { yield* a(); } finally { yield* b(); rehalt(); } }',
      'function* f() { try { yield* a(); } finally { yield* b(); rehalt(); yield* rehalt(); } }'),
    // a wait in a nested block of the finally
    bad('function* f() { try { yield* a(); } finally { for (const x of xs) { yield* close(x); } } }',
      'function* f() { try { yield* a(); } finally { for (const x of xs) { yield* close(x); } yield* rehalt(); } }'),
    // a nested try whose finally does not end with it
    bad('function* f() { try { yield* a(); } finally { try { yield* b(); } catch (e) { log(e); } } }',
      'function* f() { try { yield* a(); } finally { try { yield* b(); } catch (e) { log(e); } yield* rehalt(); } }'),
    // generator methods and generator function expressions
    bad('class A { *m() { try { yield* a(); } finally { yield* b(); } } }',
      'class A { *m() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } } }'),
    bad('const o = { *m() { try { yield* a(); } finally { yield* b(); } } };',
      'const o = { *m() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } } };'),
    bad('run(function* () { try { yield* a(); } finally { yield* b(); } });',
      'run(function* () { try { yield* a(); } finally { yield* b(); yield* rehalt(); } });'),
    // the finally of a generator nested in another generator's finally
    bad('function* f() { try { yield* a(); } finally { later(function* () { try { yield* a(); } finally { yield* b(); } }); } }',
      'function* f() { try { yield* a(); } finally { later(function* () { try { yield* a(); } finally { yield* b(); yield* rehalt(); } }); } }'),
    // two finally blocks, two errors
    {
      code: 'function* f() { try { yield* a(); } finally { yield* b(); } try { yield* a(); } finally { yield* c(); } }',
      errors: [
        suggests('function* f() { try { yield* a(); } finally { yield* b(); yield* rehalt(); } try { yield* a(); } finally { yield* c(); } }'),
        suggests('function* f() { try { yield* a(); } finally { yield* b(); } try { yield* a(); } finally { yield* c(); yield* rehalt(); } }'),
      ],
    },
  ],
});

typed.run('tulip/require-rehalt (with types)', rule, {
  valid: [
    { filename: TYPED_FILE, code: `${TULIP}export function* f(): Coro<void> { try { yield* sleep(1); } finally { yield* sleep(1); yield* rehalt(); } }` },
    // a plain iterator of numbers is not a coroutine: its finally may delegate freely
    { filename: TYPED_FILE, code: `${TULIP}export function* nums(): Generator<number> { try { yield 1; } finally { yield* [2, 3]; } }` },
    { filename: TYPED_FILE, code: `${TULIP}export function* nums() { try { yield 1; } finally { yield* [2, 3]; } }` },
  ],
  invalid: [
    badTyped('export function* f(): Coro<void> { try { yield* sleep(1); } finally { yield* sleep(1); } }',
      'export function* f(): Coro<void> { try { yield* sleep(1); } finally { yield* sleep(1); yield* rehalt(); } }'),
    // an inferred coroutine (it yields tulip's Suspend)
    badTyped('export function* f() { try { yield* sleep(1); } finally { yield* new Lock().acquire(); } }',
      'export function* f() { try { yield* sleep(1); } finally { yield* new Lock().acquire(); yield* rehalt(); } }'),
    // yields of unknown type: the rule cannot tell, so it asks
    badTyped('export function* f(g: () => Generator<any>) { try { yield* g(); } finally { yield* g(); } }',
      'export function* f(g: () => Generator<any>) { try { yield* g(); } finally { yield* g(); yield* rehalt(); } }'),
  ],
});
