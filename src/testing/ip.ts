/**
 * `isIP(a)`: 4 for an IPv4 dotted quad, 6 for an IPv6 address (with an
 * optional `%zone`), 0 otherwise: the answers of Node's `net.isIP`, without
 * Node, so the virtual network runs on every runtime.
 */

function isIPv4(a: string): boolean {
  const parts = a.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    // 0-255 in decimal, no sign, no leading zero
    if (p.length === 0 || p.length > 3 || !/^[0-9]+$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return false;
  }
  return true;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/** Count the 16-bit groups of `s` (a run of `group:group…`, the last one possibly an IPv4 address), or -1. */
function groups(s: string, ipv4Allowed: boolean): number {
  if (s === '') return 0;
  const parts = s.split(':');
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && ipv4Allowed && p.includes('.')) { if (!isIPv4(p)) return -1; n += 2; continue; }
    if (!HEX_GROUP.test(p)) return -1;
    n++;
  }
  return n;
}

function isIPv6(a: string): boolean {
  const pct = a.indexOf('%');
  if (pct >= 0) {
    if (!ZONE.test(a.slice(pct + 1))) return false;
    a = a.slice(0, pct);
  }
  const gap = a.indexOf('::');
  if (gap < 0) return groups(a, true) === 8;
  if (a.indexOf('::', gap + 1) >= 0) return false;
  const head = groups(a.slice(0, gap), false);
  const tail = groups(a.slice(gap + 2), true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

const families = new Map<string, number>();

/** @internal 4, 6 or 0, as `net.isIP` answers; remembered, since the same few addresses come back on every connection. */
export function isIP(a: string): number {
  let f = families.get(a);
  if (f === undefined) {
    f = typeof a !== 'string' ? 0 : isIPv4(a) ? 4 : isIPv6(a) ? 6 : 0;
    if (families.size < 4096) families.set(a, f);
  }
  return f;
}
