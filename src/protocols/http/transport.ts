/**
 * PEP 3153's stack, its middle layer: a transport made of HTTP, so that a
 * message protocol written against `Transport` (JsonRpcProtocol, say) runs
 * over HTTP unchanged, as it runs over '\n'-framed TCP or a child's pipes.
 *
 * On the client, `createHttpConnection` gives the protocol a transport
 * whose `write(m)` POSTs `m` as one request and whose replies arrive as
 * `dataReceived` (one response body per call; a 204 delivers nothing). A
 * request that fails (the server cannot be reached, or answers with
 * anything but 200 or 204) ends the transport with that error, as a reset
 * ends a TCP connection.
 *
 * On the server, `httpMessageHandler(factory)` is a handler that gives each
 * POSTed body to a new protocol instance (`connectionMade`,
 * `dataReceived(body)`, `eofReceived()`), and sends its first `write()` back
 * as the response; if it closes the transport without writing, the
 * response is 204. Then the instance's transport is lost
 * (`connectionLost`), so what it left running is cancelled. JSON-RPC over
 * HTTP answers 200 with the JSON-RPC body, errors included; another method
 * than POST is 405.
 */
import { type Context, currentContext, swapContext } from '../../kernel/context.js';
import { getRunningLoop, type Coro, type EventLoop } from '../../kernel/events.js';
import { Future } from '../../kernel/future.js';
import { Task } from '../../kernel/task.js';
import type { Protocol, PushProducer, Transport } from '../../kernel/transport_types.js';
import { connectionLostError } from '../stream_transport.js';
import { HttpClient } from './client.js';
import { HttpError } from './errors.js';
import type { HeadersInit } from './headers.js';
import type { HttpHandler } from './server.js';

type Bytes = Uint8Array | string;

/** Call a protocol method in `ctx`; an exception goes to the exception handler and `onFail` (the transport aborts). */
function call(loop: EventLoop, ctx: Context, p: Protocol, name: keyof Protocol, arg: unknown, t: Transport, onFail: (e: Error) => void): unknown {
  const fn = (p as Record<string, unknown>)[name];
  if (typeof fn !== 'function') return undefined;
  const prev = swapContext(ctx);
  try {
    return (fn as (a?: unknown) => unknown).call(p, arg);
  } catch (e) {
    loop.callExceptionHandler({ message: `Fatal error: protocol.${name}() call failed.`, exception: e, transport: t, protocol: p });
    if (name !== 'connectionLost') onFail(e instanceof Error ? e : new Error(String(e)));
    return undefined;
  } finally {
    swapContext(prev);
  }
}

function concat(list: Iterable<Bytes>): Bytes {
  const items = [...list];
  if (items.every((d) => typeof d === 'string')) return items.join('');
  const enc = new TextEncoder();
  const parts = items.map((d) => (typeof d === 'string' ? enc.encode(d) : d));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** The pieces of `Transport` both sides' message transports answer alike. */
abstract class MessageTransportBase implements Transport {
  /** @internal */ protected _protocol: Protocol;
  /** @internal */ protected readonly _loop: EventLoop;
  /** @internal */ protected readonly _ctx: Context;
  /** @internal */ protected _closing = false;
  /** @internal */ protected _lost = false;
  #reading = true;
  #limits: [number, number] = [16384, 65536];

  constructor(protocol: Protocol) {
    this._protocol = protocol;
    this._loop = getRunningLoop();
    this._ctx = currentContext();
  }

  abstract getExtraInfo(name: string, fallback?: unknown): unknown;
  abstract write(data: Bytes): void;
  abstract close(): void;
  abstract abort(exc?: Error): void;

  isClosing(): boolean { return this._closing || this._lost; }
  setProtocol(p: unknown): void { this._protocol = p as Protocol; }
  getProtocol(): unknown { return this._protocol; }
  isReading(): boolean { return this.#reading && !this.isClosing(); }
  pauseReading(): void { this.#reading = false; }
  resumeReading(): void { this.#reading = true; }
  writeLines(list: Iterable<Bytes>): void { this.write(concat(list)); }
  writeEof(): void { this.close(); }
  canWriteEof(): boolean { return false; }
  getWriteBufferSize(): number { return 0; }
  getWriteBufferLimits(): [low: number, high: number] { return this.#limits; }
  setWriteBufferLimits(high?: number, low?: number): void {
    const h = high ?? (low !== undefined ? 4 * low : 65536);
    this.#limits = [low ?? Math.floor(h / 4), h];
  }
  registerProducer(_p: PushProducer): void { /* a message is sent whole: nothing to pause */ }
  unregisterProducer(): void { /* nothing registered */ }
  /** `using t = ...`: `close()`. */
  [Symbol.dispose](): void { this.close(); }

  /** @internal call a protocol method in the transport's context (a throw aborts the transport). */
  protected _call(name: keyof Protocol, arg?: unknown): unknown {
    return call(this._loop, this._ctx, this._protocol, name, arg, this, (e) => { this.abort(e); });
  }
}

/**
 * Options of {@link createHttpConnection}.
 * @example
 * const client = new HttpClient({ maxConnectionsPerOrigin: 4 });
 * yield* createHttpConnection(() => new JsonRpcProtocol(), 'http://127.0.0.1:8080/rpc', { client, headers: { authorization: 'Bearer x' } } satisfies HttpConnectionOptions);
 */
export interface HttpConnectionOptions {
  /** The client whose pool carries the requests (default: one made for this transport, closed with it). */
  client?: HttpClient;
  /** Header fields of every request. */
  headers?: HeadersInit;
  /** The Content-Type of the requests: 'application/json'. */
  contentType?: string;
  /** The largest reply accepted: 16 MiB. */
  maxReply?: number;
}

/**
 * The client side of a message protocol over HTTP: `write(m)` POSTs one
 * message to the URL, each reply body arrives through `dataReceived`.
 * Made by {@link createHttpConnection}.
 * @example
 * const [t, rpc] = yield* createHttpConnection(() => new JsonRpcProtocol(), 'http://127.0.0.1:8080/rpc');
 * t.close();
 */
export class HttpClientTransport extends MessageTransportBase {
  readonly #client: HttpClient;
  readonly #ownClient: boolean;
  readonly #url: string;
  readonly #opts: HttpConnectionOptions;
  readonly #tasks = new Set<Task<void>>();
  /** Replies that arrived while reading was paused. */
  #queue: Uint8Array[] = [];

  /** @internal */
  constructor(protocol: Protocol, url: string, opts: HttpConnectionOptions) {
    super(protocol);
    this.#url = url;
    this.#opts = opts;
    this.#ownClient = opts.client === undefined;
    this.#client = opts.client ?? new HttpClient();
  }

  /** 'url': the URL the messages are POSTed to; 'client': the HttpClient that carries them. */
  getExtraInfo(name: string, fallback?: unknown): unknown {
    if (name === 'url') return this.#url;
    if (name === 'client') return this.#client;
    return fallback;
  }

  /** Deliver again (replies that came while reading was paused first). */
  override resumeReading(): void {
    super.resumeReading();
    while (this.#queue.length > 0 && this.isReading()) this._call('dataReceived', this.#queue.shift());
  }

  /** POST `message` (one request); its reply comes back through `dataReceived`. */
  write(message: Bytes): void {
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or a string, not ${typeof message}`);
    if (this.isClosing()) return;
    const task = new Task(this.#post(message), { loop: this._loop, name: `HTTP POST ${this.#url}` });
    this.#tasks.add(task);
    task.addDoneCallback(() => {
      this.#tasks.delete(task);
      if (!task.cancelled()) {
        const e = task.exception();
        if (e !== undefined) this.abort(e instanceof Error ? e : new Error(String(e)));
      }
      if (this._closing && this.#tasks.size === 0) this.#lose(undefined);
    });
  }

  *#post(message: Bytes): Coro<void> {
    const headers: Record<string, string> = { 'content-type': this.#opts.contentType ?? 'application/json' };
    const res = yield* this.#client.request('POST', this.#url, { body: message, headers: { ...headers, ...(this.#opts.headers as Record<string, string> | undefined) } });
    const reply = yield* res.bytes({ limit: this.#opts.maxReply });
    if (res.status === 204) return;
    if (res.status !== 200) throw new HttpError(res.status, `POST ${this.#url}: ${res.status} ${res.reason}`);
    if (this.isClosing() || reply.length === 0) return;
    if (this.isReading()) this._call('dataReceived', reply);
    else this.#queue.push(reply);
  }

  /** No more messages; the transport is lost once the requests in flight are answered. */
  close(): void {
    if (this.isClosing()) return;
    this._closing = true;
    if (this.#tasks.size === 0) this._loop.callSoon(() => { this.#lose(undefined); });
  }

  /** Cancel the requests in flight and lose the transport now. */
  abort(exc?: Error): void {
    if (this._lost) return;
    this._closing = true;
    for (const t of [...this.#tasks]) t.cancel();
    this.#lose(exc);
  }

  #lose(exc: Error | undefined): void {
    if (this._lost) return;
    this._lost = true;
    this.#queue = [];
    if (this.#ownClient) this.#client.close();
    this._call('connectionLost', exc);
  }

  /** @internal */
  _start(): void { this._call('connectionMade', this); }
}

/**
 * Run a message protocol over HTTP: `factory()`'s protocol gets a
 * transport whose `write(m)` POSTs `m` to `url` and whose replies arrive
 * as `dataReceived` (the client side of PEP 3153's JSON-RPC over HTTP).
 * @example
 * import { JsonRpcProtocol } from 'tulip';
 * import { createHttpConnection } from 'tulip/http';
 * const [t, rpc] = yield* createHttpConnection(() => new JsonRpcProtocol(), 'http://127.0.0.1:8080/rpc');
 * const three = yield* rpc.call<number>('add', [1, 2]);
 * t.close();
 */
export function* createHttpConnection<P extends Protocol>(factory: () => P, url: string | URL, opts: HttpConnectionOptions = {}): Coro<[HttpClientTransport, P]> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${u.protocol}`);
  const p = factory();
  const t = new HttpClientTransport(p, u.href, opts);
  t._start();
  return [t, p];
}

/** The transport one request's protocol instance sees on the server. */
class ExchangeTransport extends MessageTransportBase {
  readonly reply: Future<Bytes | null>;
  readonly #peer: Transport;

  constructor(protocol: Protocol, peer: Transport) {
    super(protocol);
    this.#peer = peer;
    this.reply = new Future<Bytes | null>({ loop: this._loop, description: 'HTTP message handler: the reply' });
  }

  getExtraInfo(name: string, fallback?: unknown): unknown { return this.#peer.getExtraInfo(name, fallback); }

  write(message: Bytes): void {
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or a string, not ${typeof message}`);
    if (this.isClosing()) return;
    this._closing = true;
    this.reply.setResult(message);
  }

  close(): void {
    if (this.isClosing()) return;
    this._closing = true;
    this.reply.setResult(null);
  }

  abort(exc?: Error): void {
    if (this._lost) return;
    this._closing = true;
    if (!this.reply.done()) { this.reply.setException(exc ?? connectionLostError()); void this.reply.exception(); }
  }

  start(body: Uint8Array): void {
    this._call('connectionMade', this);
    if (!this.isClosing()) this._call('dataReceived', body);
    if (!this.isClosing() && this._call('eofReceived') !== true) this.close();
  }

  lose(exc: Error | undefined): void {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    this._call('connectionLost', exc);
  }
}

/**
 * Options of {@link httpMessageHandler}.
 * @example
 * const methods = { ping: () => 'pong' };
 * const handler = httpMessageHandler(() => new JsonRpcProtocol({ methods }), { limit: 1 << 20 } satisfies HttpMessageHandlerOptions);
 */
export interface HttpMessageHandlerOptions {
  /** The largest request body: 1 MiB (a declared length over it is 413 before it is read). */
  limit?: number;
  /** The Content-Type of a reply: 'application/json'. */
  contentType?: string;
}

/**
 * A handler that serves a message protocol over HTTP: each POSTed body
 * goes to a new `factory()` instance, and what it writes back is the
 * response (200), or 204 if it closes without writing (a JSON-RPC
 * notification). Another method is 405.
 * @example
 * import { JsonRpcProtocol } from 'tulip';
 * import { httpMessageHandler, serveHttp } from 'tulip/http';
 * const rpc = httpMessageHandler(() => new JsonRpcProtocol({ methods: { add: (p) => { const [a, b] = p as number[]; return a! + b!; } } }));
 * const server = yield* serveHttp(rpc, '127.0.0.1', 8080);
 */
export function httpMessageHandler(factory: () => Protocol, opts: HttpMessageHandlerOptions = {}): HttpHandler {
  const limit = opts.limit ?? 1024 * 1024;
  const contentType = opts.contentType ?? 'application/json';
  return function* (req, res) {
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed here; use POST`, { headers: { Allow: 'POST' } });
    const body = yield* req.bytes({ limit });
    const t = new ExchangeTransport(factory(), req.transport);
    let reply: Bytes | null;
    try {
      t.start(body);
      reply = yield* t.reply;
    } finally {
      t.lose(undefined);
    }
    if (reply === null) {
      res.status = 204;
      res.end();
      return;
    }
    res.setHeader('Content-Type', contentType);
    res.end(reply);
  };
}
