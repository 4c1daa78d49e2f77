/**
 * One server connection: the protocol that parses its requests, runs a
 * handler task for each (owned by the connection: the client going away
 * halts it), and keeps the connection's single deadline (the head of a
 * request within `headersTimeout`, an idle keep-alive connection closed
 * after `keepAliveTimeout`).
 *
 * Requests are served one after the other; pipelined ones wait in the
 * parser's buffer (reading pauses 64 KiB ahead), so responses go out in
 * order. The handler's first step runs at once, inside the read that
 * completed its request, so a handler that answers without waiting costs
 * no trip through the scheduler. What a handler leaves unread of a body
 * (at most 64 KiB, and only if the client is not waiting for a 100
 * Continue) is read and dropped before the next request; more, and the
 * connection closes after the response.
 */
import { fromPromise } from '../../kernel/coro.js';
import type { Coro, EventLoop, ServerOptions } from '../../kernel/events.js';
import { Future, isThenable } from '../../kernel/future.js';
import { Task } from '../../kernel/task.js';
import type { BufferedProtocol, Protocol, Transport } from '../../kernel/transport_types.js';
import { connectionLostError } from '../stream_transport.js';
import { type BodySource, bodyReadSize, DEFAULT_BODY_LIMIT, HttpBody } from './body.js';
import { HttpError, STATUS_TEXT } from './errors.js';
import type { Headers } from './headers.js';
import { type DeadlineItem, DeadlineList } from './deadlines.js';
import { HttpParser, type ParserSink } from './parser.js';
import { BODY_LENGTH, BODY_NONE, DEFAULT_LIMITS, type HttpLimits, type ParsedHead } from './syntax.js';
import { HttpRequest } from './request.js';
import { HttpResponse, type ResponseConnection } from './response.js';
import { statusLine } from './wire.js';

/**
 * A request handler: a coroutine (or a plain or async function) given the
 * request and its response. Returning ends the response if it has not
 * ended; throwing an {@link HttpError} before the response started answers
 * with its status, any other error with 500.
 * @example
 * const hello: HttpHandler = function* (req, res) {
 *   res.setHeader('content-type', 'text/plain');
 *   res.end(`hello ${req.path}`);
 * };
 */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => Coro<void> | PromiseLike<void> | void;

/**
 * Options of {@link serveHttp}: the limits a hostile client meets, and
 * `createServer`'s own (`ssl`, `backlog`, ...).
 * @example
 * import { readFileSync } from 'node:fs';
 * const ssl = { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') };
 * yield* serveHttp(function* (_req, res) { res.end('secure'); }, '127.0.0.1', 8443, { ssl, headersTimeout: 5_000, maxBodySize: 1 << 20 });
 */
export interface HttpServerOptions extends Partial<HttpLimits>, ServerOptions {
  /** Time for a request's head to arrive, from its first byte (or the connection): 10 s; then 408. */
  headersTimeout?: number;
  /** An idle keep-alive connection is closed after: 5 s. */
  keepAliveTimeout?: number;
  /** Requests served on one connection before it is closed: 1000. */
  maxRequestsPerConnection?: number;
  /** The largest request body accepted at all (413 before the handler runs, if declared): no limit. */
  maxBodySize?: number;
  /** The default limit of `bytes()`/`text()`/`json()` on a request body: 16 MiB. */
  bodyLimit?: number;
  /** When `serveForever()` is cancelled: time left to handlers' cleanup and to flushing, before connections are aborted: 500 ms. */
  shutdownTimeout?: number;
  /** Send a Date field: true. */
  sendDate?: boolean;
  /**
   * A client's EOF is a half-close: its request in progress is answered before the connection closes. Default
   * false: EOF means the client is gone, and the handler is halted (as node:http does).
   */
  allowHalfOpen?: boolean;
}

/** A body longer than this, not read by the handler, is not read and dropped after the response: the connection closes. */

const DISCARD_MAX = 64 * 1024;
/** Pipelined bytes buffered ahead of the request being served before reading pauses. */
const BACKLOG_MAX = 64 * 1024;

/** @internal the state every connection of one server shares. */
export class ServerState {
  readonly handler: HttpHandler;
  readonly limits: HttpLimits;
  readonly headersTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxRequests: number;
  readonly maxBodySize: number;
  readonly bodyLimit: number;
  readonly shutdownTimeout: number;
  readonly sendDate: boolean;
  readonly allowHalfOpen: boolean;
  readonly conns = new Set<HttpServerConnection>();
  /** Connections waiting for a request head, and idle kept-alive ones, each in deadline order. */
  readonly headerDeadlines: DeadlineList;
  readonly idleDeadlines: DeadlineList;
  closing = false;
  halting = false;

  constructor(handler: HttpHandler, o: HttpServerOptions, loop: EventLoop) {
    this.handler = handler;
    this.limits = {
      maxRequestLine: o.maxRequestLine ?? DEFAULT_LIMITS.maxRequestLine,
      maxHeaderSize: o.maxHeaderSize ?? DEFAULT_LIMITS.maxHeaderSize,
      maxHeaders: o.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
      maxChunkExtensions: o.maxChunkExtensions ?? DEFAULT_LIMITS.maxChunkExtensions,
    };
    this.headersTimeout = o.headersTimeout ?? 10_000;
    this.keepAliveTimeout = o.keepAliveTimeout ?? 5_000;
    this.maxRequests = o.maxRequestsPerConnection ?? 1000;
    this.maxBodySize = o.maxBodySize ?? Infinity;
    this.bodyLimit = o.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.shutdownTimeout = o.shutdownTimeout ?? 500;
    this.sendDate = o.sendDate ?? true;
    this.allowHalfOpen = o.allowHalfOpen ?? false;
    this.headerDeadlines = new DeadlineList(loop, this.headersTimeout);
    this.idleDeadlines = new DeadlineList(loop, this.keepAliveTimeout);
  }

  readonly #goneWaiters: Future<void>[] = [];

  /** A future of its own (a waiter that gives up cancels only its own) that completes once no connection is left. */
  allGone(loop: EventLoop): Future<void> {
    const f = new Future<void>({ loop, description: 'HttpServer connections gone' });
    if (this.conns.size === 0) f.setResult();
    else this.#goneWaiters.push(f);
    return f;
  }

  /** `c` has ended. */
  connGone(c: HttpServerConnection): void {
    this.conns.delete(c);
    if (this.conns.size > 0) return;
    if (this.closing) this.stopTimers();
    for (const f of this.#goneWaiters.splice(0)) if (!f.done()) f.setResult();
  }

  /** The server is closed and has no connection left: no timer should outlive it. */
  stopTimers(): void {
    this.headerDeadlines.close();
    this.idleDeadlines.close();
  }
}


const F_RUNNING = 1, F_CLOSE_AFTER = 2, F_EOF = 4, F_LOST = 8, F_CONTINUED = 16, F_DISCARDING = 32, F_BODY_PAUSED = 64,
  F_BACKLOG_PAUSED = 128, F_WRITE_PAUSED = 256, F_NOT_READING = 512, F_HALTED = 1024;
// F_RUNNING: the handler's task runs; F_CLOSE_AFTER: close after this response; F_EOF: the client sent EOF;
// F_LOST: connectionLost came; F_CONTINUED: 100 Continue was sent; F_DISCARDING: dropping the rest of a body;
// F_BODY_PAUSED / F_BACKLOG_PAUSED: why reading is paused; F_WRITE_PAUSED: the transport paused writing.

/** @internal the protocol of one server connection. */
export class HttpServerConnection implements BufferedProtocol, ParserSink, BodySource, ResponseConnection, DeadlineItem {
  readonly #srv: ServerState;
  readonly #loop: EventLoop;
  readonly #parser: HttpParser;
  #t: Transport | null = null;
  #req: HttpRequest | null = null;
  #res: HttpResponse | null = null;
  #task: Task<void> | null = null;
  /** The F_ flags below (one field: an idle connection is small). */
  #f = 0;
  #count = 0;
  /** @internal the deadline list this connection is in (DeadlineItem) */ _dlList: DeadlineList | null = null;
  /** @internal */ _dlPrev: DeadlineItem | null = null;
  /** @internal */ _dlNext: DeadlineItem | null = null;
  /** @internal */ _dlWhen = 0;
  #drainWaiters: Future<void>[] | null = null;
  #tunnel: Protocol | null = null;

  constructor(srv: ServerState, loop: EventLoop) {
    this.#srv = srv;
    this.#loop = loop;
    this.#parser = new HttpParser('request', this, srv.limits);
  }

  /** @internal */ get _sendDate(): boolean { return this.#srv.sendDate; }

  // ---- the transport's calls -------------------------------------------------------------

  connectionMade(t: Transport): void {
    this.#t = t;
    this.#srv.conns.add(this);
    if (this.#srv.closing) { t.close(); return; }
    this.#srv.headerDeadlines.add(this);
  }

  getBuffer(): Uint8Array { return this.#parser.getBuffer(); }

  bufferUpdated(n: number): void {
    if (this._dlList === this.#srv.idleDeadlines) this.#srv.headerDeadlines.add(this);
    this.#parser.bufferUpdated(n);
    if ((this.#f & F_BACKLOG_PAUSED) === 0 && this.#parser.backlog > BACKLOG_MAX && !this.#parser.dead) {
      this.#f |= F_BACKLOG_PAUSED;
      this.#updateReading();
    }
  }

  eofReceived(): boolean {
    this.#f |= F_EOF;
    if (this.#tunnel !== null) return this.#tunnel.eofReceived?.() === true;
    const r = this.#parser.feedEof();
    const busy = (this.#f & F_RUNNING) !== 0 || (this.#res !== null && !this.#res.finished);
    if (r === 2) return busy || this.#srv.allowHalfOpen;   // a request cut short: _onError answered it
    if (busy && this.#srv.allowHalfOpen) return true;   // answer, then close
    // The client is gone (as node:http takes it): halt the handler now, then close.
    const task = this.#task;
    if (task !== null && !task.done()) { this.#f |= F_HALTED; task.cancel('the client went away'); }
    return false;
  }

  connectionLost(exc: Error | undefined): void {
    this.#f |= F_LOST;
    this.#srv.connGone(this);
    this.#parser.kill();
    this._dlList?.remove(this);
    this.#req?.body._fail(exc ?? connectionLostError());
    this.#wakeDrain();
    const task = this.#task;
    if (task !== null && !task.done()) { this.#f |= F_HALTED; task.cancel('the client went away'); }
    const tunnel = this.#tunnel;
    if (tunnel !== null) tunnel.connectionLost?.(exc);
  }

  pauseWriting(): void {
    this.#f |= F_WRITE_PAUSED;
    this.#tunnel?.pauseWriting?.();
  }

  resumeWriting(): void {
    this.#f &= ~F_WRITE_PAUSED;
    this.#wakeDrain();
    this.#tunnel?.resumeWriting?.();
  }

  // ---- the parser's events -----------------------------------------------------------

  _onHead(h: ParsedHead): void {
    const srv = this.#srv;
    const t = this.#t!;
    this.#count++;
    this._dlList?.remove(this);
    this.#f &= ~(F_CONTINUED | F_HALTED);
    const body = new HttpBody(this, h.bodyKind === BODY_LENGTH ? h.length : null, h.bodyKind === BODY_NONE, { limit: srv.bodyLimit, loop: this.#loop });
    const req = new HttpRequest(h, body, t);
    const res = new HttpResponse(this, req);
    this.#req = req;
    this.#res = res;
    if (h.bodyKind === BODY_LENGTH && h.length > srv.maxBodySize) {
      this.#refuseRequest(413, `the body (${h.length} bytes) is over the limit of ${srv.maxBodySize}`);
      return;
    }
    if (h.expect !== null && h.version === '1.1' && h.expect !== '100-continue') {
      this.#refuseRequest(417, `unsupported expectation ${h.expect}`);
      return;
    }
    this.#f |= F_RUNNING;
    this.#task = null;
    const task = new Task(runHandler(this, srv.handler, req, res), { loop: this.#loop, name: 'HTTP handler', eagerStart: true });
    if ((this.#f & F_RUNNING) !== 0) this.#task = task;
  }

  _bodyReadSize(): number { return bodyReadSize(this.#req?.body); }

  _onBody(chunk: Uint8Array): void {
    const req = this.#req;
    if (req === null) return;
    if (req.body.received + chunk.length > this.#srv.maxBodySize) {
      this.#parser.kill();
      this.#f |= F_CLOSE_AFTER;
      const e = new HttpError(413, `the body is over the limit of ${this.#srv.maxBodySize} bytes`);
      req.body._fail(e);
      if ((this.#f & F_RUNNING) === 0) this.#refuseRequest(413, e.message);
      return;
    }
    if ((this.#f & F_DISCARDING) === 0) req.body._push(chunk);
  }

  _onEnd(trailers: Headers | null): void {
    const req = this.#req;
    if (req === null) return;
    req.body._end(trailers);
    if ((this.#f & F_DISCARDING) !== 0) { this.#f &= ~F_DISCARDING; this.#next(); }
  }

  _onError(e: HttpError): void {
    const req = this.#req;
    if (req !== null && !req.body.complete) {
      // The body of a request being served is malformed: its handler's reads fail; then the connection closes.
      this.#f |= F_CLOSE_AFTER;
      req.body._fail(e);
      if ((this.#f & F_RUNNING) === 0) {
        if (this.#res?.finished === false) this.#res._sendError(e.status, e.message, e.headers);
        this.#close();
      }
      return;
    }
    this.#refuse(e.status, e.message);
  }

  // ---- the body's back-pressure ----------------------------------------------------------

  _pauseBody(): void { this.#f |= F_BODY_PAUSED; this.#updateReading(); }
  _resumeBody(): void { this.#f &= ~F_BODY_PAUSED; this.#updateReading(); }

  _bodyWanted(): void {
    const req = this.#req, res = this.#res;
    if (req === null || res === null || (this.#f & F_CONTINUED) !== 0 || res.headersSent) return;
    if (req._head.expect === '100-continue' && req.version === '1.1' && !req.body.complete) {
      this.#f |= F_CONTINUED;
      this.#t!.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  _bodyAbandoned(): void { /* the rest is dropped or the connection closed when the response ends */ }

  // ---- the response's calls ------------------------------------------------------------------

  /** @internal */
  _transport(): Transport { return this.#t!; }

  /** @internal a response to `req` carries a body (not for HEAD). */
  _bodyAllowed(req: HttpRequest): boolean { return req.method !== 'HEAD'; }

  /**
   * @internal must the connection close after the response to `req`? `ending`: the whole response is going out
   * now, so a body the handler has not read by then will not be read (a streamed response may still read on).
   */
  _mustClose(req: HttpRequest, ending: boolean): boolean {
    if ((this.#f & F_CLOSE_AFTER) !== 0 || (this.#f & F_EOF) !== 0 || this.#srv.closing || !req._head.keepAlive || this.#count >= this.#srv.maxRequests) return true;
    return ending && !req.body.complete && !this.#canDiscard(req);
  }

  /** Can what the handler left of the body be read and dropped after the response? */
  #canDiscard(req: HttpRequest): boolean {
    const b = req.body;
    if (b.error !== null || b.length === null) return false;
    if (req._head.expect === '100-continue' && (this.#f & F_CONTINUED) === 0) return false;   // the client may never send it
    return b.length - b.received <= DISCARD_MAX;
  }

  /** @internal */
  *_drain(): Coro<void> {
    if ((this.#f & F_LOST) !== 0) throw connectionLostError();
    if ((this.#f & F_WRITE_PAUSED) === 0) return;
    const f = new Future<void>({ loop: this.#loop, description: 'HttpResponse.drain' });
    (this.#drainWaiters ??= []).push(f);
    yield* f;
  }

  /** @internal the response ended (the handler may still be running). */
  _responseEnded(_res: HttpResponse): void {
    if ((this.#f & F_RUNNING) === 0) this.#afterExchange();
  }

  /** @internal the handler accepted an upgrade. */
  _upgrade(p: Protocol): void {
    this.#tunnel = p;
    this._dlList?.remove(this);
    p.connectionMade?.(this.#t!);
    this.#parser.detach((d) => { this.#tunnel?.dataReceived?.(d); });
  }

  // ---- the handler's task --------------------------------------------------------------------

  /** @internal the handler threw (not a cancellation). */
  _handlerFailed(e: unknown, res: HttpResponse): void {
    if ((this.#f & F_LOST) !== 0) return;
    const status = e instanceof HttpError ? e.status : 500;
    if (!(e instanceof HttpError) || status >= 500) {
      this.#loop.callExceptionHandler({ message: 'HTTP handler failed', exception: e, transport: this.#t ?? undefined, protocol: this });
    }
    if (res.finished) return;
    const message = e instanceof HttpError ? e.message : STATUS_TEXT[500]!;
    let sent = false;
    try {
      sent = res._sendError(status, message, e instanceof HttpError ? e.headers : {});
    } catch (e2) {
      this.#loop.callExceptionHandler({ message: 'HTTP error response failed', exception: e2, transport: this.#t ?? undefined, protocol: this });
    }
    // Otherwise the head is out: the client must see the response broken, not complete.
    if (!sent) this.#t?.abort(e instanceof Error ? e : new Error(String(e)));
  }

  /** @internal the handler's task ends (returned, threw, or was halted). */
  _handlerFinished(res: HttpResponse): void {
    this.#f &= ~F_RUNNING;
    this.#task = null;
    if ((this.#f & F_LOST) !== 0 || res._upgraded) return;
    if (!res.finished) {
      try {
        if ((this.#f & F_HALTED) === 0) res.end();   // calls _responseEnded
        else if (!this.#srv.halting || !res._sendError(503, 'the server is shutting down', {})) this.#t?.abort();
      } catch (e) {
        this.#loop.callExceptionHandler({ message: 'ending the HTTP response failed', exception: e, transport: this.#t ?? undefined, protocol: this });
        this.#t?.abort(e instanceof Error ? e : new Error(String(e)));
      }
      return;
    }
    this.#afterExchange();
  }

  /** The handler is done and its response ended: close, drop the rest of the body, or serve the next request. */
  #afterExchange(): void {
    const req = this.#req, res = this.#res;
    if ((this.#f & F_LOST) !== 0 || req === null || res === null || this.#tunnel !== null) return;
    if (res._willClose || (this.#f & F_CLOSE_AFTER) !== 0 || this.#srv.closing || (this.#f & F_EOF) !== 0) { this.#close(); return; }
    if (!req.body.complete) {
      if (!this.#canDiscard(req)) { this.#close(); return; }
      // The rest of the body (at most DISCARD_MAX) is read and dropped; the next request follows it.
      this.#f |= F_DISCARDING;
      this.#f &= ~F_BODY_PAUSED;
      this.#updateReading();
      return;
    }
    this.#next();
  }

  #next(): void {
    this.#req = null;
    this.#res = null;
    this.#srv.idleDeadlines.add(this);
    // An unread body that paused the reading is complete and dropped with its request.
    if ((this.#f & F_BACKLOG_PAUSED) !== 0 || (this.#f & F_BODY_PAUSED) !== 0) { this.#f &= ~F_BACKLOG_PAUSED; this.#f &= ~F_BODY_PAUSED; this.#updateReading(); }
    this.#parser.nextMessage();
  }

  // ---- refusals, closing, timers -----------------------------------------------------------

  /** Refuse the request just parsed (no handler ran). */
  #refuseRequest(status: number, why: string): void {
    this.#f |= F_CLOSE_AFTER;
    this.#parser.kill();
    this.#res!._sendError(status, why, {});
    this.#close();
  }

  /** Answer a malformed request (or a timeout) with `status` and close: nothing is read after it. */
  #refuse(status: number, why: string): void {
    this.#parser.kill();
    const t = this.#t;
    if (t === null || t.isClosing()) return;
    const body = `${why}\n`;
    t.write(`${statusLine(status, null)}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    this.#close();
  }

  #close(): void {
    this.#parser.kill();
    this._dlList?.remove(this);
    const t = this.#t;
    if (t !== null && !t.isClosing()) t.close();
  }

  /** @internal the server stops: close now if idle, else after the response in progress. */
  _serverClosing(): void {
    this.#f |= F_CLOSE_AFTER;
    if ((this.#f & F_RUNNING) === 0 && !this.#parser.inMessage && this.#tunnel === null) this.#close();
  }

  /** @internal the server is halted: halt the handler (its cleanup answers 503 if nothing was sent), then close. */
  _halt(): void {
    this.#f |= F_CLOSE_AFTER;
    const task = this.#task;
    if (task !== null && !task.done()) { this.#f |= F_HALTED; task.cancel('the server is shutting down'); }
    else if (this.#tunnel !== null) this.#t?.close();
    else if ((this.#f & F_RUNNING) === 0) this.#close();
  }

  /** @internal */
  _abort(): void { this.#t?.abort(); }

  /** @internal a deadline passed: the head of a request came too late (408), or the connection idled too long. */
  _expired(list: DeadlineList): void {
    if ((this.#f & F_LOST) !== 0) return;
    if (list === this.#srv.headerDeadlines) this.#refuse(408, 'the request head did not arrive in time');
    else this.#close();
  }

  #updateReading(): void {
    const t = this.#t;
    if (t === null) return;
    const want = (this.#f & (F_BODY_PAUSED | F_BACKLOG_PAUSED)) === 0;
    if (want === ((this.#f & F_NOT_READING) === 0)) return;
    if (want) {
      this.#f &= ~F_NOT_READING;
      t.resumeReading();
    } else {
      this.#f |= F_NOT_READING;
      t.pauseReading();
    }
  }

  #wakeDrain(): void {
    const ws = this.#drainWaiters;
    if (ws === null) return;
    this.#drainWaiters = null;
    for (const f of ws) {
      if (f.done()) continue;
      if ((this.#f & F_LOST) !== 0) { f.setException(connectionLostError()); void f.exception(); } else f.setResult();
    }
  }
}

function isCoro(x: unknown): x is Coro<void> {
  return typeof x === 'object' && x !== null && typeof (x as Coro<void>).next === 'function' && typeof (x as Coro<void>).throw === 'function';
}

/** A request's task: the handler, then the response's end whatever happened. */
function* runHandler(conn: HttpServerConnection, handler: HttpHandler, req: HttpRequest, res: HttpResponse): Coro<void> {
  try {
    const r = handler(req, res);
    if (r !== undefined && r !== null) {
      if (isCoro(r)) yield* r;
      else if (isThenable(r)) yield* fromPromise(r);
    }
  } catch (e) {
    conn._handlerFailed(e, res);
  } finally {
    conn._handlerFinished(res);
  }
}
