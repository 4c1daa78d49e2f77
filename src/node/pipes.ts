/**
 * Read and write pipe transports (`connectReadPipe`, `connectWritePipe`)
 * over a Node stream or a file descriptor; a subprocess's stdio pipes are
 * the same transports.
 *
 * Node streams already buffer and poll; the transports add the protocol's
 * call order (`connectionMade` → `dataReceived`* → `eofReceived`? →
 * `connectionLost` exactly once) and, for writing, the flow control of the
 * shared stream transport base (the bytes Node has not yet handed to the
 * OS: the stream's `writableLength`). A pipe has one direction,
 * so a read pipe's EOF ends it, and a write pipe's `writeEof()` is `close()`.
 */
import { createReadStream, createWriteStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import type { Coro, EventLoop } from '../kernel/events.js';
import type { Protocol, ReadTransport, WriteTransport } from '../kernel/transport_types.js';
import { ProtocolCaller, startSoon } from './io_common.js';
import { WritableTransport } from './writable_transport.js';
import { type LoopResource, track, untrack } from './registry.js';

/**
 * What `connectReadPipe`/`connectWritePipe` accept: a Node stream or a file descriptor.
 * @example
 * yield* getRunningLoop().connectReadPipe(() => ({ dataReceived: (d: Uint8Array) => console.log(d.length) }), process.stdin);
 */
export type PipeLike = Readable | Writable | number;

/**
 * @internal the error of a write to a pipe nobody reads any more, shaped as
 * Node's own (asyncio's BrokenPipeError).
 */
export function brokenPipeError(): Error {
  return Object.assign(new Error('write EPIPE (the reading end of the pipe is closed)'), { code: 'EPIPE', errno: -osConstants.errno.EPIPE, syscall: 'write' });
}

/**
 * Can `new net.Socket({ fd })` carry a FIFO here? On Node it can (libuv's pipes); Deno throws (`open EEXIST`) and
 * Bun makes a socket that never reads, so there a FIFO goes through a file stream, which reads it on a thread.
 */
const socketFifos = (process.versions as Record<string, string | undefined>).bun === undefined;

/** A stream for an fd: a socket for pipes and sockets, a tty stream for terminals, a file stream otherwise. */
function streamForFd(fd: number, mode: 'r' | 'w'): Readable | Writable {
  const st = fstatSync(fd);
  if (st.isSocket() || (st.isFIFO() && socketFifos)) {
    try {
      return new Socket({ fd, readable: mode === 'r', writable: mode === 'w' });
    } catch (e) {
      if (!st.isFIFO()) throw e;   // Deno: a FIFO cannot be a socket there; a file stream reads it
    }
  }
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
 * import { spawn } from 'node:child_process';
 * const child = spawn('ls', [], { stdio: ['ignore', 'pipe', 'inherit'] });
 * const [t] = yield* getRunningLoop().connectReadPipe(() => ({ dataReceived: (d: Uint8Array) => console.log(d.length) }), child.stdout!);
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
  /** Not read from at all until the first `resumeReading()` (no 'readable' listener yet). */
  #lazy: boolean;

  /**
   * @internal Listeners go on at once, in paused mode ('readable' + read()):
   * nothing is read before `_start()`, and Node's own `resume()` of a dead
   * child's stdio (which would discard the output) has no effect on it.
   * `lazy`: the transport starts paused and adds its 'readable' listener
   * (which makes Node read) only at the first `resumeReading()`, so that a
   * pipe nobody reads can still be handed to another process whole.
   */
  constructor(caller: ProtocolCaller, stream: Readable, protocol: Protocol, extra: Record<string, unknown> = {}, opts?: { lazy?: boolean }) {
    this.#caller = caller;
    this.#stream = stream;
    this.#protocol = protocol;
    this.#extra = { pipe: stream, ...extra };
    this.#lazy = opts?.lazy === true;
    this.#reading = !this.#lazy;
    stream.on('error', (e: Error) => this.#shutdown(e));
    if (!this.#lazy) stream.on('readable', this.#onReadable);
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
    if (this.#lazy) { this.#lazy = false; this.#stream.on('readable', this.#onReadable); }
    this.#caller.soon(() => this.#drain());
  }

  /** @internal Node stopped reading the stream (a failed hand-over to a child): make it read again if this transport reads. */
  _readAgain(): void { if (!this.#lazy && !this.#closing) this.#stream.read(0); }

  /** @internal nothing was ever read from the stream into this process (its data is all still in the pipe). */
  _untouched(): boolean { return this.#lazy || (this.#stream.readableLength === 0 && !this.#closing); }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  /** Stop reading and close the pipe; `connectionLost(undefined)` follows (no more data). */
  close(): void {
    if (this.#closing) return;
    this.#shutdown(undefined);
  }

  /** @internal close() without waiting (loop.close()). */
  _loopClosing(): void { this.#closing = true; this.#stream.destroy(); this.#connectionLost(undefined); }

  readonly #onReadable = (): void => this.#drain();

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
 * The write end of a pipe as a transport. Flow control, producers, the
 * protocol's call order and `writeLines` come from the shared stream
 * transport base (as for sockets); this class maps its hooks onto a Node
 * Writable. A pipe has one direction, so `writeEof()` is `close()`. A write
 * to a pipe whose reader left fails with EPIPE: that ends the transport
 * (`connectionLost(error)`), it is never thrown. (Node polls a pipe only
 * while a write is pending, so a reader that leaves is noticed at the next
 * write, not at once as asyncio's reader trick on the write end does.)
 * @example
 * import { spawn } from 'node:child_process';
 * const child = spawn('cat', [], { stdio: ['pipe', 'inherit', 'inherit'] });
 * const [t] = yield* getRunningLoop().connectWritePipe(() => ({}), child.stdin!);
 * t.write('hello\n'); t.close();
 */
export class WritePipeTransport extends WritableTransport implements WriteTransport, LoopResource {
  readonly #stream: Writable;
  #error: Error | undefined = undefined;
  #closed = false;
  #closedHere = false;

  /** @internal */
  constructor(loop: EventLoop, stream: Writable, protocol: Protocol, extra: Record<string, unknown> = {}) {
    super(loop, protocol);
    this.#stream = stream;
    this._setExtra({ pipe: stream, ...extra });
    stream.on('error', (e: Error) => {
      if (this.#error === undefined) this.#error = e;
      if (!stream.destroyed) stream.destroy();
    });
    stream.on('close', () => this.#lost());
    track(loop, this);
  }

  /** @internal `connectionMade`; a pipe that closed before this is reported lost right after it. */
  _start(): void {
    this._connectionMade();
    if (this.#closed || this.#stream.destroyed) this.#lost();
  }

  /** A pipe has one direction: this is `close()`. */
  override writeEof(): void { this.close(); }
  override close(): void { this.#closedHere = true; super.close(); }
  override abort(exc?: Error): void { this.#closedHere = true; super.abort(exc); }

  /** @internal the pipe closed without this side closing it (Node closes a child's stdin when the child exits). */
  _closedByPeer(): boolean { return this.#closed && !this.#closedHere; }

  /** @internal close at once (loop.close()). */
  _loopClosing(): void {
    this.abort();
    this._connectionLost(undefined);
  }

  protected _writable(): Writable { return this.#stream; }
  protected _shutdown(): void { this.close(); }

  /**
   * A write to a pipe whose reader is gone fails at once inside Node's
   * write() (EPIPE), which destroys the stream and reports it a tick later:
   * abort with that error now, so the `drain()` right after the write
   * already throws EPIPE (asyncio's BrokenPipeError).
   */
  protected override _send(data: Uint8Array | string, notify: boolean): void {
    super._send(data, notify);
    this.#checkWrite();
  }
  protected override _sendMany(list: Array<Uint8Array | string>, notify: boolean): void {
    super._sendMany(list, notify);
    this.#checkWrite();
  }
  #checkWrite(): void {
    const s = this.#stream;
    if (!s.destroyed || this.isClosing()) return;
    // Destroyed with the write's error, or already by Node (a child's stdin, when the child exited).
    const e = s.errored ?? brokenPipeError();
    if (this.#error === undefined) this.#error = e;
    this.abort(e);
  }

  protected _closeGracefully(): void {
    const s = this.#stream;
    if (s.destroyed) { this.#lost(); return; }
    s.end(() => this.#destroy());
  }

  protected _destroy(): void { this.#destroy(); }
  protected _setReading(_on: boolean): void { /* a write pipe does not read */ }
  protected override _onLost(): void { untrack(this._loop, this); }

  /** Destroy the stream; its 'close' event (or, failing that, the next loop turn) brings `connectionLost`. */
  #destroy(): void {
    const s = this.#stream;
    if (!s.destroyed) s.destroy();
    if (this._loop.isClosed()) this.#lost();
    else this._loop.callSoon(() => this.#lost());   // in case the stream never emits 'close' (emitClose: false)
  }

  #lost(): void {
    this.#closed = true;
    if (this._made) this._connectionLost(this.#error);
  }

}

/** @internal `loop.connectReadPipe(factory, pipe)`. */
export function* connectReadPipe<P>(loop: EventLoop, factory: () => P, pipe: PipeLike): Coro<[ReadTransport, P]> {
  if (typeof pipe !== 'number' && !isReadable(pipe)) throw new TypeError('connectReadPipe: pipe must be a readable Node stream or a file descriptor');
  const protocol = factory();   // first (as asyncio): if it throws, no stream has taken the fd over
  const stream = typeof pipe === 'number' ? streamForFd(pipe, 'r') as Readable : pipe;
  const t = new ReadPipeTransport(new ProtocolCaller(loop), stream, protocol as Protocol);
  yield* startSoon(loop, 'connectReadPipe', () => t._start(), () => t._loopClosing());
  return [t, protocol];
}

/** @internal `loop.connectWritePipe(factory, pipe)`. */
export function* connectWritePipe<P>(loop: EventLoop, factory: () => P, pipe: PipeLike): Coro<[WriteTransport, P]> {
  if (typeof pipe !== 'number' && !isWritable(pipe)) throw new TypeError('connectWritePipe: pipe must be a writable Node stream or a file descriptor');
  const protocol = factory();   // first (as asyncio): if it throws, no stream has taken the fd over
  const stream = typeof pipe === 'number' ? streamForFd(pipe, 'w') as Writable : pipe;
  const t = new WritePipeTransport(loop, stream, protocol as Protocol);
  yield* startSoon(loop, 'connectWritePipe', () => t._start(), () => t._loopClosing());
  return [t, protocol];
}
