/**
 * TestEventLoop: a full tulip loop whose clock is virtual, with an in-memory
 * network (network.ts) for its I/O methods.
 *
 * The clock only moves when a test calls `advance(ms)` or, with autojump
 * (the default, Trio's autojump clock), when no callback is ready and a
 * timer is pending: then it jumps straight to that timer. So an hour of
 * timeouts runs in milliseconds, and since every delay of the virtual
 * network is a timer of this loop and every random draw comes from the
 * seed, a run is a pure function of its seed.
 *
 * The host side still runs inside the runtime's own loop: a tick is one of
 * its macrotasks (`setImmediate` on Node, a `MessageChannel` message in a
 * browser: see the kernel's `Host`), so real Promises and real I/O
 * interleave with virtual work. Real work
 * takes no virtual time: while a Promise awaited through `fromPromise` (or a
 * Promise-based task) is pending, the clock does not jump. No real timer is
 * ever armed for a tulip timer; one is used only to poll the runtime when
 * the deadlock check finds something foreign that might still wake us.
 */
import { BaseEventLoop } from '../kernel/base_loop.js';
import type { Coro, ConnectionOptions, ServerOptions } from '../kernel/events.js';
import { run } from '../kernel/run.js';
import type { AddrInfo, DatagramTransport, Server, SockAddr, Transport } from '../kernel/transport_types.js';
import { DeadlockWatch } from '../kernel/deadlock_watch.js';
import { _getDefaultHost, type Host } from '../kernel/host.js';
import { webHost } from '../web/host.js';
import { seededRandom } from './random.js';
import { VirtualNetwork } from './network.js';


/**
 * Options of {@link TestEventLoop}.
 * @example
 * const loop = new TestEventLoop({ seed: 42, autojump: false, start: 1_000 });
 */
export interface TestEventLoopOptions {
  /** Seed of `random()`, network jitter and loss (default 0). */
  seed?: number;
  /** Jump the clock to the next timer whenever nothing else can run (default true). */
  autojump?: boolean;
  /** The clock's initial value in ms (default 0). */
  start?: number;
  /** The runtime the loop's ticks run in (default: the one the package's entry installed: Node's, or the web's). */
  host?: Host;
  /**
   * Timing perturbation (`simulate()` sets it): each autojump lands up to
   * this many ms past the timer it jumps to, drawn from the seed, so timers
   * run late by a bounded amount and nearby ones fall due in one batch, as
   * on a busy real loop. The loop's ordering guarantees hold: timers still
   * run in (due time, scheduling order), and never before callbacks
   * already ready. Default 0.
   */
  timerLag?: number;
}

/**
 * An event loop with a virtual clock and an in-memory network, for
 * deterministic tests of timing and network code.
 * @example
 * const loop = new TestEventLoop({ seed: 1 });
 * const t0 = loop.time();
 * await run(function* () { yield* sleep(3_600_000); }, { loop });   // an hour, in a few ms of wall time
 * console.log(loop.time() - t0);   // 3600000
 */
export class TestEventLoop extends BaseEventLoop {
  /** The virtual network this loop's I/O methods use. */
  readonly network: VirtualNetwork;
  /** The seed this loop was made with. */
  readonly seed: number;
  #now: number;
  readonly #autojump: boolean;
  readonly #random: () => number;
  readonly #host: Host;
  #immediate: unknown = null;
  readonly #timerLag: number;
  /** The lag's own stream, so perturbing timing does not change what user code draws from random(). */
  readonly #lagRandom: () => number;
  #jumpWanted = false;
  #sync = false;
  readonly #deadlockWatch: DeadlockWatch;

  constructor(opts: TestEventLoopOptions = {}) {
    super();
    this.seed = opts.seed ?? 0;
    this.#now = opts.start ?? 0;
    this.#autojump = opts.autojump ?? true;
    this.#random = seededRandom(this.seed);
    this.#host = opts.host ?? _getDefaultHost() ?? webHost;
    this.#deadlockWatch = this.#makeWatch();
    this.#timerLag = opts.timerLag ?? 0;
    if (!(this.#timerLag >= 0)) throw new RangeError(`timerLag must be >= 0, not ${this.#timerLag}`);
    this.#lagRandom = seededRandom(this.seed ^ 0x5bd1e995);
    this.network = new VirtualNetwork(this);
  }

  #makeWatch(): DeadlockWatch {
    return new DeadlockWatch({
      host: this.#host,
      stuck: () => this.#stuck(),
      otherWakers: () => false,
      promisesPending: () => this._promisesPending(),
      declare: () => this._declareDeadlock(this._promisesPending() === 0
        ? 'no callback is ready, no virtual timer is pending, no Promise is awaited and nothing else keeps the runtime running'
        : 'a Promise is awaited that nothing can settle: nothing keeps the runtime running'),
    });
  }

  /** A number in [0, 1) from the loop's seeded source: use it instead of `Math.random()` in code under test. */
  random(): number { return this.#random(); }

  /**
   * Move the clock forward by `ms`. On a loop that is not running, run each
   * timer that falls due at its own due time (with everything it schedules),
   * then leave `time()` at the target. On a running loop, move the clock:
   * the next batch runs what fell due.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): the clock only moves forward`);
    const target = this.time() + ms;
    if (this.isRunning()) {
      this.#now = Math.max(this.#now, target);
      this._hostWake();
      return;
    }
    if (this.isClosed()) throw new Error('event loop is closed');
    this.#sync = true;
    void this.runForever();
    try {
      for (;;) {
        this._tick();
        if (this.readyCount() > 0) continue;
        const next = this._nextTimerWhen();
        if (next === null || next > target) break;
        this.#now = Math.max(this.#now, next);
      }
      this.#now = Math.max(this.#now, target);
    } finally {
      this.stop();
      this._tick();
      this.#sync = false;
    }
  }

  // ---- host hooks ------------------------------------------------------------

  protected _clock(): number { return this.#now; }

  protected _hostWake(): void {
    this.#jumpWanted = false;
    this.#deadlockWatch.cancel();
    this.#schedule();
  }

  protected _hostTimer(when: number | null): void {
    if (when === null) { this.#jumpWanted = false; return; }
    this.#deadlockWatch.cancel();
    if (when <= this.#now) { this.#jumpWanted = false; this.#schedule(); return; }
    if (!this.#autojump) return;
    this.#jumpWanted = true;
    if (this._promisesPending() === 0) this.#schedule();
    else this.#deadlockWatch.arm(0);   // the clock waits for a Promise: if nothing can ever settle it, that is a deadlock
  }

  #schedule(): void {
    if (this.#sync || this.#immediate !== null) return;
    this.#immediate = this.#host.setSoon(this.#onImmediate);
  }

  readonly #onImmediate = (): void => {
    this.#immediate = null;
    if (!this.isRunning()) return;
    if (this.#jumpWanted) {
      if (this._promisesPending() > 0) return;   // _promiseSettled() reschedules
      this.#jumpWanted = false;
      const next = this._nextTimerWhen();
      if (next !== null && this.readyCount() === 0 && next > this.#now) {
        this.#now = this.#timerLag > 0 ? next + Math.floor(this.#lagRandom() * (this.#timerLag + 1)) : next;
      }
    }
    this._tick();
  };

  /** @internal a Promise that the clock waits for settled. */
  override _promiseSettled(): void {
    super._promiseSettled();
    if (this._promisesPending() !== 0 || !this.isRunning()) return;
    if (this.#jumpWanted) this.#schedule();
  }

  protected override _hostIdle(): void {
    if (this.#sync) return;
    this.#deadlockWatch.arm(0);
  }

  /** Nothing virtual can wake main: nothing ready, and no timer or one the clock may not jump to (a Promise is pending). */
  #stuck(): boolean {
    return this._isWaiting() && (this._nextTimerWhen() === null || (this._promisesPending() > 0 && this.#autojump));
  }

  override close(): void {
    if (this.isClosed()) return;
    super.close();
    this.network._closeAll();
    this.#deadlockWatch.cancel();
    if (this.#immediate !== null) { this.#host.clearSoon(this.#immediate); this.#immediate = null; }
  }

  /** @internal bytes joined as the host's I/O makes them (a Buffer on Node). */
  override _concatBytes(list: Uint8Array[], total: number): Uint8Array {
    return this.#host.concatBytes?.(list, total) ?? super._concatBytes(list, total);
  }

  // ---- I/O over the virtual network ------------------------------------------

  override getAddrInfo(host: string | null, port: number | string | null, opts?: { family?: number }): Coro<AddrInfo[]> {
    return this.network._getAddrInfo(host, port, opts?.family ?? 0);
  }
  override getNameInfo(addr: SockAddr): Coro<[string, string]> { return this.network._getNameInfo(addr); }
  override createConnection<P>(factory: () => P, host?: string | null, port?: number | null, opts?: ConnectionOptions): Coro<[Transport, P]> {
    return this.network._createConnection(factory, host ?? null, port ?? null, opts ?? {});
  }
  override createServer(factory: () => unknown, host?: string | string[] | null, port?: number | null, opts?: ServerOptions): Coro<Server<SockAddr>> {
    return this.network._createServer(factory, host ?? null, port ?? null, opts ?? {}) as Coro<Server<SockAddr>>;
  }
  override createDatagramEndpoint<P>(factory: () => P, opts: { localAddr?: SockAddr; remoteAddr?: SockAddr; family?: number }): Coro<[DatagramTransport, P]> {
    return this.network._createDatagramEndpoint(factory, opts);
  }
}

/**
 * `run(main)` on a fresh {@link TestEventLoop} (signals not handled): the
 * entry point of a deterministic test.
 * @example
 * const v = await runVirtual(function* () { yield* sleep(60_000); return getRunningLoop().time(); }, { seed: 7 });
 * // v === 60000, after a few ms of wall time
 */
export function runVirtual<T>(main: Coro<T> | (() => Coro<T>), opts: TestEventLoopOptions = {}): Promise<T> {
  return run(main, { loop: new TestEventLoop(opts), handleSignals: false });
}
