/**
 * StreamWriter: a facade over a transport that adds the coroutine methods
 * `drain()` (wait while the transport's write buffer is over its
 * high-water mark) and `waitClosed()`, and `startTls()`. Written against
 * the Transport interface and StreamReaderProtocol only.
 */
import { cede } from '../kernel/traps.js';
import { type Coro, type EventLoop, getEventLoop } from '../kernel/events.js';
import type { ExtraInfo, Transport } from '../kernel/transport_types.js';
import { connectionLostError } from '../protocols/stream_transport.js';
import type { StreamReader } from './reader.js';
import type { StreamReaderProtocol } from './stream_protocol.js';

/**
 * Writes bytes to a connection; `drain()` applies back-pressure.
 * @example
 * const [reader, writer] = yield* openConnection('127.0.0.1', 8888);
 * writer.write('PING\r\n');
 * yield* writer.drain();
 * writer.close(); yield* writer.waitClosed();
 */
export class StreamWriter {
  #transport: Transport;
  readonly #protocol: StreamReaderProtocol;
  readonly #reader: StreamReader | null;
  readonly #loop: EventLoop;

  constructor(transport: Transport, protocol: StreamReaderProtocol, reader: StreamReader | null, loop?: EventLoop) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.#reader = reader;
    this.#loop = loop ?? getEventLoop();
  }

  /** The transport underneath (the TLS one after `startTls`). */
  get transport(): Transport { return this.#transport; }

  /** Buffer `data` for sending (never waits; see `drain()`). */
  write(data: Uint8Array | string): void { this.#transport.write(data); }
  /** Buffer several chunks, sent with one vectored write. */
  writeLines(list: Iterable<Uint8Array | string>): void { this.#transport.writeLines(list); }
  /** Half-close: the peer reads EOF; reading goes on. */
  writeEof(): void { this.#transport.writeEof(); }
  /** Can the connection be half-closed (`writeEof`)? */
  canWriteEof(): boolean { return this.#transport.canWriteEof(); }
  /** Flush what is buffered, then close. */
  close(): void { this.#transport.close(); }
  /**
   * `using`: `close()` when the block ends (normally, by an error, or because the task was halted).
   * @example
   * using writer = (yield* openConnection('127.0.0.1', 8888))[1];
   * writer.write('bye\n');
   */
  [Symbol.dispose](): void { this.close(); }
  /** True once the connection is closing or closed. */
  isClosing(): boolean { return this.#transport.isClosing(); }
  /** The transport's extra information by a name of `ExtraInfo` (`'peername'`, `'socket'`...), typed; `fallback` if there is none. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, fallback?: ExtraInfo[K]): ExtraInfo[K] | undefined;
  /** The transport's extra information by any other name (`unknown`); `fallback` if there is none. */
  getExtraInfo(name: string, fallback?: unknown): unknown;
  getExtraInfo(name: string, fallback?: unknown): unknown { return this.#transport.getExtraInfo(name, fallback); }

  /**
   * Wait until the connection is closed; throws the error it was lost with,
   * if any. Any number of tasks may wait: one that gives up (cancelled, or
   * a timeout around it) does not disturb the others.
   */
  *waitClosed(): Coro<void> { yield* this.#protocol._waitClosed(); }

  /**
   * Wait while the write buffer is over the high-water mark. Throws the
   * connection's error if it failed, or an `ECONNRESET` error if it was
   * lost or is closing (after `close()`, as asyncio's `drain()` raises
   * `ConnectionResetError`): nothing written now can be sent.
   * @example
   * const [, writer] = yield* openConnection('127.0.0.1', 8888);
   * for (const chunk of ['a', 'b', 'c']) { writer.write(chunk); yield* writer.drain(); }   // never more than the high-water mark buffered
   */
  *drain(): Coro<void> {
    const exc = this.#reader?.exception();
    if (exc !== undefined) throw exc;
    if (this.#transport.isClosing()) {
      yield* cede();   // let connectionLost arrive, so the error is the right one
      const e = this.#reader?.exception() ?? this.#protocol._lostException();
      if (e !== undefined) throw e;
      throw connectionLostError();
    }
    yield* this.#protocol._drainHelper();
  }

  /** Upgrade the connection to TLS (`sslContext`: a tls.SecureContext or tls options). */
  *startTls(sslContext: unknown, opts?: { serverHostname?: string; sslHandshakeTimeout?: number; serverSide?: boolean }): Coro<void> {
    const t = yield* this.#loop.startTls(this.#transport, this.#protocol, sslContext, opts);
    this.#transport = t;
    this.#protocol._replaceTransport(t);
  }
}
