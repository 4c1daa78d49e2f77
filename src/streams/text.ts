/**
 * Text over a StreamReader: `TextStreamReader` decodes what the reader
 * gives, and `lines()` iterates lines as strings. Built on the reader's
 * public read methods only.
 *
 * A multi-byte character may be split across the chunks a connection
 * delivers. Lines never split one (a `'\n'` byte is never part of a
 * multi-byte character in UTF-8 or any ASCII-compatible encoding), and
 * `read()` keeps a streaming decoder, which holds an incomplete character
 * back until its remaining bytes arrive. So the encodings are the
 * ASCII-compatible ones `TextDecoder` knows; UTF-16 is refused.
 */
import { type Coro, type EventLoop, getEventLoop } from '../kernel/index.js';
import { asyncIteratorOf, type CoroIterable, type CoroIterator, coroIterator } from '../toolkit/async_iter.js';
import type { StreamReader } from './reader.js';

/**
 * Options of {@link TextStreamReader} and `lines()`.
 * @example
 * const opts: TextOptions = { encoding: 'latin1', fatal: false };
 */
export interface TextOptions {
  /** A `TextDecoder` label of an ASCII-compatible encoding (default `'utf-8'`). */
  encoding?: string;
  /** Throw a `TypeError` on malformed input instead of decoding it as U+FFFD (default false). */
  fatal?: boolean;
}

const NL = 10, CR = 13;
/** A `TextDecoder` (the global's instance type, whichever library declares it). */
type Decoder = InstanceType<typeof TextDecoder>;

function decoderFor(opts: TextOptions | undefined): Decoder {
  const d = new TextDecoder(opts?.encoding ?? 'utf-8', { fatal: opts?.fatal ?? false });
  if (d.encoding.startsWith('utf-16')) throw new RangeError(`${d.encoding} is not ASCII-compatible: lines cannot be found in its bytes`);
  return d;
}

/**
 * Reads text from a {@link StreamReader}: its methods are the reader's,
 * decoded (no `TextDecoder` by hand), with characters split across chunks
 * put back together.
 * @example
 * import { openConnection, TextStreamReader, type Coro } from 'tulip';
 * function* greeting(port: number): Coro<string> {
 *   const [reader, writer] = yield* openConnection('127.0.0.1', port);
 *   const text = new TextStreamReader(reader);
 *   const line = yield* text.readLine();   // 'héllo\n'
 *   writer.close();
 *   return line;
 * }
 */
export class TextStreamReader implements CoroIterable<string>, AsyncIterable<string> {
  /** The byte reader underneath (reading from it directly skips the decoder's held-back bytes). */
  readonly reader: StreamReader;
  readonly #decoder: Decoder;
  readonly #loop: EventLoop;

  constructor(reader: StreamReader, opts?: TextOptions) {
    this.reader = reader;
    this.#decoder = decoderFor(opts);
    this.#loop = getEventLoop();
  }

  /** The encoding's canonical name (`'utf-8'`). */
  get encoding(): string { return this.#decoder.encoding; }

  /**
   * Text from up to `n` more bytes (`n < 0`: everything until EOF); `''`
   * only at EOF. A character whose bytes are not all there yet is kept for
   * the next call.
   */
  *read(n = -1): Coro<string> {
    for (;;) {
      const bytes = yield* this.reader.read(n);
      if (bytes.length === 0) return this.#decoder.decode();   // EOF: flush what was held back
      const s = this.#decoder.decode(bytes, { stream: n >= 0 });
      if (s !== '' || n < 0) return s;
    }
  }

  /** One line, with its `'\n'`; at EOF, what is left (maybe without `'\n'`, maybe `''`). */
  *readLine(): Coro<string> {
    return this.#decode(yield* this.reader.readLine());
  }

  /** Text up to and including `sep`; throws as the reader's `readUntil()`. */
  *readUntil(sep: string): Coro<string> {
    return this.#decode(yield* this.reader.readUntil(this.#encodeSep(sep)));
  }

  /** The remaining lines without their line endings (`'\n'` or `'\r\n'`). */
  lines(): Lines { return new Lines(this.reader, this); }

  /** For `each()`: the remaining lines, as {@link TextStreamReader.lines}. */
  [coroIterator](): CoroIterator<string> { return this.lines()[coroIterator](); }
  /** `for await` over the lines, in async functions while the loop runs. */
  [Symbol.asyncIterator](): AsyncIterator<string> { return asyncIteratorOf(this.#loop, this[coroIterator](), 'TextStreamReader.lines'); }

  /** @internal decode a line or chunk; one that does not end the way a line does flushes (EOF). */
  _decodeLine(bytes: Uint8Array): string { return this.#decode(bytes); }

  #decode(bytes: Uint8Array): string {
    if (bytes.length === 0) return this.#decoder.decode();
    return this.#decoder.decode(bytes, { stream: bytes[bytes.length - 1] === NL });
  }

  #encodeSep(sep: string): Uint8Array {
    if (this.#decoder.encoding !== 'utf-8' && /[^ -~\t\r\n]/.test(sep)) throw new RangeError('a separator must be ASCII unless the encoding is UTF-8');
    return new TextEncoder().encode(sep);
  }
}

/**
 * The lines of a reader as strings without their line endings: for
 * `each()` in coroutines and `for await` in async functions. Ends at EOF;
 * a line longer than the reader's limit throws `LimitOverrunError` (and is
 * discarded, as `readLine()` does). Leaving a loop early leaves the rest in
 * the reader.
 * @example
 * import { each, type Coro, type StreamReader } from 'tulip';
 * function* printLines(reader: StreamReader): Coro<void> {
 *   for (const line of yield* each(reader.lines())) { console.log(line); yield* each.next(); }
 * }
 */
export class Lines implements CoroIterable<string>, AsyncIterable<string> {
  readonly #reader: StreamReader;
  readonly #text: TextStreamReader;
  readonly #loop: EventLoop;

  /** @internal use `reader.lines()` or `textReader.lines()`. */
  constructor(reader: StreamReader, text: TextStreamReader) {
    this.#reader = reader;
    this.#text = text;
    this.#loop = getEventLoop();
  }

  /** The next line, or `{ done: true }` at EOF. */
  *next(): Coro<IteratorResult<string, undefined>> {
    const bytes = yield* this.#reader.readLine();
    if (bytes.length === 0) return { done: true, value: undefined };
    let end = bytes.length;
    if (bytes[end - 1] === NL) { end--; if (end > 0 && bytes[end - 1] === CR) end--; }
    const s = this.#text._decodeLine(bytes);
    return { done: false, value: s.slice(0, s.length - (bytes.length - end)) };
  }

  /** For `each()`: the lines until EOF. */
  [coroIterator](): CoroIterator<string> { return { next: () => this.next() }; }
  /** `for await` in async functions while the loop runs; each line is read by a task on the reader's loop. */
  [Symbol.asyncIterator](): AsyncIterator<string> { return asyncIteratorOf(this.#loop, this[coroIterator](), 'StreamReader.lines'); }
}
