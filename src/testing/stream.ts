/**
 * The stream transport of the virtual network: one end of a connection,
 * keeping the same contract as a real socket's transport (call order,
 * flow control, half-close, close, abort) so protocols and streams run on
 * it unchanged.
 *
 * Flow control is TCP's, simplified: the receiving end has a window
 * (64 KiB by default); the writer moves bytes from its buffer onto the pipe
 * only while the bytes in flight plus those the reader has not consumed fit
 * in that window. A reader that stops reading (`pauseReading`) closes the
 * window, so the writer's buffer grows until it crosses the high-water mark
 * and `pauseWriting()` is called inside the `write()` that crossed it.
 * Window updates reach the writer at once (no ACK latency).
 */
import { type Context, swapContext } from '../kernel/context.js';
import type { Future } from '../kernel/future.js';
import type { PushProducer, SockAddr, Transport } from '../kernel/transport_types.js';
import { netError } from './errors.js';
import { DATA, FIN, type Packet, type Pipe, RST } from './link.js';
import type { TestEventLoop } from './test_loop.js';

const encoder = new TextEncoder();
const HIGH = 64 * 1024;

/** What a stream protocol may implement (all optional here, as in asyncio). */
interface AnyProtocol {
  connectionMade?(t: Transport): void;
  dataReceived?(data: Uint8Array): void;
  eofReceived?(): boolean | void;
  connectionLost?(exc: Error | undefined): void;
  pauseWriting?(): void;
  resumeWriting?(): void;
  getBuffer?(sizeHint: number): Uint8Array;
  bufferUpdated?(nbytes: number): void;
}

/** The end of a connection that the other end can see. @internal */
export interface Owner { _detach(t: VirtualTransport): void }

const OPEN = 0, LOST = 1;

/**
 * One end of a virtual stream connection (what `createConnection` and a
 * virtual server's protocols get).
 * @example
 * // in runVirtual(), with a server listening on host 'server', port 80
 * const [t] = yield* getRunningLoop().createConnection(() => ({ dataReceived: (d: Uint8Array) => console.log(d.length) }), 'server', 80);
 * t.write('GET / HTTP/1.0\r\n\r\n');
 */
export class VirtualTransport implements Transport {
  /** @internal */ _peer: VirtualTransport | null = null;
  /** @internal */ _out!: Pipe;
  /** @internal */ _owner: Owner | null = null;
  /** @internal bytes this end accepts in flight plus unread. */ _window = HIGH;
  /** @internal bytes received while paused, not yet given to the protocol. */ _unreadBytes = 0;
  #unread: Packet[] = [];
  #state = OPEN;
  #closing = false;
  #eofWanted = false;
  #finSent = false;
  #eofSeen = false;
  #rstSent = false;
  #reading = true;
  #buf: Uint8Array[] = [];
  #bufSize = 0;
  #high = HIGH;
  #low = HIGH / 4;
  #writePaused = false;
  #producer: PushProducer | null = null;
  #protocol: AnyProtocol;

  /** @internal */
  constructor(
    /** @internal */ readonly _loop: TestEventLoop,
    protocol: unknown,
    /** @internal */ readonly _ctx: Context,
    /** @internal */ readonly _sockname: SockAddr,
    /** @internal */ readonly _peername: SockAddr,
    /** @internal */ readonly _host: string,
  ) {
    this.#protocol = protocol as AnyProtocol;
  }

  // ---- writing -----------------------------------------------------------------

  write(data: Uint8Array | string): void {
    if (this.#eofWanted) throw new Error('Cannot call write() after writeEof()');
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array or a string');
    if (bytes.length === 0 || this.#state === LOST) return;
    this.#buf.push(typeof data === 'string' ? bytes : bytes.slice());
    this.#bufSize += bytes.length;
    this._pump();
    if (!this.#writePaused && this.#bufSize > this.#high) {
      this.#writePaused = true;
      this.#call('pauseWriting');
      this.#producer?.pauseProducing();
    }
  }

  writeLines(list: Iterable<Uint8Array | string>): void { for (const d of list) this.write(d); }

  writeEof(): void {
    if (this.#eofWanted || this.#closing || this.#state === LOST) return;
    this.#eofWanted = true;
    this._pump();
  }

  canWriteEof(): boolean { return true; }
  getWriteBufferSize(): number { return this.#bufSize; }
  getWriteBufferLimits(): [low: number, high: number] { return [this.#low, this.#high]; }

  setWriteBufferLimits(high?: number, low?: number): void {
    const h = high ?? (low === undefined ? HIGH : 4 * low);
    const l = low ?? h / 4;
    if (!(h >= l && l >= 0)) throw new RangeError(`high (${h}) must be >= low (${l}) must be >= 0`);
    this.#high = h;
    this.#low = l;
    if (!this.#writePaused && this.#bufSize > h) { this.#writePaused = true; this.#call('pauseWriting'); this.#producer?.pauseProducing(); }
    else this.#maybeResume();
  }

  registerProducer(p: PushProducer): void {
    if (this.#producer !== null) throw new Error('a producer is already registered');
    this.#producer = p;
    if (this.#writePaused) p.pauseProducing();
  }
  unregisterProducer(): void { this.#producer = null; }

  /** @internal move what the peer's window allows from the buffer onto the wire. */
  _pump(): void {
    const peer = this._peer;
    if (this.#state === LOST || peer === null) return;
    while (this.#bufSize > 0) {
      const room = peer._window - this._out.inFlight - peer._unreadBytes;
      if (room <= 0) break;
      let chunk = this.#buf[0]!;
      if (chunk.length > room) {
        this.#buf[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      } else this.#buf.shift();
      this.#bufSize -= chunk.length;
      this._out.send(DATA, chunk);
    }
    if (this.#bufSize === 0) {
      if ((this.#eofWanted || this.#closing) && !this.#finSent) { this.#finSent = true; this._out.send(FIN, null); }
      if (this.#closing || (this.#finSent && this.#eofSeen)) { this._lose(undefined); return; }
    }
    this.#maybeResume();
  }

  #maybeResume(): void {
    if (this.#writePaused && this.#bufSize <= this.#low) {
      this.#writePaused = false;
      this.#call('resumeWriting');
      this.#producer?.resumeProducing();
    }
  }

  // ---- reading -----------------------------------------------------------------

  isReading(): boolean { return this.#reading && !this.#closing && this.#state === OPEN; }
  pauseReading(): void { if (!this.#closing && this.#state === OPEN) this.#reading = false; }

  resumeReading(): void {
    if (this.#reading || this.#closing || this.#state === LOST) return;
    this.#reading = true;
    if (this.#unread.length > 0) this._loop.callSoon(flushUnread, this);
  }

  /** @internal deliver what arrived while reading was paused. */
  _flushUnread(): void {
    const q = this.#unread;
    while (q.length > 0 && this.#reading && !this.#closing && this.#state === OPEN) {
      const p = q.shift()!;
      if (p.data !== null) this._unreadBytes -= p.data.length;
      this.#deliver(p);
    }
    this._peer?._pump();
  }

  /** @internal a packet arrived from the peer. */
  _receive(p: Packet): void {
    if (p.kind === RST) { this._lose(netError('ECONNRESET', 'read')); return; }
    if (this.#state === LOST) {
      if (p.kind === DATA && !this.#rstSent) { this.#rstSent = true; this._out.send(RST, null); }
      return;
    }
    if (this.#closing) return;
    if (!this.#reading || this.#unread.length > 0) {
      this.#unread.push(p);
      if (p.data !== null) this._unreadBytes += p.data.length;
      return;
    }
    this.#deliver(p);
  }

  #deliver(p: Packet): void {
    if (p.kind === DATA) {
      if (typeof this.#protocol?.getBuffer === 'function') this.#fillBuffers(p.data!);
      else this.#call('dataReceived', p.data!);
      return;
    }
    if (p.kind !== FIN || this.#eofSeen) return;
    this.#eofSeen = true;
    const keepOpen = this.#call('eofReceived');
    if (this.#state === LOST || this.#closing) return;
    if (!keepOpen) this.close();
    else if (this.#finSent) this._lose(undefined);
  }

  /** A BufferedProtocol lends its buffers: copy into them, as many as the data needs. */
  #fillBuffers(data: Uint8Array): void {
    let off = 0;
    while (off < data.length && this.#state === OPEN && !this.#closing) {
      const buf = this.#call('getBuffer', data.length - off);
      if (this.#state !== OPEN) return;
      if (!(buf instanceof Uint8Array) || buf.length === 0) {
        const exception = new TypeError('getBuffer() must return a non-empty Uint8Array');
        this._loop.callExceptionHandler({ message: 'Exception in protocol getBuffer()', exception, transport: this, protocol: this.#protocol });
        this.abort(exception);
        return;
      }
      const n = Math.min(buf.length, data.length - off);
      buf.set(data.subarray(off, off + n));
      off += n;
      this.#call('bufferUpdated', n);
    }
  }

  // ---- closing -----------------------------------------------------------------

  isClosing(): boolean { return this.#closing || this.#state === LOST; }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  close(): void {
    if (this.#closing || this.#state === LOST) return;
    this.#closing = true;
    this.#unread = [];
    this._unreadBytes = 0;
    this._pump();
  }

  abort(exc?: Error): void {
    if (this.#state === LOST) return;
    this.#buf = [];
    this.#bufSize = 0;
    if (this._peer !== null && !this.#rstSent) { this.#rstSent = true; this._out.send(RST, null); }
    this._lose(exc);
  }

  /** @internal the connection is gone for this end: `connectionLost(exc)` follows, soon and once. */
  _lose(exc: Error | undefined): void {
    if (this.#state === LOST) return;
    this.#state = LOST;
    this.#closing = true;
    this.#buf = [];
    this.#bufSize = 0;
    this.#unread = [];
    this._unreadBytes = 0;
    if (!this._loop.isClosed()) this._loop.callSoon(connectionLost, this, exc);
  }

  /** @internal */
  _connectionLost(exc: Error | undefined): void {
    const producer = this.#producer;
    this.#producer = null;
    try {
      this.#call('connectionLost', exc);
    } finally {
      producer?.stopProducing();
      this._owner?._detach(this);
    }
  }

  /** @internal */
  _isLost(): boolean { return this.#state === LOST; }

  /** @internal the loop closed: drop everything, call nobody. */
  _kill(): void { this.#state = LOST; this.#closing = true; this.#buf = []; this.#unread = []; }

  // ---- the rest of the contract --------------------------------------------------

  getExtraInfo(name: string, fallback?: unknown): unknown {
    if (name === 'peername') return [...this._peername];
    if (name === 'sockname') return [...this._sockname];
    return fallback;
  }
  setProtocol(p: unknown): void { this.#protocol = p as AnyProtocol; }
  getProtocol(): unknown { return this.#protocol; }

  /** @internal call a protocol method in the connection's context; an error goes to the handler and aborts. */
  _callProtocol(name: 'connectionMade'): void { this.#call(name, this); }

  #call(name: keyof AnyProtocol, arg?: unknown): unknown {
    const proto = this.#protocol;
    if (proto === null || proto === undefined) return undefined;
    const fn = proto[name] as ((x?: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') return undefined;
    const prev = swapContext(this._ctx);
    try {
      return fn.call(proto, arg);
    } catch (exception) {
      this._loop.callExceptionHandler({ message: `Exception in protocol ${name}()`, exception, transport: this, protocol: proto });
      if (name !== 'connectionLost') this.abort(exception instanceof Error ? exception : new Error(String(exception)));
      return undefined;
    } finally {
      swapContext(prev);
    }
  }

  toString(): string { return `<VirtualTransport ${this._sockname.join(':')} -> ${this._peername.join(':')}>`; }
}

function flushUnread(t: VirtualTransport): void { t._flushUnread(); }
function connectionLost(t: VirtualTransport, exc: Error | undefined): void { t._connectionLost(exc); }

/** @internal a connection being made: the client's future resolves when the server accepts. */
export interface Connecting { future: Future<VirtualTransport>; client: VirtualTransport }
