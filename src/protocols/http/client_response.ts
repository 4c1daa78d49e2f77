/**
 * A response as the client sees it: status, header fields, and the body
 * as a stream or read whole. Reading the body to its end (or closing the
 * response) gives the connection back to the pool.
 */
import type { Coro } from '../../kernel/events.js';
import type { BodyReadOptions, HttpBody } from './body.js';
import type { HttpClientConnection } from './client_connection.js';
import type { Headers } from './headers.js';
import type { ParsedHead } from './syntax.js';

/**
 * A response: status, header fields, and the body as a stream or at once.
 * Read the body to its end (or `close()` the response) to give the
 * connection back to the pool.
 * @example
 * const client = new HttpClient();
 * const res = yield* client.request('GET', 'http://127.0.0.1:8080/hello');
 * if (res.status === 200) console.log(yield* res.text());
 */
export class HttpClientResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** '1.1' or '1.0'. */
  readonly version: string;
  /** The header fields. */
  readonly headers: Headers;
  /** The body. */
  readonly body: HttpBody;
  /** The URL this response answers (the last one, after redirects). */
  readonly url: string;
  /** @internal */ readonly _conn: HttpClientConnection;

  /** @internal */
  constructor(head: ParsedHead, body: HttpBody, url: string, conn: HttpClientConnection) {
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.headers = head.headers;
    this.body = body;
    this.url = url;
    this._conn = conn;
  }

  /** Is the status 2xx? */
  get ok(): boolean { return this.status >= 200 && this.status < 300; }

  /**
   * The next chunk of the body, or null at its end.
   * @example
   * const res = yield* new HttpClient().request('GET', 'http://127.0.0.1:8080/big');
   * let n = 0;
   * for (let c = yield* res.read(); c !== null; c = yield* res.read()) n += c.length;
   */
  read(): Coro<Uint8Array | null> { return this.body.read(); }
  /** The whole body. @example const b = yield* (yield* new HttpClient().request('GET', 'http://127.0.0.1:8080/')).bytes({ limit: 1 << 20 }); */
  bytes(opts?: BodyReadOptions): Coro<Uint8Array> { return this.body.bytes(opts); }
  /** The whole body as UTF-8 text. @example const s = yield* (yield* new HttpClient().request('GET', 'http://127.0.0.1:8080/')).text(); */
  text(opts?: BodyReadOptions): Coro<string> { return this.body.text(opts); }
  /** The whole body as JSON. @example const o = yield* (yield* new HttpClient().request('GET', 'http://127.0.0.1:8080/')).json<{ ok: boolean }>(); */
  json<T = unknown>(opts?: BodyReadOptions): Coro<T> { return this.body.json<T>(opts); }

  /**
   * Done with this response: if its body has not all arrived, the connection is aborted (not reused).
   * @example
   * const res = yield* new HttpClient().request('GET', 'http://127.0.0.1:8080/');
   * if (res.status !== 200) res.close();
   */
  close(): void { this._conn._abandon(this); }
}
