/**
 * The in-memory network of a TestEventLoop: named hosts with addresses,
 * links between them with latency, jitter, bandwidth, loss and partitions,
 * and the connection and binding tables behind `createServer`,
 * `createConnection` and `createDatagramEndpoint`.
 *
 * Every delay is a timer of the loop and every random draw comes from the
 * loop's seed, so a run is a pure function of its seed. Which host a task
 * runs as is a `ContextVar` (default `localhost`), inherited by the tasks
 * it creates; `onHost(name, body)` runs `body` as another host. The rules
 * (addresses, binding, error codes) are those at the end of API.md. Names
 * are global: `localhost` is the host of that name whatever host a task
 * runs as, and an address no host owns refuses connections at once.
 */
import { type Context, ContextVar, currentContext, swapContext } from '../kernel/context.js';
import type { ConnectionOptions, Coro, ServerOptions } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { NotImplementedError } from '../kernel/errors.js';
import type { AddrInfo, BaseTransport, SockAddr, Transport } from '../kernel/transport_types.js';
import { VirtualDatagramTransport } from './datagram.js';
import { isIP } from './ip.js';
import { netError } from './errors.js';
import { ACCEPT, Link, type LinkSetting, type Packet, Pipe, type PipeEnds, REFUSE, RST, SYN, Wire } from './link.js';
import { seededRandom } from './random.js';
import { VirtualServer } from './server.js';
import { VirtualTransport } from './stream.js';
import type { TestEventLoop } from './test_loop.js';

const hostVar = new ContextVar<string>('tulip.testing.host', { default: 'localhost' });
const WILDCARDS = new Set(['', '0.0.0.0', '::']);
const EPHEMERAL = 49152;


interface Host { name: string; addresses: string[]; nextPort: number }

/** One connection: two ends and a pipe each way. */
class Conn implements PipeEnds {
  server: VirtualTransport | null = null;
  c2s!: Pipe;
  s2c!: Pipe;
  constructor(
    readonly net: VirtualNetwork,
    readonly client: VirtualTransport,
    public connecting: Future<[VirtualTransport, unknown]> | null,
    readonly factory: () => unknown,
    readonly serverHost: string,
    readonly clientHost: string,
    readonly dst: SockAddr,
  ) {}
  _arrive(pipe: Pipe, p: Packet): void { if (pipe === this.c2s) this.net._toServer(this, p); else this.net._toClient(this, p); }
  _drained(pipe: Pipe): void { if (pipe === this.c2s) this.client._pump(); else this.server?._pump(); }
}

/**
 * The virtual network of a {@link TestEventLoop} (`loop.network`).
 * @example
 * const loop = getRunningLoop() as TestEventLoop;   // in runVirtual()
 * const net = loop.network;
 * net.addHost('server');
 * net.setLink('localhost', 'server', { latency: 50, jitter: 10 });
 * yield* net.onHost('server', () => loop.createServer(() => new ChunkProtocol('\n', (line, p) => p.writeChunk(line)), 'server', 7));
 */
export class VirtualNetwork {
  readonly #loop: TestEventLoop;
  readonly #random: () => number;
  readonly #wire: Wire;
  readonly #hosts = new Map<string, Host>();
  readonly #byAddr = new Map<string, Host>();
  readonly #links = new Map<string, Link>();
  readonly #listeners = new Map<string, VirtualServer>();
  readonly #udp = new Map<string, VirtualDatagramTransport>();
  #conns = new Set<Conn>();
  #next10 = 0;
  #pruneAt = 1024;
  /** The receive window of each direction of a new connection, in bytes (default 64 KiB). */
  receiveWindow = 64 * 1024;

  /** @internal made by the loop. */
  constructor(loop: TestEventLoop) {
    this.#loop = loop;
    this.#random = seededRandom((loop.seed ^ 0x5bd1e995) >>> 0);
    this.#wire = new Wire(loop);
    this.addHost('localhost', ['127.0.0.1', '::1']);
  }

  // ---- hosts and links -----------------------------------------------------------

  /** Add a host; without `addresses` it gets the next of 10.0.0.1, 10.0.0.2, ... */
  addHost(name: string, addresses?: string[]): void {
    if (this.#hosts.has(name)) throw new Error(`host '${name}' already exists`);
    const addrs = addresses ?? [this.#nextAddress()];
    if (addrs.length === 0) throw new Error(`host '${name}' needs at least one address`);
    for (const a of addrs) {
      if (isIP(a) === 0) throw new TypeError(`'${a}' is not an IP address`);
      if (this.#byAddr.has(a)) throw new Error(`address ${a} already belongs to host '${this.#byAddr.get(a)!.name}'`);
    }
    const h: Host = { name, addresses: [...addrs], nextPort: EPHEMERAL };
    this.#hosts.set(name, h);
    for (const a of addrs) this.#byAddr.set(a, h);
  }

  /** The names of the hosts, in the order they were added. */
  hosts(): string[] { return [...this.#hosts.keys()]; }
  /** The addresses of a host. */
  addressesOf(name: string): string[] { return [...this.#host(name).addresses]; }
  /** The host the current task runs as. */
  currentHost(): string { return hostVar.get(); }

  /** Replace the whole setting of the link between `a` and `b` (fields left out take their defaults). */
  setLink(a: string, b: string, link: LinkSetting): void { this.#link(this.#host(a).name, this.#host(b).name).set(link); }

  /** Cut the link between `a` and `b`: data and connection attempts wait until {@link heal}. */
  partition(a: string, b: string): void { this.#link(this.#host(a).name, this.#host(b).name).partitioned = true; }

  /** Restore the link between `a` and `b`; what it held is delivered in order. */
  heal(a: string, b: string): void { this.#link(this.#host(a).name, this.#host(b).name).heal(); }

  /** Reset every connection of `host` (every connection if none): both ends see `ECONNRESET`, data in flight is dropped. */
  resetConnections(host?: string): void {
    if (host !== undefined) this.#host(host);
    for (const c of this.#conns) {
      if (host !== undefined && c.clientHost !== host && c.serverHost !== host) continue;
      c.c2s.kill();
      c.s2c.kill();
      const f = c.connecting;
      if (f !== null && !f.done()) { c.client._kill(); f.setException(netError('ECONNRESET', 'connect', c.dst[0], c.dst[1])); }
      else c.client._lose(netError('ECONNRESET', 'read'));
      c.server?._lose(netError('ECONNRESET', 'read'));
      this.#conns.delete(c);
    }
  }

  /**
   * Run `body` as host `name` (added with the next free address if unknown);
   * tasks it creates run as that host too.
   */
  *onHost<T>(name: string, body: () => Coro<T>): Coro<T> {
    if (!this.#hosts.has(name)) this.addHost(name);
    const token = hostVar.set(name);
    try {
      return yield* body();
    } finally {
      hostVar.reset(token);
    }
  }

  #nextAddress(): string {
    for (;;) {
      const n = ++this.#next10;
      if ((n & 255) === 0 || (n & 255) === 255) continue;
      const a = `10.0.${n >> 8}.${n & 255}`;
      if (!this.#byAddr.has(a)) return a;
    }
  }

  #host(name: string): Host {
    const h = this.#hosts.get(name);
    if (h === undefined) throw new Error(`unknown host '${name}' (add it with addHost)`);
    return h;
  }

  #here(): Host { return this.#hosts.get(hostVar.get()) ?? this.#hosts.get('localhost')!; }

  #link(a: string, b: string): Link {
    const [x, y] = a <= b ? [a, b] : [b, a];
    const key = `${x}\0${y}`;
    let l = this.#links.get(key);
    if (l === undefined) { l = new Link(x, y, this.#random); this.#links.set(key, l); }
    return l;
  }

  /** A name or address to addresses (ENOTFOUND). */
  #resolve(name: string, family = 0): string[] {
    const h = this.#hosts.get(name);
    let addrs = h !== undefined ? h.addresses : isIP(name) !== 0 ? [name] : null;
    if (addrs === null) throw netError('ENOTFOUND', 'getaddrinfo', name);
    if (family === 4 || family === 6) addrs = addrs.filter((a) => isIP(a) === family);
    if (addrs.length === 0) throw netError('ENOTFOUND', 'getaddrinfo', name);
    return addrs;
  }

  #freePort(h: Host, taken: (port: number) => boolean): number {
    for (let i = 0; i < 65536 - EPHEMERAL; i++) {
      const p = h.nextPort;
      h.nextPort = p >= 65535 ? EPHEMERAL : p + 1;
      if (!taken(p)) return p;
    }
    throw netError('EADDRINUSE', 'bind', h.addresses[0]);
  }

  // ---- names -----------------------------------------------------------------------

  /** @internal */
  *_getAddrInfo(host: string | null, port: number | string | null, family: number): Coro<AddrInfo[]> {
    const addrs = host === null || host === '' ? this.#here().addresses : this.#resolve(host, family);
    const p = port === null ? 0 : Number(port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new TypeError(`invalid port ${String(port)}`);
    return addrs.filter((a) => family === 0 || isIP(a) === family)
      .map((a) => ({ family: isIP(a) === 6 ? 6 : 4, type: 1, proto: 6, canonname: '', addr: [a, p] as SockAddr }));
  }

  /** @internal */
  *_getNameInfo(addr: SockAddr): Coro<[string, string]> {
    return [this.#byAddr.get(addr[0])?.name ?? addr[0], String(addr[1])];
  }

  // ---- servers -----------------------------------------------------------------------

  /** @internal */
  *_createServer(factory: () => unknown, host: string | string[] | null, port: number | null, opts: ServerOptions): Coro<VirtualServer> {
    if (opts.ssl !== undefined && opts.ssl !== null && opts.ssl !== false) throw new NotImplementedError('TLS on the virtual network');
    const here = this.#here();
    const binds: Array<{ wild: boolean; addr: string }> = [];
    for (const h of Array.isArray(host) ? host : [host]) {
      if (h === null || WILDCARDS.has(h)) { binds.push({ wild: true, addr: h === null || h === '' ? '0.0.0.0' : h }); continue; }
      if (h === here.name) { for (const a of here.addresses) binds.push({ wild: false, addr: a }); continue; }
      if (here.addresses.includes(h)) { binds.push({ wild: false, addr: h }); continue; }
      if (this.#hosts.has(h) || isIP(h) !== 0) throw netError('EADDRNOTAVAIL', 'listen', h, port ?? 0);
      throw netError('ENOTFOUND', 'getaddrinfo', h);
    }
    const keysFor = (p: number): string[] => binds.map((b) => (b.wild ? `*${here.name}|${p}` : `${b.addr}|${p}`));
    const taken = (p: number): string | null => {
      const seen = new Set<string>();
      for (const b of binds) {
        const own = b.wild ? `*${here.name}|${p}` : `${b.addr}|${p}`;
        const clash = b.wild ? [own, ...here.addresses.map((a) => `${a}|${p}`)] : [own, `*${here.name}|${p}`];
        for (const k of clash) if (this.#listeners.has(k) || seen.has(k)) return b.addr;
        seen.add(own);
      }
      return null;
    };
    let p = port ?? 0;
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new TypeError(`invalid port ${String(port)}`);
    if (p === 0) p = this.#freePort(here, (q) => taken(q) !== null);
    else { const clash = taken(p); if (clash !== null) throw netError('EADDRINUSE', 'listen', clash, p); }
    const keys = keysFor(p);
    const server = new VirtualServer(this.#loop, factory, currentContext(), here.name, keys,
      binds.map((b) => [b.addr, p] as SockAddr), (ks) => { for (const k of ks) this.#listeners.delete(k); });
    for (const k of keys) this.#listeners.set(k, server);
    if (opts.closeGrace !== undefined) server._closeGrace = opts.closeGrace;
    if (opts.startServing ?? true) server.startServing();
    return server;
  }

  // ---- connections -------------------------------------------------------------------

  /** @internal */
  *_createConnection<P>(factory: () => P, host: string | null, port: number | null, opts: ConnectionOptions): Coro<[Transport, P]> {
    if (opts.ssl !== undefined && opts.ssl !== null && opts.ssl !== false) throw new NotImplementedError('TLS on the virtual network');
    if (host === null || port === null) throw new TypeError('createConnection: host and port are required');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`invalid port ${String(port)}`);
    const addrs = this.#resolve(host, opts.family ?? 0);
    let first: unknown;
    for (const addr of addrs) {
      const c = this.#connect(factory, addr, port, opts.localAddr);
      const f = c.connecting!;
      try {
        const [t, p] = yield* f;
        return [t, p as P];
      } catch (e) {
        if ((e as { code?: unknown }).code !== 'ECONNREFUSED') throw e;
        first ??= e;
      } finally {
        if (f.cancelled()) this.#giveUp(c);
      }
    }
    throw first;
  }

  #connect(factory: () => unknown, addr: string, port: number, localAddr: SockAddr | undefined): Conn {
    const here = this.#here();
    const f = new Future<[VirtualTransport, unknown]>({ loop: this.#loop, description: `connect to ${addr}:${port}` });
    const dstHost = this.#byAddr.get(addr);
    let src = here.addresses.find((a) => isIP(a) === isIP(addr)) ?? here.addresses[0]!;
    let sport = 0;
    if (localAddr !== undefined) {
      const [lh, lp] = localAddr;
      if (lh !== '' && !WILDCARDS.has(lh)) {
        const own = lh === here.name ? here.addresses : here.addresses.includes(lh) ? [lh] : null;
        if (own === null) throw netError('EADDRNOTAVAIL', 'bind', lh, lp);
        src = own[0]!;
      }
      sport = lp;
    }
    if (sport === 0) sport = this.#freePort(here, () => false);
    const ctx = currentContext();
    const client = new VirtualTransport(this.#loop, null, ctx, [src, sport], [addr, port], here.name);
    client._window = this.receiveWindow;
    const link = this.#link(here.name, dstHost?.name ?? here.name);
    const c = new Conn(this, client, f, factory, dstHost?.name ?? '', here.name, [addr, port]);
    c.c2s = new Pipe(this.#loop, this.#wire, link, here.name, c);
    c.s2c = new Pipe(this.#loop, this.#wire, link, c.serverHost, c);
    client._out = c.c2s;
    if (dstHost === undefined) {
      client._kill();
      f.setException(netError('ECONNREFUSED', 'connect', addr, port));
      return c;
    }
    this.#conns.add(c);
    if (this.#conns.size >= this.#pruneAt) this.#prune();
    c.c2s.send(SYN, null);
    return c;
  }

  /** The client stopped waiting (cancelled): forget the attempt, resetting the server's end if it accepted. */
  #giveUp(c: Conn): void {
    c.client._kill();
    c.c2s.send(RST, null);
  }

  /** @internal */
  _toServer(c: Conn, p: Packet): void {
    if (p.kind !== SYN) { c.server?._receive(p); return; }
    const [addr, port] = c.dst;
    const server = this.#listeners.get(`${addr}|${port}`) ?? this.#listeners.get(`*${c.serverHost}|${port}`);
    if (server === undefined || !server.isServing()) { c.s2c.send(REFUSE, null); return; }
    const t = new VirtualTransport(this.#loop, null, server._ctx, [addr, port], c.client._sockname, c.serverHost);
    t._window = this.receiveWindow;
    t._out = c.s2c;
    t._peer = c.client;
    c.client._peer = t;
    c.server = t;
    server._attach(t);
    c.s2c.send(ACCEPT, null);
    const proto = this.#make(server._factory, server._ctx, t);
    if (proto === FAILED) { t.abort(); return; }
    t.setProtocol(proto);
    t._callProtocol('connectionMade');
  }

  /** @internal */
  _toClient(c: Conn, p: Packet): void {
    const f = c.connecting;
    if (p.kind === REFUSE) {
      c.client._kill();
      this.#conns.delete(c);
      if (f !== null && !f.done()) f.setException(netError('ECONNREFUSED', 'connect', c.dst[0], c.dst[1]));
      return;
    }
    if (p.kind !== ACCEPT) { if (f === null) c.client._receive(p); return; }
    if (f === null || f.done()) return;
    c.connecting = null;
    const proto = this.#make(c.factory, c.client._ctx, c.client);
    if (proto === FAILED) { c.client.abort(); f.setException(new Error('the protocol factory failed')); return; }
    c.client.setProtocol(proto);
    c.client._callProtocol('connectionMade');
    f.setResult([c.client, proto]);
  }

  #make(factory: () => unknown, ctx: Context, t: BaseTransport): unknown {
    const prev = swapContext(ctx);
    try {
      return factory();
    } catch (exception) {
      this.#loop.callExceptionHandler({ message: 'Exception in protocol factory', exception, transport: t });
      return FAILED;
    } finally {
      swapContext(prev);
    }
  }

  #prune(): void {
    const kept = new Set<Conn>();
    for (const c of this.#conns) if (!(c.client._isLost() && (c.server === null || c.server._isLost()))) kept.add(c);
    this.#conns = kept;
    this.#pruneAt = Math.max(1024, kept.size * 2);
  }

  // ---- datagrams ---------------------------------------------------------------------

  /** @internal */
  *_createDatagramEndpoint<P>(factory: () => P, opts: { localAddr?: SockAddr; remoteAddr?: SockAddr; family?: number }): Coro<[VirtualDatagramTransport, P]> {
    const here = this.#here();
    let remote: SockAddr | null = null;
    if (opts.remoteAddr !== undefined && opts.remoteAddr !== null) remote = [this.#resolve(opts.remoteAddr[0], opts.family ?? 0)[0]!, opts.remoteAddr[1]];
    let addr = remote !== null ? (here.addresses.find((a) => isIP(a) === isIP(remote[0])) ?? here.addresses[0]!) : here.addresses[0]!;
    let port = 0;
    let wild = false;
    if (opts.localAddr !== undefined && opts.localAddr !== null) {
      const [lh, lp] = opts.localAddr;
      if (WILDCARDS.has(lh)) { wild = true; addr = lh === '' ? '0.0.0.0' : lh; }
      else if (lh === here.name) addr = here.addresses[0]!;
      else if (here.addresses.includes(lh)) addr = lh;
      else if (this.#hosts.has(lh) || isIP(lh) !== 0) throw netError('EADDRNOTAVAIL', 'bind', lh, lp);
      else throw netError('ENOTFOUND', 'getaddrinfo', lh);
      port = lp;
    }
    const keyOf = (p: number): string => (wild ? `*${here.name}|${p}` : `${addr}|${p}`);
    const taken = (p: number): boolean => this.#udp.has(keyOf(p)) || (wild ? here.addresses.some((a) => this.#udp.has(`${a}|${p}`)) : this.#udp.has(`*${here.name}|${p}`));
    if (port === 0) port = this.#freePort(here, taken);
    else if (taken(port)) throw netError('EADDRINUSE', 'bind', addr, port);
    const ctx = currentContext();
    const t = new VirtualDatagramTransport(this.#loop, this, null, ctx, here.name, [addr, port], remote);
    const proto = this.#make(factory, ctx, t);
    if (proto === FAILED) throw new Error('the protocol factory failed');
    t.setProtocol(proto);
    this.#udp.set(keyOf(port), t);
    t._call('connectionMade', t);
    return [t, proto as P];
  }

  /** @internal */
  _sendDatagram(from: VirtualDatagramTransport, data: Uint8Array, to: SockAddr): void {
    const [h, port] = to;
    const dst = this.#hosts.get(h) ?? this.#byAddr.get(h);
    if (dst === undefined) return;
    const dstAddr = this.#hosts.has(h) ? dst.addresses[0]! : h;
    const here = this.#hosts.get(from._host)!;
    let srcAddr = from._sockname[0];
    if (WILDCARDS.has(srcAddr)) srcAddr = here.addresses.find((a) => isIP(a) === isIP(dstAddr)) ?? here.addresses[0]!;
    const src: SockAddr = [srcAddr, from._sockname[1]];
    const link = this.#link(from._host, dst.name);
    if (link.lose()) return;
    const deliver = (): void => {
      const ep = this.#udp.get(`${dstAddr}|${port}`) ?? this.#udp.get(`*${dst.name}|${port}`);
      ep?._receive(data, src);
    };
    this.#sendOnLink(link, from._host, data.length, deliver);
  }

  #sendOnLink(link: Link, from: string, bytes: number, deliver: () => void): void {
    if (this.#loop.isClosed()) return;
    this.#loop.callAt(link.arrival(this.#loop.time(), from, bytes), () => {
      if (link.partitioned) link.heldDatagrams.push(() => this.#sendOnLink(link, from, bytes, deliver));
      else deliver();
    });
  }

  /** @internal */
  _unbindDatagram(t: VirtualDatagramTransport): void {
    for (const [k, v] of this.#udp) if (v === t) { this.#udp.delete(k); return; }
  }

  /** @internal the loop closed: drop every connection, server and endpoint without calling anyone. */
  _closeAll(): void {
    for (const c of this.#conns) { c.c2s.kill(); c.s2c.kill(); c.client._kill(); c.server?._kill(); }
    this.#conns.clear();
    this.#wire.clear();
    for (const t of this.#udp.values()) t._kill();
    this.#udp.clear();
    this.#listeners.clear();
  }
}

const FAILED = Symbol('factory failed');
