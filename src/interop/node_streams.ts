/**
 * Bridges between Node's streams (`node:stream` Readable, Writable, Duplex:
 * `fs.createReadStream`, `Readable.from`, an HTTP request, a socket) and
 * tulip's StreamReader and StreamWriter.
 *
 * Into tulip, a Readable becomes a read pipe transport (the one
 * `connectReadPipe` makes): it is read in paused mode only while the
 * StreamReader wants more, so a reader that stops reading stops the
 * Readable, which stops asking its source.
 *
 * Out of tulip, each `_read()` of a Node Readable runs one read as a task
 * that pushes the chunk in the same step it takes it from the reader, and
 * the Readable reads nothing ahead (`highWaterMark` 0): destroying it at
 * any moment leaves everything it did not deliver in the reader. A Writable
 * calls back each write at once while the writer's transport is under its
 * high-water mark, and after `drain()` otherwise, so Node's own `'drain'`
 * and `pipeline()` see tulip's back-pressure.
 */
import { Duplex, Readable, Writable } from 'node:stream';
import { type Coro, type EventLoop, getEventLoop, type Task } from '../kernel/index.js';
import type { Protocol, ReadTransport, Transport } from '../kernel/transport_types.js';
import { ReadPipeTransport } from '../node/pipes.js';
import { ProtocolCaller } from '../node/io_common.js';
import { StreamReader } from '../streams/reader.js';
import { StreamReaderProtocol } from '../streams/stream_protocol.js';
import type { StreamWriter } from '../streams/writer.js';

/**
 * Options of {@link fromReadable}.
 * @example
 * const opts: FromReadableOptions = { limit: 1 << 20 };
 */
export interface FromReadableOptions {
  /** The StreamReader's limit (default 64 KiB); reading pauses above twice this much unread. */
  limit?: number;
}

/**
 * A StreamReader over a Node Readable of bytes or strings (`fs.createReadStream`,
 * `Readable.from`, an `http.IncomingMessage`, a socket). A reader that stops
 * reading pauses the Readable. The Readable's `'error'` is thrown by the
 * reader's next read; an object-mode chunk that is neither bytes nor a string
 * ends it with a `TypeError`. The loop owns the Readable from now on:
 * `loop.close()` destroys it; destroy it yourself to stop early.
 * @example
 * import { fromReadable, each, type Coro } from 'tulip';
 * import { createReadStream } from 'node:fs';
 * function* countLines(path: string): Coro<number> {
 *   let n = 0;
 *   for (const _ of yield* each(fromReadable(createReadStream(path)).lines())) { n++; yield* each.next(); }
 *   return n;
 * }
 */
export function fromReadable(readable: Readable, opts?: FromReadableOptions): StreamReader {
  if (typeof readable?.read !== 'function' || typeof readable.on !== 'function') throw new TypeError('fromReadable: expected a Node Readable');
  const loop = getEventLoop();
  const reader = new StreamReader({ limit: opts?.limit, loop });
  const inner = new StreamReaderProtocol(reader, null, loop);
  let transport: ReadTransport | null = null;
  let failed = false;
  const protocol: Protocol = {
    connectionMade: (t) => { transport = t; inner.connectionMade(t); },
    dataReceived: (d) => {
      if (failed) return;
      if (d instanceof Uint8Array) { inner.dataReceived(d); return; }
      failed = true;
      reader.setException(new TypeError(`fromReadable: the stream gave a chunk of type ${d === null ? 'null' : typeof d}, not bytes or a string`));
      transport?.close();
    },
    eofReceived: () => inner.eofReceived(),
    connectionLost: (e) => { if (!failed) inner.connectionLost(e); },
  };
  new ReadPipeTransport(new ProtocolCaller(loop), readable, protocol)._start();
  return reader;
}

/** The read half of a Node stream over a StreamReader: `_read` and `_destroy`. */
function readSide(loop: EventLoop, reader: StreamReader, chunkSize: number, stream: () => Readable): { read(): void; cancel(): void } {
  let pending: Task<void> | null = null;
  function* pushOne(): Coro<void> {
    let chunk: Uint8Array;
    try {
      chunk = yield* reader.read(chunkSize);
    } catch (e) {
      pending = null;
      stream().destroy(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    // In the step that took the chunk: a stream destroyed before this step halted the read instead.
    pending = null;
    stream().push(chunk.length === 0 ? null : chunk);
  }
  return {
    read(): void {
      if (pending !== null) return;
      pending = loop.createTask(pushOne(), { name: 'Readable._read' });
    },
    cancel(): void { pending?.cancel(); pending = null; },
  };
}

/** The write half of a Node stream over a StreamWriter: `_write`, `_writev`, `_final`, `_destroy`. */
function writeSide(loop: EventLoop, writer: StreamWriter, stream: () => Writable): {
  write(chunk: Uint8Array, cb: (e?: Error | null) => void): void;
  writev(chunks: Uint8Array[], cb: (e?: Error | null) => void): void;
  final(cb: (e?: Error | null) => void): void;
  cancel(): void;
} {
  let pending: Task<void> | null = null;
  const settle = (t: Task<void>, cb: (e?: Error | null) => void): void => {
    t.addDoneCallback(() => {
      if (pending === t) pending = null;
      if (t.cancelled() || stream().destroyed) return;
      const e = t.exception();
      cb(e === undefined ? null : (e as Error));
    });
  };
  const after = (cb: (e?: Error | null) => void): void => {
    const t: Transport = writer.transport;
    if (!t.isClosing() && t.getWriteBufferSize() <= t.getWriteBufferLimits()[1]) { cb(); return; }
    pending = loop.createTask(writer.drain(), { name: 'Writable drain' });
    settle(pending, cb);
  };
  return {
    write(chunk, cb): void { writer.write(chunk); after(cb); },
    writev(chunks, cb): void { writer.writeLines(chunks); after(cb); },
    final(cb): void {
      if (writer.canWriteEof()) { writer.writeEof(); cb(); return; }
      writer.close();
      pending = loop.createTask(writer.waitClosed(), { name: 'Writable final' });
      settle(pending, cb);
    },
    cancel(): void { pending?.cancel(); pending = null; },
  };
}

/**
 * Options of {@link toReadable} and {@link toDuplex}.
 * @example
 * const opts: ToReadableOptions = { chunkSize: 16384 };
 */
export interface ToReadableOptions {
  /** The most bytes one `_read()` takes from the reader (default 64 KiB). */
  chunkSize?: number;
}

/**
 * A Node Readable of the bytes `reader` gives until EOF. Each `_read()`
 * reads as a task on the loop; nothing is read ahead, so destroying the
 * Readable leaves what it did not deliver in the reader.
 * @example
 * import { toReadable, type Coro, type StreamReader, fromPromise } from 'tulip';
 * import { pipeline } from 'node:stream/promises';
 * import { createWriteStream } from 'node:fs';
 * function* save(reader: StreamReader, path: string): Coro<void> {
 *   yield* fromPromise(pipeline(toReadable(reader), createWriteStream(path)));
 * }
 */
export function toReadable(reader: StreamReader, opts?: ToReadableOptions): Readable {
  const loop = getEventLoop();
  const side = readSide(loop, reader, chunkSizeOf(opts), () => r);
  const r: Readable = new Readable({
    highWaterMark: 0,
    read: () => side.read(),
    destroy: (err, cb) => { side.cancel(); cb(err); },
  });
  return r;
}

/**
 * A Node Writable into `writer`, honouring back-pressure: a write is called
 * back at once while the writer's transport is under its high-water mark,
 * else after `drain()` (so `write()` returns false and `'drain'` follows as
 * Node code expects). `end()` ends the writer: `writeEof()` where it can (a
 * socket's half-close), else `close()`, then `'finish'` once it is closed.
 * `destroy()` leaves the writer to its owner.
 * @example
 * import { toWritable, type Coro, type StreamWriter, fromPromise } from 'tulip';
 * import { pipeline } from 'node:stream/promises';
 * import { createReadStream } from 'node:fs';
 * function* upload(path: string, writer: StreamWriter): Coro<void> {
 *   yield* fromPromise(pipeline(createReadStream(path), toWritable(writer)));
 * }
 */
export function toWritable(writer: StreamWriter): Writable {
  const loop = getEventLoop();
  const side = writeSide(loop, writer, () => w);
  const w: Writable = new Writable({
    write: (chunk: Uint8Array, _enc, cb) => side.write(chunk, cb),
    writev: (chunks, cb) => side.writev(chunks.map((c) => c.chunk as Uint8Array), cb),
    final: (cb) => side.final(cb),
    destroy: (err, cb) => { side.cancel(); cb(err); },
  });
  return w;
}

/**
 * A Node Duplex over a reader and a writer (a tulip connection handed to a
 * Node library that wants a socket-like stream): its read side is
 * {@link toReadable}'s, its write side {@link toWritable}'s; half-open.
 * @example
 * import { toDuplex, openConnection, type Coro } from 'tulip';
 * import { connect } from 'node:tls';
 * function* tlsOverTulip(port: number): Coro<void> {
 *   const [r, w] = yield* openConnection('127.0.0.1', port);
 *   const secure = connect({ socket: toDuplex(r, w), servername: 'localhost' });
 *   secure.end();
 * }
 */
export function toDuplex(reader: StreamReader, writer: StreamWriter, opts?: ToReadableOptions): Duplex {
  const loop = getEventLoop();
  const rs = readSide(loop, reader, chunkSizeOf(opts), () => d);
  const ws = writeSide(loop, writer, () => d);
  const d: Duplex = new Duplex({
    allowHalfOpen: true,
    readableHighWaterMark: 0,
    read: () => rs.read(),
    write: (chunk: Uint8Array, _enc, cb) => ws.write(chunk, cb),
    writev: (chunks, cb) => ws.writev(chunks.map((c) => c.chunk as Uint8Array), cb),
    final: (cb) => ws.final(cb),
    destroy: (err, cb) => { rs.cancel(); ws.cancel(); cb(err); },
  });
  return d;
}

function chunkSizeOf(opts: ToReadableOptions | undefined): number {
  const n = opts?.chunkSize ?? 64 * 1024;
  if (!(n > 0)) throw new RangeError(`chunkSize must be > 0, not ${n}`);
  return n;
}
