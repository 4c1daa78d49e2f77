/**
 * `createServer` and `createUnixServer` on the Node loop, and the `Server`
 * they return. One Node server listens per address (a list of hosts, or a
 * name resolving to several addresses, gives several). The protocol
 * factory runs on the loop, in the context captured when the server was
 * made, for each accepted connection. A server made with
 * `startServing: false` is bound and listening, but holds the connections
 * the kernel accepts until `startServing()` (they wait as they would in
 * the kernel's backlog).
 *
 * `reuseAddress` needs nothing: libuv sets SO_REUSEADDR on every TCP
 * listening socket (asyncio's default on Unix too). `reusePort` is passed
 * to `listen()` where Node has it (22.12+), refused elsewhere.
 *
 * A server survives its accept failing (EMFILE: Node reports it as an
 * 'error' and keeps listening) and a TLS client that resets mid-handshake
 * ('tlsClientError'): both go to the exception handler in debug mode or
 * for EMFILE-like errors, never into the void and never crash the process.
 *
 * A TLS client must finish its handshake within `sslHandshakeTimeout` ms
 * of being accepted (60 s by default, as asyncio), or it is dropped. Node's
 * own `handshakeTimeout` is an idle timer (a client sending a byte now and
 * then never meets it) and, when it fires, Node only emits 'tlsClientError'
 * and leaves the socket open: silent clients would pile up until the
 * server runs out of file descriptors.
 *
 * The server owns the connections it accepted: when the task waiting in
 * `serveForever()` or `waitClosed()` is halted, it shuts them down
 * (server_shutdown.ts in the protocols layer). `close()` only stops
 * listening, as asyncio's does.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { currentContext, type Context, swapContext } from '../kernel/context.js';
import { _enterLoop, _leaveLoop, type Coro, type EventLoop, type ServerOptions } from '../kernel/events.js';
import { NotImplementedError } from '../kernel/errors.js';
import { Future } from '../kernel/future.js';
import { rehalt } from '../kernel/traps.js';
import type { Protocol, Server, SockAddr } from '../kernel/transport_types.js';
import {
  type ConnectionOwner, DEFAULT_CLOSE_GRACE, disposeServerAsync, shutDownServer, waitClosedOrShutDown,
} from '../protocols/server_shutdown.js';
import { track, untrack } from './registry.js';
import { adoptReadingInPlace, isBuffered, onreadFor, SocketTransport, type TransportOwner } from './socket_transport.js';
import { resolveHost } from './tcp.js';
import { SSL_HANDSHAKE_TIMEOUT, serverTlsOptions } from './tls.js';

/** Node added `reusePort` to `listen()` in 22.12 and 23.1. */
function nodeHasReusePort(): boolean {
  const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
  return maj > 23 || (maj === 23 && min >= 1) || (maj === 22 && min >= 12);
}

/**
 * A listening server on the Node loop.
 * @example
 * const server = yield* getRunningLoop().createServer(() => new ChunkProtocol('\n', (line, p) => p.writeChunk(line)), '127.0.0.1', 0);
 * console.log(server.addresses());   // [['127.0.0.1', 40123]]
 * server.close(); yield* server.waitClosed();
 */
export class NodeServer implements Server, TransportOwner, ConnectionOwner {
  readonly #loop: EventLoop;
  readonly #factory: () => unknown;
  #ctx: Context;
  readonly #servers: net.Server[] = [];
  readonly #unixPath: string | undefined;
  readonly #transports = new Set<SocketTransport>();
  #held: net.Socket[] = [];
  /** TLS clients accepted and still in their handshake, each with its deadline. */
  readonly #handshaking = new Map<net.Socket, { timer: NodeJS.Timeout; onClose: () => void }>();
  /** False if this Node's TLS sockets do not name the socket they wrap: Node's own (idle) handshake timeout is all there is. */
  #deadlines = true;
  #handshakeTimeout = SSL_HANDSHAKE_TIMEOUT;
  #closeGrace = DEFAULT_CLOSE_GRACE;
  #serving = false;
  #closed = false;
  #waiters: Future<void>[] = [];
  #forever: Future<never> | null = null;

  /** @internal use `loop.createServer`. */
  constructor(loop: EventLoop, factory: () => unknown, ctx: Context, unixPath?: string) {
    this.#loop = loop;
    this.#factory = factory;
    this.#ctx = ctx;
    this.#unixPath = unixPath;
  }

  /** @internal start listening with a Node server for each of `targets`; a cancel or an error closes every one. */
  *_listen(targets: Array<net.ListenOptions>, opts: ServerOptions): Coro<void> {
    const tlsOpts = opts.ssl != null && opts.ssl !== false ? serverTlsOptions(opts.ssl) : null;
    if (opts.sslHandshakeTimeout !== undefined) {
      if (tlsOpts === null) throw new TypeError('sslHandshakeTimeout is only meaningful with ssl');
      this.#handshakeTimeout = positive(opts.sslHandshakeTimeout, 'sslHandshakeTimeout');
    }
    if (opts.closeGrace !== undefined) this.#closeGrace = positive(opts.closeGrace, 'closeGrace', true);
    let ok = false;
    try {
      for (const target of targets) {
        const srv = tlsOpts !== null ? makeTlsServer(tlsOpts, this.#handshakeTimeout) : net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
        this.#servers.push(srv);
        const fut = new Future<void>({ loop: this.#loop, description: 'createServer: listen' });
        const onError = (e: Error): void => { if (!fut.done()) fut.setException(e); };
        srv.once('error', onError);
        srv.listen({ ...target, ...(opts.backlog !== undefined ? { backlog: opts.backlog } : {}) }, () => { if (!fut.done()) fut.setResult(); });
        yield* fut;
        srv.removeListener('error', onError);
        srv.on('error', this.#acceptFailed);
        if (tlsOpts !== null) {
          srv.on('connection', this.#handshakeStarted);
          srv.on('secureConnection', this.#secured);
          srv.on('tlsClientError', this.#handshakeFailed);
        } else srv.on('connection', this.#accept);
      }
      ok = true;
    } finally {
      if (!ok) for (const s of this.#servers) closeListener(s);
    }
    track(this.#loop, this);
    if (opts.startServing ?? true) this.startServing();
  }

  readonly #acceptFailed = (e: Error): void => {
    if (this.#loop.isClosed()) return;
    this.#loop.callExceptionHandler({ message: `error accepting a connection on ${JSON.stringify(this.addresses())}; still serving`, exception: e });
  };

  /** A TLS client was accepted: it has `sslHandshakeTimeout` ms to finish its handshake. */
  readonly #handshakeStarted = (raw: net.Socket): void => {
    if (this.#closed || this.#loop.isClosed()) { raw.destroy(); return; }
    if (!this.#deadlines) return;
    const timer = setTimeout(() => {
      this.#handshakeOver(raw);
      raw.destroy();
      if (this.#loop.getDebug() && !this.#loop.isClosed()) {
        this.#loop.callExceptionHandler({ message: `TLS client dropped: no handshake within ${this.#handshakeTimeout} ms` });
      }
    }, this.#handshakeTimeout);
    const onClose = (): void => this.#handshakeOver(raw);
    this.#handshaking.set(raw, { timer, onClose });
    raw.once('close', onClose);
  };

  /** The handshake of `raw` ended (done, failed or the client left): its deadline goes. */
  #handshakeOver(raw: net.Socket | undefined): void {
    if (raw === undefined) return;
    const h = this.#handshaking.get(raw);
    if (h === undefined) return;
    clearTimeout(h.timer);
    raw.removeListener('close', h.onClose);
    this.#handshaking.delete(raw);
  }

  readonly #secured = (socket: tls.TLSSocket): void => {
    socket.allowHalfOpen = true;   // off during the handshake: a client's EOF then ends it (see makeTlsServer)
    const raw = rawOf(socket);
    if (raw === undefined && this.#deadlines) {
      // Which pending client is this? Unknown: no deadline can be kept without risking a live connection.
      this.#deadlines = false;
      for (const r of [...this.#handshaking.keys()]) this.#handshakeOver(r);
    }
    this.#handshakeOver(raw);
    this.#accept(socket);
  };

  readonly #handshakeFailed = (e: Error, socket: tls.TLSSocket): void => {
    // Node leaves the socket open after a failed (or timed-out) handshake.
    this.#handshakeOver(rawOf(socket));
    socket.destroy();
    if (this.#loop.isClosed() || !this.#loop.getDebug()) return;
    this.#loop.callExceptionHandler({ message: 'TLS handshake with a client failed', exception: e });
  };

  readonly #accept = (socket: net.Socket): void => {
    if (this.#closed || this.#loop.isClosed()) { socket.destroy(); return; }
    if (!this.#serving) { socket.on('error', noop); this.#held.push(socket); return; }
    const prevLoop = _enterLoop(this.#loop);
    const prevCtx = swapContext(this.#ctx);
    let protocol: unknown;
    try {
      protocol = this.#factory();
    } catch (e) {
      this.#loop.callExceptionHandler({ message: 'protocol factory failed; connection dropped', exception: e });
      socket.destroy();
      return;
    } finally {
      this.#ctx = swapContext(prevCtx);
      _leaveLoop(prevLoop);
    }
    socket.removeListener('error', noop);
    // A BufferedProtocol on a plain socket: Node reads straight into the protocol's buffers (no allocation per read).
    const holder: { t: SocketTransport | null } = { t: null };
    const inPlace = isBuffered(protocol) ? adoptReadingInPlace(socket, onreadFor(holder)) : null;
    const t = new SocketTransport(this.#loop, inPlace ?? socket, protocol as Protocol, {
      context: this.#ctx, owner: this, unixPath: this.#unixPath, readsInPlace: inPlace !== null,
    });
    holder.t = t;
    this.#transports.add(t);
    t._start();
  };

  /** @internal */
  _transportLost(t: SocketTransport): void {
    this.#transports.delete(t);
    this.#wakeIfDone();
  }
  /** @internal */
  _transportReplaced(old: SocketTransport, t: SocketTransport): void {
    this.#transports.delete(old);
    this.#transports.add(t);
  }

  /**
   * Stop listening; connections already accepted carry on (see
   * `closeClients`), as in asyncio. Connections held by `startServing:
   * false` and TLS clients still in their handshake are dropped.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#serving = false;
    for (const s of this.#servers) s.close();
    if (this.#unixPath !== undefined) { try { fs.unlinkSync(this.#unixPath); } catch { /* gone already */ } }
    for (const s of this.#held) s.destroy();
    this.#held = [];
    for (const raw of [...this.#handshaking.keys()]) { this.#handshakeOver(raw); raw.destroy(); }
    this.#forever?.cancel('the server was closed');
    this.#wakeIfDone();
  }

  /**
   * Wait until the server is closed and every connection it accepted is
   * gone. Halting the waiting task shuts the server down: it stops
   * listening, halts the connections' handler tasks, closes the
   * connections and waits for them (see the file header).
   */
  waitClosed(): Coro<void> { return waitClosedOrShutDown(this.#loop, this, this.#closeGrace); }

  /**
   * Start accepting (if not yet) and wait until the server is closed.
   * Halting the waiting task shuts the server down and its connections
   * with it, then completes the halt; `close()` from elsewhere ends it
   * with `CancelledError` and leaves the connections open.
   */
  *serveForever(): Coro<never> {
    if (this.#forever !== null) throw new Error('serveForever() is already running');
    if (this.#closed) throw new Error('the server is closed');
    this.startServing();
    const f = new Future<never>({ loop: this.#loop, description: 'Server.serveForever' });
    this.#forever = f;
    let halted = true;
    try {
      return yield* f;
    } catch (e) {
      halted = false;   // close() was called: asyncio's CancelledError
      throw e;
    } finally {
      this.#forever = null;
      if (halted) {
        yield* shutDownServer(this.#loop, this, this.#closeGrace);
        yield* rehalt();   // this cleanup waited: the halt must go on to the caller (see rehalt())
      }
    }
  }

  /** @internal */
  _connections(): Iterable<SocketTransport> { return this.#transports; }
  /** @internal a future of its own: the server is closed and every connection gone. */
  _allGone(): Future<void> {
    const f = new Future<void>({ loop: this.#loop, description: 'Server.waitClosed' });
    if (this.#closed && this.#transports.size === 0) f.setResult();
    else this.#waiters.push(f);
    return f;
  }
  /** @internal */
  _dropWaiter(f: Future<void>): void { this.#waiters = this.#waiters.filter((x) => x !== f); }

  /** `using server = ...`: `close()` (stop listening; connections carry on). */
  [Symbol.dispose](): void { this.close(); }

  /** `await using server = ...`: `close()`, `closeClients()`, then wait until every connection is gone (the loop must be running). */
  [Symbol.asyncDispose](): Promise<void> { return disposeServerAsync(this); }

  /** Accept connections (and serve the ones held since the server was made). */
  startServing(): void {
    if (this.#serving || this.#closed) return;
    this.#serving = true;
    const held = this.#held;
    this.#held = [];
    for (const s of held) this.#accept(s);
  }

  isServing(): boolean { return this.#serving; }

  /** The listening addresses: `[host, port]` tuples, or a Unix socket's path. */
  addresses(): Array<SockAddr | string> {
    const out: Array<SockAddr | string> = [];
    for (const s of this.#servers) {
      const a = s.address();
      if (a === null) continue;
      out.push(typeof a === 'string' ? a : [a.address, a.port]);
    }
    return out;
  }

  /** Close every accepted connection (flushing what each has buffered). */
  closeClients(): void { for (const t of [...this.#transports]) t.close(); }
  /** Abort every accepted connection. */
  abortClients(): void { for (const t of [...this.#transports]) t.abort(); }

  /** @internal the loop is closing. */
  _loopClosing(): void {
    this.close();
    for (const t of [...this.#transports]) t._loopClosing();
  }

  #wakeIfDone(): void {
    if (!this.#closed || this.#transports.size > 0) return;
    untrack(this.#loop, this);
    const ws = this.#waiters;
    this.#waiters = [];
    for (const f of ws) if (!f.done()) f.setResult();
  }
}

/**
 * A TLS server. Node's `tls.createServer` builds its context from key/cert
 * options and ignores a ready `secureContext`; for one, the server's shared
 * context is replaced (and SNI answered with it, should that field go).
 * Half-open connections are off until the handshake is done: a client that
 * sends EOF before it would otherwise leave its socket open (Node then
 * emits nothing at all) until the handshake deadline.
 */
function makeTlsServer(o: tls.TlsOptions, handshakeTimeout: number): tls.Server {
  const { secureContext, ...rest } = o as tls.TlsOptions & { secureContext?: tls.SecureContext };
  const srv = tls.createServer({
    ...rest, allowHalfOpen: false, noDelay: true, handshakeTimeout,
    ...(secureContext !== undefined ? { SNICallback: (_name: string, cb: (e: Error | null, c?: tls.SecureContext) => void) => cb(null, secureContext) } : {}),
  });
  if (secureContext !== undefined) (srv as unknown as { _sharedCreds: tls.SecureContext })._sharedCreds = secureContext;
  return srv;
}

function noop(): void { /* held sockets' errors: they are destroyed with the server or served later */ }

/** The socket Node's TLS server wrapped (an undocumented field Node has always set; undefined if a Node ever drops it). */
function rawOf(s: tls.TLSSocket): net.Socket | undefined {
  const p = (s as tls.TLSSocket & { _parent?: unknown })._parent;
  return p instanceof net.Socket ? p : undefined;
}

/** Close a Node server whatever its state: one still looking up its address listens when that is done, so close it then. */
function closeListener(s: net.Server): void {
  s.on('error', noop);   // a late EADDRINUSE must not crash the process
  if (s.listening) s.close();
  else s.once('listening', () => s.close());
}

function positive(v: unknown, name: string, zeroOk = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (v === 0 && !zeroOk)) throw new RangeError(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number of ms, not ${String(v)}`);
  return v;
}

/** `loop.createServer` on the Node loop. */
export function* createServer(
  loop: EventLoop, factory: () => unknown, host: string | string[] | null | undefined, port: number | null | undefined, opts: ServerOptions = {},
): Coro<NodeServer> {
  if (opts.ssl === true) serverTlsOptions(true);
  if (opts.reusePort === true && !nodeHasReusePort()) throw new NotImplementedError(`reusePort needs Node >= 22.12 (this is ${process.versions.node})`);
  const ctx = currentContext();
  const hosts = host == null || host === '' ? [null] : Array.isArray(host) ? host : [host];
  const targets: net.ListenOptions[] = [];
  const extra = opts.reusePort === true ? { reusePort: true } : {};
  for (const h of hosts) {
    if (h === null) { targets.push({ port: port ?? 0, ...extra }); continue; }
    for (const a of yield* resolveHost(h)) targets.push({ host: a.address, port: port ?? 0, ipv6Only: a.family === 6, ...extra });
  }
  const server = new NodeServer(loop, factory, ctx);
  yield* server._listen(targets, opts);
  return server;
}

/** `loop.createUnixServer` on the Node loop; a stale socket file at `path` is removed first. */
export function* createUnixServer(loop: EventLoop, factory: () => unknown, path: string, opts: ServerOptions = {}): Coro<NodeServer> {
  if (opts.ssl === true) serverTlsOptions(true);
  try {
    if (fs.statSync(path).isSocket()) fs.unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const server = new NodeServer(loop, factory, currentContext(), path);
  yield* server._listen([{ path }], opts);
  return server;
}
