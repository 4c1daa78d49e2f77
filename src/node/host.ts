/**
 * Node's side of the kernel's `Host`: `setImmediate` (after the I/O Node has
 * pending), Node's timers, and its list of active resources for the
 * deadlock check. Runtimes that offer Node's API (Deno, Bun) use it too.
 */
import { performance } from 'node:perf_hooks';
import type { Host } from '../kernel/host.js';
import { foreignResources, listsResources } from './idle.js';

/** @internal the Host of Node and of the runtimes that offer Node's API. */
export const nodeHost: Host = {
  now: () => performance.now(),
  setSoon: (cb) => setImmediate(cb),
  clearSoon: (h) => clearImmediate(h as NodeJS.Immediate),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  foreignWakers: () => (listsResources() ? foreignResources().length : null),
  concatBytes: (list, total) => Buffer.concat(list, total),
};
