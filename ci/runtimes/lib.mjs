/* global process, console, setTimeout, clearTimeout, URL */
// What the runtime matrix (run.mjs) and the portable benchmark (bench/portable.bench.ts) share: where Deno, Bun and
// Chromium are, installing the first two from ci/runtimes/package-lock.json, running commands, serving a page and
// reading a result out of it in a fresh headless Chromium.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const TMP = join(ROOT, '.tmp', 'runtimes');
export const DENO = join(HERE, 'node_modules/@deno/linux-x64-glibc/deno');
export const BUN = join(HERE, 'node_modules/@oven/bun-linux-x64/bin/bun');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
export const ENV = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', DO_NOT_TRACK: '1', BUN_DISABLE_TELEMETRY: '1' };
const log = (s) => console.log(s);

/** Run a command; resolve with its exit code and output (printed as it comes when `echo`). */
export function exec(cmd, args, { env = ENV, cwd = ROOT, timeout = 300_000, echo = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d) => { out += d; if (echo) process.stdout.write(d); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => { out += `\n(killed after ${timeout} ms)\n`; child.kill('SIGKILL'); }, timeout);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, out: `${out}\n${e.message}` }); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : -1), out }); });
  });
}

/** The runtimes' binaries, installed from ci/runtimes/package-lock.json if they are not there yet. */
export async function install() {
  if (!existsSync(DENO) || !existsSync(BUN) || !existsSync(join(HERE, 'node_modules/playwright-core/package.json'))) {
    log('installing Deno, Bun and playwright-core from ci/runtimes/package-lock.json');
    // --ignore-scripts: the binaries are in the packages themselves; nothing needs an install script.
    const r = await exec('npm', ['ci', '--prefix', HERE, '--ignore-scripts', '--no-audit', '--no-fund'], { echo: true });
    if (r.code !== 0) throw new Error(`npm ci in ci/runtimes failed (exit ${r.code})`);
  }
  const lock = JSON.parse(readFileSync(join(HERE, 'package-lock.json'), 'utf8')).packages;
  const want = { deno: lock['node_modules/@deno/linux-x64-glibc'].version, bun: lock['node_modules/@oven/bun-linux-x64'].version };
  for (const [name, bin, re] of [['deno', DENO, /deno (\S+)/], ['bun', BUN, /^(\S+)/]]) {
    const r = await exec(bin, ['--version'], { echo: false });
    const v = re.exec(r.out.trim())?.[1];
    if (r.code !== 0 || v !== want[name]) throw new Error(`${name} ${want[name]} is not runnable at ${bin} (got: ${r.out.trim() || `exit ${r.code}`})`);
    log(`${name} ${v}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (Debian's chromium package, listed in .ci/apt-packages)`);
  const c = await exec(CHROMIUM, ['--version'], { echo: false });
  if (c.code !== 0) throw new Error(`${CHROMIUM} --version failed: ${c.out}`);
  log(c.out.trim());
}

/** Serve `dir` on 127.0.0.1; `/` is a page that loads `script` as a module. */
export async function serve(dir, script) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(`<!doctype html><title>tulip</title><script type="module" src="/${script}"></script>`); return; }
    const file = join(dir, path.slice(1));
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** Open `url` in a fresh headless Chromium and wait for `globalThis[key].done`; returns that object. */
export async function inChromium(url, key, timeout = 180_000) {
  const { chromium } = createRequire(join(HERE, 'package.json'))('playwright-core');
  const profile = join(TMP, `chromium-profile-${process.pid}-${Date.now()}`);
  rmSync(profile, { recursive: true, force: true });
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await page.waitForFunction((k) => globalThis[k]?.done === true || globalThis[k]?.error !== undefined, key, { timeout, polling: 100 })
      .catch((e) => { throw new Error(`${e.message}\npage errors: ${errors.join('\n')}`); });
    return await page.evaluate((k) => globalThis[k], key);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}


/** Bundle `entry` (a path under the repository) for a browser into `outfile` with Bun's bundler. */
export async function bundleForBrowser(entry, outfile) {
  const r = await exec(BUN, ['build', entry, '--target=browser', `--outfile=${outfile}`]);
  if (r.code !== 0) throw new Error(`bundling ${entry} failed:\n${r.out}`);
}
