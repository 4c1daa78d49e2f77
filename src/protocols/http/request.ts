/**
 * A request as a server's handler sees it: the parsed head (method,
 * target, version, header fields) and the body as a stream.
 */
import type { Coro } from '../../kernel/events.js';
import type { Transport } from '../../kernel/transport_types.js';
import type { BodyReadOptions, HttpBody } from './body.js';
import type { Headers } from './headers.js';
import type { ParsedHead } from './syntax.js';

/**
 * A request as the handler sees it.
 * @example
 * const handler: HttpHandler = function* (req, res) {
 *   console.log(req.method, req.path, req.query.get('q'), req.headers.get('user-agent'));
 *   const body = yield* req.text({ limit: 1 << 16 });
 *   res.end(body);
 * };
 */
export class HttpRequest {
  /** The method, as sent (methods are case-sensitive): 'GET', 'POST', ... */
  readonly method: string;
  /** The request target as sent: '/path?query' (or an absolute URL, '*', or host:port for CONNECT). */
  readonly target: string;
  /** '1.1' or '1.0'. */
  readonly version: string;
  /** The header fields. */
  readonly headers: Headers;
  /** The body (empty and complete for a request without one). */
  readonly body: HttpBody;
  /** The protocol the client asks to switch to (`Upgrade`, with `Connection: upgrade`), or null. */
  readonly upgrade: string | null;
  /** The connection's transport (for `getExtraInfo('peername')`, `'peercert'`, ...). */
  readonly transport: Transport;
  /** @internal */ readonly _head: ParsedHead;
  #path: string | null = null;
  #query: URLSearchParams | null = null;

  /** @internal */
  constructor(head: ParsedHead, body: HttpBody, transport: Transport) {
    this.method = head.method;
    this.target = head.target;
    this.version = head.version;
    this.headers = head.headers;
    this.upgrade = head.upgrade;
    this.body = body;
    this.transport = transport;
    this._head = head;
  }

  /** The target's path (without the query; for an absolute URL, its path). */
  get path(): string {
    if (this.#path === null) {
      let t = this.target;
      if (!t.startsWith('/')) { const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t); if (m !== null) t = t.slice(m[0].length) || '/'; }
      const q = t.indexOf('?');
      this.#path = q < 0 ? t : t.slice(0, q);
    }
    return this.#path;
  }

  /** The target's query parameters. */
  get query(): URLSearchParams {
    if (this.#query === null) {
      const q = this.target.indexOf('?');
      this.#query = new URLSearchParams(q < 0 ? '' : this.target.slice(q + 1));
    }
    return this.#query;
  }

  /** Did the client ask to keep the connection open after this request? */
  get keepAlive(): boolean { return this._head.keepAlive; }

  /**
   * The next chunk of the body, or null at its end (`body.read()`).
   * @example
   * const h: HttpHandler = function* (req, res) { let n = 0; for (let c = yield* req.read(); c !== null; c = yield* req.read()) n += c.length; res.end(String(n)); };
   */
  read(): Coro<Uint8Array | null> { return this.body.read(); }
  /** The whole body (`body.bytes()`). @example const h: HttpHandler = function* (req, res) { res.end(yield* req.bytes({ limit: 4096 })); }; */
  bytes(opts?: BodyReadOptions): Coro<Uint8Array> { return this.body.bytes(opts); }
  /** The whole body as UTF-8 text (`body.text()`). @example const h: HttpHandler = function* (req, res) { res.end((yield* req.text()).toUpperCase()); }; */
  text(opts?: BodyReadOptions): Coro<string> { return this.body.text(opts); }
  /** The whole body as JSON (`body.json()`). @example const h: HttpHandler = function* (req, res) { res.end(String((yield* req.json<{ n: number }>()).n * 2)); }; */
  json<T = unknown>(opts?: BodyReadOptions): Coro<T> { return this.body.json<T>(opts); }
}
