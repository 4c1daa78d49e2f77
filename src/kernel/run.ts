/**
 * `run(main)`: the entry point of a tulip program. It makes a loop, runs
 * `main` as the task named 'main', and on the way out cancels and awaits
 * every task still pending, so their `finally` blocks run before the loop
 * closes, then ends the child processes still running (a loop with
 * processes offers `_shutdownChildren`). The first SIGINT cancels main (its
 * cleanup runs); a second one ends the process at once. An `AbortSignal`
 * cancels main from outside. Runtime details (the default loop, signals)
 * come through the policy and the `EventLoop` interface.
 */
import { CancelledError, DeadlockError, NotImplementedError } from './errors.js';
import type { Coro, EventLoop } from './events.js';
import { newEventLoop } from './events.js';
import { Future } from './future.js';
import type { Task } from './task.js';
import { allTasks } from './coro.js';

/** A loop that can end the process the way an unhandled signal would, and has children and an executor to end. */
interface LoopExtras {
  raiseDefaultSignal?(sig: string): void;
  shutdownDefaultExecutor?(): Coro<void>;
  _shutdownChildren?(): Coro<void>;
}

/**
 * Options of {@link run}.
 * @example await run(function* () { yield* sleep(10); }, { debug: true, handleSignals: false, signal: AbortSignal.timeout(60_000) });
 */
export interface RunOptions {
  /** Run the loop in debug mode (slow callbacks and never-driven coroutines are reported). */
  debug?: boolean;
  /** Run on this loop instead of a new one from the policy. */
  loop?: EventLoop;
  /** Ctrl-C cancels main (default `true`); a second Ctrl-C ends the process. */
  handleSignals?: boolean;
  /** Cancel main when this signal aborts (already aborted: main never starts); run() then rejects with a CancelledError caused by its reason. */
  signal?: AbortSignal;
}

const interrupted = new WeakSet<object>();

/** @internal is `e` the rejection of a `run()` whose main the first SIGINT cancelled? */
export function _interruptedBySigint(e: unknown): boolean { return typeof e === 'object' && e !== null && interrupted.has(e); }

/**
 * Run `main` on a new loop and resolve with its result (or reject with its
 * error, or `DeadlockError` if it can never finish). It settles only after
 * every other task has finished its cleanup and every child process still
 * running has been ended (SIGTERM, then SIGKILL after its `killGrace`) and
 * reaped. Cancelled by the first SIGINT, it rejects with a `CancelledError`
 * saying so; cancelled by `opts.signal`, with a `CancelledError` whose
 * `cause` is the signal's reason.
 * @example
 * const n = await run(function* () { yield* sleep(10); return 42; });
 */
export async function run<T>(main: Coro<T> | (() => Coro<T>), opts: RunOptions = {}): Promise<T> {
  const loop = opts.loop ?? newEventLoop();
  if (opts.debug !== undefined) loop.setDebug(opts.debug);
  const coro = typeof main === 'function' ? main() : main;
  const task = loop.createTask(coro, { name: 'main' });
  let sigint = false;
  let interruptedBy: 'SIGINT' | 'signal' | null = null;
  if (opts.handleSignals ?? true) {
    let interrupts = 0;
    const onInterrupt = (): void => {
      interrupts++;
      if (interrupts === 1) { interruptedBy ??= 'SIGINT'; task.cancel('interrupted by SIGINT'); return; }
      loop.removeSignalHandler('SIGINT');
      (loop as LoopExtras).raiseDefaultSignal?.('SIGINT');
    };
    try { loop.addSignalHandler('SIGINT', onInterrupt); sigint = true; } catch (e) { if (!(e instanceof NotImplementedError)) throw e; }
  }
  const signal = opts.signal;
  const onAbort = (): void => { interruptedBy ??= 'signal'; task.cancel('cancelled by run()\'s signal'); };
  if (signal !== undefined) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    return await loop.runUntilComplete(task);
  } catch (e) {
    if (!(e instanceof CancelledError) || !task.cancelled() || interruptedBy === null) throw e;
    if (interruptedBy === 'signal') throw new CancelledError('cancelled by run()\'s signal', { cause: signal!.reason });
    const err = new CancelledError('interrupted by SIGINT');
    interrupted.add(err);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    try {
      await cancelAll(loop, task);
      const extras = loop as LoopExtras;
      if (extras._shutdownChildren !== undefined) await loop.runUntilComplete(loop.createTask(extras._shutdownChildren()));
      if (extras.shutdownDefaultExecutor !== undefined) await loop.runUntilComplete(loop.createTask(extras.shutdownDefaultExecutor()));
    } finally {
      if (sigint && !loop.isClosed()) loop.removeSignalHandler('SIGINT');
      if (!loop.isRunning()) loop.close();
    }
  }
}

/** Cancel every pending task and run the loop until they have all finished their cleanup. */
async function cancelAll(loop: EventLoop, main: Task<unknown>): Promise<void> {
  const pending = [...allTasks(loop)];
  if (!main.done() && !pending.includes(main)) pending.push(main);
  if (pending.length === 0) return;
  for (const t of pending) t.cancel();
  const all = new Future<void>({ loop, description: 'run(): tasks finishing their cleanup' });
  let left = pending.length;
  const one = (): void => { if (--left === 0 && !all.done()) all.setResult(); };
  for (const t of pending) t.addDoneCallback(one);
  try {
    await loop.runUntilComplete(all);
  } catch (e) {
    if (!(e instanceof DeadlockError)) throw e;
    loop.callExceptionHandler({ message: 'run(): tasks could not finish their cleanup', exception: e });
  }
  for (const t of pending) {
    if (t === main || !t.done() || t.cancelled()) continue;
    const exception = t.exception();
    if (exception !== undefined && !(exception instanceof CancelledError)) {
      loop.callExceptionHandler({ message: 'unhandled exception during run() shutdown', exception, task: t });
    }
  }
}
