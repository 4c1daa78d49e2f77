/**
 * HTTP header fields as a message carries them: in order, names as sent,
 * repeats kept. Lookups ignore case (RFC 9110 field names are
 * case-insensitive). A parsed message's fields are already validated by the
 * parser; fields set by code are validated here, so that no CR, LF or other
 * control byte can reach the wire (response splitting).
 */
/**
 * What a `Headers` can be made from: another `Headers`, `[name, value]`
 * pairs, or a record (an array value is a repeated field).
 * @example
 * const init: HeadersInit = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] };
 */
export type HeadersInit = Headers | Iterable<readonly [string, string]> | Record<string, string | number | readonly string[]>;

/** tchar of RFC 9110 (the bytes a field name or a method may hold): 1, else 0. */
export const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) { TCHAR[c] = 1; TCHAR[c + 32] = 1; }

/** Is `s` a non-empty token (a valid field name or method)? */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Can `value` be sent as a field value? Visible ASCII, SP and HTAB, and U+0080..U+00FF (obs-text, one byte each). */
function validValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

/** Throw unless `reason` may be sent as a reason phrase (the characters of a field value). */
export function checkReason(reason: string): void {
  if (!validValue(reason)) throw new TypeError(`invalid character in the reason phrase ${JSON.stringify(reason)}`);
}

/** Throw unless `name: value` may be sent. */
export function checkField(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (!validValue(value)) throw new TypeError(`invalid character in the value of header ${name}`);
}

/**
 * Header fields: case-insensitive lookups, repeated fields kept in order.
 * `get()` joins repeats with ", " (RFC 9110's combining rule); `getAll()`
 * gives each (use it for `Set-Cookie`, which cannot be combined).
 * @example
 * const h = new Headers({ 'Content-Type': 'text/plain' });
 * h.append('Set-Cookie', 'a=1'); h.append('set-cookie', 'b=2');
 * h.get('content-type');    // 'text/plain'
 * h.getAll('SET-COOKIE');   // ['a=1', 'b=2']
 */
export class Headers implements Iterable<[string, string]> {
  /** @internal names as sent */ _names: string[] = [];
  /** @internal */ _values: string[] = [];
  /** Lower-case names, made on the first lookup. */
  #lower: string[] | null = null;

  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (init instanceof Headers) {
      this._names = init._names.slice();
      this._values = init._values.slice();
      return;
    }
    if (Symbol.iterator in init) {
      for (const [n, v] of init as Iterable<readonly [string, string]>) this.append(n, v);
      return;
    }
    for (const [n, v] of Object.entries(init)) {
      if (Array.isArray(v)) for (const x of v as readonly string[]) this.append(n, x);
      else this.append(n, String(v));
    }
  }

  /** @internal add a field the parser validated. */
  _push(name: string, value: string): void {
    this._names.push(name);
    this._values.push(value);
    if (this.#lower !== null) this.#lower.push(name.toLowerCase());
  }

  /** Number of fields (repeats counted). */
  get size(): number { return this._names.length; }

  #lowerNames(): string[] {
    let l = this.#lower;
    if (l === null) {
      l = this.#lower = new Array<string>(this._names.length);
      for (let i = 0; i < l.length; i++) l[i] = this._names[i]!.toLowerCase();
    }
    return l;
  }

  /** The value of `name` (repeats joined with ", "), or null. */
  get(name: string): string | null {
    const q = name.toLowerCase();
    const l = this.#lowerNames();
    let out: string | null = null;
    for (let i = 0; i < l.length; i++) {
      if (l[i] !== q) continue;
      out = out === null ? this._values[i]! : `${out}, ${this._values[i]!}`;
    }
    return out;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const q = name.toLowerCase();
    const l = this.#lowerNames();
    const out: string[] = [];
    for (let i = 0; i < l.length; i++) if (l[i] === q) out.push(this._values[i]!);
    return out;
  }

  /** Is there a field `name`? */
  has(name: string): boolean { return this.#lowerNames().includes(name.toLowerCase()); }

  /** Add a field (after any of the same name). */
  append(name: string, value: string): void {
    checkField(name, value);
    this._push(name, value);
  }

  /** Replace every field `name` with one. */
  set(name: string, value: string): void {
    checkField(name, value);
    this.delete(name);
    this._push(name, value);
  }

  /** Remove every field `name`; returns how many there were. */
  delete(name: string): number {
    const q = name.toLowerCase();
    const l = this.#lowerNames();
    let n = 0;
    for (let i = l.length - 1; i >= 0; i--) {
      if (l[i] !== q) continue;
      l.splice(i, 1);
      this._names.splice(i, 1);
      this._values.splice(i, 1);
      n++;
    }
    return n;
  }

  /** `[name, value]` for each field, in order, names as sent. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this._names.length; i++) yield [this._names[i]!, this._values[i]!];
  }

  /** A plain object: lower-case names, repeats joined with ", " (for logs and tests). */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of this) {
      const k = n.toLowerCase();
      out[k] = k in out ? `${out[k]!}, ${v}` : v;
    }
    return out;
  }
}

/** @internal a header list given by code as a `Headers`, or made from any `HeadersInit`. */
export function toHeaders(init: HeadersInit | undefined): Headers {
  return init instanceof Headers ? init : new Headers(init);
}
