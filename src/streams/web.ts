/**
 * Bridges between WHATWG streams (`ReadableStream`, `WritableStream`: a
 * `fetch` body, `new Response(...).body`, Deno's and Bun's I/O) and
 * tulip's streams, in both directions. Web streams are a standard of every
 * runtime, so nothing here needs Node.
 *
 * Into tulip, a Web stream becomes a transport (`WebStreamTransport`, on
 * the shared stream transport base, so the flow control and call order are
 * those of a socket): a reader reads one chunk at a time and stops while
 * the StreamReader has paused it, so an unread reader back-pressures the
 * stream's source; a writer's bytes go to the stream's writer, and what
 * the sink has not yet accepted counts as the transport's write buffer,
 * so `drain()` waits for the sink.
 *
 * Out of tulip, each pull of a `ReadableStream` runs one read as a task
 * that enqueues the chunk in the same step it takes it from the reader,
 * and the stream asks for nothing ahead (high-water mark 0): a stream
 * cancelled at any moment has taken nothing it did not deliver, so the
 * reader is left whole. A `WritableStream`'s write waits for the writer
 * to drain when its transport is over the high-water mark.
 */
import {
  type Coro, type EventLoop, getEventLoop, type Task,
} from '../kernel/index.js';
import type { Protocol } from '../kernel/transport_types.js';
import { StreamTransportBase } from '../protocols/stream_transport.js';
import { StreamReader } from './reader.js';
import { StreamReaderProtocol } from './stream_protocol.js';
import { StreamWriter } from './writer.js';

type Bytes = Uint8Array | string;
const encoder = new TextEncoder();

declare module '../kernel/transport_types.js' {
  interface ExtraInfo {
    /** The Web stream a transport of `fromReadableStream()` reads. */
    readableStream: ReadableStream<Uint8Array | string>;
    /** The Web stream a writer of `fromWritableStream()` writes to. */
    writableStream: WritableStream<Uint8Array>;
  }
}

function toError(e: unknown): Error { return e instanceof Error ? e : new Error(String(e)); }

/**
 * A transport over a Web `ReadableStream` (its read side) and/or a
 * `WritableStream` (its write side).
 * @internal made by {@link fromReadableStream} and {@link fromWritableStream}.
 */
export class WebStreamTransport extends StreamTransportBase {
  #reader: ReadableStreamDefaultReader<Bytes> | null;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null;
  #pumping = false;
  #wantRead = true;
  /** Bytes handed to the sink's writer whose write has not settled. */
  #pending = 0;
  #ending = false;
  #abortReason: Error | undefined = undefined;
  /** Called once the transport is lost (the abort listener of `fromReadableStream`'s signal goes then). */
  onLost: (() => void) | null = null;

  constructor(loop: EventLoop, protocol: Protocol, readable: ReadableStream<Bytes> | null, writable: WritableStream<Uint8Array> | null) {
    super(loop, protocol);
    this.#reader = readable?.getReader() ?? null;
    this.#writer = writable?.getWriter() ?? null;
    this._setExtra({ readableStream: readable ?? undefined, writableStream: writable ?? undefined });
  }

  /** @internal connectionMade, then reading starts. */
  _start(): void {
    this._connectionMade();
    this.#pump();
  }

  override canWriteEof(): boolean { return this.#writer !== null; }

  protected _send(data: Bytes, notify: boolean): void {
    const w = this.#writer;
    if (w === null) throw new Error('this transport has no write side');
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.#pending += bytes.length;
    w.write(bytes).then(() => {
      this.#pending -= bytes.length;
      if (notify) this._flushed();
    }, (e: unknown) => { this.#pending -= bytes.length; this.#failed(e); });
  }

  protected _sendMany(list: Bytes[], notify: boolean): void {
    const last = list.length - 1;
    for (let i = 0; i < last; i++) this._send(list[i]!, false);
    this._send(list[last]!, notify);
  }

  protected _bufferSize(): number { return this.#pending; }

  /** Close the sink after what was written (a Web stream has one direction: EOF is its end). */
  protected _shutdown(): void { this.#endWriter(); }

  protected _closeGracefully(): void {
    this.#cancelReader(undefined);
    if (this.#writer === null) { this._connectionLost(); return; }
    this.#endWriter();
  }

  override abort(exc?: Error): void {
    this.#abortReason ??= exc;
    super.abort(exc);
  }

  protected _destroy(): void {
    const reason = this.#abortReason ?? new Error('transport aborted');
    this.#cancelReader(reason);
    const w = this.#writer;
    this.#writer = null;
    if (w !== null) w.abort(reason).then(undefined, () => undefined);
    this._connectionLost();
  }

  protected override _onLost(): void { const f = this.onLost; this.onLost = null; f?.(); }

  protected _setReading(on: boolean): void {
    this.#wantRead = on;
    if (on) this.#pump();
  }

  #endWriter(): void {
    const w = this.#writer;
    if (w === null || this.#ending) return;
    this.#ending = true;
    w.close().then(() => { if (this.#reader === null) this._connectionLost(); }, (e: unknown) => this.#failed(e));
  }

  #cancelReader(reason: unknown): void {
    const r = this.#reader;
    if (r === null) return;
    this.#reader = null;
    r.cancel(reason).then(undefined, () => undefined);
  }

  #failed(e: unknown): void {
    if (this._lost) return;
    this.#cancelReader(e);
    const w = this.#writer;
    this.#writer = null;
    if (w !== null) w.abort(e).then(undefined, () => undefined);
    this._connectionLost(toError(e));
  }

  /** One read at a time while reading is wanted; EOF or an error ends the read side. */
  #pump(): void {
    if (this.#pumping || this.#reader === null || !this.#wantRead || this._lost) return;
    const r = this.#reader;
    this.#pumping = true;
    r.read().then(({ done, value }) => {
      this.#pumping = false;
      if (this.#reader !== r) return;
      if (done) {
        this.#reader = null;
        r.releaseLock();
        this._eofReceived();
        if (this.#writer === null || this.#ending) this._connectionLost();
        return;
      }
      if (typeof value === 'string') this._dataReceived(encoder.encode(value));
      else if (value instanceof Uint8Array) this._dataReceived(value);
      else { this.#failed(new TypeError(`a Web stream chunk must be a Uint8Array or a string, not ${typeof value}`)); return; }
      this.#pump();
    }, (e: unknown) => {
      this.#pumping = false;
      if (this.#reader === r) { this.#reader = null; this.#failed(e); }
    });
  }
}

/**
 * Options of {@link fromReadableStream}.
 * @example
 * const opts: FromReadableStreamOptions = { limit: 1 << 20, signal: AbortSignal.timeout(5000) };
 */
export interface FromReadableStreamOptions {
  /** The StreamReader's limit (default 64 KiB); reading pauses above twice this much unread. */
  limit?: number;
  /** Aborting it cancels the Web stream (its source's `cancel()` runs) and ends the reader with the reason. */
  signal?: AbortSignal;
}

/**
 * A StreamReader over a Web `ReadableStream` of bytes (or strings, encoded
 * as UTF-8): a `fetch` body, `new Response(...).body`. The stream is read
 * as the reader needs it (an unread reader pauses it) and locked until its
 * end; `signal` cancels it early.
 * @example
 * import { fromPromise, fromReadableStream, each, type Coro } from 'tulip';
 * function* printBody(url: string): Coro<void> {
 *   const res = yield* fromPromise(fetch(url));
 *   const reader = fromReadableStream(res.body!);
 *   for (const line of yield* each(reader.lines())) { console.log(line); yield* each.next(); }
 * }
 */
export function fromReadableStream(rs: ReadableStream<Uint8Array | string>, opts?: FromReadableStreamOptions): StreamReader {
  const loop = getEventLoop();
  const reader = new StreamReader({ limit: opts?.limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const t = new WebStreamTransport(loop, protocol, rs, null);
  const signal = opts?.signal;
  if (signal !== undefined) {
    const onAbort = (): void => { reader.setException(signal.reason); t.abort(toError(signal.reason)); };
    if (signal.aborted) { t._start(); onAbort(); return reader; }
    signal.addEventListener('abort', onAbort, { once: true });
    t.onLost = () => signal.removeEventListener('abort', onAbort);
  }
  t._start();
  return reader;
}

/**
 * A StreamWriter over a Web `WritableStream` of bytes: `drain()` waits
 * while more than the high-water mark is not yet accepted by the sink;
 * `close()` (or `writeEof()`) closes the stream after what was written;
 * `waitClosed()` returns once it is closed.
 * @example
 * import { fromWritableStream, type Coro } from 'tulip';
 * function* fill(ws: WritableStream<Uint8Array>): Coro<void> {
 *   const w = fromWritableStream(ws);
 *   for (let i = 0; i < 100; i++) { w.write(`line ${i}\n`); yield* w.drain(); }
 *   w.close();
 *   yield* w.waitClosed();
 * }
 */
export function fromWritableStream(ws: WritableStream<Uint8Array>): StreamWriter {
  const loop = getEventLoop();
  const protocol = new StreamReaderProtocol(new StreamReader({ loop }), null, loop);
  const t = new WebStreamTransport(loop, protocol, null, ws);
  t._start();
  return new StreamWriter(t, protocol, null, loop);
}

/**
 * Options of {@link toReadableStream}.
 * @example
 * const opts: ToReadableStreamOptions = { chunkSize: 16384 };
 */
export interface ToReadableStreamOptions {
  /** The most bytes one pull takes from the reader (default 64 KiB). */
  chunkSize?: number;
}

/**
 * A Web `ReadableStream` of the bytes `reader` gives until EOF. Each pull
 * reads as a task on the reader's loop; nothing is read ahead, so
 * cancelling the stream leaves everything it did not deliver in the
 * reader.
 * @example
 * import { toReadableStream, type StreamReader } from 'tulip';
 * function asResponse(reader: StreamReader): Response {
 *   return new Response(toReadableStream(reader), { headers: { 'content-type': 'text/plain' } });
 * }
 */
export function toReadableStream(reader: StreamReader, opts?: ToReadableStreamOptions): ReadableStream<Uint8Array> {
  const loop = getEventLoop();
  const n = opts?.chunkSize ?? 64 * 1024;
  if (!(n > 0)) throw new RangeError(`chunkSize must be > 0, not ${n}`);
  let pending: Task<void> | null = null;
  return new ReadableStream<Uint8Array>({
    pull(controller): Promise<void> {
      const t = loop.createTask(pullOnce(reader, controller, n), { name: 'ReadableStream pull' });
      pending = t;
      return Promise.resolve(t).then(() => { pending = null; }, () => { pending = null; });
    },
    cancel(): Promise<void> | undefined {
      const t = pending;
      if (t === null) return undefined;
      t.cancel();
      return Promise.resolve(t).then(() => undefined, () => undefined);
    },
  }, { highWaterMark: 0 });
}

function* pullOnce(reader: StreamReader, controller: ReadableStreamDefaultController<Uint8Array>, n: number): Coro<void> {
  let chunk: Uint8Array;
  try {
    chunk = yield* reader.read(n);
  } catch (e) {
    controller.error(e);
    return;
  }
  // In the step that took the chunk: a stream cancelled before this step halted the read instead.
  if (chunk.length === 0) controller.close();
  else controller.enqueue(chunk);
}

/**
 * A Web `WritableStream` into `writer`: a write waits while the writer's
 * transport is over its high-water mark; `close()` ends the writer
 * (`writeEof()` where it can, else `close()`); `abort()` stops a pending
 * wait and leaves the writer to its owner.
 * @example
 * import { toWritableStream, type Coro, type StreamWriter, fromPromise } from 'tulip';
 * function* send(writer: StreamWriter, res: Response): Coro<void> {
 *   yield* fromPromise(res.body!.pipeTo(toWritableStream(writer)));
 * }
 */
export function toWritableStream(writer: StreamWriter): WritableStream<Uint8Array> {
  const loop = getEventLoop();
  let pending: Task<void> | null = null;
  const settle = (t: Task<void>): Promise<void> => Promise.resolve(t).finally(() => { if (pending === t) pending = null; });
  return new WritableStream<Uint8Array>({
    write(chunk): Promise<void> | undefined {
      writer.write(chunk);
      const t = writer.transport;
      if (!t.isClosing() && t.getWriteBufferSize() <= t.getWriteBufferLimits()[1]) return undefined;
      pending = loop.createTask(writer.drain(), { name: 'WritableStream drain' });
      return settle(pending);
    },
    close(): undefined {
      if (writer.canWriteEof()) writer.writeEof();
      else writer.close();
      return undefined;
    },
    abort(): undefined {
      pending?.cancel();
      return undefined;
    },
  }, { highWaterMark: 1 });
}
