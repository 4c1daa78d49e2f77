/**
 * The `EventLoop` interface every loop implements, the exception context,
 * and the loop policy: which loop `getEventLoop()` returns and what
 * `newEventLoop()` makes. The kernel knows no runtime; the package's main
 * entry installs the Node policy, a browser build would install another.
 */
import type { Future } from './future.js';
import type { Handle, TimerHandle } from './handles.js';
import type { Task } from './task.js';
import type {
  AddrInfo, BaseTransport, DatagramTransport, Executor, ReadTransport, Server, SockAddr,
  SubprocessTransport, Transport, WorkerFunction, WriteTransport,
} from './transport_types.js';

// Named so that the compiler's complaint says what to do: "Property '[useYieldStar]' is missing in type 'Coro<void>'".
declare const useYieldStar: unique symbol;

/**
 * What a coroutine yields to the task that drives it: opaque, and made only
 * by tulip's traps (a pending future to wait on, a trip through the ready
 * queue, a repeated halt). Because no other value has this type, a `yield`
 * that forgot its `*` (`yield sleep(1)`, `yield future`, `yield 5`) does not
 * compile in a coroutine; `yield*` passes the traps' values up unchanged.
 * @example
 * function* good(): Coro<void> { yield* sleep(1); }
 * // function* bad(): Coro<void> { yield sleep(1); }   // error: Coro<void> is not a Suspend
 */
export interface Suspend {
  /** The brand that makes `Suspend` a type of its own: no value outside tulip's traps has it. */
  readonly [useYieldStar]: 'tulip.Suspend';
}

/**
 * A coroutine: what a generator function typed `function* (): Coro<T>`
 * returns, driven with `yield*` by a task, and returning a `T`. It yields
 * only {@link Suspend} values, so `yield` without `*` is a compile error,
 * while `yield* x` has the type of `x`'s result. Every generator object
 * whose yields are `Suspend`s is a `Coro`; so are tulip's own hand-written
 * operations (`sleep()`, `queue.get()`, a future's iterator), which
 * implement exactly the iterator protocol a task drives and nothing more
 * (a `Coro` is an `Iterator`, not necessarily a `Generator`).
 * @example
 * function* fetchTwice(): Coro<number> { yield* sleep(10); return 2; }
 */
export interface Coro<T> extends Iterator<Suspend, T, unknown> {
  /** Run the coroutine to its next suspension (or its end), resuming it with the value it waited for. */
  next(...args: [] | [unknown]): IteratorResult<Suspend, T>;
  /** Halt the coroutine: its `finally` blocks run (and may suspend), then it ends with `value`. */
  return(value: T): IteratorResult<Suspend, T>;
  /** Resume the coroutine by throwing `e` where it waits (a failed future, a `CancelledError`). */
  throw(e?: unknown): IteratorResult<Suspend, T>;
  /** The coroutine itself, so that `yield*` can drive it. */
  [Symbol.iterator](): Coro<T>;
}

/**
 * A coroutine, or a generator function that makes one when called with no
 * arguments: what every tulip API that runs a body takes (`createTask`,
 * `run`, `gather`, `race`, `shield`, ...), so both `createTask(work())` and
 * `createTask(function* () { ... })` work.
 * @example
 * const body: CoroOrFn<number> = function* () { yield* sleep(1); return 1; };
 * const t = createTask(body);   // Task<number>
 */
export type CoroOrFn<T> = Coro<T> | (() => Coro<T>);

/**
 * The coroutine `body` stands for: a coroutine as it is, a generator
 * function called with no arguments. For APIs of one's own that take a
 * body the way tulip's do.
 * @example
 * function* twice<T>(body: CoroOrFn<T>): Coro<[T, T]> {
 *   const a = yield* toCoro(body);
 *   return [a, yield* sleep(1, a)];
 * }
 */
export function toCoro<T>(body: CoroOrFn<T>): Coro<T> {
  return typeof body === 'function' ? body() : body;
}

/**
 * Anything a coroutine can wait on (and tulip can turn into a future): a
 * future, a coroutine or a generator function to run, or a Promise.
 * @example
 * function* twice(aw: Awaitable<number>): Coro<number> { return 2 * (yield* ensureFuture(aw)); }
 * const n = yield* twice(Promise.resolve(21));   // 42
 */
export type Awaitable<T> = Future<T> | CoroOrFn<T> | PromiseLike<T>;

/**
 * What the exception handler is told.
 * @example
 * getRunningLoop().setExceptionHandler((_loop, ctx: ExceptionContext) => console.error(ctx.message, ctx.exception));
 */
export interface ExceptionContext {
  /** What went wrong, in words. */
  message: string;
  /** The error, if there is one. */
  exception?: unknown;
  /** The future whose error nobody retrieved. */
  future?: Future<unknown>;
  /** The task concerned. */
  task?: Task<unknown>;
  /** The callback that threw. */
  handle?: Handle;
  /** The transport concerned. */
  transport?: BaseTransport;
  /** The protocol whose method threw. */
  protocol?: unknown;
  /** Where a never-driven coroutine was created (debug mode). */
  sourceTraceback?: string;
  [key: string]: unknown;
}
/** An exception handler. @example const h: ExceptionHandler = (_l, ctx) => console.error(ctx.message); getRunningLoop().setExceptionHandler(h); */
export type ExceptionHandler = (loop: EventLoop, ctx: ExceptionContext) => void;
/** Makes the loop's tasks (`setTaskFactory`). @example getRunningLoop().setTaskFactory(eagerTaskFactory); */
export type TaskFactory = (loop: EventLoop, coro: Coro<unknown> | PromiseLike<unknown>, opts?: { name?: string }) => Task<unknown>;

/**
 * Options of `createConnection`.
 * @example
 * yield* getRunningLoop().createConnection(() => ({}), 'example.org', 443, { ssl: true, happyEyeballsDelay: 250 });
 */
export interface ConnectionOptions {
  /** TLS: `true` (the system's CAs), a `tls.SecureContext`, or `tls` options (`{ ca, cert, key, ... }`). */
  ssl?: unknown;
  /** The name the server's certificate must carry (default: `host`; `''` skips the check). */
  serverHostname?: string;
  /** Bind the local end to this address first. */
  localAddr?: SockAddr;
  /** 4 or 6: only that address family. */
  family?: number;
  /** Happy Eyeballs: ms before trying the next address while one attempt is pending. */
  happyEyeballsDelay?: number;
  /** ms the TLS handshake may take (default 60,000). */
  sslHandshakeTimeout?: number;
  [key: string]: unknown;
}
/**
 * Options of `createServer`.
 * @example
 * yield* getRunningLoop().createServer(() => ({}), '127.0.0.1', 0, { backlog: 512, closeGrace: 500 });
 */
export interface ServerOptions {
  /** The length of the queue of connections not yet accepted. */
  backlog?: number;
  /** TLS: a `tls.SecureContext` or `tls` options (`{ key, cert, ... }`). */
  ssl?: unknown;
  /** Allow binding an address in TIME_WAIT. */
  reuseAddress?: boolean;
  /** Let several sockets bind the same port (the OS spreads connections). */
  reusePort?: boolean;
  /** Accept at once (default `true`); `false` waits for `startServing()` or `serveForever()`. */
  startServing?: boolean;
  /** TLS: ms a client has, from the moment it is accepted, to finish its handshake before it is dropped (default 60,000). */
  sslHandshakeTimeout?: number;
  /**
   * ms a server shutting down (the task in its `serveForever()` or `waitClosed()` halted) lets its
   * connections flush before it aborts them (default 2,000).
   */
  closeGrace?: number;
  [key: string]: unknown;
}

/**
 * The event loop: runs callbacks, timers, tasks and I/O. Inside a
 * coroutine, `getRunningLoop()` returns the loop running it.
 * @example
 * const loop = newEventLoop();
 * loop.callLater(10, () => loop.stop());
 * await loop.runForever();
 * loop.close();
 */
export interface EventLoop {
  /** Run until `stop()` is called. */
  runForever(): Promise<void>;
  /** Run until `aw` is done; resolve with its result (or reject with its error, or `DeadlockError`). */
  runUntilComplete<T>(aw: Awaitable<T>): Promise<T>;
  /** Stop after the current batch of callbacks. */
  stop(): void;
  /** True between the start of `runForever`/`runUntilComplete` and its end. */
  isRunning(): boolean;
  /** Close the loop: abort transports and servers still open, kill child processes still running. */
  close(): void;
  /** True once `close()` was called. */
  isClosed(): boolean;

  /** Call `cb(...args)` soon, after the callbacks already scheduled (FIFO). */
  callSoon<A extends unknown[]>(cb: (...args: A) => unknown, ...args: A): Handle;
  /** Call `cb(...args)` in `delay` ms. */
  callLater<A extends unknown[]>(delay: number, cb: (...args: A) => unknown, ...args: A): TimerHandle;
  /** Call `cb(...args)` at loop time `when` (see `time()`). */
  callAt<A extends unknown[]>(when: number, cb: (...args: A) => unknown, ...args: A): TimerHandle;
  /** The loop's clock, in ms: monotonic, read once per batch of callbacks. */
  time(): number;
  /** A new future bound to this loop. */
  createFuture<T>(): Future<T>;
  /** Start a task that drives `aw` (a coroutine, a generator function called with no arguments, or a Promise) on this loop. */
  createTask<T>(aw: CoroOrFn<T> | PromiseLike<T>, opts?: { name?: string }): Task<T>;
  /** Make tasks with `f` from now on (`null`: the default). */
  setTaskFactory(f: TaskFactory | null): void;
  /** The task factory set with `setTaskFactory`, or `null`. */
  getTaskFactory(): TaskFactory | null;

  /** Run `fn(...args)` on `executor` (`null`: the loop's worker pool); cancelling the future drops or stops the job. */
  runInExecutor<R>(executor: Executor | null, fn: WorkerFunction, ...args: unknown[]): Future<R>;
  /** The executor `runInExecutor(null, ...)` uses. */
  setDefaultExecutor(e: Executor): void;
  /** Resolve `host` and `port` to addresses. */
  getAddrInfo(host: string | null, port: number | string | null, opts?: Record<string, unknown>): Coro<AddrInfo[]>;
  /** The host name and service name of `addr`. */
  getNameInfo(addr: SockAddr, flags?: number): Coro<[string, string]>;
  /** Connect to `host:port` and attach a protocol made by `factory` (TLS with `opts.ssl`). */
  createConnection<P>(factory: () => P, host?: string | null, port?: number | null, opts?: ConnectionOptions): Coro<[Transport, P]>;
  /** Listen on `host:port` (several hosts, or `null` for every interface); each connection gets a protocol from `factory`. */
  createServer(factory: () => unknown, host?: string | string[] | null, port?: number | null, opts?: ServerOptions): Coro<Server<SockAddr>>;
  /** Connect to the Unix socket at `path`. */
  createUnixConnection<P>(factory: () => P, path: string, opts?: ConnectionOptions): Coro<[Transport, P]>;
  /** Listen on the Unix socket at `path`. */
  createUnixServer(factory: () => unknown, path: string, opts?: ServerOptions): Coro<Server<string>>;
  /** Upgrade a connection to TLS; returns the new transport (the old one must not be used). */
  startTls(transport: Transport, protocol: unknown, sslContext: unknown, opts?: { serverSide?: boolean; serverHostname?: string; sslHandshakeTimeout?: number }): Coro<Transport>;
  /** Send `count` bytes of `file` (a file handle or descriptor) from `offset`, with flow control; returns the bytes sent. */
  sendfile(transport: Transport, file: unknown, offset?: number, count?: number): Coro<number>;
  /** Open a UDP endpoint bound to `localAddr` and/or connected to `remoteAddr`. */
  createDatagramEndpoint<P>(factory: () => P, opts: { localAddr?: SockAddr; remoteAddr?: SockAddr; family?: number; reuseAddress?: boolean; allowBroadcast?: boolean }): Coro<[DatagramTransport, P]>;
  /** Read from `pipe` (a Node readable stream or a file descriptor) through a protocol. */
  connectReadPipe<P>(factory: () => P, pipe: unknown): Coro<[ReadTransport, P]>;
  /** Write to `pipe` (a Node writable stream or a file descriptor) through a transport. */
  connectWritePipe<P>(factory: () => P, pipe: unknown): Coro<[WriteTransport, P]>;
  /** Start `program` with `args` (no shell); the protocol hears its pipes and its exit. */
  subprocessExec<P>(factory: () => P, program: string, args: string[], opts?: Record<string, unknown>): Coro<[SubprocessTransport, P]>;
  /** Start `cmd` in the system shell. */
  subprocessShell<P>(factory: () => P, cmd: string, opts?: Record<string, unknown>): Coro<[SubprocessTransport, P]>;
  /** Call `cb(...args)` on the loop when the process receives `sig` (a name such as `'SIGTERM'`, or a number). */
  addSignalHandler<A extends unknown[]>(sig: string | number, cb: (...args: A) => unknown, ...args: A): void;
  /** Remove the handler of `sig`; false if there was none. */
  removeSignalHandler(sig: string | number): boolean;

  /** Handle errors nobody else can (`null`: the default, which logs them). */
  setExceptionHandler(h: ExceptionHandler | null): void;
  /** The handler set with `setExceptionHandler`, or `null`. */
  getExceptionHandler(): ExceptionHandler | null;
  /** Log `ctx` to the console (what happens without a handler). */
  defaultExceptionHandler(ctx: ExceptionContext): void;
  /** Report `ctx` to the exception handler. */
  callExceptionHandler(ctx: ExceptionContext): void;
  /** True in debug mode. */
  getDebug(): boolean;
  /** Debug mode: report slow callbacks and coroutines that were never driven, with where they were made. */
  setDebug(on: boolean): void;
  /** In debug mode, a callback or task step slower than this (ms) is reported. */
  slowCallbackDuration: number;
  /** Callbacks to run per tick before yielding to the host, so its I/O runs. */
  maxCallbacksPerTick: number;
}

/**
 * Decides which loop `getEventLoop()` returns and what `newEventLoop()` makes.
 * @example
 * setEventLoopPolicy(new DefaultEventLoopPolicy(() => new TestEventLoop()));
 */
export interface EventLoopPolicy {
  /** The current loop (made on first use). */
  getEventLoop(): EventLoop;
  /** Make `loop` the current one (`null`: none). */
  setEventLoop(loop: EventLoop | null): void;
  /** A new loop of the policy's kind. */
  newEventLoop(): EventLoop;
}

// ---- the running loop -------------------------------------------------------

let running: EventLoop | null = null;
const runningLoops: EventLoop[] = [];

/** @internal a loop enters a tick (several loops may run in one thread, taking turns). */
export function _enterLoop(loop: EventLoop): EventLoop | null {
  const prev = running;
  running = loop;
  return prev;
}
/** @internal */
export function _leaveLoop(prev: EventLoop | null): void { running = prev; }
/** @internal a loop started or stopped running. */
export function _setLoopRunning(loop: EventLoop, on: boolean): void {
  const i = runningLoops.indexOf(loop);
  if (on && i < 0) runningLoops.push(loop);
  if (!on && i >= 0) runningLoops.splice(i, 1);
}

/** The running loop, or `null`: the loop whose callback runs now, else the only loop running. */
export function _getRunningLoopOrNull(): EventLoop | null {
  if (running !== null) return running;
  return runningLoops.length === 1 ? runningLoops[0]! : null;
}

/**
 * The loop running the current task or callback.
 * @throws if no loop is running.
 * @example
 * function* main() { const loop = getRunningLoop(); console.log(loop.time()); }
 */
export function getRunningLoop(): EventLoop {
  const loop = _getRunningLoopOrNull();
  if (loop === null) throw new Error('no running event loop');
  return loop;
}

// ---- the policy -------------------------------------------------------------

/**
 * A policy that keeps one loop per program and makes new ones with `factory`.
 * @example
 * setEventLoopPolicy(new DefaultEventLoopPolicy(() => new NodeEventLoop()));
 */
export class DefaultEventLoopPolicy implements EventLoopPolicy {
  #loop: EventLoop | null = null;
  #set = false;
  readonly #factory: () => EventLoop;
  constructor(factory: () => EventLoop) { this.#factory = factory; }
  getEventLoop(): EventLoop {
    if (this.#loop === null || this.#loop.isClosed()) {
      if (this.#set && this.#loop === null) throw new Error('no current event loop: setEventLoop(null) was called');
      this.#loop = this.newEventLoop();
    }
    return this.#loop;
  }
  setEventLoop(loop: EventLoop | null): void { this.#loop = loop; this.#set = loop === null; }
  newEventLoop(): EventLoop { return this.#factory(); }
}

let defaultFactory: (() => EventLoop) | null = null;
let policy: EventLoopPolicy | null = null;

/** @internal the package's entry point tells the kernel how to make its default loop. */
export function _setDefaultLoopFactory(factory: () => EventLoop): void { defaultFactory = factory; }

/**
 * The current policy (the default one makes `NodeEventLoop`s on Node).
 * @example
 * const loop = getEventLoopPolicy().newEventLoop();
 */
export function getEventLoopPolicy(): EventLoopPolicy {
  if (policy === null) {
    if (defaultFactory === null) throw new Error('no event loop policy: import tulip\'s main entry, or call setEventLoopPolicy()');
    policy = new DefaultEventLoopPolicy(defaultFactory);
  }
  return policy;
}
/** Replace the policy; `null` restores the default. @example setEventLoopPolicy(new DefaultEventLoopPolicy(() => new TestEventLoop())); */
export function setEventLoopPolicy(p: EventLoopPolicy | null): void { policy = p; }

/**
 * The running loop if there is one, else the policy's current loop.
 * @example
 * const loop = getEventLoop(); loop.callSoon(() => console.log('hi'));
 */
export function getEventLoop(): EventLoop { return _getRunningLoopOrNull() ?? getEventLoopPolicy().getEventLoop(); }
/** Set the policy's current loop. @example setEventLoop(newEventLoop()); */
export function setEventLoop(loop: EventLoop | null): void { getEventLoopPolicy().setEventLoop(loop); }
/** A new loop from the policy. @example const loop = newEventLoop(); */
export function newEventLoop(): EventLoop { return getEventLoopPolicy().newEventLoop(); }
