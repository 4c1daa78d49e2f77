/**
 * Read and write pipe transports (`connectReadPipe`, `connectWritePipe`)
 * over a Node stream or a file descriptor; a subprocess's stdio pipes are
 * the same transports.
 *
 * Node streams already buffer and poll; the transports add the protocol's
 * call order (`connectionMade` → `dataReceived`* → `eofReceived`? →
 * `connectionLost` exactly once) and write flow control counted in bytes
 * the OS has not yet taken (a write is subtracted when Node's write callback
 * runs, i.e. when libuv handed it to the kernel). A pipe has one direction,
 * so a read pipe's EOF ends it, and a write pipe's `writeEof()` is `close()`.
 */
import { createReadStream, createWriteStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import type { Coro, EventLoop } from '../kernel/events.js';
import type { Protocol, PushProducer, ReadTransport, WriteTransport } from '../kernel/transport_types.js';
import { ProtocolCaller, startSoon, toBytes, WriteFlow } from './io_common.js';
import { type LoopResource, track, untrack } from './registry.js';

/**
 * What `connectReadPipe`/`connectWritePipe` accept: a Node stream or a file descriptor.
 * @example
 * yield* loop.connectReadPipe(() => proto, process.stdin);
 */
export type PipeLike = Readable | Writable | number;

/** A stream for an fd: a socket for pipes and sockets, a tty stream for terminals, a file stream otherwise. */
function streamForFd(fd: number, mode: 'r' | 'w'): Readable | Writable {
  const st = fstatSync(fd);
  if (st.isFIFO() || st.isSocket()) return new Socket({ fd, readable: mode === 'r', writable: mode === 'w' });
  if (isatty(fd)) return mode === 'r' ? new TtyReadStream(fd) : new TtyWriteStream(fd);
  return mode === 'r' ? createReadStream('', { fd }) : createWriteStream('', { fd });
}

function isReadable(x: unknown): x is Readable {
  return typeof x === 'object' && x !== null && typeof (x as Readable).on === 'function' && typeof (x as Readable).read === 'function';
}
function isWritable(x: unknown): x is Writable {
  return typeof x === 'object' && x !== null && typeof (x as Writable).on === 'function' && typeof (x as Writable).write === 'function';
}

/**
 * The read end of a pipe as a transport.
 * @example
 * const [t, p] = yield* loop.connectReadPipe(() => new MyProtocol(), child.stdout!);
 * t.pauseReading();
 */
export class ReadPipeTransport implements ReadTransport, LoopResource {
  readonly #caller: ProtocolCaller;
  readonly #stream: Readable;
  readonly #extra: Record<string, unknown>;
  #protocol: Protocol;
  #reading = true;
  #closing = false;
  #lost = false;
  #started = false;
  #lostEarly: { exc: Error | undefined } | null = null;
  /** The error the stream is being destroyed with, for its 'close' event. */
  #closeExc: Error | undefined = undefined;

  /**
   * @internal Listeners go on at once, in paused mode ('readable' + read()):
   * nothing is read before `_start()`, and Node's own `resume()` of a dead
   * child's stdio (which would discard the output) has no effect on it.
   */
  constructor(caller: ProtocolCaller, stream: Readable, protocol: Protocol, extra: Record<string, unknown> = {}) {
    this.#caller = caller;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#extra = { pipe: stream, ...extra };
    stream.on('error', (e: Error) => this.#shutdown(e));
    stream.on('readable', () => this.#drain());
    stream.on('end', () => {
      if (this.#closing) return;
      this.#closing = true;
      this.#call('eofReceived', () => { this.#protocol.eofReceived?.(); });
      this.#shutdown(undefined);
    });
    stream.on('close', () => this.#connectionLost(this.#closeExc));
    track(caller.loop, this);
  }

  /** @internal the protocol hears `connectionMade`, then data flows. */
  _start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#call('connectionMade', () => this.#protocol.connectionMade?.(this as never));
    if (this.#lostEarly !== null) { this.#deliverLost(this.#lostEarly.exc); return; }
    this.#drain();
  }

  getExtraInfo(name: string, fallback?: unknown): unknown { return name in this.#extra ? this.#extra[name] : fallback; }
  isClosing(): boolean { return this.#closing; }
  setProtocol(p: unknown): void { this.#protocol = p as Protocol; }
  getProtocol(): unknown { return this.#protocol; }
  isReading(): boolean { return this.#reading && !this.#closing; }

  /** Stop `dataReceived` calls; the stream's buffer fills, then the OS pipe, then the writer blocks. */
  pauseReading(): void {
    if (this.#closing || !this.#reading) return;
    this.#reading = false;
  }
  resumeReading(): void {
    if (this.#closing || this.#reading) return;
    this.#reading = true;
    this.#caller.soon(() => this.#drain());
  }

  /** Stop reading and close the pipe; `connectionLost(undefined)` follows (no more data). */
  close(): void {
    if (this.#closing) return;
    this.#shutdown(undefined);
  }

  /** @internal close() without waiting (loop.close()). */
  _loopClosing(): void { this.#closing = true; this.#stream.destroy(); this.#connectionLost(undefined); }

  #drain(): void {
    const s = this.#stream;
    while (this.#started && this.#reading && !this.#closing) {
      const chunk = s.read() as Buffer | string | null;
      if (chunk === null) return;
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.#call('dataReceived', () => this.#protocol.dataReceived?.(data));
    }
  }

  /** Destroy the stream; its 'close' event brings `connectionLost(exc)`. */
  #shutdown(exc: Error | undefined): void {
    this.#closing = true;
    if (this.#closeExc === undefined) this.#closeExc = exc;
    if (this.#stream.destroyed) { this.#connectionLost(this.#closeExc); return; }
    this.#stream.destroy();
    // In case the stream never emits 'close' (emitClose: false).
    this.#caller.soon(() => this.#connectionLost(this.#closeExc));
  }

  #call(what: string, fn: () => void): void {
    this.#caller.call(this, this.#protocol, `protocol.${what}()`, fn, (e) => this.#shutdown(e));
  }

  #connectionLost(exc: Error | undefined): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    untrack(this.#caller.loop, this);
    // Lost before the protocol heard connectionMade: it hears both at the start.
    if (!this.#started) { this.#lostEarly = { exc }; return; }
    this.#deliverLost(exc);
  }

  #deliverLost(exc: Error | undefined): void {
    this.#caller.call(this, this.#protocol, 'protocol.connectionLost()', () => this.#protocol.connectionLost?.(exc));
  }
}

/**
 * The write end of a pipe as a transport, with write flow control.
 * @example
 * const [t] = yield* loop.connectWritePipe(() => ({}), child.stdin!);
 * t.write('hello\n'); t.close();
 */
export class WritePipeTransport implements WriteTransport, LoopResource {
  readonly #caller: ProtocolCaller;
  readonly #stream: Writable;
  readonly #extra: Record<string, unknown>;
  readonly #flow: WriteFlow;
  #protocol: Protocol;
  #closing = false;
  #lost = false;
  #started = false;
  #lostEarly: { exc: Error | undefined } | null = null;
  #closeExc: Error | undefined = undefined;

  /** @internal */
  constructor(caller: ProtocolCaller, stream: Writable, protocol: Protocol, extra: Record<string, unknown> = {}) {
    this.#caller = caller;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#extra = { pipe: stream, ...extra };
    this.#flow = new WriteFlow(
      () => this.#report('pauseWriting', () => this.#protocol.pauseWriting?.()),
      () => this.#report('resumeWriting', () => this.#protocol.resumeWriting?.()),
      (p, name) => this.#report(name, () => { p[name](); }, 'producer'),
    );
    // A write to a pipe whose reader is gone fails with EPIPE: it ends the transport, it is never thrown.
    stream.on('error', (e: Error) => this.#shutdown(e));
    stream.on('close', () => this.#connectionLost(this.#closeExc));
    track(caller.loop, this);
    if (stream.destroyed) this.#connectionLost(undefined);
  }

  /** @internal */
  _start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#caller.call(this, this.#protocol, 'protocol.connectionMade()', () => this.#protocol.connectionMade?.(this as never), (e) => this.abort(e));
    if (this.#lostEarly !== null) this.#deliverLost(this.#lostEarly.exc);
  }

  getExtraInfo(name: string, fallback?: unknown): unknown { return name in this.#extra ? this.#extra[name] : fallback; }
  isClosing(): boolean { return this.#closing; }
  setProtocol(p: unknown): void { this.#protocol = p as Protocol; }
  getProtocol(): unknown { return this.#protocol; }

  /** Buffer `data` for the pipe; never blocks. Writing after `close()` or a lost connection is ignored. */
  write(data: Uint8Array | string): void {
    const buf = toBytes(data);
    if (this.#closing || this.#lost || buf.length === 0) return;
    const n = buf.length;
    this.#flow.added(n);
    this.#stream.write(buf, () => { if (!this.#lost) this.#flow.removed(n); });
  }
  writeLines(list: Iterable<Uint8Array | string>): void { for (const d of list) this.write(d); }
  /** A pipe has one direction: this is `close()`. */
  writeEof(): void { this.close(); }
  canWriteEof(): boolean { return true; }

  getWriteBufferSize(): number { return this.#flow.size; }
  getWriteBufferLimits(): [low: number, high: number] { return [this.#flow.low, this.#flow.high]; }
  setWriteBufferLimits(high?: number, low?: number): void { this.#flow.setLimits(high, low); }
  registerProducer(p: PushProducer): void { this.#flow.registerProducer(p); }
  unregisterProducer(): void { this.#flow.unregisterProducer(); }

  /** Flush the buffer, then close the pipe; `connectionLost(undefined)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stream.end(() => this.#shutdown(undefined));
  }

  /** Drop the buffer and close at once; `connectionLost(exc)` follows. */
  abort(exc?: Error): void {
    if (this.#lost) return;
    this.#shutdown(exc);
  }

  /** @internal */
  _loopClosing(): void { this.#closing = true; this.#stream.destroy(); this.#connectionLost(undefined); }

  #report(what: string, fn: () => void, who = 'protocol'): void { this.#caller.call(this, this.#protocol, `${who}.${what}()`, fn); }

  /** Destroy the stream; its 'close' event (or, failing that, the next loop turn) brings `connectionLost(exc)`. */
  #shutdown(exc: Error | undefined): void {
    this.#closing = true;
    if (this.#closeExc === undefined) this.#closeExc = exc;
    if (this.#stream.destroyed) { this.#connectionLost(this.#closeExc); return; }
    this.#stream.destroy();
    this.#caller.soon(() => this.#connectionLost(this.#closeExc));
  }

  #connectionLost(exc: Error | undefined): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#closing = true;
    untrack(this.#caller.loop, this);
    this.#flow.stop();
    if (!this.#started) { this.#lostEarly = { exc }; return; }
    this.#deliverLost(exc);
  }

  #deliverLost(exc: Error | undefined): void {
    this.#caller.call(this, this.#protocol, 'protocol.connectionLost()', () => this.#protocol.connectionLost?.(exc));
  }
}

/** @internal `loop.connectReadPipe(factory, pipe)`. */
export function* connectReadPipe<P>(loop: EventLoop, factory: () => P, pipe: PipeLike): Coro<[ReadTransport, P]> {
  const stream = typeof pipe === 'number' ? streamForFd(pipe, 'r') as Readable : pipe;
  if (!isReadable(stream)) throw new TypeError('connectReadPipe: pipe must be a readable Node stream or a file descriptor');
  const protocol = factory();
  const t = new ReadPipeTransport(new ProtocolCaller(loop), stream, protocol as Protocol);
  yield* startSoon(loop, 'connectReadPipe', () => t._start(), () => t._loopClosing());
  return [t, protocol];
}

/** @internal `loop.connectWritePipe(factory, pipe)`. */
export function* connectWritePipe<P>(loop: EventLoop, factory: () => P, pipe: PipeLike): Coro<[WriteTransport, P]> {
  const stream = typeof pipe === 'number' ? streamForFd(pipe, 'w') as Writable : pipe;
  if (!isWritable(stream)) throw new TypeError('connectWritePipe: pipe must be a writable Node stream or a file descriptor');
  const protocol = factory();
  const t = new WritePipeTransport(new ProtocolCaller(loop), stream, protocol as Protocol);
  yield* startSoon(loop, 'connectWritePipe', () => t._start(), () => t._loopClosing());
  return [t, protocol];
}
