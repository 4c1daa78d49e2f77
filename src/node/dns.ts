/**
 * Name resolution (`getAddrInfo`, `getNameInfo`) on `node:dns`'s `lookup`
 * and `lookupService`, which use the system resolver (getaddrinfo(3) and
 * getnameinfo(3) on libuv's thread pool), so `/etc/hosts` and the system's
 * configuration apply as they do for every other program. A lookup cannot be
 * stopped once started: cancelling the waiting task stops the wait only.
 * Errors are Node's, with its `code` (`ENOTFOUND`, `EAI_AGAIN`).
 */
import { lookup, lookupService } from 'node:dns/promises';
import type { Coro, EventLoop } from '../kernel/events.js';
import { fromPromise } from '../kernel/coro.js';
import type { AddrInfo, SockAddr } from '../kernel/transport_types.js';

/** Socket types and protocols as getaddrinfo(3) reports them. */
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, IPPROTO_TCP = 6, IPPROTO_UDP = 17;

/**
 * Options of `getAddrInfo`: `family` 0 (any), 4 or 6; `type` SOCK_STREAM (1) or SOCK_DGRAM (2); `proto`; `flags` (Node's dns hints).
 * @example
 * const infos = yield* getRunningLoop().getAddrInfo('localhost', 80, { family: 4 });
 */
export interface AddrInfoOptions {
  /** 4 or 6: only that family (default: both). */
  family?: number;
  /** Only this socket type (1: stream, 2: datagram). */
  type?: number;
  /** Only this protocol number. */
  proto?: number;
  /** `dns.lookup` hints (`dns.ADDRCONFIG`, `dns.V4MAPPED`). */
  flags?: number;
  [key: string]: unknown;
}

function portNumber(port: number | string | null): number {
  if (port === null) return 0;
  const n = typeof port === 'number' ? port : Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TypeError(`invalid port ${String(port)}: a number from 0 to 65535 is expected`);
  return n;
}

/** @internal `loop.getAddrInfo(host, port, opts)`. */
export function* getAddrInfo(loop: EventLoop, host: string | null, port: number | string | null, opts: AddrInfoOptions = {}): Coro<AddrInfo[]> {
  const p = portNumber(port);
  const family = opts.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new TypeError(`family must be 0, 4 or 6, not ${family}`);
  const type = opts.type ?? SOCK_STREAM;
  const proto = opts.proto ?? (type === SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP);
  const found = yield* fromPromise(lookup(host ?? 'localhost', { all: true, family, hints: opts.flags ?? 0 }), loop).setDescription(`getAddrInfo(${host})`);
  return found.map((a) => ({ family: a.family === 6 ? 6 : 4, type, proto, canonname: '', addr: [a.address, p] }));
}

/** @internal `loop.getNameInfo([host, port])`: the host's name and the port's service name. */
export function* getNameInfo(loop: EventLoop, addr: SockAddr): Coro<[string, string]> {
  if (!Array.isArray(addr) || typeof addr[0] !== 'string') throw new TypeError('getNameInfo: addr must be [host, port]');
  const r = yield* fromPromise(lookupService(addr[0], portNumber(addr[1])), loop).setDescription(`getNameInfo(${addr[0]})`);
  return [r.hostname, r.service];
}
