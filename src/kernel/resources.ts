/**
 * What a loop has open: transports, servers, child processes, jobs on
 * worker threads. Kept outside the loop classes so each I/O backend
 * registers its own resources without the loop knowing their types. The
 * loop closes those still open when it closes, and the deadlock check
 * counts them: a task waiting on an open connection may still be woken,
 * whether or not the runtime can list its own handles (Bun cannot).
 */

/** A resource the loop tears down on `close()`; it must finish synchronously. */
export interface LoopResource {
  /** @internal */ _loopClosing(): void;
}

const registries = new WeakMap<object, Set<LoopResource>>();

/** Remember `r` until it is released or the loop closes. */
export function track(loop: object, r: LoopResource): void {
  let s = registries.get(loop);
  if (s === undefined) registries.set(loop, (s = new Set()));
  s.add(r);
}

/** Forget `r` (it closed by itself). */
export function untrack(loop: object, r: LoopResource): void { registries.get(loop)?.delete(r); }

/** How many resources of `loop` are open. */
export function openResources(loop: object): number { return registries.get(loop)?.size ?? 0; }

/** Close every resource of `loop` still open (servers first, so they accept nothing more). */
export function closeTracked(loop: object): void {
  const s = registries.get(loop);
  if (s === undefined) return;
  registries.delete(loop);
  const all = [...s];
  all.sort((a, b) => Number(isServer(b)) - Number(isServer(a)));
  for (const r of all) r._loopClosing();
}

function isServer(r: LoopResource): boolean { return typeof (r as { addresses?: unknown }).addresses === 'function'; }
