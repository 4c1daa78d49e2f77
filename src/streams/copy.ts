/**
 * `copy(reader, writer)`: move bytes from a StreamReader to a StreamWriter
 * with back-pressure at both ends, and end the writer at EOF.
 *
 * It is safe to halt anywhere. It suspends in two places: in `read()`,
 * which takes nothing from the reader until it returns, and in `drain()`,
 * after the chunk went to the writer's transport. So a halted copy has
 * lost nothing and leaves both streams open, and a new `copy()` carries
 * on where it stopped.
 */
import type { Coro } from '../kernel/index.js';
import type { StreamReader } from './reader.js';
import type { StreamWriter } from './writer.js';

/**
 * Options of {@link copy}.
 * @example
 * const opts: CopyOptions = { end: false, chunkSize: 1 << 20 };
 */
export interface CopyOptions {
  /** End the writer at EOF (default true): `writeEof()` where it can (a socket's half-close), else `close()`. */
  end?: boolean;
  /** Read at most this many bytes at a time (default 64 KiB). */
  chunkSize?: number;
}

/**
 * Copy everything `reader` gives until EOF into `writer`, waiting for the
 * writer's transport to drain whenever it is over its high-water mark;
 * returns the number of bytes copied. At EOF the writer is ended unless
 * `end: false`. Halted, it loses nothing: a new `copy()` carries on.
 * @example
 * import { copy, openConnection, type Coro } from 'tulip';
 * function* proxy(fromPort: number, toPort: number): Coro<number> {
 *   const [r] = yield* openConnection('127.0.0.1', fromPort);
 *   const [, w] = yield* openConnection('127.0.0.1', toPort);
 *   return yield* copy(r, w);
 * }
 */
export function* copy(reader: StreamReader, writer: StreamWriter, opts?: CopyOptions): Coro<number> {
  const n = opts?.chunkSize ?? 64 * 1024;
  if (!(n > 0)) throw new RangeError(`chunkSize must be > 0, not ${n}`);
  let total = 0;
  for (;;) {
    const chunk = yield* reader.read(n);
    if (chunk.length === 0) break;
    writer.write(chunk);
    total += chunk.length;
    yield* writer.drain();
  }
  if (opts?.end !== false) {
    if (writer.canWriteEof()) writer.writeEof();
    else writer.close();
  }
  return total;
}
