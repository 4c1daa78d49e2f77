/**
 * Does anything outside tulip keep Node's loop alive? The deadlock check
 * asks this when tulip's own loop has nothing to do. Any handle or request
 * of any library counts (a server, a socket, a timer, a worker's port), so
 * the check is conservative; only stdout and stderr are not counted, since
 * they are open in every process and never wake anyone.
 */
interface NodeProcessInternals {
  _getActiveHandles?(): unknown[];
  _getActiveRequests?(): unknown[];
  getActiveResourcesInfo?(): string[];
}

/** The kinds of the resources that keep Node's loop alive, without stdout/stderr. */
export function foreignResources(): string[] {
  const p = process as unknown as NodeProcessInternals;
  const info = p.getActiveResourcesInfo?.() ?? [];
  if (info.length === 0) return info;
  const handles = p._getActiveHandles?.() ?? [];
  let stdio = 0;
  for (const h of handles) if (h === process.stdout || h === process.stderr) stdio++;
  // Drop one pipe/tty/file entry per stdio handle: they are listed by type only.
  const out = [...info];
  for (let i = out.length - 1; i >= 0 && stdio > 0; i--) {
    if (out[i] === 'PipeWrap' || out[i] === 'TTYWrap' || out[i] === 'TCPWrap') { out.splice(i, 1); stdio--; }
  }
  return out;
}

const POLL_MIN = 5, POLL_MAX = 1000;

/** What a loop tells its {@link DeadlockWatch}. */
export interface DeadlockWatchHooks {
  /** Nothing in the loop itself can wake `runUntilComplete`'s future. */
  stuck(): boolean;
  /** Something else of the loop's may wake it (a user's signal handler). */
  otherWakers(): boolean;
  /** Promises the loop waits on (fromPromise, Promise-based tasks). */
  promisesPending(): number;
  /** Report the deadlock. */
  declare(): void;
}

/**
 * The deadlock check of a loop that runs inside Node's, shared by
 * NodeEventLoop and TestEventLoop. Armed when the loop goes idle, it looks
 * at the loop as it is when it fires, from an immediate (inside its own
 * callback a timer still counts among Node's active resources). If anything
 * outside tulip may still wake the loop, it looks again later, backing off
 * from 5 ms to 1 s; a check or a re-arm at every idle moment would cost more
 * than the I/O of a busy program. A pending Promise may be settled by work
 * Node does not list (a worker thread being terminated): with one pending,
 * the deadlock is confirmed over a few more polls before it is reported.
 */
export class DeadlockWatch {
  readonly #hooks: DeadlockWatchHooks;
  #check: NodeJS.Immediate | null = null;
  #poll: NodeJS.Timeout | null = null;
  #delay = POLL_MIN;
  #confirmations = 0;

  constructor(hooks: DeadlockWatchHooks) { this.#hooks = hooks; }

  /** The loop went idle: check, after `firstDelay` ms (0: from the next immediate), unless a check is armed. */
  arm(firstDelay: number): void {
    if (this.#check !== null || this.#poll !== null) return;
    if (firstDelay > 0) this.#poll = setTimeout(this.#fired, firstDelay);
    else this.#check = setImmediate(this.#run);
  }

  cancel(): void {
    if (this.#check !== null) { clearImmediate(this.#check); this.#check = null; }
    if (this.#poll !== null) { clearTimeout(this.#poll); this.#poll = null; }
  }

  readonly #fired = (): void => {
    this.#poll = null;
    this.#check = setImmediate(this.#run);
  };

  readonly #run = (): void => {
    this.#check = null;
    const h = this.#hooks;
    if (!h.stuck()) { this.#delay = POLL_MIN; this.#confirmations = 0; return; }
    if (foreignResources().length === 0 && !h.otherWakers()) {
      if (h.promisesPending() === 0 || this.#confirmations >= 3) {
        this.#delay = POLL_MIN;
        this.#confirmations = 0;
        h.declare();
        return;
      }
      this.#confirmations++;
    }
    this.#poll = setTimeout(this.#fired, this.#delay);
    this.#delay = Math.min(POLL_MAX, this.#delay * 2);
  };
}
