/**
 * The extra information the Node loop's transports give, typed: the names
 * `getExtraInfo()` answers with Node's own objects, added to the kernel's
 * `ExtraInfo` by declaration merging (the kernel knows no Node type).
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket as DgramSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { CipherNameAndProtocol, DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';

declare module '../kernel/transport_types.js' {
  interface ExtraInfo {
    /** The Node socket underneath: a `net.Socket` (a `tls.TLSSocket` for TLS) for a stream, a `dgram.Socket` for UDP. */
    socket: Socket | DgramSocket;
    /** A TLS connection's `tls.TLSSocket`. */
    sslObject: TLSSocket;
    /** The peer's certificate (`getPeerCertificate()`; an empty object if it sent none). */
    peercert: PeerCertificate | DetailedPeerCertificate;
    /** The negotiated cipher (`getCipher()`). */
    cipher: CipherNameAndProtocol;
    /** The TLS version (`'TLSv1.3'`), or null before the handshake. */
    sslProtocol: string | null;
    /** The Node stream of a pipe transport. */
    pipe: Readable | Writable;
    /** The `ChildProcess` of a subprocess transport. */
    subprocess: ChildProcess;
  }
}

