/**
 * The web platform's side of the kernel's `Host`, made only of what every
 * JavaScript runtime offers (browsers, workers, Deno, Bun, Node):
 * `MessageChannel` (or `scheduler.postTask`) for the next macrotask,
 * `setTimeout` for timers, `performance.now()` for the clock. A
 * `setTimeout(0)` is never used to yield: browsers clamp nested ones to
 * 4 ms. A web page cannot list what may still call back into it (a DOM
 * event, a fetch of another library), so the deadlock check counts only
 * what tulip knows of.
 */
import type { Host } from '../kernel/host.js';

interface PortLike {
  onmessage: ((e: unknown) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
  /** Node, Deno and Bun: whether a port with a listener keeps the process alive. */
  ref?(): void;
  unref?(): void;
}
interface WebGlobals {
  MessageChannel?: new () => { port1: PortLike; port2: PortLike };
  scheduler?: { postTask?(cb: () => void, opts?: { priority?: string }): Promise<unknown> };
  performance?: { now(): number };
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

const g = globalThis as unknown as WebGlobals;

/**
 * How a web loop asks for its next macrotask: a `MessageChannel` message
 * (the default where there is one) or `scheduler.postTask` (Chromium).
 * @example
 * const loop = new WebEventLoop({ wake: 'postTask' });
 */
export type WakeMethod = 'MessageChannel' | 'postTask';

/** @internal calls `cb` as the next macrotask after each `post()` (one call per run of posts). */
export interface Waker { post(): void; close(): void }

/** @internal the wake method this runtime has, preferring `preferred`. */
export function wakeMethod(preferred?: WakeMethod): WakeMethod {
  const channel = typeof g.MessageChannel === 'function';
  const postTask = typeof g.scheduler?.postTask === 'function';
  if (preferred === 'postTask' && postTask) return 'postTask';
  if (preferred === 'MessageChannel' && channel) return 'MessageChannel';
  if (preferred !== undefined) throw new TypeError(`this runtime has no ${preferred}`);
  if (channel) return 'MessageChannel';
  if (postTask) return 'postTask';
  throw new TypeError('this runtime has neither MessageChannel nor scheduler.postTask to schedule a macrotask');
}

/** @internal a {@link Waker} for `cb`. */
export function makeWaker(cb: () => void, preferred?: WakeMethod): Waker {
  return wakeMethod(preferred) === 'postTask' ? new TaskWaker(cb) : new ChannelWaker(cb);
}

/**
 * Two channels, posted to in turn. Server runtimes (Node, Deno, Bun) drain a port's queue before anything else
 * runs (Node up to 1,000 messages), so a loop that always posts to one port would starve their timers and I/O;
 * a message on the other port waits for their next turn. Browsers run other tasks between messages anyway.
 */
class ChannelWaker implements Waker {
  readonly #ports: [PortLike, PortLike][] = [];
  #next = 0;
  #posted = false;
  constructor(cb: () => void) {
    for (let i = 0; i < 2; i++) {
      const { port1, port2 } = new g.MessageChannel!();
      port1.onmessage = () => { this.#posted = false; port1.unref?.(); cb(); };
      // A server runtime keeps running while a port listens: only while a message is on its way.
      port1.unref?.();
      this.#ports.push([port1, port2]);
    }
  }
  post(): void {
    if (this.#posted) return;
    this.#posted = true;
    const [input, output] = this.#ports[this.#next]!;
    this.#next ^= 1;
    input.ref?.();
    output.postMessage(null);
  }
  close(): void { for (const [a, b] of this.#ports) { a.onmessage = null; a.close(); b.close(); } }
}

class TaskWaker implements Waker {
  readonly #cb: () => void;
  #posted = false;
  #closed = false;
  constructor(cb: () => void) { this.#cb = cb; }
  readonly #run = (): void => { this.#posted = false; if (!this.#closed) this.#cb(); };
  post(): void {
    if (this.#posted || this.#closed) return;
    this.#posted = true;
    void g.scheduler!.postTask!(this.#run, { priority: 'user-blocking' });
  }
  close(): void { this.#closed = true; }
}

/** @internal the clock of web loops: `performance.now()` where there is one. */
export const now: () => number = typeof g.performance?.now === 'function'
  ? () => g.performance!.now()
  : () => Date.now();

/** One waker shared by the host's `setSoon` callers (TestEventLoop ticks, deadlock checks). */
class Macrotasks {
  #queue: { cb: (() => void) | null }[] = [];
  #waker: Waker | null = null;
  readonly #run = (): void => {
    const q = this.#queue;
    this.#queue = [];
    for (const e of q) { const cb = e.cb; if (cb !== null) { e.cb = null; cb(); } }
  };
  add(cb: () => void): { cb: (() => void) | null } {
    const e = { cb };
    this.#queue.push(e);
    (this.#waker ??= makeWaker(this.#run)).post();
    return e;
  }
}

const macrotasks = new Macrotasks();

/** @internal the web platform's Host. */
export const webHost: Host = {
  now,
  setSoon: (cb) => macrotasks.add(cb),
  clearSoon: (h) => { (h as { cb: (() => void) | null }).cb = null; },
  setTimer: (cb, ms) => g.setTimeout(cb, ms),
  clearTimer: (h) => g.clearTimeout(h),
  foreignWakers: () => null,
};
