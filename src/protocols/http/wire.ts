/**
 * Writing HTTP/1.1 messages: heads as one string (sent as one write with
 * the body when it is small), chunked framing, the Date field. Shared by
 * the server's responses and the client's requests.
 */
import type { WriteTransport } from '../../kernel/transport_types.js';
import { STATUS_TEXT } from './errors.js';

type Bytes = Uint8Array | string;

const encoder = new TextEncoder();

/** UTF-8 length of `s` (what `write(s)` sends). */
export function byteLength(s: Bytes): number {
  if (typeof s !== 'string') return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 2; i++; } else n += 2;
  }
  return n;
}

/** A head string with characters U+0080..U+00FF (obs-text): one byte each, not UTF-8. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Does `s` hold a character outside ASCII? */
export function hasHigh(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return true;
  return false;
}

const statusLines = new Map<number, string>();
/** "HTTP/1.1 200 OK\r\n" (cached for the standard reasons). */
export function statusLine(status: number, reason: string | null): string {
  if (reason !== null) return `HTTP/1.1 ${status} ${reason}\r\n`;
  let l = statusLines.get(status);
  if (l === undefined) {
    l = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, l);
  }
  return l;
}

let dateValue = '';
let dateExpires = 0;
/** The Date field's value (IMF-fixdate), computed once a second. */
export function httpDate(): string {
  const now = Date.now();
  if (now >= dateExpires) {
    dateValue = new Date(now).toUTCString();
    dateExpires = now - (now % 1000) + 1000;
  }
  return dateValue;
}

/** Write `head` (a string, latin1 if `high`) followed by `body` in one write where possible. */
export function writeHead(t: WriteTransport, head: string, high: boolean, body: Bytes | null): void {
  if (high) {
    const h = latin1Bytes(head);
    if (body === null || body.length === 0) t.write(h);
    else t.writeLines([h, body]);
    return;
  }
  if (body === null || body.length === 0) t.write(head);
  else if (typeof body === 'string') t.write(head + body);
  else t.writeLines([head, body]);
}

/** One chunk of a chunked body (with `prefix` before it, a head say, and `suffix` after it, the last chunk). */
export function writeChunk(t: WriteTransport, data: Bytes, prefix: string, suffix: string): void {
  const n = byteLength(data);
  if (n === 0) { if (prefix.length + suffix.length > 0) t.write(prefix + suffix); return; }
  const size = `${prefix}${n.toString(16)}\r\n`;
  if (typeof data === 'string') t.write(`${size}${data}\r\n${suffix}`);
  else t.writeLines([size, data, `\r\n${suffix}`]);
}

/** The end of a chunked body: the last chunk and an empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';

/** Bytes of `data` (a string as UTF-8). */
export function toBytes(data: Bytes): Uint8Array { return typeof data === 'string' ? encoder.encode(data) : data; }
