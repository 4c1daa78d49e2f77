/**
 * `createConnection` and `createUnixConnection` on the Node loop. A host
 * name is resolved with `dns.lookup` (every address, in the resolver's
 * order); each address is tried in turn, or, with `happyEyeballsDelay`,
 * the next attempt starts when the previous one has not connected within
 * the delay (RFC 8305, families interleaved as asyncio does). The first
 * socket to connect wins and the others are destroyed; if all fail, the
 * error carries Node's `code` and names the address.
 *
 * The protocol is made before connecting (asyncio makes it after): a
 * BufferedProtocol must be known before the socket exists, because Node
 * only reads into a caller's buffer (`onread`) when the socket is made so.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { currentContext } from '../kernel/context.js';
import { fromPromise } from '../kernel/coro.js';
import type { ConnectionOptions, Coro, EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { TimerHandle } from '../kernel/handles.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';
import { holdSocket, isBuffered, onreadFor, SocketTransport } from './socket_transport.js';
import { clientHandshake, validateClientSsl } from './tls.js';

interface Target { address: string; family: number }

/** Resolve `host` to every address (an IP literal as is). */
export function* resolveHost(host: string, family = 0): Coro<Target[]> {
  const fam = net.isIP(host);
  if (fam !== 0) return [{ address: host, family: fam }];
  const all = yield* fromPromise(dns.promises.lookup(host, { all: true, family, order: 'verbatim' } as dns.LookupAllOptions));
  if (all.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
  return all;
}

/** Alternate address families, first family first (RFC 8305 section 4). */
function interleave(addrs: Target[]): Target[] {
  const byFam = new Map<number, Target[]>();
  for (const a of addrs) { const l = byFam.get(a.family); if (l === undefined) byFam.set(a.family, [a]); else l.push(a); }
  const lists = [...byFam.values()];
  const out: Target[] = [];
  for (let i = 0; out.length < addrs.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

function combine(errors: Error[]): Error {
  if (errors.length === 1) return errors[0]!;
  const codes = new Set(errors.map((e) => (e as NodeJS.ErrnoException).code));
  const err = new Error(`Multiple exceptions: ${errors.map((e) => e.message).join('; ')}`);
  return Object.assign(err, { code: codes.size === 1 ? [...codes][0] : (errors[0] as NodeJS.ErrnoException).code, errors });
}

/** Connect to one of `addrs`, as described in the file header. */
function* connectAny(
  loop: EventLoop, addrs: Target[], port: number, opts: ConnectionOptions, onread: net.OnReadOpts | undefined,
): Coro<net.Socket> {
  const fut = new Future<net.Socket>({ loop, description: `createConnection(${addrs[0]?.address}:${port})` });
  const pending = new Set<net.Socket>();
  const errors: Error[] = [];
  const delay = opts.happyEyeballsDelay;
  let next = 0;
  let timer: TimerHandle | null = null;
  const startNext = (): void => {
    timer = null;
    if (fut.done() || next >= addrs.length) return;
    const a = addrs[next++]!;
    const s = net.connect({
      host: a.address, port, family: a.family, allowHalfOpen: true, noDelay: true,
      ...(opts.localAddr !== undefined ? { localAddress: opts.localAddr[0], localPort: opts.localAddr[1] } : {}),
      ...(onread !== undefined ? { onread } : {}),
    });
    pending.add(s);
    const onError = (e: Error): void => {
      pending.delete(s);
      s.destroy();
      errors.push(e);
      if (fut.done()) return;
      if (next < addrs.length) { timer?.cancel(); startNext(); } else if (pending.size === 0) fut.setException(combine(errors));
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.removeListener('error', onError);
      holdSocket(s);
      s.pause();   // nothing is read until the transport exists (_start resumes)
      pending.delete(s);
      if (fut.done()) { s.destroy(); return; }
      fut.setResult(s);
      for (const o of pending) o.destroy();
      pending.clear();
      timer?.cancel();
    });
    if (delay != null && next < addrs.length) timer = loop.callLater(delay, startNext);
  };
  startNext();
  let ok = false;
  try {
    const s = yield* fut;
    ok = true;
    return s;
  } finally {
    (timer as TimerHandle | null)?.cancel();
    for (const o of pending) o.destroy();
    // Halted in the turn the connect completed: the socket is ours, and nobody else will close it.
    if (!ok && fut.done() && !fut.cancelled() && fut.exception() === undefined) fut.result().destroy();
    if (fut.cancelled()) fut.addDoneCallback(() => undefined);
  }
}

/** `loop.createConnection` on the Node loop. */
export function* createConnection<P>(
  loop: EventLoop, factory: () => P, host: string | null | undefined, port: number | null | undefined, opts: ConnectionOptions = {},
): Coro<[Transport, P]> {
  if (host == null || port == null) throw new TypeError('host and port are required');
  validateClientSsl(opts);
  const ctx = currentContext();
  const protocol = factory();
  let addrs = yield* resolveHost(host, opts.family ?? 0);
  if (opts.happyEyeballsDelay != null) addrs = interleave(addrs);
  const holder: { t: SocketTransport | null } = { t: null };
  const inPlace = opts.ssl == null && isBuffered(protocol);
  let socket = yield* connectAny(loop, addrs, port, opts, inPlace ? onreadFor(holder) : undefined);
  if (opts.ssl != null && opts.ssl !== false) socket = yield* clientHandshake(loop, socket, host, opts);
  const t = new SocketTransport(loop, socket, protocol as Protocol, { context: ctx, readsInPlace: inPlace });
  holder.t = t;
  t._start();
  return [t, protocol];
}

/** `loop.createUnixConnection` on the Node loop. */
export function* createUnixConnection<P>(loop: EventLoop, factory: () => P, path: string, opts: ConnectionOptions = {}): Coro<[Transport, P]> {
  validateClientSsl(opts);
  const ssl = opts.ssl != null && opts.ssl !== false;
  if (ssl && opts.serverHostname === undefined) throw new TypeError('serverHostname is required for TLS over a Unix socket');
  const ctx = currentContext();
  const protocol = factory();
  const holder: { t: SocketTransport | null } = { t: null };
  const inPlace = opts.ssl == null && isBuffered(protocol);
  const fut = new Future<net.Socket>({ loop, description: `createUnixConnection(${path})` });
  const s = net.connect({ path, allowHalfOpen: true, ...(inPlace ? { onread: onreadFor(holder) } : {}) });
  s.once('error', (e) => { if (!fut.done()) fut.setException(e); });
  s.once('connect', () => { holdSocket(s); s.pause(); if (!fut.done()) fut.setResult(s); else s.destroy(); });
  let socket: net.Socket;
  let ok = false;
  try {
    socket = yield* fut;
    ok = true;
  } finally {
    if (!ok) s.destroy();   // also when halted in the turn the connect completed
  }
  if (ssl) socket = yield* clientHandshake(loop, socket, opts.serverHostname!, opts);
  const t = new SocketTransport(loop, socket, protocol as Protocol, { context: ctx, readsInPlace: inPlace, unixPath: path });
  holder.t = t;
  t._start();
  return [t, protocol];
}

