/**
 * ChunkProtocol (PEP 3153): a protocol that cuts the byte stream into
 * chunks at a delimiter and hands each to a callback, the common shape of
 * line-based and record-based protocols. It is a plain Protocol, so it runs
 * on any transport. It buffers only the current, unfinished chunk, and
 * bounds it: a chunk longer than `maxChunkLength` aborts the transport
 * with `LimitOverrunError` (an unbounded buffer is how a peer that never
 * sends the delimiter exhausts a server's memory). Bytes after the last
 * delimiter when the connection ends are not a chunk and are dropped.
 */
import { LimitOverrunError } from '../kernel/errors.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';

const encoder = new TextEncoder();

function indexOfSeq(hay: Uint8Array, sep: Uint8Array, from: number): number {
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
  #pending: Uint8Array | null = null;

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
    let buf = data;
    let from = 0;
    if (this.#pending !== null) {
      const p = this.#pending;
      buf = new Uint8Array(p.length + data.length);
      buf.set(p);
      buf.set(data, p.length);
      from = Math.max(0, p.length - sep.length + 1);
      this.#pending = null;
    }
    let start = 0;
    for (;;) {
      const i = indexOfSeq(buf, sep, Math.max(from, start));
      if (i < 0) break;
      if (i - start > this.maxChunkLength) { this.#overrun(i - start); return; }
      this.#onChunk(buf.subarray(start, i), this);
      start = i + sep.length;
      if (this.transport?.isClosing() === true) return;
    }
    if (start < buf.length) {
      if (buf.length - start > this.maxChunkLength) { this.#overrun(buf.length - start); return; }
      this.#pending = buf.slice(start);
    }
  }

  connectionLost(_exc: Error | undefined): void { this.#pending = null; }

  /** Send `chunk` and the delimiter (one vectored write). */
  writeChunk(chunk: Uint8Array | string): void {
    if (this.transport === null) throw new Error('not connected');
    this.transport.writeLines([chunk, this.delimiter]);
  }

  #overrun(n: number): void {
    this.#pending = null;
    this.transport?.abort(new LimitOverrunError(`chunk longer than maxChunkLength (${n} > ${this.maxChunkLength})`, n));
  }
}
