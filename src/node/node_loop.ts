/**
 * NodeEventLoop: tulip's loop running inside Node's own. It drains its
 * ready queue in batches from a `setImmediate` callback, yields back to Node
 * after `maxCallbacksPerTick` callbacks so sockets, timers and other
 * libraries are never starved, keeps one host timer armed for its earliest
 * timer, and when it goes idle with `runUntilComplete`'s future pending,
 * checks whether anything at all could still wake it (deadlock detection).
 */
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BaseEventLoop } from '../kernel/base_loop.js';
import type { ConnectionOptions, Coro, ServerOptions } from '../kernel/events.js';
import type { Future } from '../kernel/future.js';
import type {
  AddrInfo, DatagramTransport, Executor, ReadTransport, Server, SockAddr, SubprocessTransport, Transport, WorkerFunction,
  WriteTransport,
} from '../kernel/transport_types.js';
import { type AddrInfoOptions, getAddrInfo, getNameInfo } from './dns.js';
import { DefaultExecutorSlot, runInExecutor } from './executor.js';
import { DeadlockWatch } from '../kernel/deadlock_watch.js';
import { nodeHost } from './host.js';
import { connectReadPipe, connectWritePipe, type PipeLike } from './pipes.js';
import { closeTracked } from './registry.js';
import { sendfile } from './sendfile.js';
import { createServer, createUnixServer } from './server.js';
import { shutdownChildren, subprocessExec, subprocessShell, type SubprocessOptions } from './subprocess.js';
import { createConnection, createUnixConnection } from './tcp.js';
import { startTls } from './tls.js';
import { createDatagramEndpoint, type DatagramEndpointOptions } from './udp.js';

const REFUSED = new Set(['SIGKILL', 'SIGSTOP']);
/** The longest delay Node's setTimeout takes (2^31-1 ms, about 24.8 days). */
const MAX_HOST_DELAY = 2 ** 31 - 1;

function signalName(sig: string | number): NodeJS.Signals {
  if (typeof sig === 'string') {
    if (!(sig in osConstants.signals)) throw new TypeError(`unknown signal ${sig}`);
    return sig as NodeJS.Signals;
  }
  for (const [name, n] of Object.entries(osConstants.signals)) if (n === sig) return name as NodeJS.Signals;
  throw new TypeError(`unknown signal number ${sig}`);
}

/**
 * The default loop on Node.
 * @example
 * const loop = new NodeEventLoop();
 * const v = await loop.runUntilComplete(sleep(10, 'ok'));
 * loop.close();
 */
export class NodeEventLoop extends BaseEventLoop {
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerWhen = Infinity;
  readonly #deadlockWatch = new DeadlockWatch({
    host: nodeHost,
    stuck: () => this._isIdle(),
    // A signal handler can wake the loop too (SIGINT's does not count, as run() always installs one), and so can a
    // transport, server, child or job of tulip's own (Node lists them anyway; Bun lists nothing).
    otherWakers: () => this.#waitsForSignals() || this._openResources() > 0,
    promisesPending: () => this._promisesPending(),
    declare: () => this._declareDeadlock('no callback is ready, no timer is pending and nothing else keeps Node running'),
  });
  #signals = new Map<NodeJS.Signals, () => void>();
  readonly #executor = new DefaultExecutorSlot();
  readonly #tickNow = (): void => { this.#immediate = null; this._tick(); };
  readonly #tickTimer = (): void => { this.#timer = null; this.#timerWhen = Infinity; this._tick(); };

  protected _clock(): number { return performance.now(); }

  /** @internal Node's chunks are Buffers: Buffer.concat joins them (from its pool for small sizes) into a Buffer. */
  override _concatBytes(list: Uint8Array[], total: number): Uint8Array { return Buffer.concat(list, total); }

  protected _hostWake(): void {
    if (this.#immediate === null) this.#immediate = setImmediate(this.#tickNow);
  }

  protected _hostTimer(when: number | null): void {
    if (when === this.#timerWhen) return;
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null; this.#timerWhen = Infinity; }
    if (when === null) return;
    // Node's timers have 1 ms resolution: round up so the tick never comes before the timer is due. Node fires a
    // delay above 2^31-1 ms after 1 ms (with a warning): clamp it; the tick finds nothing due and arms again.
    const delay = Math.min(MAX_HOST_DELAY, Math.max(0, Math.ceil(when - this._clock())));
    this.#timerWhen = when;
    this.#timer = setTimeout(this.#tickTimer, delay);
  }

  // The deadlock check (idle.ts) is armed when the loop goes idle and left armed when it wakes: a program
  // woken by I/O thousands of times a second goes idle as often, so it starts after a first 5 ms poll.
  protected override _hostIdle(): void { this.#deadlockWatch.arm(5); }

  #waitsForSignals(): boolean {
    for (const sig of this.#signals.keys()) if (sig !== 'SIGINT') return true;
    return false;
  }


  override close(): void {
    if (this.isClosed()) return;
    if (this.isRunning()) throw new Error('cannot close a running event loop');
    closeTracked(this);
    super.close();
    this.#deadlockWatch.cancel();
    if (this.#immediate !== null) { clearImmediate(this.#immediate); this.#immediate = null; }
    for (const [sig, listener] of this.#signals) process.removeListener(sig, listener);
    this.#signals.clear();
    this.#executor.closeNow(this);
  }

  // ---- stream sockets (tcp.ts, tls.ts, server.ts, sendfile.ts) ----------------

  override createConnection<P>(factory: () => P, host?: string | null, port?: number | null, opts?: ConnectionOptions): Coro<[Transport, P]> {
    return createConnection(this, factory, host, port, opts);
  }
  override createServer(factory: () => unknown, host?: string | string[] | null, port?: number | null, opts?: ServerOptions): Coro<Server<SockAddr>> {
    return createServer(this, factory, host, port, opts) as Coro<Server<SockAddr>>;
  }
  override createUnixConnection<P>(factory: () => P, path: string, opts?: ConnectionOptions): Coro<[Transport, P]> {
    return createUnixConnection(this, factory, path, opts);
  }
  override createUnixServer(factory: () => unknown, path: string, opts?: ServerOptions): Coro<Server<string>> {
    return createUnixServer(this, factory, path, opts) as Coro<Server<string>>;
  }
  override startTls(transport: Transport, protocol: unknown, sslContext: unknown, opts?: { serverSide?: boolean; serverHostname?: string; sslHandshakeTimeout?: number }): Coro<Transport> {
    return startTls(this, transport, protocol, sslContext, opts);
  }
  override sendfile(transport: Transport, file: unknown, offset?: number, count?: number): Coro<number> {
    return sendfile(transport, file, offset, count);
  }

  // ---- I/O other than stream sockets (dns.ts, udp.ts, pipes.ts, subprocess.ts, executor.ts) ----

  /** Resolve `host` with the system resolver: `[{ family, type, proto, canonname, addr: [host, port] }]`. */
  override getAddrInfo(host: string | null, port: number | string | null, opts?: AddrInfoOptions): Coro<AddrInfo[]> { return getAddrInfo(this, host, port, opts); }
  /** The host name and service name of `[host, port]`. */
  override getNameInfo(addr: SockAddr): Coro<[string, string]> { return getNameInfo(this, addr); }
  /** A UDP endpoint: bound to `localAddr` (or an ephemeral port), connected to `remoteAddr` if given. */
  override createDatagramEndpoint<P>(factory: () => P, opts: DatagramEndpointOptions): Coro<[DatagramTransport, P]> { return createDatagramEndpoint(this, factory, opts); }
  /** A read transport over a Node Readable or a file descriptor. */
  override connectReadPipe<P>(factory: () => P, pipe: PipeLike): Coro<[ReadTransport, P]> { return connectReadPipe(this, factory, pipe); }
  /** A write transport over a Node Writable or a file descriptor. */
  override connectWritePipe<P>(factory: () => P, pipe: PipeLike): Coro<[WriteTransport, P]> { return connectWritePipe(this, factory, pipe); }
  /** Run `program` with `args` (no shell); stdio defaults to 'pipe'. */
  override subprocessExec<P>(factory: () => P, program: string, args: string[], opts?: SubprocessOptions): Coro<[SubprocessTransport, P]> { return subprocessExec(this, factory, program, args, opts); }
  /** Run `cmd` with /bin/sh; stdio defaults to 'pipe'. */
  override subprocessShell<P>(factory: () => P, cmd: string, opts?: SubprocessOptions): Coro<[SubprocessTransport, P]> { return subprocessShell(this, factory, cmd, opts); }
  /** Run a worker function on `executor` (null: this loop's default worker pool). */
  override runInExecutor<R>(executor: Executor | null, fn: WorkerFunction, ...args: unknown[]): Future<R> { return runInExecutor<R>(this, this.#executor, executor, fn, args); }
  /** Replace the executor `runInExecutor(null, ...)` uses. */
  override setDefaultExecutor(e: Executor): void { this.#executor.set(e); }
  /** Shut the default executor down (`run()` calls this on its way out). */
  shutdownDefaultExecutor(): Coro<void> { return this.#executor.shutdown(this); }
  /** @internal `run()`'s end: end every child process still running (not detached) and wait until each is reaped. */
  _shutdownChildren(): Coro<void> { return shutdownChildren(this); }

  // ---- signals ---------------------------------------------------------------

  /** Run `cb(...args)` on this loop whenever the process receives `sig`. SIGKILL and SIGSTOP are refused. */
  override addSignalHandler<A extends unknown[]>(sig: string | number, cb: (...args: A) => unknown, ...args: A): void {
    const name = signalName(sig);
    if (REFUSED.has(name)) throw new TypeError(`${name} cannot be caught`);
    if (this.isClosed()) throw new Error('event loop is closed');
    this.removeSignalHandler(name);
    const listener = (): void => { if (!this.isClosed()) this.callSoon(cb, ...args); };
    this.#signals.set(name, listener);
    process.on(name, listener);
  }

  override removeSignalHandler(sig: string | number): boolean {
    const name = signalName(sig);
    const listener = this.#signals.get(name);
    if (listener === undefined) return false;
    process.removeListener(name, listener);
    this.#signals.delete(name);
    return true;
  }

  /** End the process as the signal's default action would (`run()` uses it for a second SIGINT). */
  raiseDefaultSignal(sig: string): void {
    const name = signalName(sig);
    this.removeSignalHandler(name);
    if (process.listenerCount(name) === 0) process.kill(process.pid, name);
    else process.exit(128 + (osConstants.signals[name] ?? 0));
  }
}
