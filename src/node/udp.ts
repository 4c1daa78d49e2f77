/**
 * UDP endpoints (`createDatagramEndpoint`) on `node:dgram`.
 *
 * An endpoint is bound (to `localAddr`, or an ephemeral port) and, given
 * `remoteAddr`, connected: then `sendto` takes no address (or only that one)
 * and the kernel filters what arrives. Errors of a send or a receive (an
 * ICMP "port unreachable" reported as ECONNREFUSED, say) go to the
 * protocol's `errorReceived`; the endpoint stays open. The write buffer
 * counts bytes of datagrams handed to Node but not yet sent.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Coro, EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { DatagramProtocol, DatagramTransport, SockAddr } from '../kernel/transport_types.js';
import { ProtocolCaller, startSoon, toBytes } from './io_common.js';
import { type LoopResource, track, untrack } from './registry.js';

/**
 * Options of `createDatagramEndpoint`: addresses are `[host, port]`; `family` 4 or 6 (default: from the address).
 * @example
 * yield* getRunningLoop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { localAddr: ['127.0.0.1', 0], reuseAddress: true });
 */
export interface DatagramEndpointOptions {
  /** Bind to this address (port 0: any free port). */
  localAddr?: SockAddr;
  /** Connect to this address: `sendto(data)` needs no address, and only its datagrams arrive. */
  remoteAddr?: SockAddr;
  /** 4 or 6 (default: from the addresses). */
  family?: number;
  /** Allow several sockets to bind the same address. */
  reuseAddress?: boolean;
  /** Allow sending to broadcast addresses. */
  allowBroadcast?: boolean;
}

/**
 * A UDP socket as a transport.
 * @example
 * const [t] = yield* getRunningLoop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { remoteAddr: ['127.0.0.1', 9999] });
 * t.sendto('ping');
 */
class UdpTransport implements DatagramTransport, LoopResource {
  readonly #caller: ProtocolCaller;
  readonly #sock: Socket;
  readonly #remote: SockAddr | null;
  readonly #remoteGiven: SockAddr | null;
  #protocol: DatagramProtocol;
  #buffered = 0;
  #closing = false;
  #lost = false;
  #started = false;

  constructor(caller: ProtocolCaller, sock: Socket, protocol: DatagramProtocol, remote: SockAddr | null, remoteGiven: SockAddr | null) {
    this.#caller = caller;
    this.#sock = sock;
    this.#protocol = protocol;
    this.#remote = remote;
    this.#remoteGiven = remoteGiven;
    sock.on('error', (e: Error) => this.#errorReceived(e));
    sock.on('close', () => this.#connectionLost(undefined));
    track(caller.loop, this);
  }

  /** @internal */
  _start(): void {
    this.#started = true;
    this.#call('connectionMade', () => this.#protocol.connectionMade?.(this));
    if (this.#lost) return;
    this.#sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (this.#closing) return;
      this.#call('datagramReceived', () => this.#protocol.datagramReceived(msg, [rinfo.address, rinfo.port]));
    });
  }

  getExtraInfo(name: string, fallback?: unknown): unknown {
    switch (name) {
      case 'socket': return this.#sock;
      case 'sockname': try { const a = this.#sock.address(); return [a.address, a.port]; } catch { return fallback; }
      case 'peername': return this.#remote !== null ? [...this.#remote] : fallback;
      default: return fallback;
    }
  }
  isClosing(): boolean { return this.#closing; }
  setProtocol(p: unknown): void { this.#protocol = p as DatagramProtocol; }
  getProtocol(): unknown { return this.#protocol; }
  getWriteBufferSize(): number { return this.#buffered; }

  /**
   * Send one datagram. On a connected endpoint `addr` must be omitted or be
   * the remote address; otherwise it is required. Errors of the send go to
   * `errorReceived`.
   */
  sendto(data: Uint8Array | string, addr?: SockAddr): void {
    const buf = toBytes(data);
    if (this.#remote !== null) {
      const same = (a: SockAddr | null): boolean => a !== null && addr![0] === a[0] && addr![1] === a[1];
      if (addr !== undefined && !same(this.#remote) && !same(this.#remoteGiven)) {
        throw new TypeError(`invalid address: must be undefined or ${this.#remote.join(':')}`);
      }
    } else if (addr === undefined) throw new TypeError('sendto: an address is required on an unconnected endpoint');
    if (this.#closing) return;
    const n = buf.length;
    this.#buffered += n;
    const done = (err: Error | null): void => {
      this.#buffered -= n;
      if (err) this.#errorReceived(err);
      if (this.#closing && this.#buffered === 0) this.#closeSocket();
    };
    if (this.#remote !== null) this.#sock.send(buf, done);
    else this.#sock.send(buf, addr![1], addr![0], done);
  }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  /** Send what is buffered, then close; `connectionLost(undefined)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#buffered === 0) this.#closeSocket();
  }

  /** Close at once, dropping unsent datagrams. */
  abort(): void {
    this.#closing = true;
    this.#closeSocket();
  }

  /** @internal */
  _loopClosing(): void { this.abort(); this.#connectionLost(undefined); }

  #closeSocket(): void {
    try { this.#sock.close(); } catch { /* already closed */ }
  }

  #call(what: string, fn: () => void): void {
    this.#caller.call(this, this.#protocol, `protocol.${what}()`, fn, () => this.abort());
  }

  #errorReceived(e: Error): void {
    if (this.#lost) return;
    this.#call('errorReceived', () => this.#protocol.errorReceived?.(e));
  }

  #connectionLost(exc: Error | undefined): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    untrack(this.#caller.loop, this);
    if (this.#started) this.#call('connectionLost', () => this.#protocol.connectionLost?.(exc));
  }
}

/** Run a Node callback-style step and wait for it; 'error' before it completes rejects. */
function* step(loop: EventLoop, sock: Socket, what: string, start: (done: () => void) => void): Coro<void> {
  const f = new Future<void>({ loop, description: what });
  const onError = (e: Error): void => { if (!f.done()) f.setException(e); };
  sock.once('error', onError);
  try {
    start(() => { if (!f.done()) f.setResult(); });
    yield* f;
  } finally {
    sock.off('error', onError);
  }
}

/** @internal `loop.createDatagramEndpoint(factory, opts)`. */
export function* createDatagramEndpoint<P>(loop: EventLoop, factory: () => P, opts: DatagramEndpointOptions = {}): Coro<[DatagramTransport, P]> {
  const { localAddr, remoteAddr, reuseAddress, allowBroadcast } = opts;
  let family = opts.family;
  if (family === undefined) {
    const host = localAddr?.[0] ?? remoteAddr?.[0];
    family = host !== undefined && isIPv6(host) ? 6 : 4;
  }
  if (family !== 4 && family !== 6) throw new TypeError(`family must be 4 or 6, not ${family}`);
  const sock = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: reuseAddress ?? false });
  let ok = false;
  let protocol: P;
  let t: UdpTransport;
  try {
    yield* step(loop, sock, 'UDP bind', (done) => {
      if (localAddr !== undefined) sock.bind(localAddr[1], localAddr[0], done);
      else sock.bind(0, done);
    });
    if (allowBroadcast) sock.setBroadcast(true);
    if (remoteAddr !== undefined) yield* step(loop, sock, 'UDP connect', (done) => sock.connect(remoteAddr[1], remoteAddr[0], done));
    protocol = factory();   // the socket is still ours if it throws
    let remote: SockAddr | null = null;
    if (remoteAddr !== undefined) { const r = sock.remoteAddress(); remote = [r.address, r.port]; }
    t = new UdpTransport(new ProtocolCaller(loop), sock, protocol as DatagramProtocol, remote, remoteAddr ?? null);
    ok = true;
  } finally {
    if (!ok) { try { sock.close(); } catch { /* not open */ } }
  }
  yield* startSoon(loop, 'createDatagramEndpoint', () => t._start(), () => t._loopClosing());
  return [t, protocol];
}
