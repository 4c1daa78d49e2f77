/**
 * A child process's stdin and stdout as one stream Transport, so that any
 * stream Protocol (a stack, JSON-RPC, a line protocol) talks to a child
 * exactly as it would to a socket: PEP 3153's case for separating protocols
 * from transports ("the same bytes may be transferred across ... pipes or
 * sockets"). Written against the SubprocessTransport interface only.
 *
 * The mapping: the child's stdout is the read side (its EOF is
 * `eofReceived`), stdin the write side (`writeEof()` closes it), and the
 * protocol's `connectionLost` comes with the subprocess's, after the child
 * exited and every pipe closed. `close()` flushes and closes stdin (a
 * well-behaved child then exits) and stops reading; `abort()` kills it.
 */
import type {
  Protocol, PushProducer, ReadTransport, SubprocessProtocol, SubprocessTransport, Transport, WriteTransport,
} from '../kernel/transport_types.js';

/** The Transport a {@link SubprocessPipesProtocol}'s protocol sees: stdout to read, stdin to write. */
class PipesTransport implements Transport {
  readonly #sub: SubprocessTransport;
  readonly #in: WriteTransport;
  readonly #out: ReadTransport;
  readonly #owner: SubprocessPipesProtocol;
  closing = false;

  constructor(sub: SubprocessTransport, owner: SubprocessPipesProtocol) {
    const stdin = sub.getPipeTransport(0) as WriteTransport | null;
    const stdout = sub.getPipeTransport(1) as ReadTransport | null;
    if (stdin === null || stdout === null) throw new TypeError('SubprocessPipesProtocol: the child needs stdin and stdout pipes');
    this.#sub = sub;
    this.#in = stdin;
    this.#out = stdout;
    this.#owner = owner;
  }

  getExtraInfo(name: string, fallback?: unknown): unknown {
    if (name === 'subprocessTransport') return this.#sub;
    if (name === 'pid') return this.#sub.getPid();
    return this.#sub.getExtraInfo(name, fallback);
  }
  isClosing(): boolean { return this.closing; }
  setProtocol(p: unknown): void { this.#owner.protocol = p as Protocol; }
  getProtocol(): unknown { return this.#owner.protocol; }
  isReading(): boolean { return !this.closing && this.#out.isReading(); }
  pauseReading(): void { this.#out.pauseReading(); }
  resumeReading(): void { this.#out.resumeReading(); }
  write(data: Uint8Array | string): void { if (!this.closing) this.#in.write(data); }
  writeLines(list: Iterable<Uint8Array | string>): void { if (!this.closing) this.#in.writeLines(list); }
  writeEof(): void { this.#in.close(); }
  canWriteEof(): boolean { return true; }
  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  /** Flush and close stdin, stop reading stdout; `connectionLost` follows once the child exited. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.#in.close();
    this.#out.close();
  }
  /** Kill the child and close its pipes; `connectionLost(exc)` follows. */
  abort(exc?: Error): void {
    this.closing = true;
    this.#owner._failed(exc);
    this.#sub.close();
  }
  getWriteBufferSize(): number { return this.#in.getWriteBufferSize(); }
  getWriteBufferLimits(): [low: number, high: number] { return this.#in.getWriteBufferLimits(); }
  setWriteBufferLimits(high?: number, low?: number): void { this.#in.setWriteBufferLimits(high, low); }
  registerProducer(p: PushProducer): void { this.#in.registerProducer(p); }
  unregisterProducer(): void { this.#in.unregisterProducer(); }
}

/**
 * A SubprocessProtocol that runs a stream `protocol` over the child's
 * stdin and stdout (the child's stderr goes to `onStderr`, if given).
 * Calls into `protocol` keep the stream order: `connectionMade` →
 * `dataReceived`* → `eofReceived`? (stdout ended) → `connectionLost` once
 * (the child exited and its pipes closed).
 * @example
 * const rpc = new JsonRpcProtocol();
 * yield* getRunningLoop().subprocessExec(
 *   () => new SubprocessPipesProtocol(stack((d) => new ChunkProtocol('\n', d), rpc)),
 *   process.execPath, ['server.js'], { stderr: 'inherit' });
 * const sum = yield* rpc.call('add', [1, 2]);
 */
export class SubprocessPipesProtocol implements SubprocessProtocol {
  /** The stream protocol (replaceable through the transport's `setProtocol`). */
  protocol: Protocol;
  /** The stream transport given to `protocol`, once the child runs. */
  transport: Transport | null = null;
  readonly #onStderr: ((data: Uint8Array) => void) | undefined;
  #exc: Error | undefined = undefined;
  #eof = false;

  constructor(protocol: Protocol, opts?: { onStderr?: (data: Uint8Array) => void }) {
    this.protocol = protocol;
    this.#onStderr = opts?.onStderr;
  }

  connectionMade(t: SubprocessTransport): void {
    const pt = new PipesTransport(t, this);
    this.transport = pt;
    this.protocol.connectionMade?.(pt);
  }

  pipeDataReceived(fd: 1 | 2, data: Uint8Array): void {
    if (fd === 2) { this.#onStderr?.(data); return; }
    if (this.transport === null || this.transport.isClosing() || this.#eof) return;
    this.protocol.dataReceived?.(data);
  }

  pipeConnectionLost(fd: 0 | 1 | 2, exc?: Error): void {
    if (exc !== undefined) this._failed(exc);
    const t = this.transport as PipesTransport | null;
    if (fd !== 1 || t === null || t.closing || this.#eof) return;
    this.#eof = true;
    if (exc !== undefined) return;
    if (this.protocol.eofReceived?.() !== true) t.close();
  }

  /** The child's stdin is full: passed on to the protocol. */
  pauseWriting(): void { this.protocol.pauseWriting?.(); }
  /** The child's stdin drained: passed on to the protocol. */
  resumeWriting(): void { this.protocol.resumeWriting?.(); }

  connectionLost(exc?: Error): void {
    if (this.transport === null) return;
    (this.transport as PipesTransport).closing = true;
    this.protocol.connectionLost?.(exc ?? this.#exc);
  }

  /** @internal the first error seen (an abort's, a pipe's) is the one `connectionLost` reports. */
  _failed(exc: Error | undefined): void { if (this.#exc === undefined) this.#exc = exc; }
}
