/**
 * `npm run test:package`: what a newcomer gets from `npm pack`.
 *
 * 1. Exports HEAD (the committed tree, as a fresh clone has it; `--worktree`
 *    takes the working tree's tracked and new files instead), runs `npm ci`
 *    and `npm pack` there (prepack builds), and checks the tarball: the
 *    entry points are there, every source map resolves inside the package,
 *    no declaration shows an `@internal` member, nothing points outside the
 *    repository.
 * 2. Installs the tarball into a fresh ESM project (TypeScript strict,
 *    `skipLibCheck: false`, NodeNext; test/package/consumer), compiles a
 *    program that uses `tulip`, `tulip/testing`, `tulip/conformance` and `tulip/http`, and
 *    runs it, once against @types/node 20 and once against the newest.
 *
 * It needs the npm registry. Usage: `node --import tsx scripts/package_test.ts [--worktree] [--keep]`.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = join(ROOT, 'test/package/consumer');
const args = new Set(process.argv.slice(2));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** @types/node majors to compile against: the oldest Node tulip supports, and the newest. */
const TYPES_NODE = ['20', 'latest'];

function sh(cmd: string, argv: string[], opts: SpawnSyncOptions = {}): string {
  const started = Date.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${argv.join(' ')} (in ${String(opts.cwd ?? '.')}) exited ${r.status}\n${String(r.stdout)}\n${String(r.stderr)}`);
  }
  console.log(`  ok ${cmd} ${argv.join(' ')} (${took} s)`);
  return String(r.stdout);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** The source tree to pack: HEAD's files, or the working tree's (tracked and new, not ignored). */
function exportSource(into: string): void {
  mkdirSync(into, { recursive: true });
  if (args.has('--worktree')) {
    const files = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT }).split('\0').filter(Boolean);
    for (const f of files) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(into, f));
    return;
  }
  const tar = join(into, '..', 'head.tar');
  sh('git', ['archive', '--format=tar', '-o', tar, 'HEAD'], { cwd: ROOT });
  sh('tar', ['-xf', tar, '-C', into]);
  rmSync(tar);
}

/** What the tarball must and must not hold. */
function checkTarball(pkg: string): void {
  const files = walk(pkg).map((f) => relative(pkg, f).split('\\').join('/'));
  const have = new Set(files);
  for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts',
    'dist/conformance/index.js', 'dist/conformance/index.d.ts', 'dist/eslint/index.js', 'dist/eslint/index.d.ts',
    'dist/protocols/http/index.js', 'dist/protocols/http/index.d.ts', 'src/index.ts']) {
    if (!have.has(f)) throw new Error(`the package lacks ${f}`);
  }
  const problems: string[] = [];
  let examples = 0;
  for (const f of files) {
    const text = readFileSync(join(pkg, f), 'utf8');
    if (/DESIGN\.md|\.\.\/shared\b/.test(text)) problems.push(`${f} points outside the repository`);
    if (f.endsWith('.d.ts') && text.includes('@internal')) problems.push(`${f} still declares an @internal member`);
    if (f.endsWith('.d.ts')) examples += text.split('@example').length - 1;   // the docs editors show on hover
    if (f.endsWith('.map')) {
      const map = JSON.parse(text) as { sources: string[] };
      for (const s of map.sources) {
        const target = relative(pkg, resolve(dirname(join(pkg, f)), s)).split('\\').join('/');
        if (!have.has(target)) problems.push(`${f} maps to ${s}, which the package does not ship`);
      }
    }
  }
  if (examples < 150) problems.push(`only ${examples} @example in the declarations: are comments stripped?`);
  if (problems.length > 0) throw new Error(`the tarball has problems:\n  ${problems.slice(0, 30).join('\n  ')}`);
  console.log(`  ok the tarball: ${files.length} files, source maps resolve, no @internal in declarations, ${examples} examples in them`);
}

function expectOutput(out: string, wanted: string): void {
  if (!out.includes(wanted)) throw new Error(`expected '${wanted}' in the output:\n${out}`);
}

/** The README's code blocks that start with `// file: <path>`, written into the consumer project. */
function writeReadmeFiles(consumer: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const written: string[] = [];
  for (const m of readme.matchAll(/^```\w*\n\/\/ file: (\S+)\n([\s\S]*?)^```$/gm)) {
    const path = join(consumer, m[1]!);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `// file: ${m[1]!}\n${m[2]!}`);
    written.push(m[1]!);
  }
  for (const f of ['tsconfig.json', 'src/echo.ts', 'src/server.ts', 'src/echo.test.ts']) {
    if (!written.includes(f)) throw new Error(`the README has no '// file: ${f}' block`);
  }
  return written;
}

/**
 * The README's server: a client's line comes back; Ctrl-C (SIGINT) with that
 * client still connected, idle, stops it cleanly and closes the connection.
 */
async function readmeServer(consumer: string): Promise<void> {
  const child = spawn(process.execPath, ['dist/server.js'], { cwd: consumer, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /listening on \[ '127\.0\.0\.1', (\d+) \]/.exec(out);
        if (m !== null) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
    });
    const sock = connect(port, '127.0.0.1');
    sock.setEncoding('utf8');
    await once(sock, 'connect');
    sock.write('hello, server\n');
    const [echoed] = await once(sock, 'data') as [string];
    if (echoed !== 'hello, server\n') throw new Error(`the server echoed ${JSON.stringify(echoed)}`);
    // The client stays connected and says nothing more: the server owns its connection, so Ctrl-C still
    // ends it, and the client sees the connection closed (an end, not a reset: once() rejects on 'error').
    sock.resume();
    const ended = once(sock, 'end');
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [[code]] = await Promise.all([exited as Promise<[number | null]>, ended]);
    if (code !== 0 || !out.includes('stopped')) throw new Error(`after Ctrl-C the server exited ${code}:\n${out}`);
    sock.destroy();
    console.log('  ok the README server echoes a line, and Ctrl-C with the client still connected stops it and closes the connection');
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tulip-package-'));
  console.log(`package test in ${work}`);
  try {
    const clone = join(work, 'clone');
    exportSource(clone);
    sh(NPM, ['ci', ...NPM_FLAGS], { cwd: clone });
    const packed = JSON.parse(sh(NPM, ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: clone })) as { filename: string }[];
    const tarball = join(work, packed[0]!.filename);
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    sh('tar', ['-xzf', tarball, '-C', unpacked]);
    checkTarball(join(unpacked, 'package'));

    const consumer = join(work, 'consumer');
    cpSync(FIXTURE, consumer, { recursive: true });
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    const readmeFiles = writeReadmeFiles(consumer);
    console.log(`  ok the README's files: ${readmeFiles.join(', ')}`);
    const ts = (JSON.parse(readFileSync(join(ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version;
    for (const types of TYPES_NODE) {
      console.log(`consumer: typescript@${ts}, @types/node@${types}`);
      sh(NPM, ['install', ...NPM_FLAGS, tarball, `typescript@${ts}`, `@types/node@${types}`], { cwd: consumer });
      rmSync(join(consumer, 'dist'), { recursive: true, force: true });
      const tsc = join(consumer, 'node_modules/typescript/bin/tsc');
      sh(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer });        // the README's settings
      sh(process.execPath, [tsc, '-p', 'tsconfig.init.json', '--noEmit'], { cwd: consumer });   // tsc --init's
      expectOutput(sh(process.execPath, ['dist/main.js'], { cwd: consumer, timeout: 120_000 }), 'consumer done');
      expectOutput(sh(process.execPath, ['dist/commonjs.cjs'], { cwd: consumer, timeout: 60_000 }), 'commonjs: 42');
      sh(process.execPath, ['--test', 'dist/conformance.js'], { cwd: consumer, timeout: 300_000 });
      sh(process.execPath, ['--test', 'dist/echo.test.js'], { cwd: consumer, timeout: 60_000 });
      await readmeServer(consumer);
    }
    console.log('package test passed');
  } finally {
    if (args.has('--keep')) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
