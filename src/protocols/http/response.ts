/**
 * The response a server's handler writes. Its head goes out with the first
 * body bytes (or at `end()`), in the same write when it can; the framing
 * is chosen then: Content-Length when the whole body is known or the
 * handler set it, chunked otherwise, or read-to-close for an HTTP/1.0
 * client. Header values are checked as they are set, so that no CR, LF or
 * other control byte reaches the wire.
 */
import type { Coro } from '../../kernel/events.js';
import type { Protocol, Transport } from '../../kernel/transport_types.js';
import { checkField, checkReason, type HeadersInit, toHeaders } from './headers.js';
import type { HttpRequest } from './request.js';
import { byteLength, hasHigh, httpDate, LAST_CHUNK, statusLine, writeChunk, writeHead } from './wire.js';

/** @internal what a response needs from its connection. */
export interface ResponseConnection {
  readonly _sendDate: boolean;
  _transport(): Transport;
  _bodyAllowed(req: HttpRequest): boolean;
  _mustClose(req: HttpRequest, ending: boolean): boolean;
  _drain(): Coro<void>;
  _responseEnded(res: HttpResponse): void;
  _upgrade(p: Protocol): void;
}

const FRAME_NONE = 0, FRAME_LENGTH = 1, FRAME_CHUNKED = 2, FRAME_CLOSE = 3;

/**
 * The response a handler writes: status and header fields, then the body
 * with `write()` (and `drain()` for back-pressure) and `end()`. The
 * framing is chosen when the head goes out: Content-Length when `end()`
 * gives the whole body or the handler set it, chunked otherwise (read to
 * the close for an HTTP/1.0 client).
 * @example
 * const handler: HttpHandler = function* (req, res) {
 *   res.status = 200;
 *   res.setHeader('content-type', 'text/plain');
 *   for (let i = 0; i < 3; i++) { res.write(`line ${i}\n`); yield* res.drain(); }
 *   res.end();
 * };
 */
export class HttpResponse {
  /** The status code: 200 unless set. */
  status = 200;
  /** The reason phrase (default: the standard one). */
  reason: string | null = null;
  readonly #conn: ResponseConnection;
  readonly #req: HttpRequest;
  #names: string[] = [];
  #values: string[] = [];
  #high = false;
  /** -1, or the Content-Length the handler set. */
  #length = -1;
  #userChunked = false;
  #userClose = false;
  #hasDate = false;
  #frame = FRAME_NONE;
  #sent = 0;
  #headersSent = false;
  #finished = false;
  /** @internal the head said `Connection: close`. */
  _willClose = false;
  /** @internal */ _upgraded = false;

  /** @internal */
  constructor(conn: ResponseConnection, req: HttpRequest) {
    this.#conn = conn;
    this.#req = req;
  }

  /** Has the head been sent? */
  get headersSent(): boolean { return this.#headersSent; }
  /** Has the response ended? */
  get finished(): boolean { return this.#finished; }

  /** Set a header field, replacing any of that name (an array: one field per value). Returns the response. */
  setHeader(name: string, value: string | number | readonly string[]): this {
    this.removeHeader(name);
    if (Array.isArray(value)) for (const v of value as readonly string[]) this.appendHeader(name, v);
    else this.appendHeader(name, typeof value === 'number' ? String(value) : value as string);
    return this;
  }

  /** Add a header field (after any of that name). Returns the response. */
  appendHeader(name: string, value: string): this {
    if (this.#headersSent) throw new Error('the response head was already sent');
    checkField(name, value);
    if (!this.#high && hasHigh(value)) this.#high = true;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'date') this.#hasDate = true;
        break;
      case 10:
        if (name.toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(value)) this.#userClose = true;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (!/^\d{1,15}$/.test(value)) throw new TypeError(`invalid Content-Length ${JSON.stringify(value)}`);
          this.#length = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          if (value.trim().toLowerCase() !== 'chunked') throw new TypeError('Transfer-Encoding other than chunked is not supported');
          this.#userChunked = true;
        }
        break;
      default: break;
    }
    this.#names.push(name);
    this.#values.push(value);
    return this;
  }

  /** The value of a header field set so far (repeats joined with ", "), or null. */
  getHeader(name: string): string | null {
    const q = name.toLowerCase();
    let out: string | null = null;
    for (let i = 0; i < this.#names.length; i++) {
      if (this.#names[i]!.toLowerCase() === q) out = out === null ? this.#values[i]! : `${out}, ${this.#values[i]!}`;
    }
    return out;
  }

  /** Remove every header field `name`. */
  removeHeader(name: string): void {
    if (this.#headersSent) throw new Error('the response head was already sent');
    const q = name.toLowerCase();
    for (let i = this.#names.length - 1; i >= 0; i--) {
      if (this.#names[i]!.toLowerCase() !== q) continue;
      this.#names.splice(i, 1);
      this.#values.splice(i, 1);
      if (q === 'content-length') this.#length = -1;
      else if (q === 'transfer-encoding') this.#userChunked = false;
      else if (q === 'connection') this.#userClose = false;
      else if (q === 'date') this.#hasDate = false;
    }
  }

  /**
   * Send body bytes (the head first, if not sent yet). Never waits: use
   * `drain()` to follow the client's pace.
   * @example
   * const h: HttpHandler = function* (_req, res) { res.write('partial '); yield* res.drain(); res.end('done'); };
   */
  write(data: Uint8Array | string): void {
    if (this.#finished) throw new Error('write() after end()');
    if (!this.#headersSent) this.#sendHead(-1, data);
    else this.#writeBody(data, '', '');
  }

  /**
   * Wait until the client has taken enough of what was written (the
   * transport's buffer is under its low-water mark). Throws if the
   * connection is lost.
   * @example
   * const h: HttpHandler = function* (_req, res) {
   *   for (const part of ['a', 'b', 'c']) { res.write(part); yield* res.drain(); }
   *   res.end();
   * };
   */
  drain(): Coro<void> { return this.#conn._drain(); }

  /**
   * End the response, with `data` as the last of the body. Without an
   * earlier `write()`, the head carries `Content-Length: <its length>`.
   * @example
   * const h: HttpHandler = function* (_req, res) { res.end(JSON.stringify({ ok: true })); };
   */
  end(data?: Uint8Array | string): void {
    if (this.#finished) return;
    if (!this.#headersSent) {
      this.#sendHead(data === undefined ? 0 : byteLength(data), data ?? '');
    } else if (data !== undefined && data.length > 0) this.#writeBody(data, '', this.#frame === FRAME_CHUNKED ? LAST_CHUNK : '');
    else if (this.#frame === FRAME_CHUNKED && this.#conn._bodyAllowed(this.#req)) this.#conn._transport().write(LAST_CHUNK);
    this.#finished = true;
    if (this.#frame === FRAME_LENGTH && this.#sent !== this.#length && this.#conn._bodyAllowed(this.#req)) {
      // Fewer bytes than the Content-Length promised: the message cannot end; the client must see it broken.
      this.#conn._transport().abort(new Error(`the response ended after ${this.#sent} of its ${this.#length} bytes`));
    }
    this.#conn._responseEnded(this);
  }

  /**
   * Accept the client's `Upgrade` (or a CONNECT): send 101 Switching
   * Protocols (200 for CONNECT) with `headers`, and hand the connection to
   * `protocol`, which gets `connectionMade(transport)` and from then on
   * every byte the client sends (those already read first). The handler's
   * task stays the connection's: it is halted when the connection is lost.
   * @example
   * const h: HttpHandler = function* (req, res) {
   *   if (req.upgrade !== 'echo') throw new HttpError(426, 'Upgrade: echo', { headers: { Upgrade: 'echo' } });
   *   const t = res.upgrade({ dataReceived(d: Uint8Array) { t.write(d); } }, { upgrade: 'echo' });
   * };
   */
  upgrade(protocol: Protocol, headers?: HeadersInit): Transport {
    if (this.#headersSent) throw new Error('the response head was already sent');
    const connect = this.#req.method === 'CONNECT';
    if (!connect && this.#req.upgrade === null) throw new Error('the request asked for no upgrade');
    if (!this.#req.body.complete) throw new Error('upgrade() before the request body was read');
    this.status = connect ? 200 : 101;
    for (const [n, v] of toHeaders(headers)) this.appendHeader(n, v);
    if (!connect) {
      if (this.getHeader('upgrade') === null) this.appendHeader('Upgrade', this.#req.upgrade!);
      this.appendHeader('Connection', 'upgrade');
    }
    if (this.reason !== null) checkReason(this.reason);
    let head = statusLine(this.status, this.reason);
    for (let i = 0; i < this.#names.length; i++) head += `${this.#names[i]!}: ${this.#values[i]!}\r\n`;
    this.#headersSent = true;
    this.#finished = true;
    this._upgraded = true;
    const t = this.#conn._transport();
    writeHead(t, `${head}\r\n`, this.#high, null);
    this.#conn._upgrade(protocol);
    return t;
  }

  /** @internal an error response with `Connection: close`, if the head is not out yet; false if it is. */
  _sendError(status: number, message: string, headers: Record<string, string>): boolean {
    if (this.#headersSent) return false;
    this.#names = [];
    this.#values = [];
    this.#length = -1;
    this.#userChunked = false;
    this.#high = false;
    this.#hasDate = false;
    this.status = status;
    this.reason = null;
    for (const [n, v] of Object.entries(headers)) this.appendHeader(n, v);
    this.appendHeader('Content-Type', 'text/plain; charset=utf-8');
    this.appendHeader('Connection', 'close');
    this.end(`${message}\n`);
    return true;
  }

  /** The head, and `body` after it (-1: the length is not known yet). */
  #sendHead(length: number, body: Uint8Array | string | null): void {
    const conn = this.#conn;
    const req = this.#req;
    const st = this.status;
    if (!Number.isInteger(st) || st < 200 || st > 999) throw new RangeError(`invalid status ${st} (1xx responses are sent by the server itself)`);
    if (this.reason !== null) checkReason(this.reason);
    const bodyAllowed = st !== 204 && st !== 304;
    let head = statusLine(st, this.reason);
    const names = this.#names, values = this.#values;
    for (let i = 0; i < names.length; i++) head += `${names[i]!}: ${values[i]!}\r\n`;
    if (conn._sendDate && !this.#hasDate) head += `Date: ${httpDate()}\r\n`;
    if (!bodyAllowed) {
      if (this.#length >= 0 || this.#userChunked) throw new Error(`a ${st} response has no body: no Content-Length or Transfer-Encoding`);
      this.#frame = FRAME_NONE;
    } else if (this.#length >= 0) this.#frame = FRAME_LENGTH;
    else if (length >= 0 && !this.#userChunked) {
      this.#frame = FRAME_LENGTH;
      this.#length = length;
      head += `Content-Length: ${length}\r\n`;
    } else if (req.version === '1.1') {
      this.#frame = FRAME_CHUNKED;
      if (!this.#userChunked) head += 'Transfer-Encoding: chunked\r\n';
    } else {
      if (this.#userChunked) throw new Error('an HTTP/1.0 client cannot read a chunked response');
      this.#frame = FRAME_CLOSE;
    }
    const close = this.#userClose || this.#frame === FRAME_CLOSE || conn._mustClose(req, length >= 0);
    this._willClose = close;
    if (!this.#userClose) {
      if (close) head += 'Connection: close\r\n';
      else if (req.version === '1.0') head += 'Connection: keep-alive\r\n';
    }
    head += '\r\n';
    this.#headersSent = true;
    const t = conn._transport();
    const sendBody = bodyAllowed && req.method !== 'HEAD' && body !== null;
    if (!sendBody) { writeHead(t, head, this.#high, null); return; }
    if (this.#frame === FRAME_CHUNKED) {
      if (this.#high) { writeHead(t, head, true, null); head = ''; }
      if (length >= 0) writeChunk(t, body, head, LAST_CHUNK);
      else writeChunk(t, body, head, '');
      return;
    }
    this.#countBody(byteLength(body));
    writeHead(t, head, this.#high, body);
  }

  #writeBody(data: Uint8Array | string, prefix: string, suffix: string): void {
    if (!this.#conn._bodyAllowed(this.#req) || this.#frame === FRAME_NONE) return;
    const t = this.#conn._transport();
    if (this.#frame === FRAME_CHUNKED) { writeChunk(t, data, prefix, suffix); return; }
    this.#countBody(byteLength(data));
    t.write(data);
  }

  #countBody(n: number): void {
    this.#sent += n;
    if (this.#frame === FRAME_LENGTH && this.#sent > this.#length) {
      throw new Error(`the body is longer than its Content-Length (${this.#length})`);
    }
  }
}
