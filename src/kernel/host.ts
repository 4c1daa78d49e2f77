/**
 * What a loop needs of the runtime it runs in, as an interface: the kernel
 * knows no runtime. The Node entry installs Node's host (setImmediate,
 * Node's timers, its list of active handles), the web entry a host made of
 * `MessageChannel` and `setTimeout`. Loops that run inside another loop
 * (`TestEventLoop`, the deadlock watch) schedule through a host; a loop may
 * also talk to its runtime directly (`NodeEventLoop` does, for speed).
 */

/**
 * A runtime's scheduling primitives and the one question the deadlock check
 * asks of it.
 * @example
 * const host: Host = {
 *   now: () => performance.now(),
 *   setSoon: (cb) => setTimeout(cb, 0), clearSoon: (h) => clearTimeout(h as number),
 *   setTimer: (cb, ms) => setTimeout(cb, ms), clearTimer: (h) => clearTimeout(h as number),
 *   foreignWakers: () => null,
 * };
 * const loop = new TestEventLoop({ host });
 */
export interface Host {
  /** A monotonic clock in ms. */
  now(): number;
  /** Call `cb` as the runtime's next macrotask (after the I/O it has pending); returns a handle for `clearSoon`. */
  setSoon(cb: () => void): unknown;
  /** Cancel a `setSoon` call that has not run yet. */
  clearSoon(handle: unknown): void;
  /** Call `cb` after `ms` ms; returns a handle for `clearTimer`. */
  setTimer(cb: () => void, ms: number): unknown;
  /** Cancel a `setTimer` call that has not fired yet. */
  clearTimer(handle: unknown): void;
  /**
   * How many things outside tulip may still call back into the program (a
   * timer, a socket, a worker of another library): the deadlock check waits
   * while there are any. `null`: this runtime cannot tell, so only what
   * tulip itself knows of counts.
   */
  foreignWakers(): number | null;
  /** Join byte chunks the way this runtime's I/O makes them (Node: a Buffer); absent: a plain Uint8Array. */
  concatBytes?(list: Uint8Array[], total: number): Uint8Array;
}

let defaultHost: Host | null = null;

/** @internal an entry point names its runtime's host (with the default loop, see events.ts). */
export function _setDefaultHost(h: Host): void { defaultHost = h; }

/** @internal the host an entry point installed, or null if none was. */
export function _getDefaultHost(): Host | null { return defaultHost; }
