/**
 * StreamReader: coroutine reads over bytes a protocol feeds in. It knows
 * nothing of sockets: `feedData`/`feedEof`/`setException` are its input
 * (StreamReaderProtocol calls them), and the transport it may pause is
 * any `ReadTransport`, so the in-memory network reuses it unchanged.
 *
 * The buffer is a list of the chunks as they arrived: a read that wants a
 * whole chunk gets that very chunk (no copy), and only a read that spans
 * chunks concatenates. Reading is paused when more than twice the limit
 * is buffered and resumed once the buffer is back under the limit.
 *
 * Linear however the stream is cut: `readUntil()` searches the chunks in
 * place, from where its last search stopped (a cursor into the list), so
 * each byte is searched once however many reads it took to arrive; only
 * the answer is joined, once. A peer dripping a 64 KiB line one byte at a
 * time costs one pass over it, not one per byte.
 *
 * Over the limit, `readLine()` discards the whole line, including the part
 * that has not arrived yet (asyncio drops only what is buffered, so the
 * line's tail would come back as a line of its own); `readUntil()` leaves
 * the buffer as it is.
 */
import type { BaseEventLoop } from '../kernel/base_loop.js';
import { IncompleteReadError, LimitOverrunError } from '../kernel/errors.js';
import { type EventLoop, getEventLoop } from '../kernel/events.js';
import type { Coro } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { ReadTransport } from '../kernel/transport_types.js';
import { asyncIteratorOf } from '../toolkit/async_iter.js';
import { type Lines, type TextOptions, TextStreamReader } from './text.js';

/**
 * The default limit of a line or chunk a reader buffers: 64 KiB.
 * @example
 * const [r, w] = yield* openConnection('127.0.0.1', 8888, { limit: 4 * DEFAULT_LIMIT });
 */
export const DEFAULT_LIMIT = 64 * 1024;

const NL = 10;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * @internal join `list` (`total` bytes) as the loop's I/O makes bytes: a loop with the kernel's `_concatBytes` hook
 * decides (Node's makes a Buffer, as its sockets do); any other loop gets a plain Uint8Array.
 */
export function concatBytes(loop: EventLoop, list: Uint8Array[], total: number): Uint8Array {
  if (list.length === 1) return list[0]!;
  const join = (loop as Partial<Pick<BaseEventLoop, '_concatBytes'>>)._concatBytes;
  if (typeof join === 'function') return join.call(loop, list, total);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of list) { out.set(c, off); off += c.length; }
  return out;
}

function indexOf(hay: Uint8Array, sep: Uint8Array, from: number): number {
  if (sep.length === 1) return hay.indexOf(sep[0]!, from);
  const first = sep[0]!;
  const last = hay.length - sep.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < sep.length; j++) if (hay[i + j] !== sep[j]) continue outer;
    return i;
  }
  return -1;
}

function* lineOf(r: StreamReader): Coro<IteratorResult<Uint8Array, undefined>> {
  const line = yield* r.readLine();
  return line.length === 0 ? { done: true, value: undefined } : { done: false, value: line };
}

/**
 * Reads bytes from a connection with coroutines.
 * @example
 * const [reader, writer] = yield* openConnection('127.0.0.1', 8888);
 * const line = yield* reader.readLine();         // up to and including '\n'
 * const header = yield* reader.readExactly(4);
 * // in an async function, the rest of the lines: for await (const l of reader) console.log(l);
 */
export class StreamReader {
  readonly #limit: number;
  readonly #loop: EventLoop;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #size = 0;
  #eof = false;
  #exception: unknown = undefined;
  #waiter: Future<void> | null = null;
  #transport: ReadTransport | null = null;
  #paused = false;
  #skipLine = false;
  /** Bumped whenever bytes are taken or the list is rebuilt: a search cursor of an older generation starts over. */
  #gen = 0;
  /** readUntil's search cursor: the chunk index (into #chunks) and that chunk's offset from the first buffered byte. */
  #curGen = -1;
  #curIdx = 0;
  #curBase = 0;

  constructor(opts?: { limit?: number; loop?: EventLoop }) {
    const limit = opts?.limit ?? DEFAULT_LIMIT;
    if (!(limit > 0)) throw new RangeError(`limit must be > 0, not ${limit}`);
    this.#limit = limit;
    this.#loop = opts?.loop ?? getEventLoop();
  }

  /** The limit this reader was made with. */
  get limit(): number { return this.#limit; }
  /** Bytes buffered now. */
  get buffered(): number { return this.#size; }

  /** The error `setException` set, if any. */
  exception(): unknown { return this.#exception; }

  /** @internal the transport to pause when too much is buffered; one set while not reading is resumed by the first wait. */
  setTransport(t: ReadTransport): void {
    if (this.#transport !== t) this.#paused = typeof t.isReading === 'function' && !t.isReading();
    this.#transport = t;
  }

  /** True when EOF was fed and the buffer is empty. */
  atEof(): boolean { return this.#eof && this.#size === 0; }

  /** Add bytes (a protocol's `dataReceived` calls this). */
  feedData(data: Uint8Array): void {
    if (this.#eof) throw new Error('feedData after feedEof');
    if (data.length === 0) return;
    if (this.#skipLine) {
      const i = data.indexOf(NL);
      if (i < 0) return;
      this.#skipLine = false;
      data = data.subarray(i + 1);
      if (data.length === 0) return;
    }
    this.#chunks.push(data);
    this.#size += data.length;
    this.#wake();
    const t = this.#transport;
    if (t !== null && !this.#paused && this.#size > 2 * this.#limit) {
      try { t.pauseReading(); this.#paused = true; } catch { this.#transport = null; }
    }
  }

  /** No more bytes will come. */
  feedEof(): void { this.#eof = true; this.#wake(); }

  /** Make every read (now waiting or later) throw `e`. */
  setException(e: unknown): void {
    this.#exception = e;
    const w = this.#waiter;
    if (w !== null) { this.#waiter = null; if (!w.done()) w.setException(e); }
  }

  /**
   * Up to `n` bytes (`n < 0`: everything until EOF). Returns an empty array
   * at EOF. Waits only if nothing is buffered.
   */
  *read(n = -1): Coro<Uint8Array> {
    this.#check();
    if (n === 0) return EMPTY;
    if (n < 0) {
      while (!this.#eof) yield* this.#wait('read');
      return this.#take(this.#size);
    }
    if (this.#size === 0 && !this.#eof) yield* this.#wait('read');
    return this.#take(Math.min(n, this.#size));
  }

  /**
   * One line, up to and including `\n`; at EOF, what is left (maybe without
   * `\n`, maybe empty). A line longer than the limit throws
   * `LimitOverrunError` and is discarded.
   */
  *readLine(): Coro<Uint8Array> {
    try {
      return yield* this.readUntil('\n');
    } catch (e) {
      if (e instanceof IncompleteReadError) return e.partial;
      if (e instanceof LimitOverrunError) {
        const flat = this.#flatten();
        const i = flat.indexOf(NL);
        if (i >= 0) this.#take(i + 1);
        else { this.#take(this.#size); if (!this.#eof) this.#skipLine = true; }
        this.#maybeResume();
      }
      throw e;
    }
  }

  /**
   * Bytes up to and including `sep` (default `\n`). At EOF without `sep`,
   * throws `IncompleteReadError` with what was buffered. If `sep` is not
   * within the limit, throws `LimitOverrunError` and leaves the buffer.
   */
  *readUntil(sep: Uint8Array | string = '\n'): Coro<Uint8Array> {
    const s = typeof sep === 'string' ? encoder.encode(sep) : sep;
    if (s.length === 0) throw new RangeError('the separator must not be empty');
    this.#check();
    let offset = 0;
    for (;;) {
      if (this.#size - offset >= s.length) {
        const i = this.#find(s, offset);
        if (i >= 0) {
          if (i > this.#limit) throw new LimitOverrunError('Separator is found, but chunk is longer than limit', i);
          return this.#take(i + s.length);
        }
        offset = this.#size + 1 - s.length;
        if (offset > this.#limit) throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
      }
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), null);
      yield* this.#wait('readUntil');
    }
  }

  /** Exactly `n` bytes; at EOF first, throws `IncompleteReadError` with what there was. */
  *readExactly(n: number): Coro<Uint8Array> {
    if (!(n >= 0)) throw new RangeError(`readExactly size must be >= 0, not ${n}`);
    this.#check();
    if (n === 0) return EMPTY;
    while (this.#size < n) {
      if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), n);
      yield* this.#wait('readExactly');
    }
    return this.#take(n);
  }

  /**
   * Lines (as bytes, with their `\n`) until EOF, for `for await` in async
   * functions: each read runs as a task on the reader's loop, and leaving
   * the loop cancels a pending one, so no line is lost (see `lines()` for strings).
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return asyncIteratorOf(this.#loop, { next: () => lineOf(this) }, 'StreamReader line');
  }

  /**
   * The lines until EOF as strings, without their line endings (`'\n'` or
   * `'\r\n'`), decoded as UTF-8 (or `opts.encoding`), for `each()` and
   * `for await`; leaving a loop early leaves the rest in the reader.
   * @example
   * const [reader] = yield* openConnection('127.0.0.1', 8888);
   * for (const line of yield* each(reader.lines())) { console.log(line); yield* each.next(); }
   */
  lines(opts?: TextOptions): Lines { return new TextStreamReader(this, opts).lines(); }

  // ---- internals -------------------------------------------------------------

  #check(): void { if (this.#exception !== undefined) throw this.#exception; }

  *#wait(what: string): Coro<void> {
    if (this.#waiter !== null) throw new Error(`${what}() called while another coroutine is already waiting for incoming data`);
    if (this.#paused) { this.#paused = false; this.#transport?.resumeReading(); }
    const w = new Future<void>({ loop: this.#loop, description: `StreamReader.${what}` });
    this.#waiter = w;
    try {
      yield* w;
    } finally {
      if (this.#waiter === w) this.#waiter = null;
    }
    this.#check();
  }

  #wake(): void {
    const w = this.#waiter;
    if (w !== null) { this.#waiter = null; if (!w.done()) w.setResult(); }
  }

  /**
   * The offset (from the first buffered byte) of the first `sep` at or
   * after `from`, or -1, searching the chunks in place. The cursor keeps
   * the chunk holding `from`, so a search that resumes where the last one
   * stopped skips the chunks already searched.
   */
  #find(sep: Uint8Array, from: number): number {
    const c = this.#chunks;
    if (c.length - this.#head === 1) return indexOf(c[this.#head]!, sep, from);   // one chunk: nothing can straddle
    const k = sep.length;
    // Start over after bytes were taken, or for a search that starts before the cursor (a new readUntil after an overrun).
    if (this.#curGen !== this.#gen || from < this.#curBase) { this.#curGen = this.#gen; this.#curIdx = this.#head; this.#curBase = 0; }
    let idx = this.#curIdx, base = this.#curBase;
    while (idx < c.length && base + c[idx]!.length <= from) { base += c[idx]!.length; idx++; }
    this.#curIdx = idx;
    this.#curBase = base;
    for (; idx < c.length; base += c[idx]!.length, idx++) {
      const chunk = c[idx]!;
      const pos = from > base ? from - base : 0;
      const i = indexOf(chunk, sep, pos);
      // A separator may also start in this chunk's last k-1 bytes and end in the next chunks.
      const end = i >= 0 ? i : chunk.length;
      for (let st = Math.max(pos, chunk.length - k + 1); st < end; st++) if (this.#matchesAt(idx, st, sep)) return base + st;
      if (i >= 0) return base + i;
    }
    return -1;
  }

  /** Does `sep` start at byte `at` of chunk `idx` (running on into the next chunks)? */
  #matchesAt(idx: number, at: number, sep: Uint8Array): boolean {
    const c = this.#chunks;
    let chunk = c[idx]!;
    for (let j = 0; j < sep.length; j++, at++) {
      while (at >= chunk.length) {
        if (++idx >= c.length) return false;
        at -= chunk.length;
        chunk = c[idx]!;
      }
      if (chunk[at] !== sep[j]) return false;
    }
    return true;
  }

  /** Make the buffer one chunk and return it (the rare paths: a line over the limit). */
  #flatten(): Uint8Array {
    const h = this.#head, c = this.#chunks;
    if (c.length - h === 1) return c[h]!;
    const all = concatBytes(this.#loop, c.slice(h), this.#size);
    this.#chunks = [all];
    this.#head = 0;
    this.#gen++;
    return all;
  }

  /** Remove and return the first `n` bytes (`n <= size`). */
  #take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    this.#gen++;
    const c = this.#chunks;
    let out: Uint8Array;
    const first = c[this.#head]!;
    if (first.length === n) { out = first; c[this.#head++] = EMPTY; }
    else if (first.length > n) { out = first.subarray(0, n); c[this.#head] = first.subarray(n); }
    else {
      const parts: Uint8Array[] = [];
      let left = n;
      while (left > 0) {
        const x = c[this.#head]!;
        if (x.length <= left) { parts.push(x); left -= x.length; c[this.#head++] = EMPTY; }
        else { parts.push(x.subarray(0, left)); c[this.#head] = x.subarray(left); left = 0; }
      }
      out = concatBytes(this.#loop, parts, n);
    }
    this.#size -= n;
    if (this.#head === c.length) { this.#chunks = []; this.#head = 0; }
    else if (this.#head > 64 && this.#head * 2 > c.length) { this.#chunks = c.slice(this.#head); this.#head = 0; }   // amortized: linear
    this.#maybeResume();
    return out;
  }

  #maybeResume(): void {
    if (this.#paused && this.#size <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }
}
