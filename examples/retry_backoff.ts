/**
 * A client that retries with exponential backoff, and a flaky server to
 * try it on. test/examples/retry_backoff.test.ts runs the same client in
 * virtual time against a flaky server on the virtual network: minutes of
 * backoff in milliseconds, with exact timings.
 *
 * Shows: `timeout()` around each attempt, which errors are worth a retry
 * (refused, reset, timed out, cut short) and which are not, backoff with
 * jitter drawn from an injectable random source (so a test can fix it), and
 * a server written with streams that misbehaves on purpose.
 *
 * Run: npx tsx examples/retry_backoff.ts
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  getRunningLoop, IncompleteReadError, openConnection, run, sleep, startServer, timeout, TimeoutError,
  type Coro, type Server, type StreamReader, type StreamWriter,
} from 'tulip';

export interface RetryOptions {
  /** Attempts in all (the first one included). */
  attempts: number;
  /** The wait after the first failure, in ms; it doubles after each failure... */
  baseDelay: number;
  /** ...up to this. */
  maxDelay: number;
  /** ms one attempt may take. */
  timeout: number;
  /** A number in [0, 1): the jitter. Each wait is between half and all of the backoff. Default Math.random. */
  random?: () => number;
  /** Told about each failed attempt and the wait before the next. */
  onRetry?: (attempt: number, error: unknown, delay: number) => void;
}

/** Is `e` a failure that another attempt might not meet? */
export function retryable(e: unknown): boolean {
  if (e instanceof TimeoutError || e instanceof IncompleteReadError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** Run `attempt` until it succeeds, waiting longer after each failure. */
export function* withRetry<T>(attempt: () => Coro<T>, opts: RetryOptions): Coro<T> {
  const random = opts.random ?? Math.random;
  for (let n = 1; ; n++) {
    try {
      return yield* timeout(opts.timeout, attempt);
    } catch (e) {
      if (n >= opts.attempts || !retryable(e)) throw e;
      const backoff = Math.min(opts.maxDelay, opts.baseDelay * 2 ** (n - 1));
      const delay = backoff / 2 + (backoff / 2) * random();
      opts.onRetry?.(n, e, delay);
      yield* sleep(delay);
    }
  }
}

/** One request: send a line, read the answer line. The connection is closed on every path. */
export function* ask(host: string, port: number, question: string): Coro<string> {
  const [reader, writer] = yield* openConnection(host, port);
  try {
    writer.write(`${question}\n`);
    const line = yield* reader.readLine();
    if (!line.length) throw new IncompleteReadError(line, null);   // closed without an answer
    return new TextDecoder().decode(line).trimEnd();
  } finally {
    writer.close();
  }
}

/** A server that resets the first connection, ignores the second, and answers from the third on. */
export function flakyServer(host: string, port: number): Coro<Server> {
  let connections = 0;
  return startServer(function* (reader: StreamReader, writer: StreamWriter): Coro<void> {
    const n = ++connections;
    if (n === 1) { writer.transport.abort(); return; }        // a reset
    const question = yield* reader.readLine();
    if (n === 2) { yield* sleep(3_600_000); return; }          // never answers
    writer.write(`answer to ${new TextDecoder().decode(question).trim()}\n`);
  }, host, port);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {   // run, not imported
  await run(function* () {
    const server = yield* flakyServer('127.0.0.1', 0);
    const [, port] = server.addresses()[0] as [string, number];
    const start = getRunningLoop().time();
    const answer = yield* withRetry(() => ask('127.0.0.1', port, 'ping'), {
      attempts: 5, baseDelay: 100, maxDelay: 2_000, timeout: 300,
      onRetry: (n, e, delay) => console.log(`attempt ${n} failed (${(e as Error).name}${(e as { code?: string }).code ? ` ${(e as { code?: string }).code}` : ''}); retrying in ${Math.round(delay)} ms`),
    });
    console.log(`got '${answer}' after ${Math.round(getRunningLoop().time() - start)} ms`);
    server.close();
  });
}
