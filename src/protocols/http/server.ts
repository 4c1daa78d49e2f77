/**
 * The HTTP/1.1 server: `serveHttp` listens with the running loop's
 * `createServer` (TCP, TLS, Unix sockets, the virtual network) and gives
 * each connection an `HttpServerConnection` (connection.ts).
 *
 * The server owns its connections and each connection owns its request's
 * handler task, so `close()` stops listening and lets each connection end
 * after its response in progress, and cancelling `serveForever()` halts
 * every handler (a response not yet started gets 503) and closes every
 * connection, aborting those still open after `shutdownTimeout`: it ends
 * in bounded time whatever the clients do.
 */
import { getRunningLoop, type Coro, type EventLoop, type ServerOptions } from '../../kernel/events.js';
import { Future } from '../../kernel/future.js';
import { rehalt } from '../../kernel/traps.js';
import type { Server, SockAddr } from '../../kernel/transport_types.js';
import { moveOnAfter } from '../../toolkit/timeout.js';
import { type HttpHandler, HttpServerConnection, type HttpServerOptions, ServerState } from './connection.js';

export type { HttpHandler, HttpServerOptions };

/**
 * An HTTP server: the listening `Server` of `createServer` plus the
 * connections it serves. `close()` stops listening and closes each
 * connection once its response in progress is done; cancelling
 * `serveForever()` also halts every handler (a response not yet started
 * gets 503) and aborts what has not closed within `shutdownTimeout`.
 * @example
 * const server = yield* serveHttp(function* (_req, res) { res.end('hi'); }, '127.0.0.1', 0);
 * console.log(server.addresses());
 * yield* server.serveForever();   // until cancelled
 */
export class HttpServer implements Server {
  readonly #inner: Server;
  readonly #state: ServerState;
  readonly #loop: EventLoop;
  #forever: Future<never> | null = null;

  /** @internal use {@link serveHttp}. */
  constructor(inner: Server, state: ServerState, loop: EventLoop) {
    this.#inner = inner;
    this.#state = state;
    this.#loop = loop;
  }

  /** Connections open now. */
  get connections(): number { return this.#state.conns.size; }

  /** Stop listening; idle connections close now, busy ones after their response. */
  close(): void {
    this.#state.closing = true;
    this.#inner.close();
    for (const c of [...this.#state.conns]) c._serverClosing();
    if (this.#state.conns.size === 0) this.#state.stopTimers();
    if (this.#forever !== null && !this.#forever.done()) this.#forever.cancel('the server was closed');
  }

  /** Wait until the server is closed and every connection is gone. */
  waitClosed(): Coro<void> { return this.#inner.waitClosed(); }

  /**
   * Serve until cancelled (or closed). Cancelling it halts every handler
   * and closes every connection, aborting those not closed within
   * `shutdownTimeout`; it returns (by throwing the cancellation) once all
   * are gone.
   */
  *serveForever(): Coro<never> {
    if (this.#forever !== null) throw new Error('serveForever() is already running');
    if (this.#state.closing) throw new Error('the server is closed');
    this.#inner.startServing();
    const f = new Future<never>({ loop: this.#loop, description: 'HttpServer.serveForever' });
    this.#forever = f;
    let closedByUs = false;
    try {
      return yield* f;
    } catch (e) {
      closedByUs = true;
      throw e;
    } finally {
      this.#forever = null;
      if (!closedByUs) {
        try {
          yield* this.shutdown();
        } finally {
          this.abortClients();
        }
        yield* rehalt();
      }
    }
  }

  /**
   * Stop now: close, halt every handler, wait up to `shutdownTimeout` for
   * the connections to close, abort the rest, and wait until they are gone.
   * @example
   * const server = yield* serveHttp(function* (_req, res) { res.end('bye'); }, '127.0.0.1', 0);
   * yield* server.shutdown();
   */
  *shutdown(): Coro<void> {
    this.#state.halting = true;
    this.close();
    for (const c of [...this.#state.conns]) c._halt();
    if (this.#state.conns.size > 0) yield* moveOnAfter(this.#state.shutdownTimeout, () => this.#state.allGone(this.#loop)[Symbol.iterator]());
    if (this.#state.conns.size > 0) this.abortClients();
    yield* this.waitClosed();
  }

  /** `using server = ...`: `close()` (stop listening; busy connections end after their response). */
  [Symbol.dispose](): void { this.close(); }
  /** `await using server = ...`: `close()`, `closeClients()`, then wait until every connection is gone. */
  [Symbol.asyncDispose](): Promise<void> { this.close(); return this.#inner[Symbol.asyncDispose](); }

  startServing(): void { this.#inner.startServing(); }
  isServing(): boolean { return this.#inner.isServing(); }
  addresses(): Array<SockAddr | string> { return this.#inner.addresses(); }
  closeClients(): void { this.#inner.closeClients(); }
  abortClients(): void {
    for (const c of [...this.#state.conns]) c._abort();
    this.#inner.abortClients();
  }
}

/** `createServer`'s options among the server's. */
function listenOptions(o: HttpServerOptions): ServerOptions {
  const {
    maxRequestLine: _a, maxHeaderSize: _b, maxHeaders: _c, maxChunkExtensions: _d, headersTimeout: _e, keepAliveTimeout: _f,
    maxRequestsPerConnection: _g, maxBodySize: _h, bodyLimit: _i, shutdownTimeout, sendDate: _k, allowHalfOpen: _l, ...rest
  } = o;
  // A halted waitClosed() of the listening server shuts it down (servers own their connections): within the same bound.
  return { closeGrace: shutdownTimeout ?? 500, ...rest };
}

function* serve(handler: HttpHandler, opts: HttpServerOptions | undefined, listen: (factory: () => unknown, o: ServerOptions) => Coro<Server>): Coro<HttpServer> {
  if (typeof handler !== 'function') throw new TypeError('serveHttp: the handler must be a function');
  const loop = getRunningLoop();
  const state = new ServerState(handler, opts ?? {}, loop);
  const inner = yield* listen(() => new HttpServerConnection(state, loop), listenOptions(opts ?? {}));
  return new HttpServer(inner, state, loop);
}

/**
 * Serve HTTP/1.1 on `host:port` (port 0: any free port; `ssl` for HTTPS),
 * running `handler` for every request. Works on any loop (the Node loop,
 * the virtual network).
 * @example
 * import { run } from 'tulip';
 * import { serveHttp } from 'tulip/http';
 * await run(function* () {
 *   const server = yield* serveHttp(function* (req, res) {
 *     res.setHeader('content-type', 'text/plain');
 *     res.end(`hello from ${req.path}\n`);
 *   }, '127.0.0.1', 8080);
 *   yield* server.serveForever();
 * });
 */
export function* serveHttp(handler: HttpHandler, host: string | string[] | null, port: number | null, opts?: HttpServerOptions): Coro<HttpServer> {
  return yield* serve(handler, opts, (factory, o) => getRunningLoop().createServer(factory, host, port, o));
}

/**
 * Serve HTTP/1.1 on the Unix socket at `path`.
 * @example
 * const server = yield* serveHttpUnix(function* (_req, res) { res.end('ok'); }, '/tmp/app.sock');
 */
export function* serveHttpUnix(handler: HttpHandler, path: string, opts?: HttpServerOptions): Coro<HttpServer> {
  return yield* serve(handler, opts, (factory, o) => getRunningLoop().createUnixServer(factory, path, o));
}
