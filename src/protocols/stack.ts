/**
 * Protocol stacking (PEP 3153: "protocols to be stacked or nested"): a
 * lower protocol, such as a framing protocol, becomes the transport of the
 * protocol above it. The upper protocol is written against `Transport`
 * alone, so the same class runs on raw bytes, over '\n'-framed TCP, or over
 * a child's pipes (JSON-RPC over HTTP, in the PEP's example).
 *
 * The lower protocol needs two things only: a way to send one upper-level
 * message down (ChunkProtocol's `writeChunk`, or a `sendMessage` method, or
 * a `send` option) and a way to deliver de-framed messages up (a callback
 * it takes when built, which `stack()` supplies). Everything else passes
 * straight through to the real transport below: close, abort, flow
 * control, producers, extra info. What the adapter adds is the upper
 * protocol's own call order (`connectionMade` → `dataReceived`* →
 * `eofReceived`? → `connectionLost` exactly once), which must hold even
 * though the lower protocol may deliver several messages from one read: a
 * message cut off by `pauseReading()` or `close()` waits or is dropped
 * instead of arriving out of turn.
 */
import { type Context, currentContext, swapContext } from '../kernel/context.js';
import { getRunningLoop, type EventLoop } from '../kernel/events.js';
import type { Protocol, PushProducer, Transport } from '../kernel/transport_types.js';
import { ChunkProtocol } from './chunk_protocol.js';

type Bytes = Uint8Array | string;
const NEW = 0, OPEN = 1, LOST = 2;

/**
 * Options of {@link stack} and {@link StackedProtocol}.
 * @example
 * // a framing protocol whose send method is not writeChunk: a 4-byte length before each message
 * class LengthPrefixed implements Protocol {
 *   t!: Transport;
 *   constructor(readonly deliver: (m: Uint8Array) => void) {}
 *   connectionMade(t: Transport): void { this.t = t; }
 *   dataReceived(d: Uint8Array): void { this.deliver(d.subarray(4)); }   // (assumes whole frames, for brevity)
 *   sendFrame(m: Uint8Array | string): void {
 *     const body = typeof m === 'string' ? new TextEncoder().encode(m) : m;
 *     const head = new Uint8Array(4);
 *     new DataView(head.buffer).setUint32(0, body.length);
 *     this.t.writeLines([head, body]);
 *   }
 * }
 * const p = stack((deliver) => new LengthPrefixed(deliver), new JsonRpcProtocol(), { send: (lower, msg) => lower.sendFrame(msg) });
 */
export interface StackOptions<L> {
  /**
   * Send one upper-level message down through `lower`. Default: a
   * ChunkProtocol's `writeChunk`, or the lower protocol's `sendMessage`.
   */
  send?: (lower: L, message: Bytes) => void;
}

const encoder = new TextEncoder();

function concat(list: Iterable<Bytes>): Bytes {
  const items = [...list];
  if (items.every((d) => typeof d === 'string')) return items.join('');
  const parts = items.map((d) => {
    if (typeof d === 'string') return encoder.encode(d);
    if (d instanceof Uint8Array) return d;
    throw new TypeError(`data must be a Uint8Array or a string, not ${typeof d}`);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

function defaultSend<L>(lower: L): (lower: L, message: Bytes) => void {
  if (lower instanceof ChunkProtocol) return (l, m) => { (l as ChunkProtocol).writeChunk(m); };
  const sm = (lower as { sendMessage?: unknown }).sendMessage;
  if (typeof sm === 'function') return (l, m) => { (sm as (m: Bytes) => void).call(l, m); };
  throw new TypeError('stack: the lower protocol has no writeChunk() or sendMessage(); pass opts.send');
}

/**
 * The Transport an upper protocol sees in a stack: `write(m)` sends `m` down
 * as one message (framed by the lower protocol), and its protocol's
 * `dataReceived` gets one de-framed message per call. Everything else
 * (close, abort, writeEof, reading and writing flow control, producers,
 * `getExtraInfo`) is the transport below's; `getExtraInfo('lowerProtocol')`
 * and `getExtraInfo('lowerTransport')` reach down the stack.
 * @example
 * // an upper protocol cannot tell it from a socket:
 * class Hello implements Protocol {
 *   connectionMade(t: Transport): void { t.write('{"hello":1}'); }                         // one framed message
 *   dataReceived(message: Uint8Array): void { console.log(new TextDecoder().decode(message)); }   // one message per call
 * }
 * const p = stack((deliver) => new ChunkProtocol('\n', deliver), new Hello());
 */
export class ProtocolTransport implements Transport {
  readonly #below: Transport;
  readonly #lower: Protocol;
  readonly #send: (m: Bytes) => void;
  #upper: Protocol;
  #loop: EventLoop | null = null;
  #ctx: Context | null = null;
  #state = NEW;
  #closing = false;
  #eofSeen = false;
  #eofWritten = false;
  #reading = true;
  /** Messages that arrived while reading was paused (or during a drain), and an EOF behind them. */
  #queue: Uint8Array[] = [];
  #eofQueued = false;
  #draining = false;
  #drainScheduled = false;

  /** @internal made by {@link StackedProtocol} when the connection is made. */
  constructor(below: Transport, lower: Protocol, upper: Protocol, send: (m: Bytes) => void) {
    this.#below = below;
    this.#lower = lower;
    this.#upper = upper;
    this.#send = send;
  }

  // ---- the Transport interface ---------------------------------------------------

  getExtraInfo(name: string, fallback?: unknown): unknown {
    if (name === 'lowerProtocol') return this.#lower;
    if (name === 'lowerTransport') return this.#below;
    return this.#below.getExtraInfo(name, fallback);
  }
  isClosing(): boolean { return this.#closing || this.#state === LOST || this.#below.isClosing(); }
  setProtocol(p: unknown): void { this.#upper = p as Protocol; }
  getProtocol(): unknown { return this.#upper; }

  isReading(): boolean { return this.#reading && !this.isClosing(); }
  /** No `dataReceived` until `resumeReading()`; messages already de-framed wait here, the rest in the transport below. */
  pauseReading(): void {
    if (this.isClosing() || !this.#reading) return;
    this.#reading = false;
    this.#below.pauseReading();
  }
  resumeReading(): void {
    if (this.isClosing() || this.#reading) return;
    this.#reading = true;
    this.#below.resumeReading();
    if (this.#queue.length > 0 || this.#eofQueued) this.#scheduleDrain();
  }

  /** Send `message` down as one message. An empty message is a message (an empty frame). Ignored after close. */
  write(message: Bytes): void {
    if (this.#eofWritten) throw new Error('cannot call write() after writeEof()');
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) throw new TypeError(`data must be a Uint8Array or a string, not ${typeof message}`);
    if (this.isClosing()) return;
    this.#send(message);
  }
  /** One message made of the items (as on a byte transport, `writeLines(l)` is `write(concatenation of l)`). */
  writeLines(list: Iterable<Bytes>): void { this.write(concat(list)); }
  writeEof(): void {
    if (this.isClosing() || this.#eofWritten) return;
    this.#eofWritten = true;
    this.#below.writeEof();
  }
  canWriteEof(): boolean { return this.#below.canWriteEof(); }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  close(): void {
    if (this.isClosing()) return;
    this.#closing = true;
    this.#below.close();
  }
  abort(exc?: Error): void {
    if (this.#state === LOST) return;
    this.#closing = true;
    this.#below.abort(exc);
  }
  getWriteBufferSize(): number { return this.#below.getWriteBufferSize(); }
  getWriteBufferLimits(): [low: number, high: number] { return this.#below.getWriteBufferLimits(); }
  setWriteBufferLimits(high?: number, low?: number): void { this.#below.setWriteBufferLimits(high, low); }
  registerProducer(p: PushProducer): void { this.#below.registerProducer(p); }
  unregisterProducer(): void { this.#below.unregisterProducer(); }

  // ---- events from the lower protocol ------------------------------------------------

  /** @internal */
  _connectionMade(): void {
    if (this.#state !== NEW) return;
    this.#state = OPEN;
    this.#loop = getRunningLoop();
    this.#ctx = currentContext();
    this.#call('connectionMade', this);
  }

  /** @internal one de-framed message from the lower protocol. */
  _deliver(message: Uint8Array): void {
    if (this.#state !== OPEN || this.#closing || this.#eofSeen || this.#eofQueued) return;
    if (!this.#reading || this.#draining) { this.#queue.push(message); return; }
    this.#call('dataReceived', message);
  }

  /** @internal the transport below saw EOF: the upper protocol's answer is the stack's. */
  _eofReceived(): boolean {
    if (this.#state !== OPEN || this.#closing || this.#eofSeen) return false;
    if (this.#queue.length > 0) { this.#eofQueued = true; return true; }   // after the queued messages
    this.#eofSeen = true;
    return this.#call('eofReceived') === true;
  }

  /** @internal */
  _connectionLost(exc: Error | undefined): void {
    if (this.#state === LOST) return;
    const wasOpen = this.#state === OPEN;
    this.#state = LOST;
    this.#queue = [];
    if (wasOpen) this.#call('connectionLost', exc);
  }

  /** @internal */
  _pauseWriting(): void { this.#call('pauseWriting'); }
  /** @internal */
  _resumeWriting(): void { this.#call('resumeWriting'); }

  // ---- internals -------------------------------------------------------------------

  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#loop === null) return;
    this.#drainScheduled = true;
    this.#loop.callSoon(() => {
      this.#drainScheduled = false;
      const prev = swapContext(this.#ctx!);
      try { this.#drain(); } finally { this.#ctx = swapContext(prev); }
    });
  }

  /** Deliver queued messages (then a queued EOF) while reading stays on. */
  #drain(): void {
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && this.#reading && this.#state === OPEN && !this.#closing) {
        this.#call('dataReceived', this.#queue.shift());
      }
    } finally {
      this.#draining = false;
    }
    if (this.#queue.length === 0 && this.#eofQueued && this.#reading && this.#state === OPEN && !this.#closing) {
      this.#eofQueued = false;
      if (!this._eofReceived() && !this.isClosing()) this.#below.close();
    }
  }

  /** Call an upper-protocol method; an exception goes to the exception handler and aborts the stack. */
  #call(name: keyof Protocol, arg?: unknown): unknown {
    const p = this.#upper as Record<string, unknown>;
    const fn = p[name];
    if (typeof fn !== 'function') return undefined;
    try {
      return (fn as (a?: unknown) => unknown).call(p, arg);
    } catch (e) {
      (this.#loop ?? getRunningLoop()).callExceptionHandler({
        message: `Fatal error: protocol.${name}() call failed.`, exception: e, transport: this, protocol: this.#upper,
      });
      if (name !== 'connectionLost') this.abort(e instanceof Error ? e : new Error(String(e)));
      return undefined;
    }
  }
}

/**
 * The protocol a real transport sees when `upper` runs over `lower`: every
 * event goes to the lower protocol first, then to the upper one through
 * its {@link ProtocolTransport}; bytes go only to the lower protocol, which
 * delivers whole messages up. Usually made with {@link stack}.
 * @example
 * const p = new StackedProtocol((deliver) => new ChunkProtocol('\n', deliver), new JsonRpcProtocol());
 * const [t] = yield* getRunningLoop().createConnection(() => p, '127.0.0.1', 4000);
 */
export class StackedProtocol<L extends Protocol = Protocol, U extends Protocol = Protocol> implements Protocol {
  /** The lower (framing) protocol. */
  readonly lower: L;
  /** The upper protocol. */
  readonly upper: U;
  /** The upper protocol's transport, once connected. */
  transport: ProtocolTransport | null = null;
  readonly #send: (lower: L, m: Bytes) => void;

  /** `makeLower(deliver)` builds the lower protocol; it calls `deliver(message)` for every message it de-frames. */
  constructor(makeLower: (deliver: (message: Uint8Array) => void) => L, upper: U, opts?: StackOptions<L>) {
    this.upper = upper;
    this.lower = makeLower((message) => this.transport?._deliver(message));
    this.#send = opts?.send ?? defaultSend(this.lower);
  }

  connectionMade(t: Transport): void {
    this.lower.connectionMade?.(t);
    const lower = this.lower;
    const send = this.#send;
    this.transport = new ProtocolTransport(t, lower, this.upper, (m) => { send(lower, m); });
    this.transport._connectionMade();
  }
  dataReceived(data: Uint8Array): void { this.lower.dataReceived?.(data); }
  eofReceived(): boolean {
    this.lower.eofReceived?.();
    return this.transport?._eofReceived() ?? false;
  }
  connectionLost(exc: Error | undefined): void {
    try {
      this.lower.connectionLost?.(exc);
    } finally {
      this.transport?._connectionLost(exc);
    }
  }
  pauseWriting(): void { this.lower.pauseWriting?.(); this.transport?._pauseWriting(); }
  resumeWriting(): void { this.lower.resumeWriting?.(); this.transport?._resumeWriting(); }
}

/**
 * Stack `upper` on a lower protocol built by `makeLower(deliver)`: returns
 * the Protocol to hand to a real transport (a protocol factory's result).
 * The lower protocol frames what the upper one writes (ChunkProtocol's
 * `writeChunk`, a `sendMessage` method, or `opts.send`) and calls `deliver`
 * with each message it de-frames. Stacks nest: a StackedProtocol can itself
 * be the upper protocol of another stack.
 * @example
 * // JSON-RPC over '\n'-delimited frames over TCP:
 * const methods = { add: (params: unknown) => { const [a, b] = params as number[]; return a! + b!; } };
 * const server = yield* getRunningLoop().createServer(
 *   () => stack((deliver) => new ChunkProtocol('\n', deliver, { maxChunkLength: 1 << 20 }), new JsonRpcProtocol({ methods })),
 *   '127.0.0.1', 4000);
 */
export function stack<L extends Protocol, U extends Protocol>(
  makeLower: (deliver: (message: Uint8Array) => void) => L, upper: U, opts?: StackOptions<L>,
): StackedProtocol<L, U> {
  return new StackedProtocol(makeLower, upper, opts);
}
