/* global process, console, performance, setTimeout, clearTimeout */
// The runtime matrix (`npm run test:runtimes`, run by .ci/run after `npm test`): tulip on Deno, Bun and Chromium.
// Node runs the same suites in `npm test` (test/conformance, test/portable, test/web).
//
//   Deno, Bun: the conformance suite on NodeEventLoop and WebEventLoop, the portable test file on NodeEventLoop,
//              WebEventLoop and TestEventLoop, WebSocket scenarios with the runtime's own WebSocket, the Node loop's
//              differences there (test/node/runtime_compat.test.ts), examples/tour.js, run()'s SIGINT handling.
//   Chromium:  the conformance suite and the portable test file on WebEventLoop (MessageChannel and postTask wakes)
//              and TestEventLoop, WebSocket scenarios, bundled for the browser by Bun's bundler.
//   Bundlers:  `tulip` resolves to the web entry for a browser and to the Node entry for Node; `tulip/core` tree-shakes.
//
// Deno and Bun come from the npm registry as the exact versions in ci/runtimes/package-lock.json (their binaries ship
// inside the packages: no install script needed); Chromium is Debian's (.ci/apt-packages), driven by playwright-core.
// A runtime that is missing is an error, never a skip. `node ci/runtimes/run.mjs deno chromium` runs some steps only.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BUN, DENO, ENV, ROOT, TMP, exec, inChromium, install, serve } from './lib.mjs';

const only = process.argv.slice(2);
/** node:test files of the Node loop's differences on these runtimes (docs/runtimes.md), run there too. */
const COMPAT = ['test/node/runtime_compat.test.ts'];
const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const log = (s) => console.log(s);

function fail(what) { problems.push(what); log(`FAIL ${what}`); }

/** A WebSocket server for the WebSocket scenarios: /echo echoes, /rpc answers JSON-RPC `add`. */
async function webSocketServer() {
  const { WebSocketServer } = createRequire(join(ROOT, 'package.json'))('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws, req) => {
    ws.on('message', (d, isBinary) => {
      if (req.url === '/rpc') {
        const m = JSON.parse(String(d));
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: m.params.reduce((a, b) => a + b, 0) }));
      } else ws.send(d, { binary: isBinary });
    });
  });
  return { url: `ws://127.0.0.1:${wss.address().port}/`, close: () => { for (const c of wss.clients) c.terminate(); wss.close(); } };
}

function count(runtime, passed, failed, skipped) {
  totals.passed += passed; totals.failed += failed; totals.skipped += skipped;
  log(`${runtime}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (failed > 0) fail(`${runtime}: ${failed} failed`);
}

async function tour(runtime, cmd, args) {
  const r = await exec(cmd, args, { echo: false, timeout: 120_000 });
  const ok = r.code === 0 && /echoed: hello, tulip/.test(r.out) && /task 'helper' waiting on Lock\.acquire/.test(r.out) && /tour done\n$/.test(r.out);
  if (ok) { totals.passed++; log(`${runtime}: examples/tour.js ran to the end`); } else { totals.failed++; log(r.out); fail(`${runtime}: examples/tour.js (exit ${r.code})`); }
}

/** run()'s SIGINT handling: the first Ctrl-C cancels main, whose finally runs (test/fixtures/sigint_main.ts). */
async function sigint(runtime, cmd, args) {
  const child = spawn(cmd, [...args, 'test/fixtures/sigint_main.ts'], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const done = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (d) => { out += d; });
  child.stdout.on('data', (d) => { out += d; if (out.includes('ready\n') && !child.killed) child.kill('SIGINT'); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await done;
  clearTimeout(timer);
  if (code === 3 && /ready\nfinally start\nfinally done\nrejected CancelledError: interrupted by SIGINT/.test(out)) {
    totals.passed++;
    log(`${runtime}: SIGINT cancels run()'s main and its finally runs`);
  } else { totals.failed++; log(out); fail(`${runtime}: SIGINT (exit ${code})`); }
}

async function deno(ws) {
  const r = await exec(DENO, ['test', '-A', '--no-check', '--sloppy-imports', 'test/portable/deno_entry.ts', ...COMPAT], { env: { ...ENV, TULIP_WS_URL: ws } });
  const m = /(\d+) passed \| (\d+) failed(?: \| (\d+) ignored)?/.exec(r.out);
  if (r.code !== 0) log(r.out);
  if (m === null) fail(`deno: no test summary (exit ${r.code})`);
  else count('deno', Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
  if (r.code !== 0 && (m === null || m[2] === '0')) fail(`deno test exited ${r.code}`);
  await tour('deno', DENO, ['run', '-A', 'examples/tour.js']);
  await sigint('deno', DENO, ['run', '-A', '--sloppy-imports']);
}

async function bun(ws) {
  const r = await exec(BUN, ['test', './test/portable/bun_entry.ts', ...COMPAT.map((f) => `./${f}`)], { env: { ...ENV, TULIP_WS_URL: ws } });
  const pass = /^\s*(\d+) pass$/m.exec(r.out), failed = /^\s*(\d+) fail$/m.exec(r.out), skip = /^\s*(\d+) skip$/m.exec(r.out);
  if (r.code !== 0) log(r.out);
  if (pass === null || failed === null) fail(`bun: no test summary (exit ${r.code})`);
  else count('bun', Number(pass[1]), Number(failed[1]), Number(skip?.[1] ?? 0));
  if (r.code !== 0 && (failed === null || failed[1] === '0')) fail(`bun test exited ${r.code}`);
  await tour('bun', BUN, ['examples/tour.js']);
  await sigint('bun', BUN, []);
}

async function chromiumTests(ws) {
  const out = join(TMP, 'browser');
  const b = await exec(BUN, ['build', 'test/portable/browser_entry.ts', '--target=browser', `--outfile=${join(out, 'tests.js')}`], { echo: false });
  if (b.code !== 0) { log(b.out); fail('chromium: bundling the tests failed'); return; }
  const srv = await serve(out, 'tests.js');
  try {
    const { results } = await inChromium(`${srv.origin}/?ws=${encodeURIComponent(ws)}`, '__tulipResults');
    for (const r of results) if (!r.ok) log(`FAIL chromium: ${r.name}\n${r.error}`);
    count('chromium', results.filter((r) => r.ok && !r.skipped).length, results.filter((r) => !r.ok).length, results.filter((r) => r.skipped).length);
  } finally { srv.close(); }
}

/** Bundle a consumer of the package for a browser and for Node: each gets its own entry; unused modules are dropped. */
async function bundlers() {
  // Outside the repository, as a real app is: the repository's tsconfig.json maps `tulip` to its sources.
  const dir = mkdtempSync(join(tmpdir(), 'tulip-consumer-'));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'tulip'), 'dir');
  writeFileSync(join(dir, 'app.js'), "import { run, sleep, getEventLoop } from 'tulip';\nconsole.log(await run(function* () { yield* sleep(1); return getEventLoop().constructor.name; }));\n");
  writeFileSync(join(dir, 'core.js'), "import { sleep } from 'tulip/core';\nconsole.log(typeof sleep);\n");
  const checks = [];
  const build = async (entry, target, outfile) => {
    const r = await exec(BUN, ['build', join(dir, entry), `--target=${target}`, `--outfile=${join(dir, outfile)}`], { cwd: dir, echo: false });
    if (r.code !== 0) { log(r.out); return ''; }
    return readFileSync(join(dir, outfile), 'utf8');
  };
  const web = await build('app.js', 'browser', 'web.js');
  checks.push(['a browser bundle of `tulip` holds WebEventLoop and no Node loop, no node: module',
    /\bWebEventLoop\b/.test(web) && !/\bNodeEventLoop\b/.test(web) && !/from\s*["']node:/.test(web)]);
  const node = await build('app.js', 'node', 'node.js');
  checks.push(['a Node bundle of `tulip` holds NodeEventLoop', /\bNodeEventLoop\b/.test(node)]);
  const core = await build('core.js', 'browser', 'core.out.js');
  checks.push(['a bundle of `tulip/core` that uses sleep() leaves out what it does not use (JSON-RPC, streams)',
    core.length > 0 && !/\bJsonRpcProtocol\b/.test(core) && !/\bStreamReader\b/.test(core) && !/\bWebEventLoop\b/.test(core)]);
  // The browser bundle runs in Chromium and uses the web loop as its default.
  if (web !== '') {
    writeFileSync(join(dir, 'page.js'), `${web.replace(/console\.log\(/, 'globalThis.__app = { done: true, value: ')}`.replace(/\);\s*$/, ' };\n'));
    const srv = await serve(dir, 'page.js');
    try {
      const app = await inChromium(`${srv.origin}/`, '__app', 60_000);
      checks.push(['the browser bundle runs in Chromium on the web loop', app.value === 'WebEventLoop']);
    } catch (e) { log(String(e)); checks.push(['the browser bundle runs in Chromium on the web loop', false]); } finally { srv.close(); }
  }
  rmSync(dir, { recursive: true, force: true });
  let passed = 0;
  for (const [what, ok] of checks) { if (ok) passed++; else log(`FAIL bundlers: ${what}`); }
  count('bundlers', passed, checks.length - passed, 0);
}

const t0 = performance.now();
try {
  mkdirSync(TMP, { recursive: true });
  await install();
  const ws = await webSocketServer();
  try {
    for (const [name, step] of [['deno', deno], ['bun', bun], ['chromium', chromiumTests], ['bundlers', bundlers]]) {
      if (only.length > 0 && !only.includes(name)) continue;
      log(`\n== ${name}`);
      const s0 = performance.now();
      try { await step(ws.url); } catch (e) { fail(`${name}: ${e instanceof Error ? e.stack : String(e)}`); }
      log(`(${name}: ${((performance.now() - s0) / 1000).toFixed(1)} s)`);
    }
  } finally { ws.close(); }
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
log(`\nruntime matrix in ${((performance.now() - t0) / 1000).toFixed(1)} s${problems.length > 0 ? `; problems:\n  ${problems.join('\n  ')}` : ''}`);
log(`runtimes: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(problems.length > 0 || totals.failed > 0 ? 1 : 0);
