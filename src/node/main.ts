/**
 * `main(fn)`: a program's entry point on Node (Effection's `main()`), so a
 * command-line tool needs no `.catch()`: it runs `run(fn)`, prints an error
 * that escapes once, without the frames of tulip's own machinery (the
 * stepping of generators says nothing about the user's bug), and sets the
 * process's exit code the way shells expect: 0, 1 after an error, 130
 * (128 + SIGINT) after Ctrl-C. It touches `process`, so it lives here, on
 * the Node side, not in the kernel.
 */
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import type { Coro } from '../kernel/events.js';
import { _interruptedBySigint, run, type RunOptions } from '../kernel/run.js';

const ownDir = fileURLToPath(new URL('..', import.meta.url));
const ownUrl = new URL('..', import.meta.url).href;
const DRIVING = /^\s+at (\S+\.)?(next|throw|return) \(<anonymous>\)$/;   // a generator resumed by the task: the machinery

/** `e` as Node prints it (stack, cause, properties), without the stack frames of tulip's own files. */
function formatError(e: unknown): string {
  const lines = inspect(e, { depth: 4 }).split('\n');
  return lines.filter((l) => !(/^\s+at /.test(l) && (l.includes(ownDir) || l.includes(ownUrl) || DRIVING.test(l)))).join('\n');
}

/**
 * Run `fn` with {@link run} as the program's main coroutine and settle the
 * process's exit code: 0 when it returns (unless it set one itself), 130
 * when the first Ctrl-C (SIGINT) cancelled it (its cleanup has run), and 1
 * when it failed, after printing the error once to stderr without tulip's
 * internal stack frames. The returned Promise never rejects.
 * @example
 * import { main, sleep } from 'tulip';
 * await main(function* () {
 *   console.log('working; Ctrl-C to stop');
 *   yield* sleep(60_000);
 * });
 */
export async function main<T>(fn: Coro<T> | (() => Coro<T>), opts?: RunOptions): Promise<void> {
  try {
    await run(fn, opts);
    process.exitCode ??= 0;
  } catch (e) {
    if (_interruptedBySigint(e)) { process.exitCode = 130; return; }
    process.stderr.write(`${formatError(e)}\n`);
    process.exitCode = 1;
  }
}
