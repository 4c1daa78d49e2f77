/**
 * `run(main)`: the entry point of a tulip program. It makes a loop, runs
 * `main` as the task named 'main', and on the way out cancels and awaits
 * every task still pending, so their `finally` blocks run before the loop
 * closes. The first SIGINT cancels main (its cleanup runs); a second one
 * ends the process at once. Runtime details (the default loop, signals)
 * come through the policy and the `EventLoop` interface.
 */
import { CancelledError, DeadlockError, NotImplementedError } from './errors.js';
import type { Coro, EventLoop } from './events.js';
import { newEventLoop } from './events.js';
import { Future } from './future.js';
import type { Task } from './task.js';
import { allTasks } from './coro.js';

/** A loop that can end the process the way an unhandled signal would. */
interface SignalRaising { raiseDefaultSignal?(sig: string): void; shutdownDefaultExecutor?(): Coro<void> }

/** Options of {@link run}. @example await run(function* () { yield* sleep(10); }, { debug: true, handleSignals: false }); */
export interface RunOptions {
  /** Run the loop in debug mode (slow callbacks and never-driven coroutines are reported). */
  debug?: boolean;
  /** Run on this loop instead of a new one from the policy. */
  loop?: EventLoop;
  /** Ctrl-C cancels main (default `true`); a second Ctrl-C ends the process. */
  handleSignals?: boolean;
}

/**
 * Run `main` on a new loop and resolve with its result (or reject with its
 * error, or `DeadlockError` if it can never finish).
 * @example
 * const n = await run(function* () { yield* sleep(10); return 42; });
 */
export async function run<T>(main: Coro<T> | (() => Coro<T>), opts: RunOptions = {}): Promise<T> {
  const loop = opts.loop ?? newEventLoop();
  if (opts.debug !== undefined) loop.setDebug(opts.debug);
  const coro = typeof main === 'function' ? main() : main;
  const task = loop.createTask(coro, { name: 'main' });
  let sigint = false;
  if (opts.handleSignals ?? true) {
    let interrupts = 0;
    const onInterrupt = (): void => {
      interrupts++;
      if (interrupts === 1) { task.cancel('interrupted by SIGINT'); return; }
      loop.removeSignalHandler('SIGINT');
      (loop as SignalRaising).raiseDefaultSignal?.('SIGINT');
    };
    try { loop.addSignalHandler('SIGINT', onInterrupt); sigint = true; } catch (e) { if (!(e instanceof NotImplementedError)) throw e; }
  }
  try {
    return await loop.runUntilComplete(task);
  } finally {
    try {
      await cancelAll(loop, task);
      const shutdown = (loop as SignalRaising).shutdownDefaultExecutor;
      if (shutdown !== undefined) await loop.runUntilComplete(loop.createTask(shutdown.call(loop)));
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
