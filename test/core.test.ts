// tulip/core (and tulip/web) must run wherever JavaScript runs: every module reachable from their entries is walked
// with the TypeScript parser, and any `node:` import, any import of a package, any import() of a computed name, and
// any reference at all to `process`, `Buffer` or `setImmediate` (even `typeof process`, even `globalThis.Buffer`)
// fails the test. tulip/testing and tulip/conformance must import no `node:` module either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FORBIDDEN = new Set(['process', 'Buffer', 'setImmediate', 'clearImmediate', 'NodeJS', 'require', '__dirname', '__filename', 'global']);
const GLOBAL_OBJECTS = new Set(['globalThis', 'window', 'self', 'global']);

/** Is `id` a name that refers to a variable (not a property of some object, nor a member being declared)? */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return rootIsGlobal(p.expression);
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p)
    || ts.isMethodSignature(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isEnumMember(p)) && p.name === id) return false;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return p.propertyName === id || p.name === id;
  return true;
}

function rootIsGlobal(e: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
  return ts.isIdentifier(e) && GLOBAL_OBJECTS.has(e.text);
}

interface Finding { file: string; line: number; what: string }

/** The findings of one source text, and the relative modules it imports. */
export function inspect(file: string, text: string, strict: boolean): { findings: Finding[]; imports: string[] } {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const imports: string[] = [];
  const at = (n: ts.Node, what: string): void => { findings.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, what }); };
  const spec = (n: ts.Node, s: string): void => {
    if (s.startsWith('.')) imports.push(s);
    else at(n, s.startsWith('node:') ? `imports ${s}` : `imports the package ${s}`);
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier !== undefined && ts.isStringLiteral(n.moduleSpecifier)) spec(n, n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a !== undefined && ts.isStringLiteralLike(a)) spec(n, a.text);
      else at(n, 'import() of a computed name (a bundler cannot follow it)');
    }
    if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) spec(n, n.argument.literal.text);
    if (strict) {
      if (ts.isIdentifier(n) && FORBIDDEN.has(n.text) && isReference(n)) at(n, `refers to ${n.text}`);
      if (ts.isStringLiteralLike(n) && FORBIDDEN.has(n.text) && !ts.isImportDeclaration(n.parent)) at(n, `names '${n.text}' in a string`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { findings, imports };
}

/** Every module reachable from `entry` (a src/ path), with the findings of each. */
function walk(entry: string, strict: boolean): { files: string[]; findings: Finding[] } {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const todo = [resolve(ROOT, entry)];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const r = inspect(relative(ROOT, f), readFileSync(f, 'utf8'), strict);
    findings.push(...r.findings);
    for (const s of r.imports) todo.push(join(dirname(f), s.replace(/\.js$/, '.ts')));
  }
  return { files: [...seen].map((f) => relative(ROOT, f)).sort(), findings };
}

const show = (fs: Finding[]): string => fs.map((f) => `${f.file}:${f.line}: ${f.what}`).join('\n');

test('the checker finds every kind of host reference it looks for (so the tests below can fail)', () => {
  const bad = [
    "import { isIP } from 'node:net';", "import x from 'piscina';", 'export * from "node:fs";', 'const m = await import(name);',
    'if (typeof process !== "undefined") {}', 'const b = globalThis.Buffer;', 'const s = (globalThis as any).setImmediate;',
    "const c = globalThis['process'];", 'let t: NodeJS.Immediate;', "const ok = 'Buffer' in globalThis;", 'setImmediate(f);',
  ];
  for (const line of bad) assert.equal(inspect('x.ts', line, true).findings.length, 1, line);
  const fine = ['const o = { process: 1 }; o.process++;', 'class A { setImmediate() {} }', '// process, Buffer and setImmediate', 'x.Buffer = 1;'];
  for (const line of fine) assert.deepEqual(inspect('x.ts', line, true).findings, [], line);
});

test('nothing reachable from tulip/core imports node: or a package, or refers to process, Buffer or setImmediate', () => {
  const { files, findings } = walk('src/core.ts', true);
  assert.deepEqual(findings, [], show(findings));
  // The walk did reach the layers it must: the kernel, the toolkit, micro-threads, protocols and streams.
  for (const f of ['src/kernel/base_loop.ts', 'src/toolkit/queue.ts', 'src/toolkit/microthreads/pipe.ts', 'src/protocols/jsonrpc.ts', 'src/streams/reader.ts']) {
    assert.ok(files.includes(f), `${f} is not reachable from src/core.ts`);
  }
  assert.ok(!files.some((f) => f.startsWith('src/node/')), 'tulip/core reaches the Node loop');
});

test('nothing reachable from tulip/web does either', () => {
  const { files, findings } = walk('src/web/index.ts', true);
  assert.deepEqual(findings, [], show(findings));
  assert.ok(files.includes('src/web/websocket.ts'));
});

// simulate() draws and shrinks its cases with fast-check, an optional peer dependency it loads with import() only
// when it runs (a bundler can follow a literal import(); without fast-check, simulate() says what to install).
const OPTIONAL_PEERS = [{ file: 'src/testing/simulate.ts', what: 'imports the package fast-check' }];

test('tulip/testing and tulip/conformance import no node: module and no package (but simulate()\'s optional peer)', () => {
  for (const entry of ['src/testing/index.ts', 'src/conformance/index.ts']) {
    const { files, findings } = walk(entry, false);
    const rest = findings.filter((f) => !OPTIONAL_PEERS.some((p) => p.file === f.file && p.what === f.what));
    assert.deepEqual(rest, [], show(rest));
    assert.ok(!files.some((f) => f.startsWith('src/node/')), `${entry} reaches the Node loop`);
  }
});
