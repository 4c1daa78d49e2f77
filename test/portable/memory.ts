/**
 * Two transports joined in memory, as a socket pair would be: what one
 * writes, the other receives one loop batch later, in order; a reader that
 * pauses leaves the data queued on the writer's side (its write buffer,
 * so flow control works); `close()` flushes then sends EOF; `abort()`
 * resets the peer. Built on StreamTransportBase, so the call order and
 * flow-control rules are the real ones.
 */
import { StreamTransportBase, connectionLostError, type EventLoop, type Protocol } from '../../src/core.js';

const enc = new TextEncoder();

class MemoryTransport extends StreamTransportBase {
  peer!: MemoryTransport;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #peerReading = true;
  #pumping = false;
  #eofAfterQueue = false;
  #closeAfterQueue = false;

  protected _send(data: Uint8Array | string, _notify: boolean): void {
    const b = typeof data === 'string' ? enc.encode(data) : data;
    this.#queue.push(b);
    this.#queued += b.length;
    this.#pump();
  }
  protected _sendMany(list: (Uint8Array | string)[], notify: boolean): void { for (const d of list) this._send(d, notify); }
  protected _bufferSize(): number { return this.#queued; }
  protected _shutdown(): void { this.#eofAfterQueue = true; this.#pump(); }
  protected _closeGracefully(): void { this.#closeAfterQueue = true; this.#pump(); }
  protected _destroy(): void {
    this.#queue = []; this.#queued = 0;
    this._loop.callSoon(() => { this.peer._connectionLost(connectionLostError()); this._connectionLost(); });
  }
  protected _setReading(on: boolean): void { this.peer.#peerReading = on; if (on) this.peer.#pump(); }

  /** Deliver the queue to the peer, one chunk per loop batch, while the peer reads. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this._loop.callSoon(() => {
      this.#pumping = false;
      if (this._lost) return;
      if (this.#queue.length > 0 && this.#peerReading && !this.peer._lost) {
        const b = this.#queue.shift()!;
        this.#queued -= b.length;
        this.peer._dataReceived(b);
        this._flushed();
      }
      if (this.#queue.length > 0) { if (this.#peerReading) this.#pump(); return; }
      if (this.#eofAfterQueue) { this.#eofAfterQueue = false; this.peer._eofReceived(); }
      if (this.#closeAfterQueue) { this.#closeAfterQueue = false; this.peer._eofReceived(); this._connectionLost(); }
    });
  }
}

/** A connected pair of transports on `loop`, each with its protocol (`connectionMade` is called on both). */
export function memoryPair(loop: EventLoop, a: Protocol, b: Protocol): [StreamTransportBase, StreamTransportBase] {
  const ta = new MemoryTransport(loop, a), tb = new MemoryTransport(loop, b);
  ta.peer = tb; tb.peer = ta;
  ta._connectionMade(); tb._connectionMade();
  return [ta, tb];
}
