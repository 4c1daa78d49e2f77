/**
 * WebEventLoop: a tulip loop for browsers, workers, and any runtime with
 * the web platform's scheduling (Deno, Bun, Node too). It drains its ready
 * queue from a `MessageChannel` message (or a `scheduler.postTask` task),
 * never from a `setTimeout(0)`, which browsers clamp to 4 ms; yields to the
 * page after a time slice (4 ms of batches of `maxCallbacksPerTick`
 * callbacks) so rendering and input go on;
 * keeps one `setTimeout` armed for its earliest timer; reads its clock
 * from `performance.now()`.
 *
 * Deadlock detection: a page cannot list what may still call back into it,
 * so only what tulip knows of counts. While main is pending, the loop is
 * never declared deadlocked while a Promise awaited through `fromPromise`
 * (or a Promise-based task) is pending, nor while a transport of its own
 * (a WebSocket) is open; with none of them, no ready callback and no
 * timer, nothing can wake main and `run()` rejects with `DeadlockError`.
 * A task that waits for a DOM event should wait on a Promise
 * (`fromPromise(new Promise((r) => button.addEventListener('click', r, { once: true })))`).
 */
import { BaseEventLoop } from '../kernel/base_loop.js';
import { closeTracked } from '../kernel/resources.js';
import { makeWaker, now, type WakeMethod, type Waker } from './host.js';

interface TimerGlobals { setTimeout(cb: () => void, ms: number): unknown; clearTimeout(h: unknown): void }
const g = globalThis as unknown as TimerGlobals;

/**
 * Options of {@link WebEventLoop}.
 * @example
 * const loop = new WebEventLoop({ wake: 'postTask' });
 */
export interface WebEventLoopOptions {
  /** How the loop asks for its next macrotask (default: `MessageChannel`, else `scheduler.postTask`). */
  wake?: WakeMethod;
  /**
   * How long (ms) one macrotask may run batches of `maxCallbacksPerTick` callbacks back to back before the loop
   * yields to the page (default 4; 0: yield after every batch).
   */
  timeSlice?: number;
}

/**
 * The default loop of `tulip/web` (and of `tulip` in a browser).
 * @example
 * import { WebEventLoop, run, sleep } from 'tulip/web';
 * const v = await run(function* () { yield* sleep(10); return 'ok'; }, { loop: new WebEventLoop() });
 */
export class WebEventLoop extends BaseEventLoop {
  readonly #waker: Waker;
  readonly #slice: number;
  #timer: unknown = null;
  #timerWhen = Infinity;
  readonly #tickNow = (): void => { this.#run(); };
  readonly #tickTimer = (): void => { this.#timer = null; this.#timerWhen = Infinity; this.#run(); };

  constructor(opts: WebEventLoopOptions = {}) {
    super();
    const slice = opts.timeSlice ?? 4;
    if (!(slice >= 0)) throw new RangeError(`timeSlice must be >= 0, not ${slice}`);
    this.#slice = slice;
    this.#waker = makeWaker(this.#tickNow, opts.wake);
  }

  /**
   * Batches back to back for up to a time slice: a browser's macrotask costs 10-20 µs (a MessageChannel round
   * trip), against ~0.1 µs per task switch, so yielding after every batch of 1,000 would spend a third of the time
   * waiting for the page. A slice of 4 ms keeps the page responsive (a frame is 16 ms).
   */
  #run(): void {
    const end = this.#slice > 0 ? now() + this.#slice : 0;
    do this._tick(); while (this.#slice > 0 && this.readyCount() > 0 && this.isRunning() && now() < end);
  }

  protected _clock(): number { return now(); }

  protected _hostWake(): void { this.#waker.post(); }

  protected _hostTimer(when: number | null): void {
    if (when === this.#timerWhen) return;
    if (this.#timer !== null) { g.clearTimeout(this.#timer); this.#timer = null; this.#timerWhen = Infinity; }
    if (when === null) return;
    // Round up: a host timer that fires early only costs one more wake, one that fires late delays every timer.
    const delay = Math.ceil(when - this._clock());
    // Due already: the next macrotask, never a setTimeout(0) (nested ones are clamped to 4 ms).
    if (delay <= 0) { this._hostWake(); return; }
    this.#timerWhen = when;
    this.#timer = g.setTimeout(this.#tickTimer, delay);
  }

  override close(): void {
    if (this.isClosed()) return;
    if (this.isRunning()) throw new Error('cannot close a running event loop');
    closeTracked(this);
    super.close();
    this.#waker.close();
  }
}
