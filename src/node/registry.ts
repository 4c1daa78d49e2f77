/**
 * What a Node loop must close when it closes: transports and servers still
 * open. Kept outside the loop class so each I/O backend registers its own
 * resources without the loop knowing their types.
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
