/**
 * TLS on the Node loop: turning the `ssl` option into Node's TLS options,
 * the client handshake over an already connected socket (so happy eyeballs
 * and `startTls` share one path), the server-side handshake for
 * `startTls`, and `startTls` itself. Verification is on by default: a
 * client checks the certificate chain and the server's name
 * (`serverHostname`, default the host it connected to; `''` skips only the
 * name check; `{ rejectUnauthorized: false }` skips both).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { ConnectionOptions, Coro, EventLoop } from '../kernel/events.js';
import { TimeoutError } from '../kernel/errors.js';
import { Future } from '../kernel/future.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';
import { holdSocket, SocketTransport } from './socket_transport.js';

/** Node exports the class at run time but not in its types; Deno does not export it at all. */
const SecureContextClass = (tls as unknown as { SecureContext?: abstract new (...a: never[]) => tls.SecureContext }).SecureContext;
/** @internal is `x` what `tls.createSecureContext()` returns? (On Deno, by its shape: a `SecureContext` with a `context`.) */
export function isSecureContext(x: unknown): x is tls.SecureContext {
  if (typeof SecureContextClass === 'function') return x instanceof SecureContextClass;
  return x !== null && typeof x === 'object' && x.constructor?.name === 'SecureContext' && 'context' in x;
}

/** asyncio's default handshake timeout: 60 s. */
export const SSL_HANDSHAKE_TIMEOUT = 60_000;

/** Check a client's `ssl`/`serverHostname` pair. */
export function validateClientSsl(opts: ConnectionOptions): void {
  if (opts.serverHostname !== undefined && (opts.ssl == null || opts.ssl === false)) {
    throw new TypeError('serverHostname is only meaningful with ssl');
  }
  if (opts.sslHandshakeTimeout !== undefined && (opts.ssl == null || opts.ssl === false)) {
    throw new TypeError('sslHandshakeTimeout is only meaningful with ssl');
  }
}

/** Node's TLS options for a client: `ssl` is true (default CAs), a SecureContext, or tls options. */
export function clientTlsOptions(ssl: unknown, serverHostname: string): tls.ConnectionOptions {
  let o: tls.ConnectionOptions;
  if (ssl === true) o = {};
  else if (isSecureContext(ssl)) o = { secureContext: ssl };
  else if (ssl !== null && typeof ssl === 'object') o = { ...(ssl as tls.ConnectionOptions) };
  else throw new TypeError(`ssl must be true, a tls.SecureContext or tls options, not ${String(ssl)}`);
  if (serverHostname === '') o.checkServerIdentity = () => undefined;
  else {
    o.host = serverHostname;
    if (o.servername === undefined && net.isIP(serverHostname) === 0) o.servername = serverHostname;
  }
  return o;
}

/** Node's TLS options for a server: a SecureContext or tls options (`true` is a TypeError: a server needs a certificate). */
export function serverTlsOptions(ssl: unknown): tls.TlsOptions {
  if (ssl === true) throw new TypeError('ssl: true is for clients; a server needs a tls.SecureContext or tls options with its key and cert');
  if (isSecureContext(ssl)) return { secureContext: ssl };
  if (ssl !== null && typeof ssl === 'object') return { ...(ssl as tls.TlsOptions) };
  throw new TypeError(`ssl must be a tls.SecureContext or tls options, not ${String(ssl)}`);
}

/** Wait until `s` emits `event` (the handshake is done), failing on error, close or timeout. */
function* handshake(loop: EventLoop, s: tls.TLSSocket, event: string, timeoutMs: number, what: string): Coro<tls.TLSSocket> {
  const fut = new Future<tls.TLSSocket>({ loop, description: `TLS handshake (${what})` });
  const onError = (e: Error): void => { if (!fut.done()) fut.setException(e); };
  const onClose = (): void => {
    if (!fut.done()) fut.setException(Object.assign(new Error(`connection closed during the TLS handshake (${what})`), { code: 'ECONNRESET' }));
  };
  const onDone = (): void => { if (!fut.done()) fut.setResult(s); };
  s.on('error', onError);
  s.once('close', onClose);
  s.once(event, onDone);
  const timer = loop.callLater(timeoutMs, () => {
    if (!fut.done()) fut.setException(new TimeoutError(`SSL handshake is taking longer than ${timeoutMs} ms: aborting the connection`));
  });
  let ok = false;
  try {
    const r = yield* fut;
    ok = true;
    return r;
  } finally {
    timer.cancel();
    s.removeListener('error', onError);
    s.removeListener('close', onClose);
    s.removeListener(event, onDone);
    if (ok) holdSocket(s);
    else s.destroy();
  }
}

/** The client side of a handshake over a connected socket. */
export function* clientHandshake(loop: EventLoop, socket: net.Socket, host: string, opts: ConnectionOptions): Coro<tls.TLSSocket> {
  const name = opts.serverHostname ?? host;
  let s: tls.TLSSocket | null = null;
  try {
    s = tls.connect({ ...clientTlsOptions(opts.ssl, name), socket });   // bad options throw here: the socket is still ours
    return yield* handshake(loop, s, 'secureConnect', opts.sslHandshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT, name);
  } finally {
    if (s === null || s.destroyed) socket.destroy();
  }
}

/** `loop.startTls`: upgrade a live connection; the same protocol carries on over the new transport (no second `connectionMade`). */
export function* startTls(
  loop: EventLoop, transport: Transport, protocol: unknown, sslContext: unknown,
  opts: { serverSide?: boolean; serverHostname?: string; sslHandshakeTimeout?: number } = {},
): Coro<Transport> {
  if (!(transport instanceof SocketTransport)) throw new TypeError('startTls needs a transport made by this loop');
  if (transport.isClosing()) throw new Error('startTls on a transport that is closing');
  const ctx = transport._context();
  const wasReading = transport.isReading();
  const socket = transport._detach();
  const timeout = opts.sslHandshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT;
  let s: tls.TLSSocket | undefined;
  let failure: Error | undefined;
  try {
    if (opts.serverSide === true) {
      const sock = new tls.TLSSocket(socket, { ...serverTlsOptions(sslContext), isServer: true });
      s = yield* handshake(loop, sock, 'secure', timeout, 'server side');
    } else {
      const peer = transport.getExtraInfo('peername');
      const name = opts.serverHostname ?? (Array.isArray(peer) ? peer[0] : '');
      const sock = tls.connect({ ...clientTlsOptions(sslContext, name), socket });
      s = yield* handshake(loop, sock, 'secureConnect', timeout, name);
    }
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    if (s === undefined) { socket.destroy(); transport._connectionLost(failure); }
  }
  const owner = transport._owner;
  const t = new SocketTransport(loop, s, protocol as Protocol, { context: ctx, owner });
  const handed = transport._takeProducer();   // a registered producer carries on over TLS, it is not stopped
  transport._retire();
  owner?._transportReplaced(transport, t);
  t._start(true);
  if (!wasReading) t.pauseReading();
  if (handed !== null) {
    t.registerProducer(handed.producer);
    if (handed.paused && !t.isClosing()) {
      try { handed.producer.resumeProducing(); } catch (exception) { loop.callExceptionHandler({ message: 'producer.resumeProducing() failed', exception, transport: t }); }
    }
  }
  return t;
}
