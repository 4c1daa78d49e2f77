/**
 * Every `@example` in `src/`, and every TypeScript block of the README and
 * the guides in `docs/`, compiles against the published types; every export
 * of the three entry points has a summary and an `@example`.
 *
 * An example is checked as a module of a project that depends on tulip:
 * - it may import what it needs; names of `tulip`, `tulip/testing`,
 *   `tulip/conformance` and `tulip/http` that it uses without importing or declaring them are
 *   imported for it, so an example can be as short as the API it shows,
 *   unless it imports from that entry point itself: then it must be whole;
 * - an example whose top level uses `yield*` is the body of a coroutine, as
 *   if it were written inside `function* () { ... }`;
 * - it compiles with the repository's strict settings against `dist/`'s
 *   declarations (run `npm run build` first), as a user's code would.
 *
 * Usage: `node --import tsx scripts/check_examples.ts` (also run by `npm test`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES: Record<string, string> = {
  tulip: 'src/index.ts',
  'tulip/testing': 'src/testing/index.ts',
  'tulip/conformance': 'src/conformance/index.ts',
  'tulip/eslint': 'src/eslint/index.ts',
  'tulip/http': 'src/protocols/http/index.ts',
};

/** One `@example` found in the sources. */
export interface Example { file: string; line: number; owner: string; code: string }
/** A problem found: where, and what. */
export interface Problem { where: string; message: string }

function compilerOptions(): ts.CompilerOptions {
  const cfg = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (cfg === undefined) throw new Error('cannot read tsconfig.json');
  // No `paths`: examples see the package as a user does, through its exports and dist/'s declarations.
  return { ...cfg.options, paths: undefined, noEmit: true, skipLibCheck: true, noUnusedLocals: false, noUnusedParameters: false };
}

function nameOf(node: ts.Node): string {
  const parts: string[] = [];
  for (let n: ts.Node | undefined = node; n !== undefined && !ts.isSourceFile(n); n = n.parent) {
    const name = (n as ts.NamedDeclaration).name;
    if (name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name))) parts.unshift(name.text);
  }
  return parts.join('.') || '(file)';
}

/** Every `@example` in the TSDoc of `src/`. */
export function collectExamples(program: ts.Program): Example[] {
  const out: Example[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(join(ROOT, 'src') + '/')) continue;
    const seen = new Set<ts.JSDoc>();
    const visit = (node: ts.Node): void => {
      for (const doc of ts.getJSDocCommentsAndTags(node)) {
        if (!ts.isJSDoc(doc) || seen.has(doc)) continue;
        seen.add(doc);
        for (const tag of doc.tags ?? []) {
          if (tag.tagName.text !== 'example') continue;
          const code = (ts.getTextOfJSDocComment(tag.comment) ?? '').replace(/^\s*```\w*\n?|\n?```\s*$/g, '');
          const line = sf.getLineAndCharacterOfPosition(tag.getStart(sf)).line + 1;
          out.push({ file: relative(ROOT, sf.fileName), line, owner: nameOf(node), code });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/**
 * The TypeScript blocks of the README and the guides (```ts); a block
 * marked ```ts nocheck, or one that is a file of the README's new project
 * (`// file: ...`, compiled by the package test), is left out.
 */
export function collectMarkdownExamples(): Example[] {
  const out: Example[] = [];
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```$/gm)) {
      if (m[2]!.includes('nocheck') || m[3]!.startsWith('// file:')) continue;
      const line = text.slice(0, m.index).split('\n').length + 1;
      out.push({ file, line, owner: 'code block', code: m[3]! });
    }
  }
  return out;
}

/** The exports of each entry point (name → declarations), from the sources. */
function entryExports(program: ts.Program): Map<string, { spec: string; decls: ts.Declaration[] }> {
  const checker = program.getTypeChecker();
  const out = new Map<string, { spec: string; decls: ts.Declaration[] }>();
  for (const [spec, file] of Object.entries(ENTRIES)) {
    const sf = program.getSourceFile(join(ROOT, file));
    const sym = sf === undefined ? undefined : checker.getSymbolAtLocation(sf);
    if (sym === undefined) throw new Error(`no module symbol for ${file}`);
    for (const e of checker.getExportsOfModule(sym)) {
      const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
      out.set(`${spec}:${e.name}`, { spec, decls: target.declarations ?? [] });
    }
  }
  return out;
}

function docsOf(decl: ts.Declaration): ts.JSDoc[] {
  // A variable's TSDoc sits on its statement.
  const node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
  return ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
}

/** Every export has a one-line summary and an `@example`. */
function checkExportDocs(program: ts.Program): Problem[] {
  const problems: Problem[] = [];
  for (const [key, { decls }] of entryExports(program)) {
    const docs = decls.flatMap(docsOf);
    const where = decls[0] === undefined ? key : `${relative(ROOT, decls[0].getSourceFile().fileName)} ${key}`;
    const summary = docs.some((d) => (ts.getTextOfJSDocComment(d.comment) ?? '').trim().length > 0);
    const example = docs.some((d) => (d.tags ?? []).some((t) => t.tagName.text === 'example'));
    if (!summary) problems.push({ where, message: 'exported without a summary' });
    if (!example) problems.push({ where, message: 'exported without an @example' });
  }
  return problems;
}

/** The names each entry point exports, for the automatic imports. */
function publicNames(program: ts.Program): Map<string, { spec: string; typeOnly: boolean }> {
  const checker = program.getTypeChecker();
  const names = new Map<string, { spec: string; typeOnly: boolean }>();
  for (const [key, { spec }] of entryExports(program)) {
    const name = key.slice(spec.length + 1);
    const sf = program.getSourceFile(join(ROOT, ENTRIES[spec]!))!;
    const sym = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) => s.name === name)!;
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    // A default export (tulip/eslint's plugin) has no name to import it by: an example imports it itself.
    if (name !== 'default' && !names.has(name)) names.set(name, { spec, typeOnly: (target.flags & ts.SymbolFlags.Value) === 0 });
  }
  return names;
}

/**
 * Does the example's top level use `yield`? (At the top level of a module the
 * parser reads `yield* x` as a multiplication, so look inside a generator.)
 */
function yieldsAtTopLevel(code: string): boolean {
  const sf = ts.createSourceFile('y.ts', `function* __w() {\n${code}\n}`, ts.ScriptTarget.ES2022, true);
  const fn = sf.statements[0] as ts.FunctionDeclaration;
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || ts.isFunctionLike(n) || ts.isClassLike(n)) return;
    if (ts.isYieldExpression(n)) { found = true; return; }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn.body!, visit);
  return found;
}

/** Turn an example into a module: imports for the public names it uses, a coroutine around a body that yields. */
function exampleModule(ex: Example, names: Map<string, { spec: string; typeOnly: boolean }>): { text: string; offset: number } {
  const sf = ts.createSourceFile('x.ts', ex.code, ts.ScriptTarget.ES2022, true);
  const declared = new Set<string>();
  const importedSpecs = new Set<string>();
  const used = new Set<string>();
  const imports: ts.Statement[] = [];
  const body: ts.Statement[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      imports.push(st);
      if (ts.isStringLiteral(st.moduleSpecifier)) importedSpecs.add(st.moduleSpecifier.text);
      const clause = st.importClause;
      if (clause?.name) declared.add(clause.name.text);
      const nb = clause?.namedBindings;
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) declared.add(el.name.text);
      if (nb && ts.isNamespaceImport(nb)) declared.add(nb.name.text);
    } else {
      body.push(st);
      const name = (st as unknown as ts.NamedDeclaration).name;
      if (name !== undefined && ts.isIdentifier(name)) declared.add(name.text);
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) {
          const collect = (b: ts.BindingName): void => {
            if (ts.isIdentifier(b)) declared.add(b.text);
            else for (const el of b.elements) if (!ts.isOmittedExpression(el)) collect(el.name);
          };
          collect(d.name);
        }
      }
    }
  }
  const visit = (n: ts.Node): void => { if (ts.isIdentifier(n)) used.add(n.text); ts.forEachChild(n, visit); };
  visit(sf);
  const bySpec = new Map<string, string[]>();
  for (const n of used) {
    const info = names.get(n);
    // An example that imports from an entry point must import all it uses from it (a reader copies it whole).
    if (info === undefined || declared.has(n) || importedSpecs.has(info.spec)) continue;
    const list = bySpec.get(info.spec) ?? [];
    list.push(info.typeOnly ? `type ${n}` : n);
    bySpec.set(info.spec, list);
  }
  const header = [...bySpec].map(([spec, list]) => `import { ${list.sort().join(', ')} } from '${spec}';`);
  const importText = imports.map((i) => i.getText(sf));
  const wrap = yieldsAtTopLevel(ex.code);
  // Keep the example's own lines in place (so line numbers match): imports are moved up, the body follows.
  const bodyText = body.length === 0 ? '' : ex.code.slice(body[0]!.getFullStart());
  const pre = [...header, ...importText, wrap ? 'export function* __example(): Generator<any, any, any> {' : ''];
  const text = `${pre.join('\n')}\n${bodyText}\n${wrap ? '}\n' : ''}export {};\n`;
  const bodyLine = body.length === 0 ? 0 : sf.getLineAndCharacterOfPosition(body[0]!.getFullStart()).line;
  return { text, offset: pre.length - bodyLine };
}

/**
 * Compile every example (and `extra` ones, for testing this check); return
 * the problems (an empty list: all is well).
 */
export function checkExamples(extra: Example[] = []): { examples: number; problems: Problem[] } {
  if (!existsSync(join(ROOT, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
  const options = compilerOptions();
  const srcProgram = ts.createProgram(Object.values(ENTRIES).map((f) => join(ROOT, f)), options);
  const problems = checkExportDocs(srcProgram);
  const names = publicNames(srcProgram);
  const examples = [...collectExamples(srcProgram), ...collectMarkdownExamples(), ...extra];

  const dir = join(ROOT, '.tmp/examples');
  const files = new Map<string, { ex: Example; text: string; offset: number }>();
  examples.forEach((ex, i) => {
    const m = exampleModule(ex, names);
    files.set(join(dir, `example_${i}.ts`), { ex, ...m });
  });
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const v = files.get(f);
    return v !== undefined ? ts.createSourceFile(f, v.text, lang, true) : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const v = d.file === undefined ? undefined : files.get(d.file.fileName);
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (v === undefined) { problems.push({ where: d.file?.fileName ?? '(program)', message }); continue; }
    const line = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line - v.offset;
    problems.push({ where: `${v.ex.file}:${v.ex.line} ${v.ex.owner} (example line ${line + 1})`, message });
  }
  return { examples: examples.length, problems };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const { examples, problems } = checkExamples();
  for (const p of problems) console.log(`${p.where}: ${p.message}`);
  console.log(`${examples} examples checked in ${((Date.now() - started) / 1000).toFixed(1)} s: ${problems.length} problems`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
