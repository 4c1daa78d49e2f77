/**
 * The datagram transport of the virtual network. Datagrams are the one
 * thing the network may lose (`loss`) and reorder (jitter): each travels
 * on its own timer, and nothing clamps its arrival after the previous one.
 * Sending never blocks, so the write buffer is always empty.
 */
import { type Context, swapContext } from '../kernel/context.js';
import type { DatagramTransport, SockAddr } from '../kernel/transport_types.js';
import type { TestEventLoop } from './test_loop.js';

const encoder = new TextEncoder();

interface AnyDatagramProtocol {
  connectionMade?(t: DatagramTransport): void;
  datagramReceived?(data: Uint8Array, addr: SockAddr): void;
  errorReceived?(exc: Error): void;
  connectionLost?(exc?: Error): void;
}

/** What the transport needs from the network (not exported from the package). */
export interface DatagramNet {
  /** @internal */ _sendDatagram(from: VirtualDatagramTransport, data: Uint8Array, to: SockAddr): void;
  /** @internal */ _unbindDatagram(t: VirtualDatagramTransport): void;
}

/**
 * A datagram endpoint on the virtual network (what `createDatagramEndpoint` returns on a `TestEventLoop`).
 * @example
 * // in runVirtual(): a host 'server' was added to the network
 * const [t] = yield* getRunningLoop().createDatagramEndpoint(() => ({ datagramReceived: (d: Uint8Array) => console.log(d.length) }), { remoteAddr: ['server', 9999] });
 * t.sendto('ping');
 */
export class VirtualDatagramTransport implements DatagramTransport {
  #closed = false;
  #protocol: AnyDatagramProtocol;

  /** @internal */
  constructor(
    /** @internal */ readonly _loop: TestEventLoop,
    /** @internal */ readonly _net: DatagramNet,
    protocol: unknown,
    /** @internal */ readonly _ctx: Context,
    /** @internal */ readonly _host: string,
    /** @internal */ readonly _sockname: SockAddr,
    /** @internal */ readonly _remote: SockAddr | null,
  ) {
    this.#protocol = protocol as AnyDatagramProtocol;
  }

  sendto(data: Uint8Array | string, addr?: SockAddr): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice();
    const r = this._remote;
    if (r !== null && addr !== undefined && addr !== null && (addr[0] !== r[0] || addr[1] !== r[1])) {
      throw new Error(`Invalid address: must be undefined or ${r.join(':')}`);
    }
    const to = addr ?? r;
    if (to === null || to === undefined) throw new TypeError('sendto: no address given and the endpoint has no remoteAddr');
    if (this.#closed) return;
    this._net._sendDatagram(this, bytes, to);
  }

  getWriteBufferSize(): number { return 0; }
  isClosing(): boolean { return this.#closed; }
  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  close(): void { this.abort(); }

  abort(): void {
    if (this.#closed) return;
    this.#closed = true;
    this._net._unbindDatagram(this);
    if (!this._loop.isClosed()) this._loop.callSoon(lost, this);
  }

  getExtraInfo(name: string, fallback?: unknown): unknown {
    if (name === 'sockname') return [...this._sockname];
    if (name === 'peername' && this._remote !== null) return [...this._remote];
    return fallback;
  }
  setProtocol(p: unknown): void { this.#protocol = p as AnyDatagramProtocol; }
  getProtocol(): unknown { return this.#protocol; }

  /** @internal */
  _receive(data: Uint8Array, from: SockAddr): void {
    if (this.#closed) return;
    const r = this._remote;
    if (r !== null && (from[0] !== r[0] || from[1] !== r[1])) return;
    this._call('datagramReceived', data, from);
  }

  /** @internal */
  _call(name: keyof AnyDatagramProtocol, a?: unknown, b?: unknown): void {
    const proto = this.#protocol;
    const fn = proto[name] as ((x?: unknown, y?: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') return;
    const prev = swapContext(this._ctx);
    try {
      fn.call(proto, a, b);
    } catch (exception) {
      this._loop.callExceptionHandler({ message: `Exception in protocol ${name}()`, exception, transport: this, protocol: proto });
      if (name !== 'connectionLost') this.abort();
    } finally {
      swapContext(prev);
    }
  }

  /** @internal the loop closed. */
  _kill(): void { this.#closed = true; }
}

function lost(t: VirtualDatagramTransport): void { t._call('connectionLost', undefined); }
