/**
 * The HTTP/1.1 client: `HttpClient` keeps a pool of keep-alive connections
 * per origin (scheme, host, port), within a limit per origin and one in
 * total; a request past them waits its turn (FIFO), and a request that
 * gives up while waiting loses nothing (a connection handed to it goes
 * back to the pool).
 *
 * A request runs in its caller's task, under its caller's scopes: a
 * timeout or cancel that lands before the response's head has arrived
 * aborts the connection (it is never reused in an unknown state); one that
 * lands in `text()`/`json()`/`bytes()` does the same; and when the task
 * that made a request ends with that response's body unfinished, the
 * connection is aborted too. A connection goes back to the pool only once
 * its request was sent whole and its response read whole.
 *
 * The request body is sent by a task of the connection's, so that the
 * response can be read while the body is still going out (a server that
 * streams its answer as it reads, or refuses early with 413).
 */
import { getRunningLoop, type Coro } from '../../kernel/events.js';
import type { StreamReader } from '../../streams/reader.js';
import { DEFAULT_BODY_LIMIT } from './body.js';
import { HttpClientConnection, isReplayable } from './client_connection.js';
import type { HttpClientResponse } from './client_response.js';
import { HttpError } from './errors.js';
import { Headers, type HeadersInit, isToken, toHeaders } from './headers.js';
import { DEFAULT_LIMITS, type HttpLimits } from './syntax.js';
import { Pool } from './pool.js';

export { HttpClientResponse } from './client_response.js';

/**
 * Something a request body can be read from: an {@link HttpBody} (a
 * proxy's), a tulip `StreamReader`, or any object whose `read()` gives the
 * next chunk and null (or an empty chunk) at the end.
 * @example
 * const src: BodyReader = { *read() { return null; } };
 */
export interface BodyReader {
  /** The next chunk; null (or an empty chunk) at the end. */
  read(): Coro<Uint8Array | null>;
}

/**
 * What a request-body writer function is given: `write()` a chunk, then `drain()` to follow the server's pace.
 * @example
 * const body = function* (w: BodyWriter) { for (const part of ['a', 'b', 'c']) { w.write(part); yield* w.drain(); } };
 * yield* new HttpClient().request('POST', 'http://127.0.0.1:8080/upload', { body });
 */
export interface BodyWriter {
  /** Send a chunk of the body (never waits). */
  write(chunk: Uint8Array | string): void;
  /** Wait until the server has taken enough of what was written. */
  drain(): Coro<void>;
}

/**
 * A request body: bytes or a string (sent with Content-Length), or a
 * stream (sent chunked, with back-pressure): a {@link BodyReader}, a
 * writer function, or an iterable (sync or async) of chunks.
 * @example
 * const client = new HttpClient();
 * const body: RequestBody = function* (w: BodyWriter) { w.write('a'); yield* w.drain(); w.write('b'); };
 * yield* client.request('POST', 'http://127.0.0.1:8080/upload', { body });
 */
export type RequestBody = Uint8Array | string | BodyReader | StreamReader | ((w: BodyWriter) => Coro<void>)
  | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/**
 * Options of {@link HttpClient}.
 * @example
 * import { readFileSync } from 'node:fs';
 * const client = new HttpClient({ maxConnectionsPerOrigin: 4, ssl: { ca: readFileSync('ca.pem') } } satisfies HttpClientOptions);
 */
export interface HttpClientOptions extends Partial<HttpLimits> {
  /** Connections open to one origin at most: 10. */
  maxConnectionsPerOrigin?: number;
  /** Connections open in total at most: 100. */
  maxConnections?: number;
  /** An idle pooled connection is closed after: 4 s (under the usual server's 5 s, so the server rarely closes first). */
  keepAliveTimeout?: number;
  /** TLS for https: `true` (the system's CAs, the default) or TLS options (`{ ca }`, ...), as `createConnection` takes them. Verification is on unless `rejectUnauthorized: false`. */
  ssl?: unknown;
  /** The default limit of `text()`/`json()`/`bytes()` on a response: 16 MiB. */
  bodyLimit?: number;
  /** Header fields sent with every request (a request's own replace them). */
  headers?: HeadersInit;
}

/**
 * Options of {@link HttpClient.request}.
 * @example
 * const client = new HttpClient();
 * yield* client.request('POST', 'http://127.0.0.1:8080/api', { json: { a: 1 }, headers: { authorization: 'Bearer x' }, redirect: 5 } satisfies RequestOptions);
 */
export interface RequestOptions {
  /** Header fields. */
  headers?: HeadersInit;
  /** The body. */
  body?: RequestBody;
  /** A body of JSON (`Content-Type: application/json`). */
  json?: unknown;
  /** Follow redirects: `true` (up to 10) or the most to follow; default: a 3xx is returned as it is. */
  redirect?: boolean | number;
  /** Send `Expect: 100-continue` and the body only once the server agrees (or 1 s passed). */
  expectContinue?: boolean;
  /** The default limit of the buffered reads of this response. */
  bodyLimit?: number;
}

/**
 * An HTTP/1.1 client with a keep-alive connection pool.
 * @example
 * import { run } from 'tulip';
 * import { HttpClient } from 'tulip/http';
 * await run(function* () {
 *   const client = new HttpClient();
 *   try {
 *     const res = yield* client.request('GET', 'http://127.0.0.1:8080/hello');
 *     console.log(res.status, res.headers.get('content-type'), yield* res.text());
 *   } finally {
 *     client.close();
 *   }
 * });
 */
export class HttpClient {
  readonly #opts: HttpClientOptions;
  readonly #limits: HttpLimits;
  readonly #defaults: Headers;
  #pool: Pool | null = null;
  #closed = false;

  constructor(opts: HttpClientOptions = {}) {
    this.#opts = opts;
    this.#limits = {
      maxRequestLine: opts.maxRequestLine ?? DEFAULT_LIMITS.maxRequestLine,
      maxHeaderSize: opts.maxHeaderSize ?? DEFAULT_LIMITS.maxHeaderSize,
      maxHeaders: opts.maxHeaders ?? DEFAULT_LIMITS.maxHeaders,
      maxChunkExtensions: opts.maxChunkExtensions ?? DEFAULT_LIMITS.maxChunkExtensions,
    };
    this.#defaults = toHeaders(opts.headers);
  }

  #getPool(): Pool {
    if (this.#closed) throw new Error('the HttpClient is closed');
    if (this.#pool === null) {
      const o = this.#opts;
      this.#pool = new Pool(getRunningLoop(), o.maxConnectionsPerOrigin ?? 10, o.maxConnections ?? 100, o.keepAliveTimeout ?? 4000);
    } else if (this.#pool.closed) throw new Error('the HttpClient is closed');
    return this.#pool;
  }

  /**
   * Send a request and return the response once its head has arrived
   * (read its body, or `close()` it, to free the connection).
   * @example
   * const client = new HttpClient();
   * const res = yield* client.request('POST', 'http://127.0.0.1:8080/echo', { body: 'hi' });
   * const echoed = yield* res.text();
   */
  *request(method: string, url: string | URL, opts: RequestOptions = {}): Coro<HttpClientResponse> {
    if (!isToken(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
    let u = typeof url === 'string' ? new URL(url) : new URL(url.href);
    let headers = new Headers(this.#defaults);
    for (const [n, v] of toHeaders(opts.headers)) headers.set(n, v);
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
    }
    const maxHops = opts.redirect === true ? 10 : typeof opts.redirect === 'number' ? opts.redirect : 0;
    for (let hop = 0; ; hop++) {
      const res = yield* this.#once(method, u, headers, body, opts);
      const loc = res.headers.get('location');
      if (hop >= maxHops || loc === null || ![301, 302, 303, 307, 308].includes(res.status)) return res;
      const next = new URL(loc, u);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return res;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        headers = new Headers(headers);
        headers.delete('content-type');
        headers.delete('content-length');
      } else if (!isReplayable(body)) return res;
      if (next.origin !== u.origin) {
        headers = new Headers(headers);
        headers.delete('authorization');
        headers.delete('cookie');
        headers.delete('host');
      }
      yield* discard(res);
      u = next;
    }
  }

  *#once(method: string, u: URL, headers: Headers, body: RequestBody | undefined, opts: RequestOptions): Coro<HttpClientResponse> {
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${u.protocol}`);
    const pool = this.#getPool();
    const origin = `${u.protocol}//${u.host}`;
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    const limits = this.#limits;
    const bodyLimit = opts.bodyLimit ?? this.#opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
    const ssl = u.protocol === 'https:' ? (this.#opts.ssl ?? true) : undefined;
    const connect = function* (): Coro<HttpClientConnection> {
      const [, c] = yield* pool.loop.createConnection(() => new HttpClientConnection(pool, origin, limits, bodyLimit), host, port,
        ssl === undefined ? {} : { ssl });
      return c;
    };
    for (let attempt = 0; ; attempt++) {
      const conn = yield* pool.acquire(origin, connect);
      let ok = false;
      try {
        const res = yield* conn.exchange(method, u, headers, body, opts);
        ok = true;
        return res;
      } catch (e) {
        // A kept-alive connection the server closed as we reused it: try once more on a fresh one, when that is safe.
        const retry = attempt === 0 && conn.uses > 1 && !conn.received && isReplayable(body)
          && ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'].includes(method) && !(e instanceof HttpError && e.status !== 502);
        if (!retry) throw e;
      } finally {
        if (!ok) conn.abort();
      }
    }
  }

  /** Close every connection (requests in progress fail); later requests throw. @example const client = new HttpClient(); client.close(); */
  close(): void {
    this.#closed = true;
    this.#pool?.close();
  }
}

/** Read out (up to 64 KiB) and drop a response nobody wants, so that its connection can be reused. */
function* discard(res: HttpClientResponse): Coro<void> {
  try {
    yield* res.body.bytes({ limit: 64 * 1024 });
  } catch {
    res.close();
  }
}
