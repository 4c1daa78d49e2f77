/**
 * The transport and protocol interfaces of PEP 3156 and PEP 3153, as types
 * only. They live beside the `EventLoop` interface because its I/O methods
 * name them; the protocols layer builds on them and every loop with I/O
 * implements them. Nothing here runs.
 */
import type { Coro } from './events.js';

/**
 * A socket address: `[host, port]` as in asyncio; a Unix socket's address is its path.
 * @example
 * const [, writer] = yield* openConnection('127.0.0.1', 8888);
 * const [host, port] = writer.getExtraInfo('peername') as SockAddr;
 */
export type SockAddr = [host: string, port: number];

/**
 * A push producer (PEP 3153): a source of data that a consumer (every write
 * transport) pauses when its buffer is full and resumes when it has drained.
 * @example
 * // Send a counter as fast as the peer reads it, never buffering more than the high-water mark.
 * class Counter implements PushProducer {
 *   #n = 0; #paused = false; #stopped = false;
 *   constructor(readonly t: WriteTransport) {}
 *   pauseProducing(): void { this.#paused = true; }
 *   resumeProducing(): void { this.#paused = false; this.#run(); }
 *   stopProducing(): void { this.#stopped = true; }
 *   #run(): void { while (!this.#paused && !this.#stopped) this.t.write(`${this.#n++}\n`); }
 * }
 * const [t] = yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', 8888);
 * const counter = new Counter(t);
 * t.registerProducer(counter);
 * counter.resumeProducing();
 */
export interface PushProducer {
  /** Stop producing until `resumeProducing()`: the consumer's buffer is full. */
  pauseProducing(): void;
  /** Produce again: the consumer's buffer has drained below its low-water mark. */
  resumeProducing(): void;
  /** Stop for good: the consumer is gone. */
  stopProducing(): void;
}

/**
 * What `getExtraInfo(name)` answers, by name (asyncio's extra info keys, in
 * camelCase). A transport answers the names that apply to it and
 * `undefined` (or the fallback) for the rest; any other name is allowed and
 * typed `unknown`. A loop with I/O adds the names of its own objects by
 * declaration merging: the Node loop adds `socket`, `sslObject`,
 * `peercert`, `cipher`, `sslProtocol`, `pipe` and `subprocess`.
 * @example
 * const [, writer] = yield* openConnection('127.0.0.1', 8888);
 * const peer = writer.getExtraInfo('peername');   // SockAddr | string | undefined
 * if (Array.isArray(peer)) console.log(`from ${peer[0]} port ${peer[1]}`);
 */
export interface ExtraInfo {
  /** The remote address: `[host, port]`, or a Unix socket's path. */
  peername: SockAddr | string;
  /** The local address: `[host, port]`, or a Unix socket's path. */
  sockname: SockAddr | string;
  /** A stacked transport's lower protocol (`stack()`). */
  lowerProtocol: Protocol;
  /** A stacked transport's transport below (`stack()`). */
  lowerTransport: Transport;
  /** The child process a subprocess pipes transport runs over. */
  subprocessTransport: SubprocessTransport;
  /** That child's process id. */
  pid: number;
}

/**
 * What every transport offers. `[Symbol.dispose]()` is `close()`, so a
 * `using` declaration closes the transport when its block ends (also when
 * the task is halted inside the block).
 * @example
 * const [t] = yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', 8888);
 * console.log(t.getExtraInfo('peername'));
 * if (!t.isClosing()) t.close();
 * @example
 * function* ping(): Coro<void> {
 *   using t = (yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', 8888))[0];
 *   t.write('ping\n');
 * }   // closed here
 */
export interface BaseTransport {
  /** Information about the connection by a name of {@link ExtraInfo} (`'peername'`, `'sockname'`, `'socket'`, `'peercert'`, `'cipher'`...), typed; `fallback` if there is none. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, fallback?: ExtraInfo[K]): ExtraInfo[K] | undefined;
  /** Information about the connection by any other name (`unknown`); `fallback` if there is none. */
  getExtraInfo(name: string, fallback?: unknown): unknown;
  /** True once `close()` or `abort()` was called or the connection was lost. */
  isClosing(): boolean;
  /** Close after the buffered data is sent; the protocol's `connectionLost` follows. */
  close(): void;
  /** Hand the connection to another protocol (it receives what arrives from now on). */
  setProtocol(p: unknown): void;
  /** The protocol this transport calls. */
  getProtocol(): unknown;
  /** `close()`: `using t = ...` closes the transport when its block ends. */
  [Symbol.dispose](): void;
}
/**
 * The read side of a transport.
 * @example
 * class Slow implements Protocol {
 *   connectionMade(t: Transport): void {
 *     t.pauseReading();   // no dataReceived until resumeReading()
 *     getRunningLoop().callLater(1000, () => t.resumeReading());
 *   }
 * }
 */
export interface ReadTransport extends BaseTransport {
  /** False while reading is paused. */
  isReading(): boolean;
  /** Stop calling the protocol's `dataReceived` (the peer is slowed by the OS's flow control). */
  pauseReading(): void;
  /** Call `dataReceived` again. */
  resumeReading(): void;
}
/**
 * The write side of a transport; every write transport is a consumer (PEP 3153).
 * @example
 * const [t] = yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', 8888);
 * t.setWriteBufferLimits(1 << 20);          // pauseWriting() above 1 MiB, resumeWriting() below 256 KiB
 * t.write(new Uint8Array([1, 2, 3]));
 * t.writeEof();                              // half-close: the peer sees EOF, we can still read
 */
export interface WriteTransport extends BaseTransport {
  /**
   * Send `data` (never waits). The transport may keep a reference to the
   * bytes until they are handed to the OS, as Node's sockets do: do not
   * change them after `write()` while `getWriteBufferSize()` is above 0.
   */
  write(data: Uint8Array | string): void;
  /** Send each chunk of `list`, in order, as one write. */
  writeLines(list: Iterable<Uint8Array | string>): void;
  /** Close the write side after the buffered data (the peer reads EOF); reading goes on. */
  writeEof(): void;
  /** Can this transport half-close (`writeEof`)? False for TLS, say. */
  canWriteEof(): boolean;
  /** Close at once, dropping the buffer; `connectionLost(exc)` follows. */
  abort(exc?: Error): void;
  /** Bytes written but not yet accepted by the OS. */
  getWriteBufferSize(): number;
  /** The flow-control marks, `[low, high]`. */
  getWriteBufferLimits(): [low: number, high: number];
  /** Set the marks: `pauseWriting()` above `high` (default 64 KiB), `resumeWriting()` at or below `low` (default `high / 4`). */
  setWriteBufferLimits(high?: number, low?: number): void;
  /** Pause `p` when the buffer passes high water, resume it at low water, stop it when the connection is lost. */
  registerProducer(p: PushProducer): void;
  /** Forget the registered producer. */
  unregisterProducer(): void;
}
/**
 * A bidirectional stream transport (a TCP connection, say).
 * @example
 * const [t] = yield* getRunningLoop().createConnection(() => ({ dataReceived: (d: Uint8Array) => console.log(d) }), '127.0.0.1', 8888);
 * t.write('hi');
 */
export interface Transport extends ReadTransport, WriteTransport {}
/**
 * A datagram (UDP) transport.
 * @example
 * const [t] = yield* getRunningLoop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { localAddr: ['127.0.0.1', 0] });
 * t.sendto(new Uint8Array([1]), ['127.0.0.1', 9999]);
 */
export interface DatagramTransport extends BaseTransport {
  /** Send one datagram to `addr` (or to the remote address the endpoint was made with). */
  sendto(data: Uint8Array | string, addr?: SockAddr): void;
  /** Close at once. */
  abort(): void;
  /** Bytes queued and not yet sent. */
  getWriteBufferSize(): number;
}
/**
 * A child process seen as a transport.
 * @example
 * const [t] = yield* getRunningLoop().subprocessExec(() => ({}), 'sleep', ['10']);
 * console.log(t.getPid());
 * t.terminate();
 */
export interface SubprocessTransport extends BaseTransport {
  /** The child's process id. */
  getPid(): number;
  /** The exit code (a negative signal number if a signal ended it), or `null` while it runs. */
  getReturncode(): number | null;
  /** The transport of the child's stdin (0), stdout (1) or stderr (2), or `null` if that is not a pipe. */
  getPipeTransport(fd: 0 | 1 | 2): ReadTransport | WriteTransport | null;
  /** Send a signal (a name such as `'SIGTERM'`, or a number). */
  sendSignal(sig: string | number): void;
  /** Send SIGTERM. */
  terminate(): void;
  /** Send SIGKILL. */
  kill(): void;
}

/**
 * A stream protocol: plain code that reacts to bytes. Its methods are called
 * in one order: `connectionMade`, `dataReceived`*, `eofReceived`?,
 * `connectionLost` (exactly once).
 * @example
 * class Echo implements Protocol {
 *   t!: Transport;
 *   connectionMade(t: Transport): void { this.t = t; }
 *   dataReceived(data: Uint8Array): void { this.t.write(data); }
 * }
 * const server = yield* getRunningLoop().createServer(() => new Echo(), '127.0.0.1', 8888);
 */
export interface Protocol {
  /** The connection is up; `t` is its transport. */
  connectionMade?(t: Transport): void;
  /** Bytes arrived. */
  dataReceived?(data: Uint8Array): void;
  /** The peer will send no more. Return `true` to keep the write side open; otherwise the transport closes. */
  eofReceived?(): boolean | void;
  /** The connection is gone: `exc` is the error, `undefined` after a clean close. */
  connectionLost?(exc: Error | undefined): void;
  /** The transport's buffer passed its high-water mark: stop writing until `resumeWriting()`. */
  pauseWriting?(): void;
  /** The buffer drained to its low-water mark: write again. */
  resumeWriting?(): void;
}
/**
 * A protocol that lends its own buffer for reads: on a plain TCP or Unix
 * socket Node reads straight into it, saving the allocation of a buffer per
 * read (the fastest way to move bulk data). `getBuffer` is asked before
 * every read. A protocol that writes from that buffer (an echo, a proxy)
 * hands out a fresh one while `getWriteBufferSize()` shows an earlier write
 * still holds it.
 * @example
 * class Echo implements BufferedProtocol {
 *   t!: Transport;
 *   buf = new Uint8Array(65536);
 *   connectionMade(t: Transport): void { this.t = t; }
 *   getBuffer(): Uint8Array {
 *     if (this.t.getWriteBufferSize() > 0) this.buf = new Uint8Array(65536);   // an earlier write still holds it
 *     return this.buf;
 *   }
 *   bufferUpdated(n: number): void { this.t.write(this.buf.subarray(0, n)); }
 * }
 */
export interface BufferedProtocol extends Protocol {
  /** The buffer the next read fills (at least 1 byte; `sizeHint` is a suggestion). */
  getBuffer(sizeHint: number): Uint8Array;
  /** `nbytes` bytes were read into the start of the buffer `getBuffer()` returned. */
  bufferUpdated(nbytes: number): void;
}
/**
 * A datagram protocol.
 * @example
 * const p: DatagramProtocol = { datagramReceived(d, addr) { console.log(addr, d.length); } };
 * yield* getRunningLoop().createDatagramEndpoint(() => p, { localAddr: ['127.0.0.1', 9999] });
 */
export interface DatagramProtocol {
  /** The endpoint is ready. */
  connectionMade?(t: DatagramTransport): void;
  /** A datagram arrived from `addr`. */
  datagramReceived(data: Uint8Array, addr: SockAddr): void;
  /** A send or receive failed (an ICMP error, say); the endpoint stays open. */
  errorReceived?(exc: Error): void;
  /** The endpoint is closed. */
  connectionLost?(exc?: Error): void;
}
/**
 * A subprocess protocol.
 * @example
 * const done = new Future<void>();
 * const out: Uint8Array[] = [];
 * const p: SubprocessProtocol = { pipeDataReceived(fd, d) { if (fd === 1) out.push(d); }, connectionLost() { done.setResult(); } };
 * yield* getRunningLoop().subprocessExec(() => p, 'echo', ['hi'], { stdout: 'pipe' });
 * yield* done;
 */
export interface SubprocessProtocol {
  /** The child was started. */
  connectionMade?(t: SubprocessTransport): void;
  /** The child wrote to its stdout (1) or stderr (2). */
  pipeDataReceived?(fd: 1 | 2, data: Uint8Array): void;
  /** One of the child's pipes closed. */
  pipeConnectionLost?(fd: 0 | 1 | 2, exc?: Error): void;
  /** The child exited (its pipes may still hold data). */
  processExited?(): void;
  /** The child exited and every pipe is closed. */
  connectionLost?(exc?: Error): void;
}

/**
 * A listening server; `A` is the type of its addresses (`SockAddr` for TCP, a path for Unix sockets). It owns the connections it accepted: halting the task
 * that waits in `serveForever()` or `waitClosed()` stops listening, halts
 * the connections' handler tasks (their cleanups run), closes what is left
 * and waits for it. `close()` only stops listening. `[Symbol.dispose]()` is
 * `close()`; `[Symbol.asyncDispose]()` is `close()`, `closeClients()`, and
 * the wait until every connection is gone.
 * @example
 * const s = yield* getRunningLoop().createServer(() => ({}), '127.0.0.1', 0);
 * console.log(s.addresses());   // [['127.0.0.1', 40123]]
 * s.close();
 * yield* s.waitClosed();
 * @example
 * const server = yield* startServer(function* (r, w) { w.write(yield* r.readLine()); }, '127.0.0.1', 8888);
 * yield* server.serveForever();   // Ctrl-C: the server and its connections end, then this task
 */
export interface Server<A extends SockAddr | string = SockAddr | string> {
  /** Stop listening; connections already accepted carry on (see `closeClients`). */
  close(): void;
  /** Wait until the server is closed and every connection it accepted is gone; halting the wait shuts the server down. */
  waitClosed(): Coro<void>;
  /** Accept connections until the waiting task is halted; then shut down: stop listening, end every connection, wait for them. */
  serveForever(): Coro<never>;
  /** Accept connections (a server made with `startServing: false` holds them until this). */
  startServing(): void;
  /** True while accepting connections. */
  isServing(): boolean;
  /** The addresses listened on: `[host, port]` pairs, or a Unix socket's path. */
  addresses(): A[];
  /** Close every accepted connection (after its buffered data). */
  closeClients(): void;
  /** Abort every accepted connection. */
  abortClients(): void;
  /** `close()`: `using server = ...` stops listening when its block ends; the connections carry on. */
  [Symbol.dispose](): void;
  /** `close()`, `closeClients()`, then the wait until every connection is gone (`await using`). */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * One result of `getAddrInfo`.
 * @example
 * for (const { family, addr } of yield* getRunningLoop().getAddrInfo('localhost', 80)) console.log(family, addr);
 */
export interface AddrInfo {
  /** IPv4 or IPv6. */
  family: 4 | 6;
  /** The socket type (1: stream, 2: datagram), as the C library numbers it. */
  type: number;
  /** The protocol number (6: TCP, 17: UDP). */
  proto: number;
  /** The host's canonical name, when asked for; else `''`. */
  canonname: string;
  /** The address to connect to. */
  addr: SockAddr;
}

/**
 * A function a worker thread runs: an export of an ES module.
 * @example
 * const digest = yield* toThread<string>({ module: new URL('./hash.js', import.meta.url), name: 'sha256' }, 'some data');
 */
export interface WorkerFunction {
  /** The module: an absolute path, a `file:` URL or a package name. */
  module: string | URL;
  /** The export to call (default `'default'`). */
  name?: string;
}
/**
 * Runs {@link WorkerFunction}s somewhere else (a worker pool).
 * @example
 * getRunningLoop().setDefaultExecutor(new ThreadPoolExecutor({ maxThreads: 4 }));
 */
export interface Executor {
  /** Run `fn(...args)`; the result and errors cross by structured clone. */
  submit<R>(fn: WorkerFunction, ...args: unknown[]): PromiseLike<R>;
  /** Finish the jobs submitted and stop the workers. */
  shutdown(): Promise<void>;
}
