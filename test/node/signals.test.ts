import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NodeEventLoop } from '../../src/index.js';

const T = { timeout: 20_000 };
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** A node child running a TypeScript fixture, with its output collected line by line. */
class Child {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: Array<() => void> = [];
  constructor(script: string, args: string[] = []) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', fixture(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }
  /** Wait until a line equal to `line` has been printed. */
  async line(line: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.lines.includes(line)) {
      assert.ok(Date.now() < deadline, `no line '${line}' in ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
      await new Promise<void>((r) => { this.#waiters.push(r); setTimeout(r, 50); });
    }
  }
  kill(sig: NodeJS.Signals): void { this.proc.kill(sig); }
}

void test('one SIGINT cancels run()\'s main: its finally runs, run() rejects with CancelledError', T, async () => {
  const c = new Child('sigint_cleanup.ts', ['50']);
  try {
    await c.line('ready');
    c.kill('SIGINT');
    const { code, signal } = await c.exited;
    assert.deepEqual(c.lines, ['ready', 'finally start', 'finally end', 'run rejected: CancelledError']);
    assert.equal(signal, null);
    assert.equal(code, 1);
  } finally { c.kill('SIGKILL'); }
});

void test('a second SIGINT during the cleanup ends the process at once, by SIGINT', T, async () => {
  const c = new Child('sigint_cleanup.ts', ['10000']);
  try {
    await c.line('ready');
    c.kill('SIGINT');
    await c.line('finally start');
    const t0 = Date.now();
    c.kill('SIGINT');
    const { signal } = await c.exited;
    assert.ok(Date.now() - t0 < 2000, 'the process did not end at once');
    assert.equal(signal, 'SIGINT');
    assert.deepEqual(c.lines, ['ready', 'finally start']);
  } finally { c.kill('SIGKILL'); }
});

void test('addSignalHandler: the callback runs on the loop with its args; a user SIGINT handler replaces run()\'s; waiting on a signal is no deadlock', T, async () => {
  const c = new Child('signal_handlers.ts');
  try {
    await c.line('ready');
    // main waits only for signals: an installed handler (not SIGINT's) must keep the deadlock check from firing.
    await new Promise((r) => setTimeout(r, 300));
    c.kill('SIGINT');
    await c.line('SIGINT handled');
    c.kill('SIGUSR1');
    await c.line('SIGUSR1 tag 1 running=true');
    c.kill('SIGUSR1');
    const { code } = await c.exited;
    assert.equal(code, 0, c.stderr);
    assert.deepEqual(c.lines, ['ready', 'SIGINT handled', 'SIGUSR1 tag 1 running=true', 'SIGUSR1 tag 2 running=true', 'removed true false', 'main done']);
  } finally { c.kill('SIGKILL'); }
});

void test('addSignalHandler refuses SIGKILL, SIGSTOP and unknown signals; accepts numbers; close() removes every handler', () => {
  const loop = new NodeEventLoop();
  const before = process.listenerCount('SIGUSR2');
  assert.throws(() => loop.addSignalHandler('SIGKILL', () => {}), TypeError);
  assert.throws(() => loop.addSignalHandler('SIGSTOP', () => {}), TypeError);
  assert.throws(() => loop.addSignalHandler('SIGNOPE', () => {}), TypeError);
  assert.throws(() => loop.addSignalHandler(9999, () => {}), TypeError);
  assert.equal(loop.removeSignalHandler('SIGUSR2'), false);
  loop.addSignalHandler('SIGUSR2', () => {});
  loop.addSignalHandler('SIGUSR2', () => {});   // replaces, not adds
  assert.equal(process.listenerCount('SIGUSR2'), before + 1);
  loop.addSignalHandler(1, () => {});          // SIGHUP by number
  assert.equal(process.listenerCount('SIGHUP') > 0, true);
  loop.close();
  assert.equal(process.listenerCount('SIGUSR2'), before);
  assert.throws(() => loop.addSignalHandler('SIGUSR2', () => {}), /closed/);
});
