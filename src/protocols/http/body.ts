/**
 * A message body as a stream with back-pressure: the connection pushes the
 * chunks the parser frames, a reader takes them with `read()`. Past 512 KiB
 * waiting to be read, the connection stops reading from the socket (so a
 * fast sender is held by TCP, not by memory: at most 576 KiB per
 * connection) and resumes once the reader has caught up. The buffered reads (`bytes()`, `text()`, `json()`) stop
 * at a size limit: a declared Content-Length over it is refused before a
 * byte is read (a server then answers 413 without inviting the body with
 * 100 Continue).
 *
 * One reader at a time. A read that is cancelled loses nothing: it waits
 * on a future of its own, and the chunks stay queued.
 */
import { getRunningLoop, type Coro, type EventLoop } from '../../kernel/events.js';
import { Future } from '../../kernel/future.js';
import { concatBytes } from '../../streams/reader.js';
import { HttpError } from './errors.js';
import type { Headers } from './headers.js';

/**
 * The default limit of the buffered reads (`bytes()`, `text()`, `json()`): 16 MiB.
 * @example
 * const server = yield* serveHttp(function* (req, res) { res.end(yield* req.bytes()); }, '127.0.0.1', 8080, { bodyLimit: DEFAULT_BODY_LIMIT / 16 });
 */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/**
 * Reading the socket stops when this much of a body waits for its reader and resumes under LOW. Large enough that
 * a reader which keeps up never stops the reading (libuv reads as long as data is there, several reads a turn),
 * which costs two epoll_ctl calls and a loop turn per stop.
 */
const HIGH = 512 * 1024;
const LOW = 128 * 1024;
/** A large body is read 256 KiB at a time while less than that waits (fewer reads, wake-ups and writes), else 64 KiB. */
const FAST_READ = 256 * 1024;
const SLOW_READ = 64 * 1024;

/** @internal how much of `body` to read next: a reader that keeps up gets larger reads. */
export function bodyReadSize(body: HttpBody | null | undefined): number {
  return body != null && body._queued < FAST_READ ? FAST_READ : SLOW_READ;
}

/** @internal the connection behind a body. */
export interface BodySource {
  /** The reader fell behind: stop reading the socket. */
  _pauseBody(): void;
  /** The reader caught up. */
  _resumeBody(): void;
  /** The first read (a server answers `Expect: 100-continue` here). */
  _bodyWanted(): void;
  /** A buffered read ended without the whole body (cancelled, or over its limit). */
  _bodyAbandoned(): void;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * Options of the buffered reads.
 * @example
 * const handler: HttpHandler = function* (req, res) {
 *   const data = yield* req.bytes({ limit: 1 << 20 } satisfies BodyReadOptions);
 *   res.end(`${data.length} bytes`);
 * };
 */
export interface BodyReadOptions {
  /** The most bytes to accept (default: the server's or client's `bodyLimit`, 16 MiB). Over it: HttpError 413. */
  limit?: number;
}

/**
 * The body of a request (server side) or of a response (client side).
 * @example
 * const echo: HttpHandler = function* (req, res) {
 *   // streamed, with back-pressure:
 *   for (let c = yield* req.body.read(); c !== null; c = yield* req.body.read()) { res.write(c); yield* res.drain(); }
 *   res.end();
 * };
 * const greet: HttpHandler = function* (req, res) {
 *   // or buffered, with a limit:
 *   const doc = yield* req.body.json<{ name: string }>({ limit: 1 << 20 });
 *   res.end(`hello ${doc.name}`);
 * };
 */
export class HttpBody {
  /** The declared length (Content-Length), or null (chunked, or until the connection closes). */
  readonly length: number | null;
  /** The trailer fields of a chunked body, once it has ended (null if none). */
  trailers: Headers | null = null;
  readonly #loop: EventLoop;
  readonly #src: BodySource | null;
  readonly #limit: number;
  readonly #badStatus: number;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #received = 0;
  #ended = false;
  #error: unknown = null;
  #waiter: Future<void> | null = null;
  #paused = false;
  #wanted = false;

  /** @internal */
  constructor(src: BodySource | null, length: number | null, ended: boolean, opts: { limit?: number; badStatus?: number; loop?: EventLoop } = {}) {
    this.#src = src;
    this.length = length;
    this.#ended = ended;
    this.#loop = opts.loop ?? getRunningLoop();
    this.#limit = opts.limit ?? DEFAULT_BODY_LIMIT;
    this.#badStatus = opts.badStatus ?? 400;
  }

  /** Has the whole body arrived (it may still be queued for reading)? */
  get complete(): boolean { return this.#ended; }
  /** Has the whole body been read? */
  get done(): boolean { return this.#ended && this.#head === this.#chunks.length; }
  /** Bytes received so far. */
  get received(): number { return this.#received; }
  /** @internal bytes received and not read yet. */
  get _queued(): number { return this.#queued; }
  /** The error that ended the body, if any. */
  get error(): unknown { return this.#error; }

  /**
   * The next chunk, or null at the end of the body. Throws the
   * connection's error if it was lost before the end.
   * @example
   * const count: HttpHandler = function* (req, res) {
   *   let n = 0;
   *   for (let c = yield* req.body.read(); c !== null; c = yield* req.body.read()) n += c.length;
   *   res.end(`${n} bytes`);
   * };
   */
  *read(): Coro<Uint8Array | null> {
    if (!this.#wanted) { this.#wanted = true; this.#src?._bodyWanted(); }
    for (;;) {
      if (this.#head < this.#chunks.length) return this.#take();
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      if (this.#waiter !== null) throw new Error('HttpBody: another read is in progress');
      const f = new Future<void>({ loop: this.#loop, description: 'HttpBody.read' });
      this.#waiter = f;
      try {
        yield* f;
      } finally {
        if (this.#waiter === f) this.#waiter = null;
      }
    }
  }

  /**
   * The whole body as bytes (at most `limit`, else HttpError 413).
   * @example
   * const handler: HttpHandler = function* (req, res) { res.end(yield* req.body.bytes({ limit: 4096 })); };
   */
  *bytes(opts?: BodyReadOptions): Coro<Uint8Array> {
    const limit = opts?.limit ?? this.#limit;
    if (this.length !== null && this.length > limit) {
      this.#src?._bodyAbandoned();
      throw new HttpError(413, `the body (${this.length} bytes) is over the limit of ${limit}`);
    }
    const parts: Uint8Array[] = [];
    let n = 0;
    let finished = false;
    try {
      for (let c = yield* this.read(); c !== null; c = yield* this.read()) {
        n += c.length;
        if (n > limit) throw new HttpError(413, `the body is over the limit of ${limit} bytes`);
        parts.push(c);
      }
      finished = true;
    } finally {
      if (!finished && !this.#ended) this.#src?._bodyAbandoned();
    }
    return parts.length === 0 ? EMPTY : concatBytes(this.#loop, parts, n);
  }

  /**
   * The whole body decoded as UTF-8 (at most `limit` bytes).
   * @example
   * const handler: HttpHandler = function* (req, res) { res.end(`hello ${yield* req.body.text({ limit: 256 })}`); };
   */
  *text(opts?: BodyReadOptions): Coro<string> {
    return decoder.decode(yield* this.bytes(opts));
  }

  /**
   * The whole body parsed as JSON (at most `limit` bytes); invalid JSON is an HttpError (400 on a server, 502 on a client).
   * @example
   * const add: HttpHandler = function* (req, res) {
   *   const { a, b } = yield* req.body.json<{ a: number; b: number }>();
   *   res.end(String(a + b));
   * };
   */
  *json<T = unknown>(opts?: BodyReadOptions): Coro<T> {
    const s = yield* this.text(opts);
    try {
      return JSON.parse(s) as T;
    } catch (e) {
      throw new HttpError(this.#badStatus, 'the body is not valid JSON', { cause: e });
    }
  }

  // ---- the connection's side -------------------------------------------------------

  /** @internal a chunk arrived. */
  _push(chunk: Uint8Array): void {
    if (this.#ended || this.#error !== null) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.#received += chunk.length;
    if (!this.#paused && this.#queued > HIGH && this.#src !== null) { this.#paused = true; this.#src._pauseBody(); }
    this.#wake();
  }

  /** @internal the body ended. */
  _end(trailers: Headers | null): void {
    if (this.#ended || this.#error !== null) return;
    this.#ended = true;
    this.trailers = trailers;
    this.#wake();
  }

  /** @internal the body cannot end (the connection was lost, the message was malformed). */
  _fail(e: unknown): void {
    if (this.#ended || this.#error !== null) return;
    this.#error = e;
    this.#wake();
  }

  #take(): Uint8Array {
    const c = this.#chunks[this.#head]!;
    this.#chunks[this.#head++] = EMPTY;
    if (this.#head === this.#chunks.length) { this.#chunks = []; this.#head = 0; } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    this.#queued -= c.length;
    if (this.#paused && this.#queued <= LOW) { this.#paused = false; this.#src?._resumeBody(); }
    return c;
  }

  #wake(): void {
    const w = this.#waiter;
    if (w === null) return;
    this.#waiter = null;
    if (!w.done()) w.setResult();
  }
}
