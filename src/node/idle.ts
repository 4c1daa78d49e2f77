/**
 * Does anything outside tulip keep Node's loop alive? The deadlock check
 * asks this when tulip's own loop has nothing to do. Any handle or request
 * of any library counts (a server, a socket, a timer, a worker's port), so
 * the check is conservative; only stdout and stderr are not counted, since
 * they are open in every process and never wake anyone. Runtimes that
 * offer Node's API do not all keep this list (Bun's is always empty):
 * {@link listsResources} tells whether this one does.
 */
interface NodeProcessInternals {
  _getActiveHandles?(): unknown[];
  _getActiveRequests?(): unknown[];
  getActiveResourcesInfo?(): string[];
}

/** @internal the kinds of the resources that keep Node's loop alive, without stdout/stderr. */
export function foreignResources(): string[] {
  const p = process as unknown as NodeProcessInternals;
  const info = p.getActiveResourcesInfo?.() ?? [];
  if (info.length === 0) return info;
  const handles = p._getActiveHandles?.() ?? [];
  let stdio = 0;
  for (const h of handles) if (h === process.stdout || h === process.stderr) stdio++;
  // Drop one pipe/tty/file entry per stdio handle: they are listed by type only.
  const out = [...info];
  for (let i = out.length - 1; i >= 0 && stdio > 0; i--) {
    if (out[i] === 'PipeWrap' || out[i] === 'TTYWrap' || out[i] === 'TCPWrap') { out.splice(i, 1); stdio--; }
  }
  return out;
}

let lists: boolean | undefined;

/** @internal does this runtime list its active resources? Asked once, with a timer of our own that it must list. */
export function listsResources(): boolean {
  if (lists === undefined) {
    const p = process as unknown as NodeProcessInternals;
    if (typeof p.getActiveResourcesInfo !== 'function') lists = false;
    else {
      const t = setTimeout(() => undefined, 1 << 30);
      try { lists = p.getActiveResourcesInfo().includes('Timeout'); } finally { clearTimeout(t); }
    }
  }
  return lists;
}
