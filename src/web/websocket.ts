/**
 * A WebSocket as a tulip `Transport`, so that protocols and streams run in
 * a browser (and on any runtime with a WebSocket client).
 *
 * A WebSocket carries messages, not a byte stream: each `write()` sends one
 * message (a string as a text message, bytes as a binary one) and each
 * message received is one `dataReceived` call (a text message arrives as
 * its UTF-8 bytes). So a message protocol (`JsonRpcProtocol`) runs on it
 * directly, and a byte protocol (`StreamReaderProtocol`, `ChunkProtocol`)
 * sees an ordinary stream.
 *
 * Flow control: the only measure a WebSocket gives is `bufferedAmount`,
 * the bytes sent and not yet handed to the network, with no event when it
 * shrinks. So a write that crosses the high-water mark pauses the protocol
 * as on any transport, and the transport looks at `bufferedAmount` on a
 * timer of the loop (1 ms, backing off to 16 ms while it does not move)
 * until it is back under the low-water mark. Reading cannot push back on
 * the peer: `pauseReading()` holds the messages that arrive until
 * `resumeReading()`. There is no half-close (`canWriteEof()` is false), and
 * `abort()` cannot drop what the WebSocket has buffered: it starts the
 * closing handshake and reports `connectionLost` at once.
 *
 * An open WebSocket is a resource of its loop from the moment it is made:
 * it keeps the loop from reporting a deadlock, and `loop.close()` closes it.
 */
import { currentContext } from '../kernel/context.js';
import { NotImplementedError } from '../kernel/errors.js';
import { getRunningLoop, type Coro, type EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { TimerHandle } from '../kernel/handles.js';
import { track, untrack } from '../kernel/resources.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';
import { StreamTransportBase } from '../protocols/stream_transport.js';

/**
 * The part of the WebSocket API the transport uses: browsers', Deno's,
 * Bun's and Node's (22 and later, or `--experimental-websocket`) global
 * `WebSocket`, and the `ws` package's client.
 * @example
 * function isOpen(ws: WebSocketLike): boolean { return ws.readyState === 1; }
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes sent and not yet handed to the network: the transport's write buffer. */
  readonly bufferedAmount: number;
  /** The URL connected to. */
  readonly url: string;
  /** The subprotocol the server picked ('' if none). */
  readonly protocol: string;
  /** The extensions the server accepted. */
  readonly extensions: string;
  /** How binary messages arrive: the transport sets `'arraybuffer'`. */
  binaryType: string;
  /** Send one message: a string as text, bytes as binary. */
  send(data: string | Uint8Array): void;
  /** Start the closing handshake. */
  close(code?: number, reason?: string): void;
  // The events are typed loosely so that every implementation's own event types fit.
  /** The connection opened. */
  onopen: ((ev: any) => void) | null;
  /** A message arrived (`ev.data`). */
  onmessage: ((ev: any) => void) | null;
  /** Something failed (a close event follows). */
  onerror: ((ev: any) => void) | null;
  /** The connection closed (`ev.code`, `ev.reason`, `ev.wasClean`). */
  onclose: ((ev: any) => void) | null;
}

interface MessageEventLike { data: unknown }
interface CloseEventLike { code: number; reason: string; wasClean: boolean }

/**
 * A WebSocket class: `new WebSocket(url, protocols)`.
 * @example
 * import WebSocket from 'ws';   // Node 20 has no global WebSocket
 * const WS = WebSocket as unknown as WebSocketConstructor;
 * yield* createWebSocketConnection(() => new JsonRpcProtocol(), 'ws://127.0.0.1:8080/', { WebSocket: WS });
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Options of {@link createWebSocketConnection}.
 * @example
 * const [t, rpc] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), 'wss://example.org/rpc', { protocols: ['jsonrpc'] });
 */
export interface WebSocketConnectionOptions {
  /** Subprotocols to offer (the one the server picked is `getExtraInfo('protocol')`). */
  protocols?: string | string[];
  /** The WebSocket class to use (default: the global `WebSocket`; on Node 20, the `ws` package's). */
  WebSocket?: WebSocketConstructor;
}

const OPEN = 1, CLOSED = 3;
const POLL_MIN = 1, POLL_MAX = 16;
const encoder = new TextEncoder();
const ignore = (): void => undefined;

type Event = { kind: 'message'; data: Uint8Array } | { kind: 'close'; code: number; reason: string; wasClean: boolean };

function toBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`unexpected WebSocket message data: ${Object.prototype.toString.call(data)}`);
}

/** One message made of several writes (`writeLines`): text if they are all strings, else their bytes. */
function joinMessage(list: (Uint8Array | string)[]): Uint8Array | string {
  if (list.every((d) => typeof d === 'string')) return list.join('');
  const parts = list.map((d) => (typeof d === 'string' ? encoder.encode(d) : d));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

function closeError(code: number, reason: string): Error {
  return Object.assign(new Error(`WebSocket closed with code ${code}${reason !== '' ? `: ${reason}` : ''}`), { code: 'ECONNRESET', closeCode: code, reason });
}

/**
 * A WebSocket seen as a `Transport` (made by {@link createWebSocketConnection}).
 * @example
 * const [t] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), 'wss://example.org/feed');
 * t.write(JSON.stringify({ subscribe: 'prices' }));   // one text message
 * console.log(t.getExtraInfo('protocol'), t.getExtraInfo('url'));
 */
export class WebSocketTransport extends StreamTransportBase {
  readonly #ws: WebSocketLike;
  readonly #opened: Future<void>;
  /** Events not yet delivered: while connecting, while reading is paused, or behind those. */
  #held: Event[] = [];
  #drainScheduled = false;
  #poll: TimerHandle | null = null;
  #pollDelay = POLL_MIN;
  #lastBuffered = 0;
  #gone = false;

  /** @internal use {@link createWebSocketConnection}. */
  constructor(loop: EventLoop, ws: WebSocketLike) {
    super(loop, {}, { context: currentContext() });
    this.#ws = ws;
    this.#opened = new Future<void>({ loop, description: `WebSocket.open ${ws.url}` });
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { if (!this.#opened.done()) this.#opened.setResult(); };
    ws.onmessage = (ev: MessageEventLike) => this.#event({ kind: 'message', data: toBytes(ev.data) });
    ws.onclose = (ev: CloseEventLike) => this.#event({ kind: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
    ws.onerror = ignore;   // a close event follows, and says more
    track(loop, this);
  }

  /** @internal the opening handshake: completes when the WebSocket opens, fails if it closes first. */
  get _opened(): Future<void> { return this.#opened; }

  /** @internal the opening handshake succeeded: hand the connection to `protocol`. */
  _start(protocol: Protocol): void {
    this.setProtocol(protocol);
    this._connectionMade();
    this.#scheduleDrain();
  }

  override canWriteEof(): boolean { return false; }

  protected override _extraInfo(name: string): unknown {
    switch (name) {
      case 'websocket': return this.#ws;
      case 'url': return this.#ws.url;
      case 'protocol': return this.#ws.protocol;
      case 'extensions': return this.#ws.extensions;
      default: return undefined;
    }
  }

  protected _send(data: Uint8Array | string, notify: boolean): void {
    if (this.#ws.readyState !== OPEN) return;
    this.#ws.send(data);
    // A message takes more than its payload (framing): the write may cross the high-water mark unannounced.
    if (notify || this.#ws.bufferedAmount > this.getWriteBufferLimits()[1]) this.#watchBuffer();
  }
  protected _sendMany(list: (Uint8Array | string)[], notify: boolean): void { this._send(joinMessage(list), notify); }
  protected _bufferSize(): number { return this.#gone ? 0 : this.#ws.bufferedAmount; }
  protected _shutdown(): void { throw new Error('a WebSocket cannot half-close'); }

  protected _closeGracefully(): void {
    // The closing handshake goes after every message already sent; the close event reports the loss.
    if (this.#ws.readyState === CLOSED) { this._loop.callSoon(() => this.#lost(undefined)); return; }
    this.#ws.close(1000);
  }

  protected _destroy(): void {
    this.#detach();
    try { this.#ws.close(1000); } catch { /* closing already */ }
    this._loop.callSoon(() => this.#lost(undefined));
  }

  protected _setReading(on: boolean): void { if (on) this.#scheduleDrain(); }

  protected override _onLost(): void { this.#release(); }

  /** @internal `loop.close()`: close the WebSocket now. */
  _loopClosing(): void {
    if (!this.#opened.done()) this.#opened.cancel();
    this.abort();
    this.#lost(undefined);
  }

  #event(e: Event): void {
    if (this.#gone) return;
    if (e.kind === 'close' && !this.#opened.done()) {
      this.#opened.setException(Object.assign(new Error(`WebSocket connection to ${this.#ws.url} failed (close code ${e.code})`), { code: 'ECONNREFUSED', closeCode: e.code }));
      this.#detach();
      this.#release();
      return;
    }
    this.#held.push(e);
    if (this.#held.length === 1) this.#drain();
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#held.length === 0) return;
    this.#drainScheduled = true;
    this._loop.callSoon(() => { this.#drainScheduled = false; this.#drain(); });
  }

  /** Deliver held events in order while the protocol reads. */
  #drain(): void {
    while (this.#held.length > 0 && this._made && !this._lost) {
      const e = this.#held[0]!;
      if (e.kind === 'message') {
        if (!this.isReading()) return;
        this.#held.shift();
        this._dataReceived(e.data);
        continue;
      }
      this.#held.shift();
      if (e.wasClean && (e.code === 1000 || e.code === 1001 || e.code === 1005)) {
        this._eofReceived();
        this.#lost(undefined);
      } else this.#lost(closeError(e.code, e.reason));
    }
  }

  /** Look at `bufferedAmount` until it is back under the low-water mark (WebSockets have no drain event). */
  #watchBuffer(): void {
    if (this.#poll !== null || this.#gone) return;
    this.#pollDelay = POLL_MIN;
    this.#lastBuffered = this.#ws.bufferedAmount;
    this.#poll = this._loop.callLater(this.#pollDelay, this.#pollBuffer);
  }

  readonly #pollBuffer = (): void => {
    this.#poll = null;
    if (this.#gone || this._lost) return;
    const n = this.#ws.bufferedAmount;
    this._flushed();
    if (n <= this.getWriteBufferLimits()[0] || this.#ws.readyState !== OPEN) return;
    this.#pollDelay = n < this.#lastBuffered ? POLL_MIN : Math.min(POLL_MAX, this.#pollDelay * 2);
    this.#lastBuffered = n;
    this.#poll = this._loop.callLater(this.#pollDelay, this.#pollBuffer);
  };

  #lost(exc: Error | undefined): void {
    this.#detach();
    this._connectionLost(exc);
    this.#release();
  }

  #detach(): void {
    const ws = this.#ws;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = ignore;   // kept: an implementation that is an EventEmitter (ws) throws an error nobody listens to
    if (this.#poll !== null) { this.#poll.cancel(); this.#poll = null; }
  }

  #release(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#held = [];
    untrack(this._loop, this);
  }
}

/**
 * Open a WebSocket to `url` and run `factory()`'s protocol on it, as
 * `createConnection` does for TCP; returns once the WebSocket is open.
 * Each `write()` sends one message; each message received is one
 * `dataReceived` call. If the connection fails the error has
 * `code: 'ECONNREFUSED'` (a browser tells no more); a task cancelled while
 * it connects closes the WebSocket.
 * @example
 * import { JsonRpcProtocol, createWebSocketConnection, run } from 'tulip/web';
 * await run(function* () {
 *   const [transport, rpc] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), 'wss://example.org/rpc');
 *   const sum = yield* rpc.call('add', [1, 2]);
 *   transport.close();
 *   return sum;
 * });
 */
export function* createWebSocketConnection<P extends Protocol>(
  factory: () => P, url: string | URL, opts: WebSocketConnectionOptions = {},
): Coro<[Transport, P]> {
  const loop = getRunningLoop();
  const WS = opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WS !== 'function') throw new NotImplementedError('createWebSocketConnection: this runtime has no WebSocket (pass opts.WebSocket)');
  const ws = opts.protocols !== undefined ? new WS(String(url), opts.protocols) : new WS(String(url));
  const t = new WebSocketTransport(loop, ws);
  let handedOver = false;
  try {
    yield* t._opened;
    const protocol = factory();
    t._start(protocol);
    handedOver = true;
    return [t, protocol];
  } finally {
    if (!handedOver) t._loopClosing();
  }
}
