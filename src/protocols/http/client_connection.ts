/**
 * One client connection: it writes a request's head (and a body given
 * whole in the same write), sends a streamed body from a task of its own
 * (so that the response can be read while the body goes out), parses the
 * response, and goes back to its pool once the request was sent whole and
 * the response read whole, or closes.
 *
 * Ownership: the task that made the request owns the exchange; if that
 * task ends with the response unfinished, the connection is aborted, never
 * reused in an unknown state.
 */
import { fromPromise } from '../../kernel/coro.js';
import type { Coro, EventLoop } from '../../kernel/events.js';
import { Future } from '../../kernel/future.js';
import type { TimerHandle } from '../../kernel/handles.js';
import { currentTask, Task } from '../../kernel/task.js';
import type { BufferedProtocol, Transport } from '../../kernel/transport_types.js';
import { moveOnAfter } from '../../toolkit/timeout.js';
import { StreamReader } from '../../streams/reader.js';
import { connectionLostError } from '../stream_transport.js';
import { type BodySource, bodyReadSize, HttpBody } from './body.js';
import type { BodyReader, RequestBody, RequestOptions } from './client.js';
import { HttpClientResponse } from './client_response.js';
import { HttpError } from './errors.js';
import type { Headers } from './headers.js';
import { HttpParser, type ParserSink } from './parser.js';
import { BODY_LENGTH, BODY_NONE, BODY_TUNNEL, type HttpLimits, type ParsedHead } from './syntax.js';
import type { Pool } from './pool.js';
import { byteLength, hasHigh, LAST_CHUNK, writeChunk, writeHead } from './wire.js';

function isIterable(x: unknown): x is Iterable<Uint8Array | string> {
  return typeof x === 'object' && x !== null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}
function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array | string> {
  return typeof x === 'object' && x !== null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}
export function isReplayable(b: RequestBody | undefined): boolean { return b === undefined || typeof b === 'string' || b instanceof Uint8Array; }

/** One request on a connection, from the head written to the response read. */
class Exchange {
  head: Future<ParsedHead>;
  cont: Future<void> | null = null;
  body: HttpBody | null = null;
  response: HttpClientResponse | null = null;
  sent = false;
  ended = false;
  senderDone = false;
  sender: Task<void> | null = null;
  owner: Task<unknown> | null = null;
  ownerCb: (() => void) | null = null;
  constructor(loop: EventLoop, readonly method: string) {
    this.head = new Future<ParsedHead>({ loop, description: `HTTP ${method}: the response head` });
  }
}

/** @internal the protocol of one client connection. */
export class HttpClientConnection implements BufferedProtocol, ParserSink, BodySource {
  readonly origin: string;
  readonly #pool: Pool;
  readonly #loop: EventLoop;
  readonly #parser: HttpParser;
  readonly #bodyLimit: number;
  #t: Transport | null = null;
  #x: Exchange | null = null;
  /** Requests made on this connection (a reused one may have been closed by the server meanwhile). */
  uses = 0;
  /** Has any byte of the current response arrived? */
  received = false;
  #lost = false;
  #lostExc: Error | undefined = undefined;
  #keepAlive = true;
  #idleTimer: TimerHandle | null = null;
  #writePaused = false;
  #drainWaiters: Future<void>[] | null = null;

  constructor(pool: Pool, origin: string, limits: HttpLimits, bodyLimit: number) {
    this.#pool = pool;
    this.origin = origin;
    this.#loop = pool.loop;
    this.#parser = new HttpParser('response', this, limits);
    this.#bodyLimit = bodyLimit;
  }

  get lost(): boolean { return this.#lost; }

  // ---- the transport's calls -------------------------------------------------------------

  connectionMade(t: Transport): void { this.#t = t; }
  getBuffer(): Uint8Array { return this.#parser.getBuffer(); }
  bufferUpdated(n: number): void {
    if (this.#x !== null) this.received = true;
    this.#parser.bufferUpdated(n);
    if (this.#x === null && this.#parser.backlog > 0) this.abort();   // bytes nobody asked for
  }
  eofReceived(): boolean {
    const r = this.#parser.feedEof();
    if (r === 0 && this.#x !== null && !this.#x.head.done()) this.#failExchange(new HttpError(502, 'the server closed the connection without a response'));
    this.#keepAlive = false;
    return false;
  }
  connectionLost(exc: Error | undefined): void {
    this.#lost = true;
    this.#lostExc = exc;
    this.#parser.kill();
    this.#idleTimer?.cancel();
    this.#idleTimer = null;
    this.#failExchange(exc ?? connectionLostError());
    this.#wakeDrain();
    this.#pool._closed(this);
  }
  pauseWriting(): void { this.#writePaused = true; }
  resumeWriting(): void { this.#writePaused = false; this.#wakeDrain(); }

  // ---- the parser's events --------------------------------------------------------------

  _onHead(h: ParsedHead): void {
    const x = this.#x;
    if (x === null || x.head.done()) { this.abort(); return; }
    if (!h.keepAlive) this.#keepAlive = false;
    if (h.bodyKind === BODY_TUNNEL) {
      this.#keepAlive = false;
      this.#parser.kill();
    }
    x.body = new HttpBody(this, h.bodyKind === BODY_LENGTH ? h.length : null, h.bodyKind === BODY_NONE || h.bodyKind === BODY_TUNNEL,
      { limit: this.#bodyLimit, badStatus: 502, loop: this.#loop });
    x.head.setResult(h);
    if (x.cont !== null && !x.cont.done()) x.cont.setResult();
    if (x.body.complete) this.#responseEnded(x);
  }
  _onInformational(h: ParsedHead): void {
    if (h.status === 100) { const c = this.#x?.cont; if (c != null && !c.done()) c.setResult(); }
  }
  _onBody(chunk: Uint8Array): void { this.#x?.body?._push(chunk); }
  _bodyReadSize(): number { return bodyReadSize(this.#x?.body); }
  _onEnd(trailers: Headers | null): void {
    const x = this.#x;
    if (x === null || x.body === null) return;
    x.body._end(trailers);
    this.#responseEnded(x);
  }
  _onError(e: HttpError): void {
    this.#keepAlive = false;
    this.#failExchange(e);
    this.#t?.abort(e);
  }

  // ---- the body's back-pressure --------------------------------------------------------------

  _pauseBody(): void { this.#t?.pauseReading(); }
  _resumeBody(): void { if (!this.#lost) this.#t?.resumeReading(); }
  _bodyWanted(): void { /* nothing to announce on the client side */ }
  _bodyAbandoned(): void { if (this.#x !== null) this.abort(); }

  /** @internal a response given up: abort unless it is complete. */
  _abandon(res: HttpClientResponse): void {
    const x = this.#x;
    if (x === null || x.response !== res) return;
    if (!res.body.complete) this.abort();
  }

  abort(exc?: Error): void {
    this.#keepAlive = false;
    this.#parser.kill();
    if (this.#t !== null) this.#t.abort(exc);
    else this.connectionLost(exc);
  }

  close(): void {
    this.#keepAlive = false;
    if (this.#x === null) this.#t?.close();
  }

  // ---- one request ---------------------------------------------------------------------------

  /** Send a request and wait for its response's head. */
  *exchange(method: string, url: URL, headers: Headers, body: RequestBody | undefined, opts: RequestOptions): Coro<HttpClientResponse> {
    if (this.#lost) throw this.#lostExc ?? connectionLostError();
    const t = this.#t!;
    this.#idleTimer?.cancel();
    this.#idleTimer = null;
    this.uses++;
    this.received = false;
    const x = new Exchange(this.#loop, method);
    this.#x = x;
    // Ownership: when the calling task ends with this response unfinished, the connection goes.
    const owner = currentTask() ?? null;
    if (owner !== null) {
      x.owner = owner;
      x.ownerCb = (): void => { if (this.#x === x && !x.ended) this.abort(); };
      owner.addDoneCallback(x.ownerCb);
    }
    this.#parser.expectResponse(method);

    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
    let hasHost = false, hasLength = false, hasTe = false;
    for (const [n, v] of headers) {
      const l = n.toLowerCase();
      if (l === 'host') hasHost = true;
      else if (l === 'content-length') hasLength = true;
      else if (l === 'transfer-encoding') hasTe = true;
      head += `${n}: ${v}\r\n`;
    }
    if (!hasHost) head = head.replace('\r\n', `\r\nHost: ${url.host}\r\n`);
    const whole = typeof body === 'string' || body instanceof Uint8Array;
    const streamed = body !== undefined && !whole;
    if (whole && !hasLength && !hasTe) head += `Content-Length: ${byteLength(body)}\r\n`;
    else if (body === undefined && !hasLength && (method === 'POST' || method === 'PUT' || method === 'PATCH')) head += 'Content-Length: 0\r\n';
    else if (streamed && !hasLength && !hasTe) head += 'Transfer-Encoding: chunked\r\n';
    const chunked = streamed && !hasLength;
    if (opts.expectContinue === true && body !== undefined) head += 'Expect: 100-continue\r\n';
    head += '\r\n';
    const high = hasHigh(head);

    if (body === undefined) {
      writeHead(t, head, high, null);
      x.sent = true;
    } else if (whole && opts.expectContinue !== true) {
      writeHead(t, head, high, body);
      x.sent = true;
    } else {
      writeHead(t, head, high, null);
      if (opts.expectContinue === true) x.cont = new Future<void>({ loop: this.#loop, description: 'HTTP: 100 Continue' });
      x.sender = new Task(this.#sendBody(x, body, chunked), { loop: this.#loop, name: 'HTTP request body' });
      x.sender.addDoneCallback((task) => {
        if (task.cancelled()) return;
        const e = task.exception();
        if (e !== undefined && this.#x === x) this.abort(e instanceof Error ? e : new Error(String(e)));
      });
    }
    const h = yield* x.head;
    const res = new HttpClientResponse(h, x.body!, url.href, this);
    x.response = res;
    return res;
  }

  /** The request body, by the connection's own task (see the file header). */
  *#sendBody(x: Exchange, body: RequestBody, chunked: boolean): Coro<void> {
    try {
      if (x.cont !== null) {
        const cont = x.cont;
        yield* moveOnAfter(1000, function* () { yield* cont; });
        if (x.head.done()) return;   // a final answer came first: the body is not wanted (the connection closes)
      }
      yield* this.#sendBodyNow(x, body, chunked);
    } finally {
      x.senderDone = true;
      if (x.ended) this.#release(x);
    }
  }

  *#sendBodyNow(x: Exchange, body: RequestBody, chunked: boolean): Coro<void> {
    const t = this.#t!;
    const send = (c: Uint8Array | string): void => {
      if (c.length === 0 || this.#lost) return;
      if (chunked) writeChunk(t, c, '', '');
      else t.write(c);
    };
    if (typeof body === 'string' || body instanceof Uint8Array) send(body);
    else if (typeof body === 'function') {
      yield* body({ write: send, drain: () => this.#drain() });
    } else if (body instanceof StreamReader) {
      for (;;) { const c = yield* body.read(65536); if (c.length === 0) break; send(c); yield* this.#drain(); }
    } else if (typeof (body as BodyReader).read === 'function') {
      for (;;) { const c = yield* (body as BodyReader).read(); if (c === null || c.length === 0) break; send(c); yield* this.#drain(); }
    } else if (isIterable(body)) {
      for (const c of body) { send(c); yield* this.#drain(); }
    } else if (isAsyncIterable(body)) {
      const it = body[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = yield* fromPromise(it.next());
          if (r.done === true) break;
          send(r.value);
          yield* this.#drain();
        }
      } finally {
        if (typeof it.return === 'function') void Promise.resolve(it.return()).catch(() => undefined);
      }
    } else throw new TypeError('unsupported request body');
    if (chunked && !this.#lost) t.write(LAST_CHUNK);
    x.sent = true;
  }

  *#drain(): Coro<void> {
    if (this.#lost) throw this.#lostExc ?? connectionLostError();
    if (!this.#writePaused) return;
    const f = new Future<void>({ loop: this.#loop, description: 'HTTP request body: drain' });
    (this.#drainWaiters ??= []).push(f);
    yield* f;
  }

  #responseEnded(x: Exchange): void {
    x.ended = true;
    if (x.sender === null || x.senderDone) this.#release(x);
  }

  /** The exchange is over: back to the pool, or closed. */
  #release(x: Exchange): void {
    if (this.#x !== x) return;
    this.#x = null;
    if (x.owner !== null && x.ownerCb !== null) x.owner.removeDoneCallback(x.ownerCb);
    if (this.#lost) return;
    if (!this.#keepAlive || !x.sent || this.#parser.dead) { this.#t?.close(); return; }
    // The body may have paused reading and was left unread (it is complete): the next response must be read.
    if (this.#t !== null && !this.#t.isReading()) this.#t.resumeReading();
    this.#pool._release(this);
  }

  /** @internal idle in the pool: closed after `ms`. */
  _idle(ms: number): void {
    this.#idleTimer = this.#loop.callLater(ms, () => { this.#idleTimer = null; this.#keepAlive = false; this.#t?.close(); });
  }

  #failExchange(e: Error): void {
    const x = this.#x;
    if (x === null) return;
    if (!x.head.done()) { x.head.setException(e); void x.head.exception(); }
    if (x.cont !== null && !x.cont.done()) x.cont.setResult();
    x.body?._fail(e);
    if (x.sender !== null && !x.sender.done()) x.sender.cancel();
    if (this.#lost) {
      this.#x = null;
      if (x.owner !== null && x.ownerCb !== null) x.owner.removeDoneCallback(x.ownerCb);
    }
  }

  #wakeDrain(): void {
    const ws = this.#drainWaiters;
    if (ws === null) return;
    this.#drainWaiters = null;
    for (const f of ws) {
      if (f.done()) continue;
      if (this.#lost) { f.setException(this.#lostExc ?? connectionLostError()); void f.exception(); } else f.setResult();
    }
  }
}
