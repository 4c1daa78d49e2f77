/**
 * What the Node loop's non-socket backends (read pipes, UDP, subprocesses)
 * share: calling into a protocol from a Node event, and starting a
 * transport on the next loop turn. (Write flow control is the protocols
 * layer's StreamTransportBase, for sockets and write pipes alike; what
 * `loop.close()` must end is kept in registry.ts.)
 *
 * A protocol method runs from a Node event, outside any tulip tick, so the
 * call enters the loop (it becomes the running loop) and the context that
 * was current when the connection was made; an exception from it goes to the
 * loop's exception handler and aborts the transport, it is never thrown into
 * Node.
 */
import { type Context, currentContext, swapContext } from '../kernel/context.js';
import { fromPromise } from '../kernel/coro.js';
import { _enterLoop, _leaveLoop, type Coro, type EventLoop, getRunningLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { BaseTransport } from '../kernel/transport_types.js';

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

/**
 * Wait for a Promise that acquires something (a file handle, say). A Promise
 * cannot be stopped: if the wait is halted, what it acquires later (or
 * acquired in the very turn of the halt) is released with `release`.
 */
export function* acquirePromise<T>(p: Promise<T>, release: (v: T) => unknown, description: string): Coro<T> {
  const f = fromPromise(p, getRunningLoop()).setDescription(description);
  let ok = false;
  try {
    const v = yield* f;
    ok = true;
    return v;
  } finally {
    if (!ok) p.then(release, () => undefined);
  }
}
