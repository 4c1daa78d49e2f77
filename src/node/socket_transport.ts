/**
 * The transport over a Node `net.Socket` (TCP, Unix) or `tls.TLSSocket`.
 * StreamTransportBase keeps the protocol's promises and WritableTransport
 * (writable_transport.ts, shared with write pipes) does the writing; this
 * file maps the rest of the hooks onto the socket: `end()` for EOF,
 * `destroy()` for abort, `pause`/`resume`, the extra info. The
 * socket is always made with `allowHalfOpen`, so a peer's EOF reaches
 * `eofReceived` and the protocol decides whether to close.
 */
import type * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Context } from '../kernel/context.js';
import type { EventLoop } from '../kernel/events.js';
import type { Protocol } from '../kernel/transport_types.js';
import { isBuffered } from '../protocols/stream_transport.js';

export { isBuffered };
import { track, untrack } from './registry.js';
import { WritableTransport } from './writable_transport.js';

/** Errors a socket reported before a transport took it over. */
const earlyErrors = new WeakMap<net.Socket, Error>();
function recordEarly(this: net.Socket, e: Error): void { if (!earlyErrors.has(this)) earlyErrors.set(this, e); }

/** Keep a socket's errors (and the process alive) until a transport takes it over. */
export function holdSocket(s: net.Socket): void { s.on('error', recordEarly); }

// A socket's events reach its transport through these shared functions (the socket points at its transport),
// not through closures: a server holding 10,000 idle connections pays for no listener closures per connection.
const OWNER = Symbol('tulip.transport');
type Owned = net.Socket & { [OWNER]?: SocketTransport };
function onData(this: Owned, d: Uint8Array): void { this[OWNER]?._dataReceived(d); }
function onEnd(this: Owned): void { this[OWNER]?._eofReceived(); }
function onError(this: Owned, e: Error): void { this[OWNER]?._noteError(e); }
function onClose(this: Owned): void { const t = this[OWNER]; t?._connectionLost(t._errorSeen()); }
function onFinish(this: Owned): void { this.destroy(); }

/**
 * Where a read lands before the transport exists (or while it lends no
 * buffer): one buffer shared by every socket, since each read into it is
 * copied out at once. (One per socket would keep 64 KiB alive for each
 * connection, for its whole life.)
 */
let spare: Uint8Array | null = null;

/**
 * What a protocol reads into, for sockets made with `onread`: Node reads
 * straight into the buffer the protocol's `getBuffer()` returns, asking
 * again after every read. A read before the transport exists lands in the
 * shared spare buffer and is copied into the protocol's own.
 */
export function onreadFor(holder: { t: SocketTransport | null }): net.OnReadOpts {
  return {
    buffer: () => holder.t?._getBuffer(65536) ?? (spare ??= new Uint8Array(65536)),
    callback: (n: number, buf: Uint8Array) => {
      const t = holder.t;
      if (t === null) return true;
      if (buf === spare) t._dataReceived(spare.slice(0, n));
      else t._bufferUpdated(n);
      return true;
    },
  };
}

interface SocketInternals { _handle?: { readStart?: unknown } | null; _server?: net.Server | null; server?: net.Server | null }

/**
 * A socket a server accepted, remade to read in place. Node gives accepted
 * sockets no `onread` option, so the connection's handle is moved into a
 * new socket made with one (the server was made with `pauseOnConnect`, so
 * nothing was read yet). This uses the `handle` option and the `_handle` and
 * `_server` fields of net.Socket, which Node's own server relies on but does
 * not document: if they are not there, `null` (the caller keeps the socket
 * and copies each read into the protocol's buffer instead).
 */
export function adoptReadingInPlace(old: net.Socket, onread: net.OnReadOpts): net.Socket | null {
  const o = old as net.Socket & SocketInternals;
  const handle = o._handle;
  // A TLS socket's bytes are decrypted in JavaScript: there is nothing for Node to read in place.
  if (handle == null || typeof handle.readStart !== 'function' || old.destroyed || (old as TLSSocket).encrypted === true) return null;
  const server = o._server ?? null;
  const s = new (old.constructor as typeof net.Socket)({
    handle, allowHalfOpen: true, readable: true, writable: true, pauseOnCreate: true, onread,
  } as net.SocketConstructorOpts) as net.Socket & SocketInternals;
  // The old object lets go of the connection: its destroy() closes nothing and counts nothing off the server.
  o._handle = null;
  o._server = null;
  old.destroy();
  s._server = server;
  s.server = server;
  return s;
}

/** Options of {@link SocketTransport}. */
export interface SocketTransportOptions {
  context?: Context;
  /** The socket reads through net's `onread` into the protocol's buffer: no 'data' listener. */
  readsInPlace?: boolean;
  /** A Unix socket: its address is a path. */
  unixPath?: string;
  /** Told when the connection is lost or handed to another transport (a server counts its connections). */
  owner?: TransportOwner;
}

/** Who keeps count of a transport (a server). */
export interface TransportOwner {
  /** @internal */ _transportLost(t: SocketTransport): void;
  /** @internal */ _transportReplaced(old: SocketTransport, t: SocketTransport): void;
}

/**
 * A stream transport over a Node socket.
 * @example
 * class Echo implements Protocol {
 *   t!: Transport;
 *   connectionMade(t: Transport): void { this.t = t; }
 *   dataReceived(d: Uint8Array): void { this.t.write(d); }
 * }
 * const [t, p] = yield* getRunningLoop().createConnection(() => new Echo(), '127.0.0.1', 8888);
 * t.write('hello'); t.close();
 */
export class SocketTransport extends WritableTransport {
  /** @internal */ _socket: net.Socket;
  #error: Error | undefined = undefined;
  /** @internal */ _owner: TransportOwner | undefined;
  #detached = false;
  readonly #tls: boolean;
  readonly #unixPath: string | undefined;
  #localAddress: string | undefined = undefined;
  #localPort: number | undefined = undefined;

  constructor(loop: EventLoop, socket: net.Socket, protocol: Protocol, opts: SocketTransportOptions = {}) {
    super(loop, protocol, { context: opts.context });
    this._socket = socket;
    this._owner = opts.owner;
    this.#tls = typeof (socket as TLSSocket).getPeerCertificate === 'function' && (socket as TLSSocket).encrypted === true;
    this.#unixPath = opts.unixPath;
    // Read the addresses now, so that they stay known after the socket closes; getExtraInfo builds the
    // [host, port] pairs when asked (no arrays kept per connection).
    if (opts.unixPath === undefined) {
      void socket.remoteAddress;                 // Node keeps the peer's address after close ...
      this.#localAddress = socket.localAddress;  // ... but not the local one
      this.#localPort = socket.localPort;
    }
    const early = earlyErrors.get(socket);
    if (early !== undefined) this.#error = early;
    socket.removeListener('error', recordEarly);
    (socket as Owned)[OWNER] = this;
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    if (opts.readsInPlace !== true) socket.on('data', onData);
  }

  /** Register with the loop, call `connectionMade` (unless `quiet`), and start reading. */
  _start(quiet = false): void {
    track(this._loop, this);
    this._connectionMade(quiet);
    if (this._socket.destroyed && !this._lost) {
      // It died before we took it over: its 'close' may already have fired.
      const s = this._socket;
      this._loop.callSoon(() => { if (!this._lost && s.destroyed) this._connectionLost(this.#error); });
    } else if (this.isReading() && this._socket.isPaused()) this._socket.resume();
  }

  /** False on TLS, which cannot half-close. */
  override canWriteEof(): boolean { return !this.#tls; }

  protected override _extraInfo(name: string): unknown {
    const s = this._socket;
    switch (name) {
      case 'socket': return s;
      case 'peername':
        if (this.#unixPath !== undefined) return this.#unixPath;
        return s.remoteAddress !== undefined ? [s.remoteAddress, s.remotePort] : undefined;
      case 'sockname':
        if (this.#unixPath !== undefined) return this.#unixPath;
        return this.#localAddress !== undefined ? [this.#localAddress, this.#localPort] : undefined;
      default: break;
    }
    if (!this.#tls) return undefined;
    const t = s as TLSSocket;
    switch (name) {
      case 'sslObject': return t;
      case 'peercert': return t.getPeerCertificate();
      case 'cipher': return t.getCipher();
      case 'sslProtocol': return t.getProtocol();
      default: return undefined;
    }
  }

  protected _writable(): net.Socket { return this._socket; }
  /** A socket handed to another transport (startTls) flushes for that one. */
  protected override _flushCounts(): boolean { return !this.#detached && !this._socket.destroyed; }

  /** @internal the socket reported an error (the first one is kept for `connectionLost`). */
  _noteError(e: Error): void { if (this.#error === undefined) this.#error = e; }
  /** @internal */
  _errorSeen(): Error | undefined { return this.#error; }

  protected _shutdown(): void { this._socket.end(); }

  protected _closeGracefully(): void {
    const s = this._socket;
    if (s.destroyed) return;
    if (!s.writableEnded) s.end();
    if (s.writableFinished) s.destroy();
    else s.once('finish', onFinish);
  }

  protected _destroy(): void { this._socket.destroy(); }

  protected _setReading(on: boolean): void {
    if (on) this._socket.resume();
    else this._socket.pause();
  }

  protected override _onLost(): void {
    untrack(this._loop, this);
    if (!this.#detached) this._owner?._transportLost(this);
  }

  /** @internal the loop is closing: abort, and deliver `connectionLost` now. */
  _loopClosing(): void {
    this.abort();
    this._connectionLost(undefined);
  }

  /** @internal stop listening to the socket (startTls takes it over); `_retire()` or `_connectionLost()` follows. */
  _detach(): net.Socket {
    const s = this._socket;
    s.removeListener('data', onData);
    s.removeListener('end', onEnd);
    s.removeListener('close', onClose);
    s.removeListener('error', onError);
    s.removeListener('finish', onFinish);
    if ((s as Owned)[OWNER] === this) (s as Owned)[OWNER] = undefined;
    holdSocket(s);
    return s;
  }

  /** @internal the socket lives on in another transport: go quiet, no `connectionLost`. */
  _retire(): void {
    this.#detached = true;
    this._protocol = {};
    this._connectionLost(undefined);
  }
}
