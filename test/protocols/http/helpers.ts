/** Helpers of the HTTP tests: raw socket exchanges, and a server running beside the test. */
import * as net from 'node:net';
import { execFile } from 'node:child_process';
import { fromPromise, type Coro } from '../../../src/index.js';

/**
 * Send `data` on a fresh TCP connection and collect every byte the server
 * sends until it closes the connection (or `ms` passes: then `timedOut`).
 * `halfClose` sends EOF after the data.
 */
export function raw(port: number, data: string | Uint8Array | Array<string | Uint8Array>, opts: { ms?: number; halfClose?: boolean; gap?: number } = {}): Promise<{ text: string; closed: boolean; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean, timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, timedOut });
    };
    const timer = setTimeout(() => finish(false, true), opts.ms ?? 5000);
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => finish(true, false));
    s.on('close', () => finish(true, false));
    s.on('error', (e) => { if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') finish(true, false); else if (!done) { done = true; clearTimeout(timer); reject(e); } });
    s.on('connect', () => {
      const parts = Array.isArray(data) ? data : [data];
      if (opts.gap === undefined) {
        for (const p of parts) s.write(p);
        if (opts.halfClose === true) s.end();
        return;
      }
      let i = 0;
      const next = (): void => {
        if (done || i >= parts.length) { if (opts.halfClose === true && !done) s.end(); return; }
        s.write(parts[i++]!);
        setTimeout(next, opts.gap);
      };
      next();
    });
  });
}

/** `raw()` from a coroutine. */
export function* rawIn(port: number, data: string | Uint8Array | Array<string | Uint8Array>, opts?: { ms?: number; halfClose?: boolean; gap?: number }): Coro<{ text: string; closed: boolean; timedOut: boolean }> {
  return yield* fromPromise(raw(port, data, opts));
}

/** The status codes of the responses in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

/** Run a program; its stdout, stderr and exit code (never rejects). */
export function runProgram(cmd: string, args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** `runProgram()` from a coroutine. */
export function* runIn(cmd: string, args: string[], opts?: { input?: string | Buffer; timeout?: number }): Coro<{ stdout: string; stderr: string; code: number | null }> {
  return yield* fromPromise(runProgram(cmd, args, opts));
}
