/**
 * The server object of the virtual network, with the `Server` API of
 * API.md. It owns its listening addresses (in the network's table) and the
 * set of connections it accepted, because `waitClosed()` returns only once
 * the server is closed and every one of those is gone, and a halted
 * `serveForever()` or `waitClosed()` shuts them down (the protocols
 * layer's server_shutdown.ts, shared with the Node loop's servers).
 */
import type { Coro } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { rehalt } from '../kernel/traps.js';
import type { Server, SockAddr } from '../kernel/transport_types.js';
import type { Context } from '../kernel/context.js';
import {
  type ConnectionOwner, DEFAULT_CLOSE_GRACE, disposeServerAsync, shutDownServer, waitClosedOrShutDown,
} from '../protocols/server_shutdown.js';
import type { VirtualTransport } from './stream.js';
import type { TestEventLoop } from './test_loop.js';

/**
 * A listening server on the virtual network (what `createServer` returns on a `TestEventLoop`).
 * @example
 * const server = yield* getRunningLoop().createServer(() => new ChunkProtocol('\n', (line, p) => p.writeChunk(line)), 'localhost', 0);   // in runVirtual()
 * const [, port] = server.addresses()[0] as [string, number];
 * server.close(); yield* server.waitClosed();
 */
export class VirtualServer implements Server, ConnectionOwner {
  /** @internal ms the connections may flush when the server shuts down, before they are aborted. */
  _closeGrace = DEFAULT_CLOSE_GRACE;
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

  waitClosed(): Coro<void> { return waitClosedOrShutDown(this._loop, this, this._closeGrace); }

  *serveForever(): Coro<never> {
    if (this.#forever !== null) throw new Error('server is already being awaited on serveForever()');
    if (this.#closed) throw new Error('server is closed');
    this.startServing();
    const f = this.#forever = new Future<never>({ loop: this._loop, description: 'Server.serveForever' });
    let halted = true;
    try {
      return yield* f;
    } catch (e) {
      halted = false;   // close() was called
      throw e;
    } finally {
      this.#forever = null;
      if (halted) {
        yield* shutDownServer(this._loop, this, this._closeGrace);
        yield* rehalt();   // this cleanup waited: the halt must go on to the caller (see rehalt())
      }
    }
  }

  /** @internal */
  _connections(): Iterable<VirtualTransport> { return this.#conns; }
  /** @internal a future of its own: the server is closed and every connection gone. */
  _allGone(): Future<void> {
    const f = new Future<void>({ loop: this._loop, description: 'Server.waitClosed' });
    if (this.#closed && this.#conns.size === 0) f.setResult();
    else this.#waiters.push(f);
    return f;
  }
  /** @internal */
  _dropWaiter(f: Future<void>): void { this.#waiters = this.#waiters.filter((x) => x !== f); }

  /** `using server = ...`: `close()`. */
  [Symbol.dispose](): void { this.close(); }

  /** `await using server = ...`: `close()`, `closeClients()`, then wait until every connection is gone. */
  [Symbol.asyncDispose](): Promise<void> { return disposeServerAsync(this); }

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
