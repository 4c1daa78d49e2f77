/**
 * The server object of the virtual network, with the `Server` API of
 * API.md. It owns its listening addresses (in the network's table) and the
 * set of connections it accepted, because `waitClosed()` returns only once
 * the server is closed and every one of those is gone.
 */
import { Future } from '../kernel/future.js';
import type { Server, SockAddr } from '../kernel/transport_types.js';
import type { Context } from '../kernel/context.js';
import type { VirtualTransport } from './stream.js';
import type { TestEventLoop } from './test_loop.js';

/**
 * A listening server on the virtual network (what `createServer` returns on a `TestEventLoop`).
 * @example
 * const server = yield* getRunningLoop().createServer(() => new ChunkProtocol('\n', (line, p) => p.writeChunk(line)), 'localhost', 0);   // in runVirtual()
 * const [, port] = server.addresses()[0] as [string, number];
 * server.close(); yield* server.waitClosed();
 */
export class VirtualServer implements Server {
  #serving = false;
  #closed = false;
  readonly #conns = new Set<VirtualTransport>();
  #waiters: Future<void>[] = [];
  #forever: Future<never> | null = null;

  /** @internal */
  constructor(
    /** @internal */ readonly _loop: TestEventLoop,
    /** @internal */ readonly _factory: () => unknown,
    /** @internal */ readonly _ctx: Context,
    /** @internal */ readonly _host: string,
    /** @internal */ readonly _keys: string[],
    /** @internal */ readonly _addresses: SockAddr[],
    /** @internal */ readonly _unbind: (keys: string[]) => void,
  ) {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#serving = false;
    this._unbind(this._keys);
    if (this.#forever !== null && !this.#forever.done()) this.#forever.cancel('server closed');
    this.#check();
  }

  *waitClosed(): Generator<unknown, void, unknown> {
    if (this.#closed && this.#conns.size === 0) return;
    const f = new Future<void>({ loop: this._loop, description: 'Server.waitClosed' });
    this.#waiters.push(f);
    try {
      yield* f;
    } finally {
      if (!f.done() || f.cancelled()) this.#waiters = this.#waiters.filter((x) => x !== f);   // a waiter that gave up keeps nothing
    }
  }

  *serveForever(): Generator<unknown, never, unknown> {
    if (this.#forever !== null) throw new Error('server is already being awaited on serveForever()');
    if (this.#closed) throw new Error('server is closed');
    this.startServing();
    const f = this.#forever = new Future<never>({ loop: this._loop, description: 'Server.serveForever' });
    try {
      return yield* f;
    } finally {
      this.#forever = null;
      this.close();
    }
  }

  startServing(): void {
    if (this.#closed) throw new Error('server is closed');
    this.#serving = true;
  }

  isServing(): boolean { return this.#serving; }
  addresses(): Array<SockAddr | string> { return this._addresses.map((a) => [...a] as SockAddr); }
  closeClients(): void { for (const t of [...this.#conns]) t.close(); }
  abortClients(): void { for (const t of [...this.#conns]) t.abort(); }

  /** @internal */
  _attach(t: VirtualTransport): void { this.#conns.add(t); t._owner = this; }
  /** @internal */
  _detach(t: VirtualTransport): void { this.#conns.delete(t); this.#check(); }

  #check(): void {
    if (!this.#closed || this.#conns.size > 0) return;
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) if (!f.done()) f.setResult();
  }

  toString(): string { return `<VirtualServer ${this._addresses.map((a) => a.join(':')).join(', ')}${this.#closed ? ' closed' : ''}>`; }
}
