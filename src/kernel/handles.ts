/**
 * What `callSoon`, `callLater` and `callAt` return: a callback with its
 * arguments and the context it was scheduled in, which the loop runs once
 * unless it is cancelled first.
 */
import { type Context, swapContext } from './context.js';

/** The loop-side hook a handle needs; kept narrow so handles do not import the loop. */
export interface HandleOwner {
  callExceptionHandler(ctx: { message: string; exception?: unknown; handle?: Handle }): void;
}
/** A timer's owner also hears of cancellations, so its heap may compact. */
export interface TimerOwner extends HandleOwner {
  /** @internal */
  _timerCancelled(h: TimerHandle): void;
}

/**
 * A scheduled callback.
 * @example
 * const h = getRunningLoop().callSoon(() => console.log('later'));
 * h.cancel(); // it will not run
 */
export class Handle {
  /** @internal */ _cb: ((...args: any[]) => unknown) | null;
  /** @internal */ _args: unknown[];
  /** @internal */ _ctx: Context;
  /** @internal */ _owner: HandleOwner;
  /** @internal */ _cancelled = false;

  /** @internal */
  constructor(cb: (...args: any[]) => unknown, args: unknown[], owner: HandleOwner, ctx: Context) {
    this._cb = cb;
    this._args = args;
    this._owner = owner;
    this._ctx = ctx;
  }

  /** Prevent the callback from running, if it has not yet. */
  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._cb = null;
    this._args = [];
  }

  /** True once `cancel()` was called. */
  cancelled(): boolean { return this._cancelled; }

  /** The callback's name, for debugging output. */
  describe(): string {
    const name = this._cb?.name;
    return name ? `${name}()` : '<anonymous callback>';
  }

  /** @internal run the callback in its context; an exception goes to the exception handler. */
  _run(): void {
    const cb = this._cb;
    if (cb === null) return;
    const prev = swapContext(this._ctx);
    try {
      cb(...this._args);
    } catch (exception) {
      this._owner.callExceptionHandler({ message: `Exception in callback ${this.describe()}`, exception, handle: this });
    } finally {
      swapContext(prev);
    }
  }
}

/**
 * A callback scheduled for a time.
 * @example
 * const loop = getRunningLoop();
 * const h = loop.callLater(100, () => console.log('100 ms later'));
 * console.log(h.when() - loop.time()); // 100
 */
export class TimerHandle extends Handle {
  /** @internal */ readonly _when: number;
  /** @internal tie-breaker: timers due together run in the order they were scheduled. */
  readonly _seq: number;
  /** @internal still in the owner's heap. */ _scheduled = true;

  /** @internal */ readonly _timerOwner: TimerOwner;

  /** @internal */
  constructor(when: number, seq: number, cb: (...args: any[]) => unknown, args: unknown[], owner: TimerOwner, ctx: Context) {
    super(cb, args, owner, ctx);
    this._timerOwner = owner;
    this._when = when;
    this._seq = seq;
  }

  /** The loop time at which the callback is due. */
  when(): number { return this._when; }

  override cancel(): void {
    if (this._cancelled) return;
    super.cancel();
    if (this._scheduled) this._timerOwner._timerCancelled(this);
  }
}
