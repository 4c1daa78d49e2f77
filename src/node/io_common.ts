/**
 * What the Node loop's non-socket backends (pipes, UDP, subprocesses) share:
 * calling into a protocol from a Node event, and write flow control. (What
 * `loop.close()` must end is kept in registry.ts.)
 *
 * A protocol method runs from a Node event, outside any tulip tick, so the
 * call enters the loop (it becomes the running loop) and the context that
 * was current when the connection was made; an exception from it goes to the
 * loop's exception handler and aborts the transport, it is never thrown into
 * Node. The write buffer here is deliberately small and self-contained; the
 * protocols layer has the shared flow-control base the stream sockets use.
 * TODO(issue 4): unify WriteFlow with the protocols layer's flow-control base.
 */
import { type Context, currentContext, swapContext } from '../kernel/context.js';
import { _enterLoop, _leaveLoop, type Coro, type EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { BaseTransport, PushProducer } from '../kernel/transport_types.js';

/** The default write-buffer limits (asyncio's): pause above 64 KiB, resume at 16 KiB. */
export const DEFAULT_HIGH_WATER = 64 * 1024;
export const DEFAULT_LOW_WATER = 16 * 1024;

/** Calls protocol methods on behalf of one transport, in its loop and context. */
export class ProtocolCaller {
  readonly loop: EventLoop;
  readonly #ctx: Context;
  constructor(loop: EventLoop, ctx: Context = currentContext()) { this.loop = loop; this.#ctx = ctx; }

  /**
   * Run `fn` as a protocol call. On an exception: the exception handler hears
   * of it and `onError(e)` runs (normally: abort the transport with it).
   */
  call(transport: BaseTransport, protocol: unknown, what: string, fn: () => void, onError?: (e: Error) => void): void {
    const prevCtx = swapContext(this.#ctx);
    const prevLoop = _enterLoop(this.loop);
    try {
      fn();
    } catch (e) {
      this.loop.callExceptionHandler({ message: `Exception in ${what}`, exception: e, transport, protocol });
      onError?.(e instanceof Error ? e : new Error(String(e)));
    } finally {
      _leaveLoop(prevLoop);
      swapContext(prevCtx);
    }
  }

  /** Run `fn` later on the loop (or now, if the loop is closed: a callback must not be lost). */
  soon(fn: () => void): void {
    if (this.loop.isClosed()) fn();
    else this.loop.callSoon(fn);
  }
}

/** The bytes of `data` (a string is UTF-8 encoded). */
export function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`data must be a Uint8Array or a string, not ${typeof data}`);
}

/** The calls a transport makes on a {@link PushProducer}. */
export type ProducerMethod = 'pauseProducing' | 'resumeProducing' | 'stopProducing';

/**
 * Write-buffer accounting and the pause/resume protocol around it: pause
 * (synchronously) when the size passes `high`, resume when it falls to `low`.
 */
export class WriteFlow {
  size = 0;
  high = DEFAULT_HIGH_WATER;
  low = DEFAULT_LOW_WATER;
  paused = false;
  producer: PushProducer | null = null;
  #stopped = false;
  readonly #pause: () => void;
  readonly #resume: () => void;
  readonly #callProducer: (p: PushProducer, name: ProducerMethod) => void;

  /** `callProducer` makes a producer call (the transport routes its exceptions to the loop's handler). */
  constructor(pause: () => void, resume: () => void, callProducer: (p: PushProducer, name: ProducerMethod) => void = (p, name) => { p[name](); }) {
    this.#pause = pause; this.#resume = resume; this.#callProducer = callProducer;
  }

  added(n: number): void { this.size += n; this.#check(); }
  removed(n: number): void { this.size -= n; this.#check(); }

  /** asyncio's rule: `high` defaults to 4 × `low` (or 64 KiB), `low` to `high` / 4. */
  setLimits(high?: number, low?: number): void {
    const h = high ?? (low === undefined ? DEFAULT_HIGH_WATER : 4 * low);
    const l = low ?? Math.floor(h / 4);
    if (!(h >= l && l >= 0)) throw new RangeError(`high (${h}) must be >= low (${l}) and low must be >= 0`);
    this.high = h;
    this.low = l;
    this.#check();
  }

  /** A producer registered after the transport is gone is stopped at once. */
  registerProducer(p: PushProducer): void {
    if (this.producer !== null && this.producer !== p) throw new Error('a producer is already registered');
    if (this.#stopped) { this.#callProducer(p, 'stopProducing'); return; }
    this.producer = p;
    if (this.paused) this.#callProducer(p, 'pauseProducing');
  }
  unregisterProducer(): void { this.producer = null; }

  /** The transport is gone: the buffer is dropped, a registered producer stops. */
  stop(): void {
    this.size = 0;
    this.paused = false;
    this.#stopped = true;
    const p = this.producer;
    this.producer = null;
    if (p !== null) this.#callProducer(p, 'stopProducing');
  }

  #check(): void {
    if (!this.paused && this.size > this.high) {
      this.paused = true;
      this.#pause();
      const p = this.producer;
      if (p !== null && this.paused) this.#callProducer(p, 'pauseProducing');
    } else if (this.paused && this.size <= this.low) {
      this.paused = false;
      this.#resume();
      const p = this.producer;
      if (p !== null && !this.paused) this.#callProducer(p, 'resumeProducing');
    }
  }
}

/**
 * Start a new transport on the loop's next turn (its protocol's `connectionMade` runs there, as asyncio
 * does) and wait for that; a cancel meanwhile closes the transport instead.
 */
export function* startSoon(loop: EventLoop, description: string, start: () => void, abort: () => void): Coro<void> {
  const ready = new Future<void>({ loop, description });
  loop.callSoon(() => { if (!ready.done()) { start(); ready.setResult(); } });
  let ok = false;
  try {
    yield* ready;
    ok = true;
  } finally {
    if (!ok) abort();
  }
}
