/**
 * The connection pool of an `HttpClient`: idle keep-alive connections per
 * origin (the most recent reused first), within a limit per origin and one
 * in total. A request past them waits its turn (FIFO): a connection freed
 * is handed to the first waiter for its origin, a slot freed to the first
 * waiter that may use it (reserved for it). A waiter that gives up after
 * being handed something hands it on, so nothing is lost or leaked.
 */
import type { Coro, EventLoop } from '../../kernel/events.js';
import { Future } from '../../kernel/future.js';
import type { HttpClientConnection } from './client_connection.js';

interface Waiter { origin: string; f: Future<HttpClientConnection | null> }

/** @internal the connection pool of one client. */
export class Pool {
  readonly loop: EventLoop;
  readonly #idle = new Map<string, HttpClientConnection[]>();
  readonly #open = new Map<string, number>();
  #total = 0;
  #waiters: Waiter[] = [];
  readonly #perOrigin: number;
  readonly #max: number;
  readonly #keepAlive: number;
  readonly #all = new Set<HttpClientConnection>();
  closed = false;

  constructor(loop: EventLoop, perOrigin: number, max: number, keepAlive: number) {
    this.loop = loop;
    this.#perOrigin = perOrigin;
    this.#max = max;
    this.#keepAlive = keepAlive;
  }

  /** A connection to `origin`: an idle one, a new one (`connect`), or the next one freed. */
  *acquire(origin: string, connect: () => Coro<HttpClientConnection>): Coro<HttpClientConnection> {
    for (;;) {
      if (this.closed) throw new Error('the HttpClient is closed');
      const idle = this.#takeIdle(origin);
      if (idle !== null) return idle;
      if (this.#mayOpen(origin)) return yield* this.#openNew(origin, connect);
      const f = new Future<HttpClientConnection | null>({ loop: this.loop, description: `HttpClient: a connection to ${origin}` });
      const w: Waiter = { origin, f };
      this.#waiters.push(w);
      let took = false;
      try {
        const c = yield* f;
        took = true;
        if (c !== null) return c;
        return yield* this.#openNew(origin, connect, true);
      } finally {
        if (!took) {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          else if (f.done() && !f.cancelled() && f.exception() === undefined) {
            // Woken, then cancelled before it ran: hand what it was given to the next in line.
            const c = f.result();
            if (c !== null) this._release(c);
            else { this.#unreserve(origin); this.#dispatch(); }
          }
        }
      }
    }
  }

  /** Open a connection; `reserved`: the slot was reserved by the one who woke us. */
  *#openNew(origin: string, connect: () => Coro<HttpClientConnection>, reserved = false): Coro<HttpClientConnection> {
    if (!reserved) this.#reserve(origin);
    let c: HttpClientConnection;
    try {
      c = yield* connect();
    } catch (e) {
      this.#unreserve(origin);
      this.#dispatch();
      throw e;
    }
    this.#all.add(c);
    if (this.closed) { c.abort(); throw new Error('the HttpClient is closed'); }
    return c;
  }

  #mayOpen(origin: string): boolean {
    if ((this.#open.get(origin) ?? 0) >= this.#perOrigin) return false;
    if (this.#total < this.#max) return true;
    // Full: close an idle connection to another origin to make room.
    for (const [o, list] of this.#idle) {
      if (o === origin || list.length === 0) continue;
      list.shift()!.close();
      return false;   // the slot frees when it is gone (dispatch wakes the waiter)
    }
    return false;
  }

  #reserve(origin: string): void { this.#open.set(origin, (this.#open.get(origin) ?? 0) + 1); this.#total++; }
  #unreserve(origin: string): void { this.#open.set(origin, (this.#open.get(origin) ?? 1) - 1); this.#total--; }

  #takeIdle(origin: string): HttpClientConnection | null {
    const list = this.#idle.get(origin);
    while (list !== undefined && list.length > 0) {
      const c = list.pop()!;
      if (!c.lost) return c;
    }
    return null;
  }

  /** @internal a connection is free: to the first waiter for its origin, else idle. */
  _release(c: HttpClientConnection): void {
    if (this.closed || c.lost) { c.close(); return; }
    const i = this.#waiters.findIndex((w) => w.origin === c.origin);
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w!.f.setResult(c);
      return;
    }
    let list = this.#idle.get(c.origin);
    if (list === undefined) this.#idle.set(c.origin, list = []);
    list.push(c);
    c._idle(this.#keepAlive);
  }

  /** @internal a connection is gone. */
  _closed(c: HttpClientConnection): void {
    if (!this.#all.delete(c)) return;
    const list = this.#idle.get(c.origin);
    if (list !== undefined) {
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.#idle.delete(c.origin);
    }
    this.#unreserve(c.origin);
    if ((this.#open.get(c.origin) ?? 0) <= 0) this.#open.delete(c.origin);
    this.#dispatch();
  }

  /** Wake the first waiter that may open a connection now (its slot reserved). */
  #dispatch(): void {
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      if ((this.#open.get(w.origin) ?? 0) >= this.#perOrigin) continue;
      if (this.#total >= this.#max) { this.#mayOpen(w.origin); return; }
      this.#waiters.splice(i, 1);
      this.#reserve(w.origin);
      w.f.setResult(null);
      return;
    }
  }

  close(): void {
    this.closed = true;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) { w.f.setException(new Error('the HttpClient is closed')); void w.f.exception(); }
    for (const c of [...this.#all]) c.abort();
  }
}
