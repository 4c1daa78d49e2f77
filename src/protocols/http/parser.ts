/**
 * The HTTP/1.1 message parser (RFC 9112), for requests (a server) and
 * responses (a client): incremental, linear in its input however it is
 * split, and strict, because a server that reads a message differently
 * from a proxy in front of it can be made to see a request the proxy never
 * saw (request smuggling).
 *
 * It reads the way asyncio's BufferedProtocol does: the connection lends
 * it the read buffer (`getBuffer`/`bufferUpdated`), so most reads land in
 * one scratch buffer shared by every connection and are parsed where they
 * landed; only what a read leaves unfinished (part of a head, a chunk-size
 * line, a pipelined request waiting its turn) is copied into a buffer of
 * the connection's own, and the next read appends to it in place. An idle
 * connection holds no buffer at all. A large body is read into fresh
 * buffers that are handed out as they are, without a copy.
 *
 * A head is scanned byte by byte once (resuming where the last read
 * stopped), which finds its end and refuses control bytes, bare CR and
 * bare LF in the same pass; it is then decoded to one string and cut into
 * fields. Bodies are framed by Content-Length or chunked coding (with
 * chunk extensions and trailers checked and bounded), or, for a response,
 * by the connection closing.
 */
import { HttpError } from './errors.js';
import type { Headers } from './headers.js';
import {
  BODY_CHUNKED, BODY_CLOSE, BODY_LENGTH, BODY_NONE, BODY_TUNNEL, DEFAULT_LIMITS, type HttpLimits, ParsedHead,
  parseRequestHead, parseResponseHead, parseTrailerFields, validChunkExt,
} from './syntax.js';

/** @internal what the parser reports to (a server or client connection). */
export interface ParserSink {
  _onHead(head: ParsedHead): void;
  _onBody(chunk: Uint8Array): void;
  _onEnd(trailers: Headers | null): void;
  _onError(e: HttpError): void;
  /** A 1xx response other than 101 (client side). */
  _onInformational?(head: ParsedHead): void;
  /** How much of a large body to read at once (default 64 KiB). */
  _bodyReadSize?(): number;
}

const HEAD = 0, BODY_LEN = 1, CHUNK_SIZE = 2, CHUNK_DATA = 3, CHUNK_END = 4, TRAILER = 5, BODY_EOF = 6, IDLE = 7, TUNNEL = 8, DEAD = 9;
const CR = 13, LF = 10, HT = 9;
const SCRATCH_SIZE = 65536;
/** A body this long or longer is read into fresh buffers handed out without a copy. */
const ZERO_COPY_BODY = 16384;
const MIN_ROOM = 4096;

/** One buffer every connection reads into when it has nothing pending (see the header). */
let scratch: Uint8Array | null = null;
/** Set while a read in the scratch buffer is being parsed: a nested read (an in-memory peer) gets its own. */
let scratchBusy = false;

const LENT_NONE = 0, LENT_SCRATCH = 1, LENT_PENDING = 2, LENT_FRESH = 3;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Bytes as a string, one character per byte (ISO-8859-1): how field values with obs-text read. */
function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i += 4096) s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(to, i + 4096)) as unknown as number[]);
  return s;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) { HEX[0x41 + i] = 10 + i; HEX[0x61 + i] = 10 + i; }


/**
 * @internal The incremental HTTP/1.1 parser of one connection (see the file header).
 * `kind` 'request' parses requests; 'response' parses the responses to the
 * requests announced with `expectResponse(method)`.
 */
export class HttpParser {
  readonly #isRequest: boolean;
  readonly #sink: ParserSink;
  readonly #limits: HttpLimits;
  #state: number;
  /** Bytes kept between reads: [#ps, #pe) of #pend. */
  #pend: Uint8Array | null = null;
  #ps = 0;
  #pe = 0;
  #lentKind = LENT_NONE;
  #lent: Uint8Array | null = null;
  #processing = false;
  // head scanning, relative to the head's first byte
  #scan = 0;
  #lineStart = 0;
  #startLineEnd = -1;
  #lines = 0;
  #high = false;
  // body
  #remaining = 0;
  #extBytes = 0;
  /** The request method a response answers (client side). */
  #method = '';
  #tunnel: ((data: Uint8Array) => void) | null = null;

  constructor(kind: 'request' | 'response', sink: ParserSink, limits: HttpLimits = DEFAULT_LIMITS) {
    this.#isRequest = kind === 'request';
    this.#sink = sink;
    this.#limits = limits;
    this.#state = this.#isRequest ? HEAD : IDLE;
  }

  /** Bytes received and not yet parsed (a pipelined request waiting for its turn). */
  get backlog(): number { return this.#pe - this.#ps; }
  /** Between messages (idle, or waiting for one's first byte), with nothing buffered? */
  get atMessageStart(): boolean { return (this.#state === HEAD && this.#pe === this.#ps) || this.#state === IDLE; }
  /** Has part of a message arrived (a head not yet complete, or a body in progress)? */
  get inMessage(): boolean {
    const s = this.#state;
    return (s === HEAD && this.#pe > this.#ps) || (s >= BODY_LEN && s <= BODY_EOF);
  }
  /** Has the parser stopped for good (an error, or the connection became a tunnel)? */
  get dead(): boolean { return this.#state >= TUNNEL; }

  // ---- input: BufferedProtocol's two calls, or whole chunks -------------------------------

  /** The buffer the next read should fill. */
  getBuffer(): Uint8Array {
    if (this.#ps === this.#pe) {
      const s = this.#state;
      if ((s === BODY_LEN || s === CHUNK_DATA) && this.#remaining >= ZERO_COPY_BODY) {
        this.#lentKind = LENT_FRESH;
        return this.#lent = new Uint8Array(Math.min(this.#remaining, this.#sink._bodyReadSize?.() ?? SCRATCH_SIZE));
      }
      this.#ps = this.#pe = 0;
      if (!scratchBusy) {
        if (this.#pend !== null && this.#pend.length > SCRATCH_SIZE) this.#pend = null;
        this.#lentKind = LENT_SCRATCH;
        return this.#lent = scratch ??= new Uint8Array(SCRATCH_SIZE);
      }
    }
    let p = this.#pend;
    if (p === null) p = this.#pend = new Uint8Array(16384);
    else if (p.length - this.#pe < MIN_ROOM) {
      const live = this.#pe - this.#ps;
      if (live + MIN_ROOM <= p.length >> 1) p.copyWithin(0, this.#ps, this.#pe);
      else {
        const q = new Uint8Array(Math.max(p.length * 2, live + MIN_ROOM));
        q.set(p.subarray(this.#ps, this.#pe));
        this.#pend = p = q;
      }
      this.#ps = 0;
      this.#pe = live;
    }
    this.#lentKind = LENT_PENDING;
    return this.#lent = p.subarray(this.#pe);
  }

  /** `n` bytes were read into the buffer `getBuffer()` returned. */
  bufferUpdated(n: number): void {
    const kind = this.#lentKind;
    const lent = this.#lent!;
    this.#lentKind = LENT_NONE;
    this.#lent = null;
    if (kind === LENT_PENDING) {
      this.#pe += n;
      this.#runPending();
    } else if (kind === LENT_SCRATCH) {
      if (this.#pe > this.#ps) { this.#append(lent, 0, n); this.#runPending(); return; }
      scratchBusy = true;
      try {
        this.#runView(lent, n, false);
      } finally {
        scratchBusy = false;
      }
    } else if (kind === LENT_FRESH) this.#runView(lent, n, true);
  }

  /** Bytes from a plain `dataReceived` (the parser copies what it keeps). */
  feed(data: Uint8Array): void {
    if (this.#pe > this.#ps) { this.#append(data, 0, data.length); this.#runPending(); } else this.#runView(data, data.length, false);
  }

  /**
   * The peer sent EOF. Returns 0 if it came between messages, 1 if it
   * ended a body framed by the close (`_onEnd` was called), 2 if it cut a
   * message short (`_onError` was called).
   */
  feedEof(): number {
    const s = this.#state;
    if (s === BODY_EOF) {
      this.#state = IDLE;
      this.#sink._onEnd(null);
      return 1;
    }
    if (s === IDLE || s >= TUNNEL || (s === HEAD && this.#pe === this.#ps)) return 0;
    this.#fail(this.#isRequest ? 400 : 502, 'the connection closed in the middle of a message');
    return 2;
  }

  // ---- control ------------------------------------------------------------------------

  /** Parse the next message (a server: once the last response is done). */
  nextMessage(): void {
    if (this.#state !== IDLE) return;
    this.#beginHead();
    if (!this.#processing && this.#pe > this.#ps) this.#runPending();
  }

  /** A client: the next response answers a request with `method`. */
  expectResponse(method: string): void {
    this.#method = method;
    this.nextMessage();
  }

  /** Stop parsing; every byte from now on (those already buffered first) goes to `tunnel` (an upgrade). */
  detach(tunnel: (data: Uint8Array) => void): void {
    this.#state = TUNNEL;
    this.#tunnel = tunnel;
    if (!this.#processing && this.#pe > this.#ps) this.#runPending();
  }

  /** Stop parsing for good; input is dropped. */
  kill(): void { this.#state = DEAD; this.#ps = this.#pe = 0; this.#pend = null; }

  // ---- internals ------------------------------------------------------------------------

  #beginHead(): void {
    this.#state = HEAD;
    this.#scan = 0;
    this.#lineStart = 0;
    this.#startLineEnd = -1;
    this.#lines = 0;
    this.#high = false;
    this.#extBytes = 0;
  }

  #append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    let p = this.#pend;
    const live = this.#pe - this.#ps;
    if (p === null || p.length - this.#pe < n) {
      const q = new Uint8Array(Math.max(16384, (live + n) * 2));
      if (p !== null) q.set(p.subarray(this.#ps, this.#pe));
      this.#pend = p = q;
      this.#ps = 0;
      this.#pe = live;
    }
    p.set(src.subarray(from, to), this.#pe);
    this.#pe += n;
  }

  #runPending(): void {
    if (this.#processing) return;
    this.#processing = true;
    try {
      this.#ps = this.#process(this.#pend!, this.#ps, this.#pe, false);
    } finally {
      this.#processing = false;
    }
    if (this.#state === DEAD) this.kill();
  }

  /** Parse `view[0, end)`; keep a copy of what is left over. */
  #runView(view: Uint8Array, end: number, owned: boolean): void {
    if (this.#processing) { this.#append(view, 0, end); return; }
    this.#processing = true;
    let used: number;
    try {
      used = this.#process(view, 0, end, owned);
    } finally {
      this.#processing = false;
    }
    if (used < end && this.#state !== DEAD) this.#append(view, used, end);
  }

  /** Parse as much of `buf[off, end)` as the state allows; returns where it stopped. */
  #process(buf: Uint8Array, off: number, end: number, owned: boolean): number {
    while (off < end) {
      switch (this.#state) {
        case HEAD: {
          const next = this.#parseHead(buf, off, end);
          if (next < 0) return -next - 1;
          off = next;
          break;
        }
        case BODY_LEN: case CHUNK_DATA: {
          const n = Math.min(this.#remaining, end - off);
          const chunk = owned ? buf.subarray(off, off + n) : buf.slice(off, off + n);
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0 && this.#state === CHUNK_DATA) this.#state = CHUNK_END;
          this.#sink._onBody(chunk);
          if (this.#remaining === 0 && this.#state === BODY_LEN) {
            this.#state = IDLE;
            this.#sink._onEnd(null);
          }
          break;
        }
        case CHUNK_SIZE: {
          const next = this.#parseChunkSize(buf, off, end);
          if (next < 0) return -next - 1;
          off = next;
          break;
        }
        case CHUNK_END: {
          if (buf[off] !== CR) { this.#fail(400, 'chunk data not followed by CRLF'); return end; }
          if (off + 1 === end) return off;
          if (buf[off + 1] !== LF) { this.#fail(400, 'chunk data not followed by CRLF'); return end; }
          off += 2;
          this.#state = CHUNK_SIZE;
          this.#scan = 0;
          break;
        }
        case TRAILER: {
          const next = this.#parseTrailers(buf, off, end);
          if (next < 0) return -next - 1;
          off = next;
          break;
        }
        case BODY_EOF: {
          this.#sink._onBody(owned ? buf.subarray(off, end) : buf.slice(off, end));
          return end;
        }
        case TUNNEL: {
          this.#tunnel!(owned ? buf.subarray(off, end) : buf.slice(off, end));
          return end;
        }
        case DEAD: return end;
        default: return off;   // IDLE: the rest waits for nextMessage()
      }
    }
    return off;
  }

  #fail(status: number, why: string): void {
    this.#state = DEAD;
    this.#sink._onError(new HttpError(status, why));
  }

  /**
   * Scan for the end of the head (resuming where the last read stopped),
   * refusing bad bytes on the way; parse it once complete. Returns the
   * offset after it, or `-(k + 1)` if it is not complete yet and the bytes
   * before `k` are consumed (empty lines before it).
   */
  #parseHead(buf: Uint8Array, off: number, end: number): number {
    // Empty lines before a request line are ignored (RFC 9112 2.2).
    if (this.#scan === 0) {
      while (off < end && buf[off] === CR) {
        if (off + 1 === end) return -(off + 1);
        if (buf[off + 1] !== LF) { this.#fail(this.#isRequest ? 400 : 502, 'bare CR'); return end; }
        off += 2;
      }
      if (off === end) return off;
    }
    const lim = this.#limits;
    const h0 = off;
    let i = h0 + this.#scan;
    let lineStart = h0 + this.#lineStart;
    let startLineEnd = this.#startLineEnd;
    const cap = Math.min(end, h0 + lim.maxRequestLine + lim.maxHeaderSize + 4);
    let headEnd = -1;
    let high = false;
    for (; i < cap; i++) {
      const c = buf[i]!;
      if (c > 31 && c !== 127) { high ||= c > 127; continue; }
      if (c === LF) {
        if (buf[i - 1] !== CR || i === h0) { this.#fail(this.#isRequest ? 400 : 502, 'bare LF'); return end; }
        if (startLineEnd < 0) {
          startLineEnd = i + 1 - h0;
          if (startLineEnd - 2 > lim.maxRequestLine) break;
        } else if (i - 1 === lineStart) { headEnd = i + 1; break; } else if (++this.#lines > lim.maxHeaders) break;
        lineStart = i + 1;
      } else if (c === CR) {
        if (i + 1 === end) break;
        if (buf[i + 1] !== LF) { this.#fail(this.#isRequest ? 400 : 502, 'bare CR'); return end; }
      } else if (c !== HT) {
        this.#fail(this.#isRequest ? 400 : 502, `invalid byte 0x${c.toString(16).padStart(2, '0')} in the head`);
        return end;
      }
    }
    if (high) this.#high = true;
    // Limits: a start line without its CRLF in time, a header section too large or with too many fields.
    if (startLineEnd < 0 ? i - h0 > lim.maxRequestLine : startLineEnd - 2 > lim.maxRequestLine) {
      if (this.#isRequest) this.#fail(414, 'request line too long');
      else this.#fail(502, 'status line too long');
      return end;
    }
    if (this.#lines > lim.maxHeaders) { this.#fail(this.#isRequest ? 431 : 502, `more than ${lim.maxHeaders} header fields`); return end; }
    const fieldBytes = (headEnd < 0 ? i : headEnd - 2) - h0 - startLineEnd;
    if (startLineEnd >= 0 && fieldBytes > lim.maxHeaderSize) { this.#fail(this.#isRequest ? 431 : 502, 'header section too large'); return end; }
    if (headEnd < 0) {
      this.#scan = i - h0;
      this.#lineStart = lineStart - h0;
      this.#startLineEnd = startLineEnd;
      return -(h0 + 1);
    }
    // The whole head: one string, cut into lines.
    const s = this.#high ? latin1(buf, h0, headEnd - 2) : utf8.decode(buf.subarray(h0, headEnd - 2));
    let head: ParsedHead;
    try {
      head = this.#isRequest ? parseRequestHead(s, startLineEnd - 2) : parseResponseHead(s, startLineEnd - 2);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      this.#state = DEAD;
      this.#sink._onError(e);
      return end;
    }
    this.#startBody(head);
    if (this.#state === DEAD) return end;
    return headEnd;
  }

  /** After a head: where its body starts (a response's framing also depends on its status and the request). */
  #startBody(h: ParsedHead): void {
    if (!this.#isRequest) {
      const st = h.status;
      if (st < 200) {
        if (st === 101) { h.bodyKind = BODY_TUNNEL; h.keepAlive = false; } else {
          // 1xx: an interim response; the final one follows.
          this.#beginHead();
          this.#sink._onInformational?.(h);
          return;
        }
      } else if (this.#method === 'CONNECT' && st < 300) { h.bodyKind = BODY_TUNNEL; h.keepAlive = false; } else if (this.#method === 'HEAD' || st === 204 || st === 304) h.bodyKind = BODY_NONE;
      if (h.bodyKind === BODY_CLOSE) h.keepAlive = false;
    }
    switch (h.bodyKind) {
      case BODY_LENGTH: this.#state = BODY_LEN; this.#remaining = h.length; break;
      case BODY_CHUNKED: this.#state = CHUNK_SIZE; this.#extBytes = 0; this.#scan = 0; break;
      case BODY_CLOSE: this.#state = BODY_EOF; break;
      case BODY_TUNNEL: this.#state = IDLE; break;
      default: this.#state = IDLE; break;
    }
    this.#sink._onHead(h);
  }

  /** A chunk-size line: `1*16HEXDIG [chunk-ext] CRLF`. Returns the offset after it, or `-(off + 1)` if incomplete. */
  #parseChunkSize(buf: Uint8Array, off: number, end: number): number {
    const maxLine = 16 + (this.#limits.maxChunkExtensions - this.#extBytes) + 2;
    const stop = Math.min(end, off + maxLine + 1);
    let lf = -1;
    for (let i = off + this.#scan; i < stop; i++) if (buf[i] === LF) { lf = i - off; break; }
    if (lf < 0) {
      this.#scan = stop - off;
      if (end - off <= maxLine) return -(off + 1);
      let d = 0;
      while (d < 17 && HEX[buf[off + d]!]! >= 0) d++;
      if (d > 16) this.#fail(400, 'chunk size over 16 hex digits');
      else this.#fail(413, 'chunk extensions too long');
      return end;
    }
    const lfAt = off + lf;
    if (lf === 0 || buf[lfAt - 1] !== CR) { this.#fail(400, 'bare LF in a chunk-size line'); return end; }
    const cr = lfAt - 1;
    let p = off;
    let size = 0;
    while (p < cr && HEX[buf[p]!]! >= 0) { size = size * 16 + HEX[buf[p]!]!; p++; }
    if (p === off) { this.#fail(400, 'invalid chunk size'); return end; }
    if (p - off > 16) { this.#fail(400, 'chunk size over 16 hex digits'); return end; }
    if (size > Number.MAX_SAFE_INTEGER) { this.#fail(400, 'chunk size overflows'); return end; }
    if (p < cr) {
      if (!validChunkExt(buf, p, cr)) { this.#fail(400, 'invalid chunk extension'); return end; }
      this.#extBytes += cr - p;
      if (this.#extBytes > this.#limits.maxChunkExtensions) { this.#fail(413, 'chunk extensions too long'); return end; }
    }
    this.#scan = 0;
    if (size === 0) {
      this.#state = TRAILER;
      this.#lineStart = 0;
      this.#lines = 0;
      this.#high = false;
    } else {
      this.#state = CHUNK_DATA;
      this.#remaining = size;
    }
    return lfAt + 1;
  }

  /** The trailer section after the last chunk, then the message's end. Returns the offset after it, or -1. */
  #parseTrailers(buf: Uint8Array, off: number, end: number): number {
    const lim = this.#limits;
    const bad = this.#isRequest ? 400 : 502;
    let i = off + this.#scan;
    let lineStart = off + this.#lineStart;
    const cap = Math.min(end, off + lim.maxHeaderSize + 4);
    let trailerEnd = -1;
    for (; i < cap; i++) {
      const c = buf[i]!;
      if (c > 31 && c !== 127) { if (c > 127) this.#high = true; continue; }
      if (c === LF) {
        if (i === off || buf[i - 1] !== CR) { this.#fail(bad, 'bare LF'); return end; }
        if (i - 1 === lineStart) { trailerEnd = i + 1; break; }
        if (++this.#lines > lim.maxHeaders) { this.#fail(this.#isRequest ? 431 : 502, 'too many trailer fields'); return end; }
        lineStart = i + 1;
      } else if (c === CR) {
        if (i + 1 === end) break;
        if (buf[i + 1] !== LF) { this.#fail(bad, 'bare CR'); return end; }
      } else if (c !== HT) { this.#fail(bad, 'invalid byte in a trailer'); return end; }
    }
    if (trailerEnd < 0) {
      if (i - off > lim.maxHeaderSize) { this.#fail(this.#isRequest ? 431 : 502, 'trailer section too large'); return end; }
      this.#scan = i - off;
      this.#lineStart = lineStart - off;
      return -(off + 1);
    }
    let trailers: Headers | null = null;
    if (trailerEnd - off > 2) {
      const s = this.#high ? latin1(buf, off, trailerEnd - 2) : utf8.decode(buf.subarray(off, trailerEnd - 2));
      const h = new ParsedHead();
      try {
        parseTrailerFields(s, h.headers, this.#isRequest);
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        this.#state = DEAD;
        this.#sink._onError(e);
        return end;
      }
      trailers = h.headers;
    }
    this.#state = IDLE;
    this.#sink._onEnd(trailers);
    return trailerEnd;
  }

}

