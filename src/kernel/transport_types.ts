/**
 * The transport and protocol interfaces of PEP 3156 and PEP 3153, as types
 * only. They live beside the `EventLoop` interface because its I/O methods
 * name them; the protocols layer builds on them and every loop with I/O
 * implements them. Nothing here runs.
 */

/** A socket address: `[host, port]` as in asyncio; a Unix socket's address is its path. @example const [host, port] = t.getExtraInfo('peername') as SockAddr; */
export type SockAddr = [host: string, port: number];

/** A push producer (PEP 3153): a source of data a consumer can pause. @example transport.registerProducer({ pauseProducing() { src.pause(); }, resumeProducing() { src.resume(); }, stopProducing() { src.destroy(); } }); */
export interface PushProducer { pauseProducing(): void; resumeProducing(): void; stopProducing(): void; }

/**
 * What `getExtraInfo(name)` answers, by name (asyncio's extra info keys, in
 * camelCase). A transport answers the names that apply to it and
 * `undefined` (or the fallback) for the rest; any other name is allowed and
 * typed `unknown`. A loop with I/O adds the names of its own objects by
 * declaration merging: the Node loop adds `socket`, `sslObject`,
 * `peercert`, `cipher`, `sslProtocol`, `pipe` and `subprocess`.
 * @example
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

/** What every transport offers. @example if (!t.isClosing()) t.close(); */
export interface BaseTransport {
  /** Information about the connection by name (see {@link ExtraInfo}); `fallback` (default undefined) if there is none. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, fallback?: ExtraInfo[K]): ExtraInfo[K] | undefined;
  getExtraInfo(name: string, fallback?: unknown): unknown;
  isClosing(): boolean;
  close(): void;
  setProtocol(p: unknown): void;
  getProtocol(): unknown;
}
/** The read side of a transport. @example t.pauseReading(); // no dataReceived until resumeReading() */
export interface ReadTransport extends BaseTransport {
  isReading(): boolean; pauseReading(): void; resumeReading(): void;
}
/** The write side of a transport; every write transport is a consumer (PEP 3153). @example t.setWriteBufferLimits(1 << 20); t.write(bytes); */
export interface WriteTransport extends BaseTransport {
  /**
   * Send `data` (never waits). The transport may keep a reference to the
   * bytes until they are handed to the OS, as Node's sockets do: do not
   * change them after `write()` while `getWriteBufferSize()` is above 0.
   */
  write(data: Uint8Array | string): void;
  writeLines(list: Iterable<Uint8Array | string>): void;
  writeEof(): void; canWriteEof(): boolean; abort(exc?: Error): void;
  getWriteBufferSize(): number;
  getWriteBufferLimits(): [low: number, high: number];
  setWriteBufferLimits(high?: number, low?: number): void;
  registerProducer(p: PushProducer): void; unregisterProducer(): void;
}
/** A bidirectional stream transport (a TCP connection, say). @example const [t] = yield* loop.createConnection(() => proto, '127.0.0.1', 8888); t.write('hi'); */
export interface Transport extends ReadTransport, WriteTransport {}
/** A datagram (UDP) transport. @example t.sendto(new Uint8Array([1]), ['127.0.0.1', 9999]); */
export interface DatagramTransport extends BaseTransport {
  sendto(data: Uint8Array | string, addr?: SockAddr): void; abort(): void; getWriteBufferSize(): number;
}
/** A child process seen as a transport. @example const [t] = yield* loop.subprocessExec(() => proto, 'ls', []); t.terminate(); */
export interface SubprocessTransport extends BaseTransport {
  getPid(): number; getReturncode(): number | null;
  getPipeTransport(fd: 0 | 1 | 2): ReadTransport | WriteTransport | null;
  sendSignal(sig: string | number): void; terminate(): void; kill(): void;
}

/** A stream protocol: plain code that reacts to bytes. @example const echo: Protocol = { connectionMade(t) { this.t = t; }, dataReceived(d) { this.t.write(d); } } as Protocol & { t: Transport }; */
export interface Protocol {
  connectionMade?(t: Transport): void;
  dataReceived?(data: Uint8Array): void;
  eofReceived?(): boolean | void;
  connectionLost?(exc: Error | undefined): void;
  pauseWriting?(): void;
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
 * getBuffer() { if (this.t.getWriteBufferSize() > 0) this.buf = new Uint8Array(65536); return this.buf; }
 * bufferUpdated(n) { this.t.write(this.buf.subarray(0, n)); }
 */
export interface BufferedProtocol extends Protocol {
  getBuffer(sizeHint: number): Uint8Array;
  bufferUpdated(nbytes: number): void;
}
/** A datagram protocol. @example const p: DatagramProtocol = { datagramReceived(d, addr) { console.log(addr, d.length); } }; */
export interface DatagramProtocol {
  connectionMade?(t: DatagramTransport): void;
  datagramReceived(data: Uint8Array, addr: SockAddr): void;
  errorReceived?(exc: Error): void;
  connectionLost?(exc?: Error): void;
}
/** A subprocess protocol. @example const p: SubprocessProtocol = { pipeDataReceived(fd, d) { out[fd].push(d); }, processExited() { done.setResult(); } }; */
export interface SubprocessProtocol {
  connectionMade?(t: SubprocessTransport): void;
  pipeDataReceived?(fd: 1 | 2, data: Uint8Array): void;
  pipeConnectionLost?(fd: 0 | 1 | 2, exc?: Error): void;
  processExited?(): void;
  connectionLost?(exc?: Error): void;
}

/**
 * A listening server; `A` is the type of its addresses (`SockAddr` for TCP, a path for Unix sockets).
 * @example const s = yield* loop.createServer(factory, '127.0.0.1', 0); const [host, port] = s.addresses()[0]!; s.close(); yield* s.waitClosed();
 */
export interface Server<A extends SockAddr | string = SockAddr | string> {
  close(): void;
  waitClosed(): Generator<unknown, void, unknown>;
  serveForever(): Generator<unknown, never, unknown>;
  startServing(): void;
  isServing(): boolean;
  addresses(): A[];
  closeClients(): void;
  abortClients(): void;
}

/** One result of `getAddrInfo`. @example for (const { family, addr } of yield* loop.getAddrInfo('localhost', 80)) console.log(family, addr); */
export interface AddrInfo { family: 4 | 6; type: number; proto: number; canonname: string; addr: SockAddr }

/** A function a worker thread runs: an export of an ES module. @example yield* toThread({ module: new URL('./hash.js', import.meta.url), name: 'sha256' }, data); */
export interface WorkerFunction { module: string | URL; name?: string }
/** Runs {@link WorkerFunction}s somewhere else (a worker pool). @example loop.setDefaultExecutor(new ThreadPoolExecutor({ maxThreads: 4 })); */
export interface Executor {
  submit<R>(fn: WorkerFunction, ...args: unknown[]): PromiseLike<R>;
  shutdown(): Promise<void>;
}
