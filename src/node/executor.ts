/**
 * Running functions on worker threads: `runInExecutor`, `toThread`, and
 * the default executor, a pool of `node:worker_threads` kept by piscina.
 *
 * JavaScript cannot run a closure on another thread, so the unit of work is
 * a {@link WorkerFunction}: an export of an ES module that the worker
 * imports. Arguments, results and errors cross by structured clone. piscina
 * queues jobs, replaces dead workers, unrefs idle ones (so an idle pool
 * neither keeps the process alive nor hides a deadlock), and takes an
 * AbortSignal per job: aborting a queued job drops it, aborting a running
 * one terminates its worker. Every job runs through one small module,
 * `executor_worker`, which imports the target and spreads the arguments.
 * A terminated worker's own resources go with it, except a child process
 * it spawned: Node never reaps that one (it stays a zombie until this
 * process exits), so a job that spawns children should not be cancelled
 * while they run.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { Piscina } from 'piscina';
import type { Coro, EventLoop } from '../kernel/events.js';
import { getRunningLoop } from '../kernel/events.js';
import { fromPromise } from '../kernel/coro.js';
import type { Future } from '../kernel/future.js';
import type { Executor, WorkerFunction } from '../kernel/transport_types.js';
import type { WorkerJob } from './executor_worker.js';
import { type LoopResource, track, untrack } from './registry.js';

// The worker module beside this one: .ts when run from source (tsx), .js when built.
const WORKER = new URL(`./executor_worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

/** The URL a worker imports for `fn.module`: an absolute path, a file: URL, or a package name. */
export function resolveWorkerModule(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') throw new TypeError('WorkerFunction.module must be a non-empty string or a URL');
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (module.startsWith('.')) throw new TypeError(`WorkerFunction.module must be absolute (a relative path has no base in a worker): ${module}`);
  return import.meta.resolve(module);
}

let piscina: typeof Piscina | undefined;

function job(fn: WorkerFunction, args: unknown[]): WorkerJob {
  if (fn === null || typeof fn !== 'object') throw new TypeError('a WorkerFunction is { module, name? }');
  return { module: resolveWorkerModule(fn.module), name: fn.name ?? 'default', args };
}

/**
 * Options of {@link ThreadPoolExecutor} (piscina's names and defaults).
 * @example
 * const pool = new ThreadPoolExecutor({ maxThreads: 4, idleTimeout: 1000 });
 */
export interface ThreadPoolOptions {
  /** Threads kept alive while idle (default: piscina's, from the CPU count). */
  minThreads?: number;
  /** At most this many threads (default: piscina's, from the CPU count). */
  maxThreads?: number;
  /** ms an idle thread above `minThreads` lives. */
  idleTimeout?: number;
  /** At most this many jobs wait for a thread; more are refused. */
  maxQueue?: number;
}

/**
 * An {@link Executor} running {@link WorkerFunction}s on a pool of worker threads.
 * @example
 * const pool = new ThreadPoolExecutor({ maxThreads: 2 });
 * const n = yield* getRunningLoop().runInExecutor<number>(pool, { module: '/abs/path/fib.js', name: 'fib' }, 30);
 * yield* fromPromise(pool.shutdown());
 */
export class ThreadPoolExecutor implements Executor {
  readonly #pool: Piscina<WorkerJob, unknown>;
  #shutdown: Promise<void> | null = null;

  constructor(opts: ThreadPoolOptions = {}) {
    // Loaded on first use: a program that never runs a worker does not pay for loading the pool.
    piscina ??= (createRequire(import.meta.url)('piscina') as { Piscina: typeof Piscina }).Piscina;
    this.#pool = new piscina<WorkerJob, unknown>({ filename: WORKER, ...opts });
  }

  /** Run `fn(...args)` on a worker; the Promise settles with its result or error. */
  submit<R>(fn: WorkerFunction, ...args: unknown[]): Promise<R> { return this._run<R>(fn, args); }

  /** @internal submit with an AbortSignal: aborting drops a queued job or terminates the worker running it. */
  _run<R>(fn: WorkerFunction, args: unknown[], signal?: AbortSignal): Promise<R> {
    if (this.#shutdown !== null) return Promise.reject(new Error('executor is shut down'));
    let j: WorkerJob;
    try { j = job(fn, args); } catch (e) { return Promise.reject(e); }
    return this.#pool.run(j, { signal: signal ?? null }) as Promise<R>;
  }

  /** Jobs waiting for a thread. */
  get queueSize(): number { return this.#pool.queueSize; }
  /** The worker threads alive now. */
  get threads(): number { return this.#pool.threads.length; }

  /** Stop the workers; jobs still queued or running fail. Idempotent. */
  shutdown(): Promise<void> {
    if (this.#shutdown === null) {
      // A terminating worker is not among Node's active resources: hold a timer until they have all
      // exited, so that neither Node nor the deadlock check takes the wait for a dead end.
      const keepAlive = setInterval(() => {}, 60_000);
      this.#shutdown = this.#pool.destroy().finally(() => clearInterval(keepAlive));
    }
    return this.#shutdown;
  }

  /**
   * `using`: `shutdown()` without waiting for the workers to exit.
   * @example
   * using pool = new ThreadPoolExecutor({ maxThreads: 2 });
   */
  [Symbol.dispose](): void { void this.shutdown(); }

  /**
   * `await using`: `shutdown()`, waiting until every worker has exited.
   * @example
   * await using pool = new ThreadPoolExecutor({ maxThreads: 2 });
   */
  [Symbol.asyncDispose](): Promise<void> { return this.shutdown(); }
}

/** The executor `runInExecutor(null, ...)` uses, created on first use (one per loop). */
export class DefaultExecutorSlot {
  #executor: Executor | null = null;

  get(): Executor { return this.#executor ??= new ThreadPoolExecutor(); }
  set(e: Executor): void {
    if (e === null || typeof e !== 'object' || typeof e.submit !== 'function') throw new TypeError('setDefaultExecutor: an Executor { submit, shutdown } is expected');
    this.#executor = e;
  }

  /** Shut the default executor down and forget it. */
  *shutdown(loop: EventLoop): Coro<void> {
    const e = this.#executor;
    this.#executor = null;
    if (e !== null) yield* fromPromise(e.shutdown(), loop).setDescription('shutdownDefaultExecutor');
  }

  /** `loop.close()`: shut down without waiting; an error goes to the loop's default handler. */
  closeNow(loop: EventLoop): void {
    const e = this.#executor;
    this.#executor = null;
    e?.shutdown().catch((exception: unknown) => loop.defaultExceptionHandler({ message: 'error shutting down the default executor', exception }));
  }
}

/** @internal `loop.runInExecutor(executor, fn, ...args)`. */
export function runInExecutor<R>(loop: EventLoop, slot: DefaultExecutorSlot, executor: Executor | null, fn: WorkerFunction, args: unknown[]): Future<R> {
  const ex = executor ?? slot.get();
  const ac = new AbortController();
  const p = ex instanceof ThreadPoolExecutor ? ex._run<R>(fn, args, ac.signal) : Promise.resolve(ex.submit<R>(fn, ...args));
  const f = fromPromise(p, loop).setDescription(`runInExecutor(${fn.name ?? 'default'} of ${String(fn.module)})`);
  // A running job is one of the loop's open resources: the deadlock check counts it even where the runtime does not
  // list its workers (Bun), and loop.close() stops it.
  const job: LoopResource = { _loopClosing: () => ac.abort(new Error('runInExecutor: the loop was closed')) };
  track(loop, job);
  f.addDoneCallback((x) => {
    untrack(loop, job);
    if (x.cancelled()) ac.abort(new Error('runInExecutor: the waiting task was cancelled'));
  });
  return f;
}

/**
 * Run `fn(...args)` on the running loop's default worker pool and return its
 * result. Cancelling the task drops the job, or terminates the worker
 * running it (the pool starts a new one).
 * @example
 * const fib = { module: new URL('./fib.js', import.meta.url), name: 'fib' };
 * const n = yield* toThread<number>(fib, 35);
 */
export function* toThread<R>(fn: WorkerFunction, ...args: unknown[]): Coro<R> {
  return yield* getRunningLoop().runInExecutor<R>(null, fn, ...args);
}
