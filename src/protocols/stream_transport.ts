/**
 * StreamTransportBase: everything a stream transport must get right that
 * does not depend on what carries the bytes. A backend (a Node socket, the
 * in-memory network) supplies a few hooks (send, buffered size, shutdown,
 * close, destroy, start/stop reading) and reports its events; this class
 * keeps the promises tulip makes to protocols (docs/design.md):
 *
 * - the call order `connectionMade` → `dataReceived`* → `eofReceived`? →
 *   `connectionLost` (exactly once), whatever the path (close, abort, peer
 *   EOF, reset, a protocol method that throws);
 * - every protocol call runs with its loop as the running loop and in the
 *   context captured when the connection or server was made; what it sets
 *   there persists into its next call;
 * - an exception from a protocol method goes to the exception handler and
 *   aborts the transport with it;
 * - write-buffer flow control: `pauseWriting()` (and a registered
 *   producer's `pauseProducing()`) synchronously inside the `write()` that
 *   crosses the high-water mark, the resume once the buffer drops to the
 *   low-water mark.
 *
 * Resuming needs to know when the backend's buffer shrinks. Rather than
 * paying for a notification on every write, a write asks for one only when
 * it might cross the high-water mark or the transport is already paused,
 * so the uncongested path costs nothing extra.
 */
import { type Context, currentContext, swapContext } from '../kernel/context.js';
import { _enterLoop, _leaveLoop, type EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { BufferedProtocol, ExtraInfo, Protocol, PushProducer, Transport } from '../kernel/transport_types.js';

const NEW = 0, OPEN = 1, LOST = 2;

/**
 * The default high-water mark of a transport's write buffer (asyncio's): 64 KiB; the low-water mark defaults to a quarter of it.
 * @example
 * const [, writer] = yield* openConnection('127.0.0.1', 8888);
 * writer.transport.setWriteBufferLimits(4 * DEFAULT_HIGH_WATER);   // 256 KiB, low-water 64 KiB
 */
export const DEFAULT_HIGH_WATER = 64 * 1024;

type Bytes = Uint8Array | string;

/** An upper bound of a chunk's byte length (a UTF-16 code unit is at most 3 UTF-8 bytes). */
function maxBytes(d: Bytes): number { return typeof d === 'string' ? d.length * 3 : d.byteLength; }

/**
 * The part of a stream transport that every backend shares: the protocol
 * call order, running protocol methods on their loop and context, and
 * write-buffer flow control with producers. Subclass it and implement the
 * `_send`…`_setReading` hooks; report events with `_connectionMade()`,
 * `_dataReceived()`, `_eofReceived()`, `_connectionLost()` and `_flushed()`.
 * @example
 * // One end of an in-memory connection: what it sends, its peer's protocol receives on the next turn.
 * class MemoryTransport extends StreamTransportBase {
 *   peer: MemoryTransport | null = null;
 *   protected _send(d: Uint8Array | string, notify: boolean): void {
 *     const bytes = typeof d === 'string' ? new TextEncoder().encode(d) : d;
 *     getRunningLoop().callSoon(() => this.peer?._dataReceived(bytes));
 *     if (notify) this._flushed();
 *   }
 *   protected _sendMany(list: (Uint8Array | string)[], notify: boolean): void { for (const d of list) this._send(d, false); if (notify) this._flushed(); }
 *   protected _bufferSize(): number { return 0; }
 *   protected _shutdown(): void { getRunningLoop().callSoon(() => this.peer?._eofReceived()); }
 *   protected _closeGracefully(): void { this._destroy(); }
 *   protected _destroy(): void { const p = this.peer; this.peer = null; this._connectionLost(); p?._destroy(); }
 *   protected _setReading(_on: boolean): void {}   // this sketch always delivers
 * }
 * const loop = getRunningLoop();
 * const a = new MemoryTransport(loop, { dataReceived: (d) => console.log('a got', d.length) });
 * const b = new MemoryTransport(loop, { dataReceived: (d) => console.log('b got', d.length) });
 * a.peer = b; b.peer = a;
 * a._connectionMade(); b._connectionMade();
 * a.write('hello');   // b got 5
 */
export abstract class StreamTransportBase implements Transport {
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ _protocol: Protocol;
  #buffered: BufferedProtocol | null;
  #ctx: Context;
  #state = NEW;
  #aborted = false;
  #closing = false;
  #eofSeen = false;
  #eofWritten = false;
  #abortExc: Error | undefined = undefined;
  #high = DEFAULT_HIGH_WATER;
  #low = DEFAULT_HIGH_WATER / 4;
  #writePaused = false;
  #producer: PushProducer | null = null;
  #reading = true;
  #writableWaiters: Future<void>[] | null = null;
  /** Fixed extra info (`getExtraInfo`), set by a backend with `_setExtra` (made on first use: most compute theirs). */
  #extra: Record<string, unknown> | null = null;

  /** `context`: the context protocol methods run in (default: the current one). */
  constructor(loop: EventLoop, protocol: Protocol, opts?: { context?: Context }) {
    this._loop = loop;
    this._protocol = protocol;
    this.#buffered = isBuffered(protocol) ? protocol : null;
    this.#ctx = opts?.context ?? currentContext();
  }

  // ---- backend hooks -----------------------------------------------------------

  /** Send one chunk; if `notify`, call `_flushed()` once the backend has handed it on. */
  protected abstract _send(data: Bytes, notify: boolean): void;
  /** Send several chunks at once (a vectored write). */
  protected abstract _sendMany(list: Bytes[], notify: boolean): void;
  /** Bytes accepted by `_send` and not yet handed on (to the OS, the peer). */
  protected abstract _bufferSize(): number;
  /** Half-close: no more writes; the peer reads EOF once the buffer is flushed. */
  protected abstract _shutdown(): void;
  /** Flush the buffer, then close both directions; report `_connectionLost()` when done. */
  protected abstract _closeGracefully(): void;
  /** Drop the buffer and close now; report `_connectionLost()` when done. */
  protected abstract _destroy(): void;
  /** Start or stop delivering incoming data. */
  protected abstract _setReading(on: boolean): void;
  /** Extra info computed on demand (`getExtraInfo` looks in what `_setExtra` set first). */
  protected _extraInfo(_name: string): unknown { return undefined; }
  /** Add fixed extra info. */
  protected _setExtra(info: Record<string, unknown>): void { Object.assign(this.#extra ??= {}, info); }

  // ---- the Transport interface -------------------------------------------------

  /** Extra information by a name of `ExtraInfo` (`'peername'`, `'socket'`...), typed; `fallback` if there is none. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, fallback?: ExtraInfo[K]): ExtraInfo[K] | undefined;
  /** Extra information by any other name (`unknown`); `fallback` if there is none. */
  getExtraInfo(name: string, fallback?: unknown): unknown;
  getExtraInfo(name: string, fallback?: unknown): unknown {
    const ex = this.#extra;
    const v = ex !== null && name in ex ? ex[name] : this._extraInfo(name);
    return v === undefined ? fallback : v;
  }
  isClosing(): boolean { return this.#closing || this.#state === LOST; }
  setProtocol(p: unknown): void { this._protocol = p as Protocol; this.#buffered = isBuffered(p) ? p : null; }
  getProtocol(): unknown { return this._protocol; }
  canWriteEof(): boolean { return true; }

  isReading(): boolean { return this.#reading && !this.isClosing(); }
  pauseReading(): void {
    if (this.isClosing() || !this.#reading) return;
    this.#reading = false;
    this._setReading(false);
  }
  resumeReading(): void {
    if (this.isClosing() || this.#reading) return;
    this.#reading = true;
    this._setReading(true);
  }

  write(data: Bytes): void {
    if (this.#eofWritten) throw new Error('cannot call write() after writeEof()');
    if (this.#closing || this.#state === LOST) return;
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or a string, not ${typeof data}`);
    if (data.length === 0) return;
    this._send(data, this.#writePaused || this._bufferSize() + maxBytes(data) > this.#high);
    if (!this.#writePaused && this._bufferSize() > this.#high) this.#pauseWriting();
  }

  writeLines(list: Iterable<Bytes>): void {
    if (this.#eofWritten) throw new Error('cannot call writeLines() after writeEof()');
    if (this.#closing || this.#state === LOST) return;
    const chunks: Bytes[] = [];
    let n = 0;
    for (const d of list) {
      if (typeof d !== 'string' && !(d instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or a string, not ${typeof d}`);
      if (d.length > 0) { chunks.push(d); n += maxBytes(d); }
    }
    if (chunks.length === 0) return;
    const notify = this.#writePaused || this._bufferSize() + n > this.#high;
    if (chunks.length === 1) this._send(chunks[0]!, notify);
    else this._sendMany(chunks, notify);
    if (!this.#writePaused && this._bufferSize() > this.#high) this.#pauseWriting();
  }

  writeEof(): void {
    if (this.#closing || this.#eofWritten || this.#state === LOST) return;
    if (!this.canWriteEof()) throw new Error('this transport cannot write EOF');
    this.#eofWritten = true;
    this._shutdown();
  }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  close(): void {
    if (this.#closing || this.#state === LOST) return;
    this.#closing = true;
    if (this.#reading) this._setReading(false);
    this._closeGracefully();
  }

  abort(exc?: Error): void {
    if (this.#state === LOST) return;
    if (this.#abortExc === undefined) this.#abortExc = exc;
    this.#closing = true;
    this.#aborted = true;
    this._destroy();
  }

  /** Bytes not yet accepted by the OS; 0 once aborted (the buffer is dropped) or lost. */
  getWriteBufferSize(): number { return this.#state === LOST || this.#aborted ? 0 : this._bufferSize(); }
  getWriteBufferLimits(): [low: number, high: number] { return [this.#low, this.#high]; }

  setWriteBufferLimits(high?: number, low?: number): void {
    if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
    if (low === undefined) low = Math.floor(high / 4);
    if (!(high >= low && low >= 0)) throw new RangeError(`high (${high}) must be >= low (${low}) must be >= 0`);
    this.#high = high;
    this.#low = low;
    this._checkWriteBuffer();
  }

  registerProducer(p: PushProducer): void {
    if (this.#producer !== null) throw new Error('a producer is already registered');
    if (this.#state === LOST) { this.#callProducer(p, 'stopProducing'); return; }
    this.#producer = p;
    if (this.#writePaused) this.#callProducer(p, 'pauseProducing');
  }
  unregisterProducer(): void { this.#producer = null; }

  /**
   * @internal hand the registered producer over to the transport that
   * replaces this one (startTls) instead of stopping it; `paused` says
   * whether this transport had paused it.
   */
  _takeProducer(): { producer: PushProducer; paused: boolean } | null {
    const p = this.#producer;
    this.#producer = null;
    return p === null ? null : { producer: p, paused: this.#writePaused };
  }

  // ---- events from the backend ---------------------------------------------------

  /** The connection is up: call `connectionMade` (unless `quiet`: the protocol carries on from another transport, as after startTls). */
  _connectionMade(quiet = false): void {
    if (this.#state !== NEW) return;
    this.#state = OPEN;
    if (!quiet) this.#call('connectionMade', this);
  }

  /** @internal the context protocol methods run in. */
  _context(): Context { return this.#ctx; }

  /** Bytes arrived. */
  _dataReceived(data: Uint8Array): void {
    if (this.#state !== OPEN || this.#closing || this.#eofSeen) return;
    if (this.#buffered !== null) { this.#fillBuffered(data); return; }
    const p = this._protocol;
    if (typeof p.dataReceived !== 'function') return;
    const prevLoop = _enterLoop(this._loop);
    const prevCtx = swapContext(this.#ctx);
    try {
      p.dataReceived(data);
    } catch (e) {
      this.#failed('dataReceived', e);
    } finally {
      this.#ctx = swapContext(prevCtx);
      _leaveLoop(prevLoop);
    }
  }

  /** A BufferedProtocol's buffer for the next read (backends that read in place). */
  _getBuffer(sizeHint: number): Uint8Array | null {
    const b = this.#buffered;
    if (b === null || this.#state !== OPEN || this.#closing) return null;
    const buf = this.#call('getBuffer', sizeHint) as Uint8Array | undefined;
    if (buf === undefined || this.isClosing()) return null;
    if (!(buf instanceof Uint8Array) || buf.length === 0) { this.#failed('getBuffer', new TypeError('getBuffer() must return a non-empty Uint8Array')); return null; }
    return buf;
  }
  /** `n` bytes were read into the buffer `_getBuffer()` returned. */
  _bufferUpdated(n: number): void {
    if (this.#state !== OPEN || this.#closing || n <= 0) return;
    this.#call('bufferUpdated', n);
  }

  /** The peer will send no more: `eofReceived`; unless it returns true (and EOF can be written), close. */
  _eofReceived(): void {
    if (this.#state !== OPEN || this.#closing || this.#eofSeen) return;
    this.#eofSeen = true;
    const keepOpen = this.#call('eofReceived');
    if (this.isClosing()) return;
    if (keepOpen !== true || !this.canWriteEof()) this.close();
  }

  /** The connection is gone: `connectionLost(exc)` once (`abort(e)`'s `e` wins over `exc`). */
  _connectionLost(exc?: Error): void {
    if (this.#state === LOST) return;
    const wasOpen = this.#state === OPEN;
    this.#state = LOST;
    this.#closing = true;
    const e = this.#abortExc ?? exc;
    const prod = this.#producer;
    this.#producer = null;
    if (prod !== null) this.#callProducer(prod, 'stopProducing');
    this.#wakeWritable(e);
    if (wasOpen) this.#call('connectionLost', e);
    this._onLost();
  }

  /** Called once after `connectionLost` (a backend unregisters itself here). */
  protected _onLost(): void { /* for subclasses */ }

  /** A chunk sent with `notify` was handed on: resume writing if the buffer is low enough. */
  _flushed(): void { this._checkWriteBuffer(); }

  /** @internal re-check the write buffer against the marks. */
  _checkWriteBuffer(): void {
    if (this.#state !== OPEN) return;
    const size = this._bufferSize();
    if (!this.#writePaused) { if (size > this.#high) this.#pauseWriting(); return; }
    if (size <= this.#low) {
      this.#writePaused = false;
      this.#call('resumeWriting');
      const prod = this.#producer;
      if (prod !== null && !this.#writePaused) this.#callProducer(prod, 'resumeProducing');
      this.#wakeWritable(undefined);
    }
  }

  /**
   * @internal a future that completes when writing is not paused (at once if
   * it is not), or fails with the connection's error once it is lost.
   */
  _whenWritable(): Future<void> {
    const f = new Future<void>({ loop: this._loop, description: 'transport writable' });
    if (this.#state === LOST) f.setException(this.#abortExc ?? connectionLostError());
    else if (!this.#writePaused) f.setResult();
    else (this.#writableWaiters ??= []).push(f);
    return f;
  }

  /** True once `connectionLost` has been delivered (or the transport was dropped before it was made). */
  protected get _lost(): boolean { return this.#state === LOST; }
  /** True after `connectionMade`. */
  protected get _made(): boolean { return this.#state !== NEW; }

  // ---- internals ---------------------------------------------------------------

  #pauseWriting(): void {
    this.#writePaused = true;
    this.#call('pauseWriting');
    const prod = this.#producer;
    if (prod !== null && this.#writePaused) this.#callProducer(prod, 'pauseProducing');
  }

  #wakeWritable(e: Error | undefined): void {
    const ws = this.#writableWaiters;
    if (ws === null) return;
    this.#writableWaiters = null;
    for (const f of ws) {
      if (f.done()) continue;
      if (this.#state === LOST) { f.setException(e ?? connectionLostError()); void f.exception(); } else f.setResult();
    }
  }

  #fillBuffered(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const buf = this._getBuffer(data.length - off);
      if (buf === null) return;
      const n = Math.min(buf.length, data.length - off);
      buf.set(data.subarray(off, off + n));
      off += n;
      this._bufferUpdated(n);
    }
  }

  /** Call a protocol method (if it has it) on the loop, in the captured context; a throw aborts. */
  #call(name: keyof BufferedProtocol, arg?: unknown): unknown {
    const p = this._protocol as unknown as Record<string, unknown>;
    const fn = p[name];
    if (typeof fn !== 'function') return undefined;
    const prevLoop = _enterLoop(this._loop);
    const prevCtx = swapContext(this.#ctx);
    try {
      return (fn as (a?: unknown) => unknown).call(p, arg);
    } catch (e) {
      this.#failed(name, e);
      return undefined;
    } finally {
      this.#ctx = swapContext(prevCtx);
      _leaveLoop(prevLoop);
    }
  }

  #failed(name: string, e: unknown): void {
    this._loop.callExceptionHandler({
      message: `Fatal error: protocol.${name}() call failed.`, exception: e, transport: this, protocol: this._protocol,
    });
    if (name !== 'connectionLost') this.abort(e instanceof Error ? e : new Error(String(e)));
  }

  #callProducer(p: PushProducer, name: 'pauseProducing' | 'resumeProducing' | 'stopProducing'): void {
    const prevLoop = _enterLoop(this._loop);
    const prevCtx = swapContext(this.#ctx);
    try {
      p[name]();
    } catch (e) {
      this._loop.callExceptionHandler({ message: `producer.${name}() failed`, exception: e, transport: this, protocol: this._protocol });
    } finally {
      this.#ctx = swapContext(prevCtx);
      _leaveLoop(prevLoop);
    }
  }
}

/** Does `p` read into its own buffers (asyncio's BufferedProtocol)? */
export function isBuffered(p: unknown): p is BufferedProtocol {
  return p !== null && typeof p === 'object' && typeof (p as BufferedProtocol).getBuffer === 'function'
    && typeof (p as BufferedProtocol).bufferUpdated === 'function';
}

/**
 * The error a write-side waiter gets when the connection was lost without one (asyncio's ConnectionResetError).
 * @example
 * const e = connectionLostError();   // Error('Connection lost') with code 'ECONNRESET'
 * console.log((e as Error & { code: string }).code);
 */
export function connectionLostError(): Error {
  return Object.assign(new Error('Connection lost'), { code: 'ECONNRESET' });
}
