/** Helpers shared by the network and stream tests (kept apart from helpers.ts to ease merging). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTask, fromPromise, run, type Coro, type ExceptionContext, NodeEventLoop, type Server, type SockAddr } from '../src/index.js';

/** Run `body` on a fresh Node loop (no SIGINT handler); exceptions reported to the loop go into `errors`. */
export function go<T>(body: () => Coro<T>, errors?: ExceptionContext[]): Promise<T> {
  const loop = new NodeEventLoop();
  if (errors !== undefined) loop.setExceptionHandler((_l, ctx) => { errors.push(ctx); });
  return run(body, { loop, handleSignals: false });
}

/** `yield* rejects(coro, matcher)`: the coroutine (or promise) must throw; the matcher is an Error class, a RegExp or a predicate. */
export function* rejects(c: Coro<unknown> | PromiseLike<unknown>, m: unknown): Coro<unknown> {
  try {
    if (typeof (c as PromiseLike<unknown>).then === 'function') yield* fromPromise(c as PromiseLike<unknown>);
    else yield* c as Coro<unknown>;
  } catch (e) {
    if (typeof m === 'function' && (m === Error || m.prototype instanceof Error)) assert.ok(e instanceof (m as new () => Error), `expected ${m.name}, got ${String(e)}`);
    else if (m instanceof RegExp) assert.match(String((e as Error).message), m);
    else if (typeof m === 'function') assert.ok((m as (e: unknown) => boolean)(e), `unexpected error ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

/** Wait for a Promise from inside a coroutine. */
export function* waitPromise<T>(p: PromiseLike<T>): Coro<T> { return yield* createTask(p); }

/** The port of a server's first address. */
export function portOf(server: Server): number { return (server.addresses()[0] as SockAddr)[1]; }

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const str = (u: Uint8Array): string => dec.decode(u);

/** A fresh temporary directory. */
export function tempDir(): string { return mkdtempSync(join(tmpdir(), 'tulip-')); }

/** Is `cmd` on the PATH? */
export function which(cmd: string): boolean {
  try { execFileSync('which', [cmd], { stdio: 'ignore' }); return true; } catch { return false; }
}

let certCache: { key: string; cert: string } | null = null;
/** A self-signed certificate for localhost and 127.0.0.1, made with `openssl` (or the shipped fixture if it is absent). */
export function testCert(): { key: string; cert: string } {
  if (certCache !== null) return certCache;
  const fixture = join(import.meta.dirname, 'fixtures', 'tls');
  if (which('openssl') && process.env.TULIP_TEST_FIXTURE_CERT === undefined) {
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    certCache = { key: readText(join(dir, 'key.pem')), cert: readText(join(dir, 'cert.pem')) };
  } else {
    assert.ok(existsSync(join(fixture, 'cert.pem')), 'no openssl and no fixture certificate');
    certCache = { key: readText(join(fixture, 'key.pem')), cert: readText(join(fixture, 'cert.pem')) };
  }
  return certCache;
}

function readText(p: string): string { return readFileSync(p, 'utf8'); }
