/**
 * ChunkProtocol (PEP 3153): a protocol that cuts the byte stream into
 * chunks at a delimiter and hands each to a callback, the common shape of
 * line-based and record-based protocols. It is a plain Protocol, so it runs
 * on any transport. It buffers only the current, unfinished chunk, and
 * bounds it: a chunk longer than `maxChunkLength` aborts the transport
 * with `LimitOverrunError` (an unbounded buffer is how a peer that never
 * sends the delimiter exhausts a server's memory). Bytes after the last
 * delimiter when the connection ends are not a chunk and are dropped.
 *
 * Linear however the stream is cut: the unfinished chunk is kept as the
 * list of the pieces that arrived, each new read is searched alone (plus
 * the few bytes around its start where a delimiter may straddle two
 * reads), and a chunk's pieces are joined once, when it is complete. A
 * peer dripping a long chunk one byte at a time costs one pass over it.
 * The first bytes of a delimiter split across reads are not chunk bytes:
 * a chunk of exactly `maxChunkLength` passes however it is cut.
 */
import { LimitOverrunError } from '../kernel/errors.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const copyOf = Uint8Array.prototype.slice;

/** @internal */
export function indexOfSeq(hay: Uint8Array, sep: Uint8Array, from: number): number {
  if (sep.length === 1) return hay.indexOf(sep[0]!, from);
  const last = hay.length - sep.length;
  outer: for (let i = hay.indexOf(sep[0]!, from); i !== -1 && i <= last; i = hay.indexOf(sep[0]!, i + 1)) {
    for (let j = 1; j < sep.length; j++) if (hay[i + j] !== sep[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Splits incoming bytes at `delimiter` and calls `onChunk(chunk, protocol)`
 * for each chunk (without the delimiter). `writeChunk` sends a chunk
 * followed by the delimiter. Subclass it to react to the connection's
 * other events (call `super`).
 * @example
 * const server = yield* getRunningLoop().createServer(
 *   () => new ChunkProtocol('\r\n', (line, p) => p.writeChunk(line)),   // a line echo server
 *   '127.0.0.1', 7000);
 */
export class ChunkProtocol implements Protocol {
  /** The bytes that end each chunk. */
  readonly delimiter: Uint8Array;
  /** The longest chunk accepted (bytes, without the delimiter). */
  readonly maxChunkLength: number;
  /** The transport, once connected. */
  transport: Transport | null = null;
  readonly #onChunk: (chunk: Uint8Array, p: ChunkProtocol) => void;
  /** The pieces of the unfinished chunk (never holding a whole delimiter), and their total length. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;

  constructor(delimiter: Uint8Array | string, onChunk: (chunk: Uint8Array, p: ChunkProtocol) => void, opts?: { maxChunkLength?: number }) {
    this.delimiter = typeof delimiter === 'string' ? encoder.encode(delimiter) : delimiter;
    if (this.delimiter.length === 0) throw new RangeError('the delimiter must not be empty');
    this.maxChunkLength = opts?.maxChunkLength ?? 64 * 1024;
    if (!(this.maxChunkLength > 0)) throw new RangeError(`maxChunkLength must be > 0, not ${this.maxChunkLength}`);
    this.#onChunk = onChunk;
  }

  connectionMade(t: Transport): void { this.transport = t; }

  dataReceived(data: Uint8Array): void {
    const sep = this.delimiter;
    const max = this.maxChunkLength;
    let start = 0;   // where the current chunk's bytes in `data` begin
    if (this.#pendingLength > 0) {
      // The first delimiter ends in `data`: it either straddles the boundary or lies wholly in `data`.
      let chunkLength: number, end: number;
      const j = sep.length > 1 ? this.#straddle(data) : -1;
      if (j >= 0) { chunkLength = this.#pendingLength - j; end = sep.length - j; }
      else {
        const i = indexOfSeq(data, sep, 0);
        if (i < 0) { this.#keep(data, 0); return; }
        chunkLength = this.#pendingLength + i; end = i + sep.length;
      }
      if (chunkLength > max) { this.#overrun(chunkLength); return; }
      const parts = this.#pending;
      const tail = data.subarray(0, Math.max(0, end - sep.length));
      this.#pending = [];
      this.#pendingLength = 0;
      this.#onChunk(joinPrefix(parts, tail, chunkLength), this);
      start = end;
      if (this.transport?.isClosing() === true) return;
    }
    for (;;) {
      const i = indexOfSeq(data, sep, start);
      if (i < 0) break;
      if (i - start > max) { this.#overrun(i - start); return; }
      this.#onChunk(data.subarray(start, i), this);
      start = i + sep.length;
      if (this.transport?.isClosing() === true) return;
    }
    this.#keep(data, start);
  }

  connectionLost(_exc: Error | undefined): void { this.#pending = []; this.#pendingLength = 0; }

  /** Send `chunk` and the delimiter (one vectored write). */
  writeChunk(chunk: Uint8Array | string): void {
    if (this.transport === null) throw new Error('not connected');
    this.transport.writeLines([chunk, this.delimiter]);
  }

  /**
   * A delimiter that starts in the pending bytes and ends in `data`: how
   * many of its bytes are pending (so the chunk is the pending bytes less
   * those), or -1.
   */
  #straddle(data: Uint8Array): number {
    const sep = this.delimiter;
    const k = sep.length;
    // Try the longest pending prefix of the delimiter first: it starts earliest.
    for (let p = Math.min(k - 1, this.#pendingLength); p >= 1; p--) {
      if (k - p > data.length) continue;
      if (!this.#pendingEndsWith(sep, p)) continue;
      let ok = true;
      for (let x = 0; x < k - p; x++) if (data[x] !== sep[p + x]) { ok = false; break; }
      if (ok) return p;
    }
    return -1;
  }

  /** Do the last `p` pending bytes equal `sep[0..p)`? (Walks back over the pieces: O(p).) */
  #pendingEndsWith(sep: Uint8Array, p: number): boolean {
    const parts = this.#pending;
    let want = p - 1;   // index in sep of the byte to compare, from the end
    for (let c = parts.length - 1; c >= 0 && want >= 0; c--) {
      const part = parts[c]!;
      for (let x = part.length - 1; x >= 0 && want >= 0; x--, want--) if (part[x] !== sep[want]) return false;
    }
    return want < 0;
  }

  /** Keep `data[from..]` as part of the unfinished chunk, bounded. */
  #keep(data: Uint8Array, from: number): void {
    const n = data.length - from;
    if (n === 0) return;
    this.#pendingLength += n;
    // Up to (delimiter length - 1) bytes beyond the limit may be the start of a delimiter, not chunk bytes.
    if (this.#pendingLength > this.maxChunkLength + this.delimiter.length - 1) { this.#overrun(this.#pendingLength); return; }
    // A copy (Buffer's own slice() would be a view): a view would keep the transport's whole read buffer alive.
    this.#pending.push(copyOf.call(data, from));
  }

  #overrun(n: number): void {
    this.#pending = [];
    this.#pendingLength = 0;
    this.transport?.abort(new LimitOverrunError(`chunk longer than maxChunkLength (${n} > ${this.maxChunkLength})`, n));
  }
}

/** The first `n` bytes of `parts` followed by `tail`, joined once. */
function joinPrefix(parts: Uint8Array[], tail: Uint8Array, n: number): Uint8Array {
  if (n === 0) return EMPTY;
  const out = new Uint8Array(n);
  let off = 0;
  for (const part of parts) {
    if (off >= n) break;
    const take = Math.min(part.length, n - off);
    out.set(take === part.length ? part : part.subarray(0, take), off);
    off += take;
  }
  if (off < n) out.set(tail.subarray(0, n - off), off);
  return out;
}
