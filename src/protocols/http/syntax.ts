/**
 * The grammar of HTTP/1.1 messages (RFC 9110, RFC 9112) on a head already
 * cut out of the byte stream and checked byte by byte (no control bytes,
 * no bare CR or LF: see parser.ts): the start line, the field lines, the
 * fields that frame the body, and chunk extensions. Every refusal is an
 * HttpError with the status that answers it (400, 501, 505 for a request;
 * 502 for a response, which the client reports).
 */
import { HttpError } from './errors.js';
import { Headers, TCHAR } from './headers.js';

const SP = 32, HT = 9;

/** No body. */
export const BODY_NONE = 0;
/** A Content-Length body. */
export const BODY_LENGTH = 1;
/** A chunked body. */
export const BODY_CHUNKED = 2;
/** A response body that ends when the connection closes. */
export const BODY_CLOSE = 3;
/** The connection becomes a tunnel after this head (101 Switching Protocols, a CONNECT's 2xx). */
export const BODY_TUNNEL = 4;

/**
 * The parser's limits (the server's defaults; every one is an option).
 * @example
 * const limits: HttpLimits = { ...DEFAULT_LIMITS, maxHeaderSize: 32 * 1024 };
 */
export interface HttpLimits {
  /** The request line (or a response's status line), without its CRLF: 8 KiB; longer is 414. */
  maxRequestLine: number;
  /** The header field lines (and a trailer section), CRLFs included: 16 KiB; more is 431. */
  maxHeaderSize: number;
  /** Header fields (and trailer fields): 100; more is 431. */
  maxHeaders: number;
  /** Chunk extension bytes in one message: 16 KiB; more is 413. */
  maxChunkExtensions: number;
}

/**
 * The default limits: request line 8 KiB, header section 16 KiB and 100 fields, chunk extensions 16 KiB per message.
 * @example
 * yield* serveHttp(function* (_req, res) { res.end('ok'); }, '127.0.0.1', 8080, { ...DEFAULT_LIMITS, maxHeaders: 50 });
 */
export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100, maxChunkExtensions: 16384,
});

/** @internal a parsed start line and header section, and how the body is framed. */
export class ParsedHead {
  method = '';
  target = '';
  status = 0;
  reason = '';
  /** '1.0' or '1.1' */
  version = '1.1';
  headers = new Headers();
  /** Does the sender want the connection kept open after this message? */
  keepAlive = true;
  bodyKind = BODY_NONE;
  /** The Content-Length, or -1. */
  length = -1;
  /** The Expect field, lower-cased, or null. */
  expect: string | null = null;
  /** The Upgrade field when Connection lists "upgrade", else null. */
  upgrade: string | null = null;
}

/** A Content-Length value: 1*DIGIT, or a list of identical ones (RFC 9110 8.6); -2 if invalid. */
function parseLength(v: string): number {
  let out = -1;
  let start = 0;
  for (;;) {
    let end = v.indexOf(',', start);
    if (end < 0) end = v.length;
    let a = start, b = end;
    while (a < b && (v.charCodeAt(a) === SP || v.charCodeAt(a) === HT)) a++;
    while (b > a && (v.charCodeAt(b - 1) === SP || v.charCodeAt(b - 1) === HT)) b--;
    if (a === b || b - a > 15) return -2;
    let n = 0;
    for (let i = a; i < b; i++) {
      const d = v.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return -2;
      n = n * 10 + d;
    }
    if (out >= 0 && n !== out) return -2;
    out = n;
    if (end === v.length) return out;
    start = end + 1;
  }
}

/** A comma-separated list's elements, trimmed and lower-cased, empty ones dropped. */
function tokens(v: string): string[] {
  const out: string[] = [];
  for (const part of v.split(',')) {
    const t = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (t.length > 0) out.push(t.toLowerCase());
  }
  return out;
}


/** @internal a request's head (`s`: every line with its CRLF but the empty one; `le`: the end of the request line). Throws HttpError. */
export function parseRequestHead(s: string, le: number): ParsedHead {
  const sp1 = s.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : s.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 > le) throw new HttpError(400, 'malformed request line');
  const h = new ParsedHead();
  const method = s.slice(0, sp1);
  for (let i = 0; i < sp1; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) throw new HttpError(400, 'invalid method');
  }
  if (sp2 === sp1 + 1) throw new HttpError(400, 'malformed request line');
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) throw new HttpError(400, 'invalid byte in the request target');
  }
  const v = version(s, sp2 + 1, le, true);
  h.method = method;
  h.target = s.slice(sp1 + 1, sp2);
  h.version = v;
  fields(s, le + 2, h, true);
  return h;
}

/** @internal a response's head, as {@link parseRequestHead}. Throws HttpError. */
export function parseResponseHead(s: string, le: number): ParsedHead {
  const sp1 = s.indexOf(' ');
  if (sp1 < 0 || sp1 > le) throw new HttpError(502, 'malformed status line');
  const v = version(s, 0, sp1, false);
  const h = new ParsedHead();
  h.version = v;
  let status = 0;
  for (let i = sp1 + 1; i < sp1 + 4; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (!(d >= 0 && d <= 9) || i >= le) throw new HttpError(502, 'malformed status code');
    status = status * 10 + d;
  }
  if (status < 100) throw new HttpError(502, 'malformed status code');
  if (sp1 + 4 < le && s.charCodeAt(sp1 + 4) !== SP) throw new HttpError(502, 'malformed status line');
  h.status = status;
  h.reason = sp1 + 5 <= le ? s.slice(sp1 + 5, le) : '';
  fields(s, le + 2, h, false);
  return h;
}

/** "HTTP/x.y" at s[a, b): '1.0' or '1.1' (a later 1.x reads as 1.1). */
function version(s: string, a: number, b: number, isRequest: boolean): string {
  const bad = isRequest ? 400 : 502;
  if (b - a !== 8 || !s.startsWith('HTTP/', a) || s.charCodeAt(a + 6) !== 0x2e) throw new HttpError(bad, 'malformed HTTP version');
  const major = s.charCodeAt(a + 5) - 0x30, minor = s.charCodeAt(a + 7) - 0x30;
  if (!(major >= 0 && major <= 9 && minor >= 0 && minor <= 9)) throw new HttpError(bad, 'malformed HTTP version');
  if (major !== 1) throw new HttpError(isRequest ? 505 : 502, `HTTP/${major}.${minor} is not supported`);
  return minor === 0 ? '1.0' : '1.1';
}

/**
 * The field lines of `s` from `pos` (each ends with CRLF) into `h`, with
 * the fields that frame the message checked.
 */
function fields(s: string, pos: number, h: ParsedHead, isRequest: boolean): void {
  const bad = isRequest ? 400 : 502;
  const headers = h.headers;
  let hosts = 0;
  let length = -1;
  let te: string[] | null = null;
  let close = false, keepAlive = false, upgradeToken = false;
  let upgrade: string | null = null;
  while (pos < s.length) {
    const le = s.indexOf('\r\n', pos);
    const c0 = s.charCodeAt(pos);
    if (c0 === SP || c0 === HT) throw new HttpError(bad, 'obsolete line folding');
    const colon = s.indexOf(':', pos);
    if (colon < 0 || colon > le) throw new HttpError(bad, 'header line without a colon');
    if (colon === pos) throw new HttpError(bad, 'empty header name');
    for (let i = pos; i < colon; i++) {
      const c = s.charCodeAt(i);
      if (c > 127 || TCHAR[c] === 0) {
        throw new HttpError(bad, c === SP || c === HT ? 'whitespace before the colon' : 'invalid character in a header name');
      }
    }
    let a = colon + 1, b = le;
    while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
    while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
    const name = s.slice(pos, colon);
    const value = s.slice(a, b);
    headers._push(name, value);
    switch (colon - pos) {
      case 4:
        if (name.toLowerCase() === 'host') hosts++;
        break;
      case 6:
        if (name.toLowerCase() === 'expect') h.expect = value.toLowerCase();
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgrade = value;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const t of tokens(value)) {
            if (t === 'close') close = true;
            else if (t === 'keep-alive') keepAlive = true;
            else if (t === 'upgrade') upgradeToken = true;
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = parseLength(value);
          if (n === -2 || (length >= 0 && n !== length)) throw new HttpError(bad, 'invalid or conflicting Content-Length');
          length = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') (te ??= []).push(...tokens(value));
        break;
      default: break;
    }
    pos = le + 2;
  }
  h.keepAlive = h.version === '1.1' ? !close : keepAlive && !close;
  if (upgradeToken && upgrade !== null) h.upgrade = upgrade;
  if (isRequest) {
    if (h.version === '1.1' && hosts !== 1) throw new HttpError(400, hosts === 0 ? 'missing Host' : 'more than one Host');
    if (hosts > 1) throw new HttpError(400, 'more than one Host');
  }
  if (te !== null) {
    // RFC 9112 6.1 and 6.3: Transfer-Encoding wins over Content-Length, but a message with both is how
    // requests are smuggled past a proxy that reads the other one: refuse it, as every other ambiguity.
    if (length >= 0) throw new HttpError(bad, 'both Content-Length and Transfer-Encoding');
    if (h.version === '1.0') throw new HttpError(bad, 'Transfer-Encoding in an HTTP/1.0 message');
    const last = te.length > 0 ? te[te.length - 1] : undefined;
    if (last !== 'chunked') {
      if (isRequest) throw new HttpError(400, 'Transfer-Encoding without a final chunked');
      h.bodyKind = BODY_CLOSE;   // a response: read until the connection closes (RFC 9112 6.3)
    } else {
      if (te.length > 1) {
        if (te.indexOf('chunked') < te.length - 1) throw new HttpError(bad, 'chunked applied more than once');
        throw new HttpError(isRequest ? 501 : 502, `unsupported transfer coding ${te[0]}`);
      }
      h.bodyKind = BODY_CHUNKED;
    }
  } else if (length > 0) {
    h.bodyKind = BODY_LENGTH;
    h.length = length;
  } else if (length === 0) h.length = 0;
  else if (!isRequest) h.bodyKind = BODY_CLOSE;
}

/** @internal trailer fields: the syntax of header fields; the framing fields among them are kept but mean nothing. Throws HttpError. */
export function parseTrailerFields(s: string, headers: Headers, isRequest: boolean): void {
  const bad = isRequest ? 400 : 502;
  let pos = 0;
  while (pos < s.length) {
    const le = s.indexOf('\r\n', pos);
    const c0 = s.charCodeAt(pos);
    const colon = s.indexOf(':', pos);
    if (c0 === SP || c0 === HT || colon <= pos || colon > le) throw new HttpError(bad, 'malformed trailer field');
    for (let i = pos; i < colon; i++) {
      const c = s.charCodeAt(i);
      if (c > 127 || TCHAR[c] === 0) throw new HttpError(bad, 'invalid character in a trailer name');
    }
    let a = colon + 1, b = le;
    while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
    while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
    headers._push(s.slice(pos, colon), s.slice(a, b));
    pos = le + 2;
  }
}

/**
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) (RFC 9112 7.1.1),
 * in `buf[p, end)`.
 */
export function validChunkExt(buf: Uint8Array, p: number, end: number): boolean {
  const tokenEnd = (q: number): number => { while (q < end && buf[q]! < 128 && TCHAR[buf[q]!] === 1) q++; return q; };
  const ws = (q: number): number => { while (q < end && (buf[q] === SP || buf[q] === HT)) q++; return q; };
  while (p < end) {
    p = ws(p);
    if (p === end || buf[p] !== 0x3b) return false;   // ';'
    p = ws(p + 1);
    const n = tokenEnd(p);
    if (n === p) return false;
    p = ws(n);
    if (p < end && buf[p] === 0x3d) {   // '='
      p = ws(p + 1);
      if (p < end && buf[p] === 0x22) {   // quoted-string
        p++;
        for (;;) {
          if (p >= end) return false;
          const c = buf[p]!;
          if (c === 0x22) { p++; break; }
          if (c === 0x5c) {   // quoted-pair
            const d = buf[p + 1];
            if (p + 1 >= end || d === undefined || (d < 32 && d !== HT) || d === 127) return false;
            p += 2;
            continue;
          }
          if ((c < 32 && c !== HT) || c === 127) return false;
          p++;
        }
      } else {
        const v = tokenEnd(p);
        if (v === p) return false;
        p = v;
      }
    }
  }
  return true;
}
