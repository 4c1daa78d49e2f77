/**
 * Events as coroutine waits: `once(target, name)` and `on(target, name)`
 * over a Node `EventEmitter` (anything with `on`/`removeListener`) or a DOM
 * `EventTarget` (`addEventListener`/`removeEventListener`). Nothing here
 * imports Node: an emitter is recognised by its methods, so the same code
 * serves Node, Deno, Bun and browsers.
 *
 * An emitter's event is the array of its arguments (as Node's
 * `events.once`), a target's is the `Event`. An emitter's `'error'` event
 * is thrown (after the events that came before it, for a subscription).
 *
 * Nothing is lost and nothing is left behind: a halted `once()` removes its
 * listeners; a subscription buffers what arrives while nobody waits, and a
 * `next()` halted after an event was handed to it puts the event back in
 * front. Listeners are removed the moment they are no longer needed (the
 * event came, the subscription was closed or failed), not when the waiting
 * task next runs, so an emitter's `'error'` is never swallowed by a listener
 * that outlived its use.
 */
import {
  type Coro, type EventLoop, Future, InvalidStateError, getEventLoop, type Suspend,
} from '../kernel/index.js';
import { asyncIteratorOf, type CoroIterable, type CoroIterator, coroIterator } from './async_iter.js';
import { Deque } from './deque.js';
import { Waiters } from './waiters.js';

/**
 * A Node-style event emitter (`node:events` `EventEmitter` and look-alikes).
 * @example
 * import { EventEmitter } from 'node:events';
 * const e: EmitterLike = new EventEmitter();
 */
export interface EmitterLike {
  /** Add `listener` for `name` events. */
  on(name: string | symbol, listener: (...args: any[]) => void): unknown;
  /** Remove `listener`. */
  removeListener(name: string | symbol, listener: (...args: any[]) => void): unknown;
}

/**
 * A DOM-style event target (`EventTarget`, `AbortSignal`, a `WebSocket`).
 * @example
 * const t: EventTargetLike = new EventTarget();
 */
export interface EventTargetLike {
  /** Add `listener` for `type` events. */
  addEventListener(type: string, listener: (event: any) => void, options?: any): void;
  /** Remove `listener`. */
  removeEventListener(type: string, listener: (event: any) => void, options?: any): void;
}

/**
 * What a subscription does with an event that arrives while its buffer is
 * full: `'error'` (the next `next()` throws {@link EventOverflowError} and
 * the subscription ends), `'dropOldest'`, `'dropNewest'`.
 * @example
 * import { EventEmitter } from 'node:events';
 * const policy: OverflowPolicy = 'dropOldest';
 * const sub = on(new EventEmitter(), 'tick', { capacity: 1, policy });   // only the latest tick
 */
export type OverflowPolicy = 'error' | 'dropOldest' | 'dropNewest';

/**
 * Options of {@link on}.
 * @example
 * const opts: OnOptions = { capacity: 16, policy: 'dropNewest' };
 */
export interface OnOptions {
  /** How many events wait for `next()` at most (default 1024; `Infinity`: unbounded). */
  capacity?: number;
  /** What happens to an event beyond `capacity` (default `'error'`). */
  policy?: OverflowPolicy;
}

/**
 * More events arrived than a subscription's buffer holds (policy `'error'`).
 * @example
 * import { EventEmitter } from 'node:events';
 * const sub = on(new EventEmitter(), 'data');
 * try { yield* sub.next(); } catch (e) { if (e instanceof EventOverflowError) console.log('consumer too slow'); }
 */
export class EventOverflowError extends Error {
  constructor(message: string) { super(message); this.name = 'EventOverflowError'; }
}

function isEmitter(x: unknown): x is EmitterLike {
  return typeof (x as Partial<EmitterLike> | null)?.on === 'function' && typeof (x as Partial<EmitterLike>).removeListener === 'function';
}
function isTarget(x: unknown): x is EventTargetLike {
  return typeof (x as Partial<EventTargetLike> | null)?.addEventListener === 'function';
}

/**
 * Listen for `name` on `target`, calling `onEvent` with the event (an
 * emitter's arguments as an array) and `onError` with an emitter's
 * `'error'`; returns the function that removes both listeners.
 */
function listen(target: EmitterLike | EventTargetLike, name: string | symbol, onEvent: (v: unknown) => void, onError: (e: unknown) => void): () => void {
  if (isEmitter(target)) {
    const ev = (...args: unknown[]): void => onEvent(args);
    target.on(name, ev);
    if (name === 'error') return () => { target.removeListener(name, ev); };
    target.on('error', onError);
    return () => { target.removeListener(name, ev); target.removeListener('error', onError); };
  }
  if (isTarget(target)) {
    if (typeof name !== 'string') throw new TypeError('an EventTarget\'s event name must be a string');
    target.addEventListener(name, onEvent);
    return () => { target.removeEventListener(name, onEvent); };
  }
  throw new TypeError('expected an EventEmitter (on/removeListener) or an EventTarget (addEventListener/removeEventListener)');
}

/**
 * Wait for the next `name` event of an `EventEmitter` (its arguments as an
 * array; an `'error'` event throws) or an `EventTarget` (the `Event`).
 * Halted, it removes its listeners.
 * @example
 * import { once, type Coro } from 'tulip';
 * import { createServer } from 'node:net';
 * function* listening(): Coro<void> {
 *   const server = createServer().listen(0, '127.0.0.1');
 *   yield* once(server, 'listening');
 *   server.close();
 * }
 */
export function once<A extends unknown[] = any[]>(emitter: EmitterLike, name: string | symbol): Coro<A>;
export function once<E = Event>(target: EventTargetLike, name: string): Coro<E>;
export function once(target: EmitterLike | EventTargetLike, name: string | symbol): Coro<unknown> {
  return onceImpl(target, name);
}

function* onceImpl(target: EmitterLike | EventTargetLike, name: string | symbol): Coro<unknown> {
  const f = new Future<unknown>({ description: `once(${String(name)})` });
  let remove: (() => void) | null = null;
  const done = (): void => { remove?.(); remove = null; };
  remove = listen(target, name,
    (v) => { done(); if (!f.done()) f.setResult(v); },
    (e) => { done(); if (!f.done()) f.setException(e); });
  try {
    return yield* f;
  } finally {
    done();
  }
}

const OPEN = 0, CLOSED = 1, FAILED = 2;
/** A waiter's wake-up without an event: the subscription closed or failed. */
const LOOK: unique symbol = Symbol('Subscription: look again');
/** `_poll()`: nothing buffered. */
const NONE: unique symbol = Symbol('Subscription: none');
/** `_poll()`: closed. */
const ENDED: unique symbol = Symbol('Subscription: closed');

/**
 * A stream of events from {@link on}: `yield* sub.next()` gives the next
 * one, `close()` stops listening; `each(sub)` and `for await (... of sub)`
 * iterate it (leaving the loop closes it).
 * @example
 * import { on, type Coro } from 'tulip';
 * import { EventEmitter } from 'node:events';
 * function* firstTwo(e: EventEmitter): Coro<unknown[][]> {
 *   const sub = on(e, 'data');
 *   try { return [yield* sub.next(), yield* sub.next()]; } finally { sub.close(); }
 * }
 */
export class Subscription<T> implements CoroIterable<T>, AsyncIterable<T> {
  readonly #buf = new Deque<T>();
  /** @internal */ readonly _waiters: Waiters<unknown>;
  readonly #capacity: number;
  readonly #policy: OverflowPolicy;
  readonly #loop: EventLoop;
  readonly #name: string;
  #remove: (() => void) | null;
  #state = OPEN;
  #error: unknown = undefined;
  /** The error is thrown before the buffered events (an overflow), not after them (an emitter's 'error'). */
  #errorFirst = false;
  #dropped = 0;

  /** @internal use {@link on}. */
  constructor(target: EmitterLike | EventTargetLike, name: string | symbol, opts: OnOptions = {}) {
    const { capacity = 1024, policy = 'error' } = opts;
    if (!(capacity >= 0)) throw new RangeError(`capacity must be >= 0, not ${capacity}`);
    if (policy !== 'error' && policy !== 'dropOldest' && policy !== 'dropNewest') throw new RangeError(`unknown overflow policy '${String(policy)}'`);
    this.#capacity = capacity;
    this.#policy = policy;
    this.#loop = getEventLoop();
    this.#name = String(name);
    this._waiters = new Waiters<unknown>(`Subscription.next (${this.#name})`);
    this.#remove = listen(target, name, (v) => this._push(v as T), (e) => this.#fail(e, false));
  }

  /**
   * The next event; waits if none is buffered. Throws the emitter's
   * `'error'` (after the events before it), {@link EventOverflowError}, or
   * `InvalidStateError` once the subscription is closed. Halted, it loses
   * no event.
   */
  next(): Coro<T> { return new NextOp<T, T>(this, false); }

  /** Stop listening (at once) and drop what is buffered; a waiting `next()` throws `InvalidStateError`. */
  close(): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSED;
    this.#end();
    this.#buf.clear();
  }

  /** True once closed, or ended by an error or an overflow. */
  get closed(): boolean { return this.#state !== OPEN; }
  /** Events waiting for `next()`. */
  get size(): number { return this.#buf.length; }
  /** Events dropped by the `'dropOldest'`/`'dropNewest'` policies so far. */
  get dropped(): number { return this.#dropped; }

  /** For `each()`: the events as they come; leaving the loop closes the subscription. */
  [coroIterator](): CoroIterator<T> {
    return { next: () => new NextOp<T, IteratorResult<T, undefined>>(this, true), return: () => this.close() };
  }

  /** `for await` in async functions while the loop runs: each step is a task; leaving the loop closes the subscription. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return asyncIteratorOf(this.#loop, this[coroIterator](), `Subscription.next (${this.#name})`);
  }

  toString(): string { return `<Subscription ${this.#name} size=${this.#buf.length}${this.closed ? ' closed' : ''}>`; }

  /** @internal an event arrived. */
  _push(v: T): void {
    if (this.#state !== OPEN) return;
    const buf = this.#buf;
    if (buf.length === 0 && this._waiters.wakeNext(v)) return;
    if (buf.length >= this.#capacity) {
      if (this.#policy === 'dropNewest') { this.#dropped++; return; }
      if (this.#policy === 'dropOldest') {
        this.#dropped++;
        if (buf.length === 0) return;   // capacity 0: nothing is ever kept
        buf.shift();
      } else {
        this.#fail(new EventOverflowError(`more than ${this.#capacity} '${this.#name}' events arrived before next() took them`), true);
        return;
      }
    }
    buf.push(v);
  }

  /** @internal what `next()` finds: an event, NONE, ENDED, or it throws the error. */
  _poll(): T | typeof NONE | typeof ENDED {
    if (this.#state === FAILED && (this.#errorFirst || this.#buf.length === 0)) throw this.#error;
    if (this.#buf.length > 0) return this.#buf.shift() as T;
    return this.#state === CLOSED ? ENDED : NONE;
  }

  /** @internal a `next()` halted after `v` was handed to it: to the next waiter, or back in front. */
  _giveBack(v: T): void {
    if (this.#state === CLOSED) return;
    if (this._waiters.wakeNext(v)) return;
    this.#buf.unshift(v);
  }

  #fail(e: unknown, first: boolean): void {
    if (this.#state !== OPEN) return;
    this.#state = FAILED;
    this.#error = e;
    this.#errorFirst = first;
    if (first) this.#buf.clear();
    this.#end();
  }

  #end(): void {
    const r = this.#remove;
    this.#remove = null;
    r?.();
    this._waiters.wakeAll(LOOK);
  }
}

/**
 * `next()` as a small iterator object (a subscription's `next()` is a hot
 * path): `yield*` drives it as it would a generator that polls, waits on a
 * future from the subscription's waiter line, and polls again.
 */
class NextOp<T, R> implements Coro<R> {
  readonly #sub: Subscription<T>;
  readonly #asResult: boolean;
  #f: Future<unknown> | null = null;
  constructor(sub: Subscription<T>, asResult: boolean) { this.#sub = sub; this.#asResult = asResult; }
  [Symbol.iterator](): this { return this; }
  next(): IteratorResult<Suspend, R> {
    const sub = this.#sub;
    const f = this.#f;
    if (f !== null) {
      this.#f = null;
      if (f.cancelled()) { sub._waiters.discard(); f.result(); }
      const v = f.result();
      if (v !== LOOK) return this.#done(v as T);
    }
    const v = sub._poll();
    if (v === NONE) {
      const w = (this.#f = sub._waiters.add());
      return { done: false, value: w as unknown as Suspend };   // the task waits on the future (see the kernel's traps)
    }
    if (v === ENDED) {
      if (this.#asResult) return { done: true, value: { done: true, value: undefined } as R };
      throw new InvalidStateError(`next() on a closed subscription (${String(sub)})`);
    }
    return this.#done(v);
  }
  #done(v: T): IteratorReturnResult<R> {
    return { done: true, value: (this.#asResult ? { done: false, value: v } : v) as R };
  }
  throw(e: unknown): never {
    this.#leave();
    throw e;
  }
  return(value?: any): IteratorResult<Suspend, R> {
    this.#leave();
    return { done: true, value };
  }
  /** Halted while waiting: an event already handed over goes back. */
  #leave(): void {
    const f = this.#f;
    if (f === null) return;
    this.#f = null;
    if (f.done() && !f.cancelled()) {
      const v = f.result();
      if (v !== LOOK) this.#sub._giveBack(v as T);
      return;
    }
    f.cancel();
    this.#sub._waiters.discard();
  }
}

/**
 * Subscribe to `name` events of an `EventEmitter` (each event the array of
 * its arguments; an `'error'` event ends the subscription with that error,
 * after the events before it) or an `EventTarget` (each an `Event`). The
 * listener is added at once; the subscription buffers up to `capacity`
 * events (default 1024) and applies `policy` beyond that (default
 * `'error'`). Close it when done (leaving an `each()` or `for await` loop
 * does).
 * @example
 * import { on, each, type Coro } from 'tulip';
 * function* clicks(button: EventTarget): Coro<void> {
 *   for (const ev of yield* each(on<Event>(button, 'click'))) {
 *     console.log(ev.type);
 *     yield* each.next();
 *   }
 * }
 */
export function on<A extends unknown[] = any[]>(emitter: EmitterLike, name: string | symbol, opts?: OnOptions): Subscription<A>;
export function on<E = Event>(target: EventTargetLike, name: string, opts?: OnOptions): Subscription<E>;
export function on(target: EmitterLike | EventTargetLike, name: string | symbol, opts?: OnOptions): Subscription<unknown> {
  return new Subscription(target, name, opts);
}
