/**
 * The deadlock check of a loop that runs inside another event loop (its
 * host's), shared by NodeEventLoop and TestEventLoop on any runtime.
 *
 * Armed when the loop goes idle, it looks at the loop as it is when it
 * fires, from the host's next macrotask (inside its own callback a host
 * timer would still count among the host's active resources). If anything
 * may still wake the loop (something of the host's, a signal handler, an
 * open transport of tulip's own), it looks again later, backing off from
 * 5 ms to 1 s: a check or a re-arm at every idle moment would cost more
 * than the I/O of a busy program. A pending Promise may be settled by work
 * the host does not list (a worker thread being terminated): with one
 * pending, the deadlock is confirmed over a few more polls before it is
 * reported. A host that cannot list what keeps it running (Bun) is trusted
 * with its Promises: while one is pending, no deadlock is reported.
 */
import type { Host } from './host.js';

const POLL_MIN = 5, POLL_MAX = 1000;

/** @internal what a loop tells its {@link DeadlockWatch}. */
export interface DeadlockWatchHooks {
  /** The runtime the loop runs in. */
  host: Host;
  /** Nothing in the loop itself can wake `runUntilComplete`'s future. */
  stuck(): boolean;
  /** Something else of the loop's may wake it (a user's signal handler, an open transport). */
  otherWakers(): boolean;
  /** Promises the loop waits on (fromPromise, Promise-based tasks). */
  promisesPending(): number;
  /** Report the deadlock. */
  declare(): void;
}

/** @internal see the file's comment. */
export class DeadlockWatch {
  readonly #hooks: DeadlockWatchHooks;
  readonly #host: Host;
  #check: unknown = null;
  #poll: unknown = null;
  #delay = POLL_MIN;
  #confirmations = 0;

  constructor(hooks: DeadlockWatchHooks) { this.#hooks = hooks; this.#host = hooks.host; }

  /** The loop went idle: check, after `firstDelay` ms (0: from the host's next macrotask), unless a check is armed. */
  arm(firstDelay: number): void {
    if (this.#check !== null || this.#poll !== null) return;
    if (firstDelay > 0) this.#poll = this.#host.setTimer(this.#fired, firstDelay);
    else this.#check = this.#host.setSoon(this.#run);
  }

  cancel(): void {
    if (this.#check !== null) { this.#host.clearSoon(this.#check); this.#check = null; }
    if (this.#poll !== null) { this.#host.clearTimer(this.#poll); this.#poll = null; }
  }

  readonly #fired = (): void => {
    this.#poll = null;
    this.#check = this.#host.setSoon(this.#run);
  };

  #reset(): void { this.#delay = POLL_MIN; this.#confirmations = 0; }

  readonly #run = (): void => {
    this.#check = null;
    const h = this.#hooks;
    if (!h.stuck()) { this.#reset(); return; }
    if (!h.otherWakers()) {
      const foreign = this.#host.foreignWakers();
      if (foreign === null) {
        // The host cannot say what might settle a pending Promise: its settling wakes the loop, which re-arms.
        this.#reset();
        if (h.promisesPending() === 0) h.declare();
        return;
      }
      if (foreign === 0) {
        if (h.promisesPending() === 0 || this.#confirmations >= 3) { this.#reset(); h.declare(); return; }
        this.#confirmations++;
      }
    }
    this.#poll = this.#host.setTimer(this.#fired, this.#delay);
    this.#delay = Math.min(POLL_MAX, this.#delay * 2);
  };
}
