/** Helpers for the tests that run the programs in examples/ as a user would (tsx, real sockets, real signals). */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running example: its output so far, and a way to wait for a line of it. */
export interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>;
  out: () => string;
  err: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

/** Start `examples/<file>` with tsx, as the README says to. */
export function runExample(file: string, args: string[] = [], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const waitFor = (re: RegExp, ms = 30_000): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = re.exec(out);
      if (m === null) return false;
      cleanup();
      resolve(m);
      return true;
    };
    const onExit = (): void => { cleanup(); reject(new Error(`the example exited before printing ${re}:\n${out}\n${err}`)); };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${re} within ${ms} ms:\n${out}\n${err}`)); }, ms);
    const cleanup = (): void => { clearTimeout(timer); child.stdout.off('data', check); child.off('exit', onExit); };
    if (check()) return;
    child.stdout.on('data', check);
    child.once('exit', onExit);
  });
  return { child, out: () => out, err: () => err, waitFor, exited };
}

/** A plain Node TCP client that collects what it receives, to wait for a line or for the end. */
export interface LineClient {
  socket: Socket;
  text: () => string;
  waitFor: (s: string, ms?: number) => Promise<void>;
  ended: Promise<void>;
}

export async function lineClient(port: number): Promise<LineClient> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  socket.setEncoding('utf8');
  const waiters = new Set<() => void>();
  socket.on('data', (d: string) => { text += d; for (const w of [...waiters]) w(); });
  const ended = new Promise<void>((resolve) => { socket.once('end', resolve); socket.once('close', resolve); });
  socket.on('error', () => { /* the tests look at what arrived */ });
  const waitFor = (s: string, ms = 20_000): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => { if (text.includes(s)) { waiters.delete(check); clearTimeout(timer); resolve(); } };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no '${s}' within ${ms} ms; got:\n${text}`)); }, ms);
    waiters.add(check);
    check();
  });
  return { socket, text: () => text, waitFor, ended };
}

/** Kill what is left of a child, for a `finally`. */
export function reap(r: Running): void {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
}
