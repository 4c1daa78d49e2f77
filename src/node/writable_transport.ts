/**
 * The write side that every Node-backed stream transport shares (sockets,
 * write pipes): the send hooks of StreamTransportBase on a Node Writable.
 * Only a write that crosses the high-water mark (or one made while writing
 * is paused) carries a callback, so flow control costs nothing per write
 * while the buffer stays low; `writeLines` is one corked, vectored write.
 */
import type { Writable } from 'node:stream';
import { StreamTransportBase } from '../protocols/stream_transport.js';

type Bytes = Uint8Array | string;

/** A StreamTransportBase that writes to a Node Writable (the base of SocketTransport; not exported from the package). */
export abstract class WritableTransport extends StreamTransportBase {
  /** Made on first use: only a write that crosses the high-water mark waits for the flush. */
  #flushedCb: ((err?: Error | null) => void) | null = null;

  /** The stream written to. */
  protected abstract _writable(): Writable;
  /** May a flushed write still resume writing? Not once the stream is gone. */
  protected _flushCounts(): boolean { return !this._writable().destroyed; }

  protected _send(data: Bytes, notify: boolean): void {
    if (notify) this._writable().write(data, this.#flushed());
    else this._writable().write(data);
  }

  protected _sendMany(list: Bytes[], notify: boolean): void {
    const s = this._writable();
    s.cork();
    const last = list.length - 1;
    for (let i = 0; i < last; i++) s.write(list[i]!);
    this._send(list[last]!, notify);
    s.uncork();
  }

  protected _bufferSize(): number { return this._writable().writableLength; }

  #flushed(): (err?: Error | null) => void {
    return this.#flushedCb ??= (err?: Error | null): void => { if (err == null && this._flushCounts()) this._flushed(); };
  }
}
