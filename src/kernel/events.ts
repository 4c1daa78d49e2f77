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

/**
 * A coroutine: a generator driven with `yield*` by a task.
 * @example
 * function* fetchTwice(): Coro<number> { yield* sleep(10); return 2; }
 */
export type Coro<T> = Generator<unknown, T, unknown>;
/**
 * Anything a coroutine can wait on.
 * @example
 * const f: Future<number> = ensureFuture(someAwaitable as Awaitable<number>);
 */
export type Awaitable<T> = Future<T> | Coro<T> | PromiseLike<T>;

/**
 * What the exception handler is told.
 * @example
 * loop.setExceptionHandler((_loop, ctx: ExceptionContext) => console.error(ctx.message, ctx.exception));
 */
export interface ExceptionContext {
  message: string;
  exception?: unknown;
  future?: Future<unknown>;
  task?: Task<unknown>;
  handle?: Handle;
  transport?: BaseTransport;
  protocol?: unknown;
  /** Where a never-driven coroutine was created (debug mode). */
  sourceTraceback?: string;
  [key: string]: unknown;
}
/** An exception handler. @example const h: ExceptionHandler = (_l, ctx) => log(ctx.message); loop.setExceptionHandler(h); */
export type ExceptionHandler = (loop: EventLoop, ctx: ExceptionContext) => void;
/** Makes the loop's tasks (`setTaskFactory`). @example loop.setTaskFactory(eagerTaskFactory); */
export type TaskFactory = (loop: EventLoop, coro: Coro<unknown> | PromiseLike<unknown>, opts?: { name?: string }) => Task<unknown>;

/** Options of `createConnection`. @example yield* loop.createConnection(factory, 'example.org', 443, { ssl: true, happyEyeballsDelay: 250 }); */
export interface ConnectionOptions {
  ssl?: unknown; serverHostname?: string; localAddr?: SockAddr; family?: number;
  happyEyeballsDelay?: number; sslHandshakeTimeout?: number; [key: string]: unknown;
}
/** Options of `createServer`. @example yield* loop.createServer(factory, '127.0.0.1', 0, { backlog: 512 }); */
export interface ServerOptions {
  backlog?: number; ssl?: unknown; reuseAddress?: boolean; reusePort?: boolean; startServing?: boolean; [key: string]: unknown;
}

/**
 * The event loop: runs callbacks, timers, tasks and I/O.
 * @example
 * const loop = newEventLoop();
 * loop.callLater(10, () => loop.stop());
 * await loop.runForever();
 * loop.close();
 */
export interface EventLoop {
  runForever(): Promise<void>;
  runUntilComplete<T>(aw: Awaitable<T>): Promise<T>;
  stop(): void;
  isRunning(): boolean;
  close(): void;
  isClosed(): boolean;

  callSoon<A extends unknown[]>(cb: (...args: A) => unknown, ...args: A): Handle;
  callLater<A extends unknown[]>(delay: number, cb: (...args: A) => unknown, ...args: A): TimerHandle;
  callAt<A extends unknown[]>(when: number, cb: (...args: A) => unknown, ...args: A): TimerHandle;
  time(): number;
  createFuture<T>(): Future<T>;
  createTask<T>(aw: Coro<T> | PromiseLike<T>, opts?: { name?: string }): Task<T>;
  setTaskFactory(f: TaskFactory | null): void;
  getTaskFactory(): TaskFactory | null;

  runInExecutor<R>(executor: Executor | null, fn: WorkerFunction, ...args: unknown[]): Future<R>;
  setDefaultExecutor(e: Executor): void;
  getAddrInfo(host: string | null, port: number | string | null, opts?: Record<string, unknown>): Coro<AddrInfo[]>;
  getNameInfo(addr: SockAddr, flags?: number): Coro<[string, string]>;
  createConnection<P>(factory: () => P, host?: string | null, port?: number | null, opts?: ConnectionOptions): Coro<[Transport, P]>;
  createServer(factory: () => unknown, host?: string | string[] | null, port?: number | null, opts?: ServerOptions): Coro<Server<SockAddr>>;
  createUnixConnection<P>(factory: () => P, path: string, opts?: ConnectionOptions): Coro<[Transport, P]>;
  createUnixServer(factory: () => unknown, path: string, opts?: ServerOptions): Coro<Server<string>>;
  startTls(transport: Transport, protocol: unknown, sslContext: unknown, opts?: { serverSide?: boolean; serverHostname?: string; sslHandshakeTimeout?: number }): Coro<Transport>;
  sendfile(transport: Transport, file: unknown, offset?: number, count?: number): Coro<number>;
  createDatagramEndpoint<P>(factory: () => P, opts: { localAddr?: SockAddr; remoteAddr?: SockAddr; family?: number; reuseAddress?: boolean; allowBroadcast?: boolean }): Coro<[DatagramTransport, P]>;
  connectReadPipe<P>(factory: () => P, pipe: unknown): Coro<[ReadTransport, P]>;
  connectWritePipe<P>(factory: () => P, pipe: unknown): Coro<[WriteTransport, P]>;
  subprocessExec<P>(factory: () => P, program: string, args: string[], opts?: Record<string, unknown>): Coro<[SubprocessTransport, P]>;
  subprocessShell<P>(factory: () => P, cmd: string, opts?: Record<string, unknown>): Coro<[SubprocessTransport, P]>;
  addSignalHandler<A extends unknown[]>(sig: string | number, cb: (...args: A) => unknown, ...args: A): void;
  removeSignalHandler(sig: string | number): boolean;

  setExceptionHandler(h: ExceptionHandler | null): void;
  getExceptionHandler(): ExceptionHandler | null;
  defaultExceptionHandler(ctx: ExceptionContext): void;
  callExceptionHandler(ctx: ExceptionContext): void;
  getDebug(): boolean;
  setDebug(on: boolean): void;
  slowCallbackDuration: number;
  maxCallbacksPerTick: number;
}

/**
 * Decides which loop `getEventLoop()` returns and what `newEventLoop()` makes.
 * @example
 * setEventLoopPolicy(new DefaultEventLoopPolicy(() => new TestEventLoop()));
 */
export interface EventLoopPolicy {
  getEventLoop(): EventLoop;
  setEventLoop(loop: EventLoop | null): void;
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
