/**
 * A ring-buffer deque: every queue and every waiter list in the toolkit is
 * one. `Array.prototype.shift` is O(n) once an array leaves V8's fast path,
 * and waiter lists are shifted on every wake-up, so they get a structure
 * whose both ends are O(1). Internal: not exported from the package.
 */

/** @internal A double-ended queue on a power-of-two ring buffer. */
export class Deque<T> {
  #buf: (T | undefined)[];
  #head = 0;
  #len = 0;
  #mask: number;

  constructor(capacity = 8) {
    let n = 8;
    while (n < capacity) n *= 2;
    this.#buf = new Array<T | undefined>(n);
    this.#mask = n - 1;
  }

  get length(): number { return this.#len; }

  push(v: T): void {
    if (this.#len > this.#mask) this.#grow();
    this.#buf[(this.#head + this.#len) & this.#mask] = v;
    this.#len++;
  }

  unshift(v: T): void {
    if (this.#len > this.#mask) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#buf[this.#head] = v;
    this.#len++;
  }

  /** Remove and return the first item (undefined if empty). */
  shift(): T | undefined {
    if (this.#len === 0) return undefined;
    const h = this.#head;
    const v = this.#buf[h];
    this.#buf[h] = undefined;
    this.#head = (h + 1) & this.#mask;
    this.#len--;
    return v;
  }

  /** Remove and return the last item (undefined if empty). */
  pop(): T | undefined {
    if (this.#len === 0) return undefined;
    this.#len--;
    const i = (this.#head + this.#len) & this.#mask;
    const v = this.#buf[i];
    this.#buf[i] = undefined;
    return v;
  }

  peekFirst(): T | undefined { return this.#len === 0 ? undefined : this.#buf[this.#head]; }
  peekLast(): T | undefined { return this.#len === 0 ? undefined : this.#buf[(this.#head + this.#len - 1) & this.#mask]; }

  clear(): void {
    this.#buf.fill(undefined);
    this.#head = 0;
    this.#len = 0;
  }

  *[Symbol.iterator](): Generator<T, void, unknown> {
    for (let i = 0; i < this.#len; i++) yield this.#buf[(this.#head + i) & this.#mask] as T;
  }

  #grow(): void {
    const old = this.#buf;
    const n = old.length * 2;
    const buf = new Array<T | undefined>(n);
    for (let i = 0; i < this.#len; i++) buf[i] = old[(this.#head + i) & this.#mask];
    this.#buf = buf;
    this.#head = 0;
    this.#mask = n - 1;
  }
}
