/**
 * Links and pipes: how bytes cross the virtual network.
 *
 * A `Link` joins two hosts and holds their shared setting (latency, jitter,
 * bandwidth, loss) and state (partitioned, when each direction's wire is
 * next free). A `Pipe` is one direction of one stream connection: a FIFO of
 * packets, each stamped with its arrival time, and one loop timer armed for
 * the head. Arrival times never decrease along a pipe, so a stream never
 * reorders, whatever the jitter. When a packet falls due while its link is
 * partitioned, the whole pipe stalls behind it; `heal` re-stamps what is
 * queued from the heal time on and lets it flow again, in order.
 */
import type { TestEventLoop } from './test_loop.js';

/**
 * The setting of a link between two hosts; missing fields take their defaults.
 * @example
 * const loop = getRunningLoop() as TestEventLoop;   // in runVirtual()
 * loop.network.addHost('client');
 * loop.network.addHost('server');
 * loop.network.setLink('client', 'server', { latency: 40, jitter: 10, bandwidth: 1_000_000, loss: 0.01 });
 */
export interface LinkSetting {
  /** One-way delay in ms (default 0). */
  latency?: number;
  /** Extra one-way delay, uniform in [0, jitter) ms, drawn from the seed (default 0). */
  jitter?: number;
  /** Bytes per second in each direction, shared by the link's connections (default Infinity). */
  bandwidth?: number;
  /** Probability that a datagram is lost (default 0); streams never lose data. */
  loss?: number;
}

/** @internal */
export class Link {
  latency = 0;
  jitter = 0;
  bandwidth = Infinity;
  loss = 0;
  partitioned = false;
  /** Per direction (0: from `a`), when the wire is free again. */
  readonly busy = [0, 0];
  /** Pipes stalled by the partition, in the order they stalled. */
  held: Pipe[] = [];
  /** Datagrams held by the partition: each resends itself on heal. */
  heldDatagrams: Array<() => void> = [];

  constructor(readonly a: string, readonly b: string, readonly random: () => number) {}

  set(s: LinkSetting): void {
    const num = (v: number | undefined, d: number, name: string): number => {
      const x = v ?? d;
      if (!(x >= 0)) throw new RangeError(`setLink: ${name} must be >= 0 (got ${v})`);
      return x;
    };
    this.latency = num(s.latency, 0, 'latency');
    this.jitter = num(s.jitter, 0, 'jitter');
    this.bandwidth = num(s.bandwidth, Infinity, 'bandwidth');
    this.loss = num(s.loss, 0, 'loss');
    if (this.bandwidth === 0) throw new RangeError('setLink: bandwidth must be > 0');
    if (this.loss > 1) throw new RangeError('setLink: loss is a probability in [0, 1]');
  }

  /** When `bytes` sent now from host `from` arrive (before any per-pipe clamp). */
  arrival(now: number, from: string, bytes: number): number {
    let t = now;
    if (bytes > 0 && this.bandwidth !== Infinity) {
      const d = from === this.a ? 0 : 1;
      t = Math.max(now, this.busy[d]!) + (bytes * 1000) / this.bandwidth;
      this.busy[d] = t;
    }
    t += this.latency;
    if (this.jitter > 0) t += this.random() * this.jitter;
    return t;
  }

  /** Draw whether a datagram is lost. */
  lose(): boolean { return this.loss > 0 && this.random() < this.loss; }

  heal(): void {
    this.partitioned = false;
    const pipes = this.held, dgrams = this.heldDatagrams;
    this.held = [];
    this.heldDatagrams = [];
    for (const p of pipes) p._release();
    for (const d of dgrams) d();
  }
}

/** @internal packet kinds. */
export const SYN = 0, ACCEPT = 1, REFUSE = 2, DATA = 3, FIN = 4, RST = 5;

/** @internal */
export interface Packet { kind: number; data: Uint8Array | null; at: number }

/** @internal what a pipe delivers to: the connection, told which of its pipes it is. */
export interface PipeEnds {
  _arrive(pipe: Pipe, p: Packet): void;
  _drained(pipe: Pipe): void;
}

/**
 * @internal one loop timer per distinct delivery time, shared by every pipe
 * due then: without jitter, thousands of connections in step cost one timer
 * per step instead of one per packet.
 */
export class Wire {
  readonly #slots = new Map<number, Pipe[]>();
  constructor(readonly loop: TestEventLoop) {}

  at(when: number, p: Pipe): void {
    let s = this.#slots.get(when);
    if (s === undefined) {
      s = [];
      this.#slots.set(when, s);
      this.loop.callAt(when, fireSlot, this, when);
    }
    s.push(p);
  }

  /** @internal */
  _fire(when: number): void {
    const s = this.#slots.get(when);
    if (s === undefined) return;
    this.#slots.delete(when);
    for (const p of s) p._due(when);
  }

  clear(): void { this.#slots.clear(); }
}

function fireSlot(w: Wire, when: number): void { w._fire(when); }

/** @internal one direction of a stream connection. */
export class Pipe {
  #q: Packet[] = [];
  #head = 0;
  #armedAt = -1;
  #last = -Infinity;
  #stalled = false;
  #dead = false;
  /** Data bytes queued (sent, not yet delivered). */
  inFlight = 0;

  constructor(
    readonly loop: TestEventLoop,
    readonly wire: Wire,
    readonly link: Link,
    readonly from: string,
    readonly ends: PipeEnds,
  ) {}

  send(kind: number, data: Uint8Array | null): void {
    if (this.#dead) return;
    let at = this.link.arrival(this.loop.time(), this.from, data === null ? 0 : data.length);
    if (at < this.#last) at = this.#last;
    this.#last = at;
    this.#q.push({ kind, data, at });
    if (data !== null) this.inFlight += data.length;
    if (!this.#stalled && this.#armedAt < 0) this.#arm();
  }

  #arm(): void {
    const p = this.#q[this.#head];
    if (p === undefined || p.at === this.#armedAt || this.loop.isClosed()) return;
    this.#armedAt = p.at;
    this.wire.at(p.at, this);
  }

  /** @internal a wire slot fell due; stale ones (the pipe was re-armed, stalled or killed) are ignored. */
  _due(when: number): void {
    if (when !== this.#armedAt || this.#dead) return;
    this.#armedAt = -1;
    this.#fire();
  }

  #fire(): void {
    const now = this.loop.time();
    const q = this.#q;
    let delivered = false;
    while (this.#head < q.length && !this.#dead) {
      const p = q[this.#head]!;
      if (p.at > now) break;
      if (this.link.partitioned) { this.#stalled = true; this.link.held.push(this); break; }
      q[this.#head++] = undefined as unknown as Packet;
      if (p.data !== null) { this.inFlight -= p.data.length; delivered = true; }
      this.ends._arrive(this, p);
    }
    if (this.#head === q.length) { q.length = 0; this.#head = 0; }
    if (!this.#stalled && !this.#dead) this.#arm();
    if (delivered && !this.#dead) this.ends._drained(this);
  }

  /** @internal the partition healed: re-stamp what is queued from now on, in order. */
  _release(): void {
    if (this.#dead) return;
    this.#stalled = false;
    const now = this.loop.time();
    let last = -Infinity;
    for (let i = this.#head; i < this.#q.length; i++) {
      const p = this.#q[i]!;
      let at = this.link.arrival(now, this.from, p.data === null ? 0 : p.data.length);
      if (at < last) at = last;
      p.at = last = at;
    }
    this.#last = Math.max(this.#last, last);
    this.#armedAt = -1;
    this.#arm();
  }

  /** Drop everything in flight; nothing more is sent or delivered. */
  kill(): void {
    this.#dead = true;
    this.#armedAt = -1;
    this.#q = [];
    this.#head = 0;
    this.inFlight = 0;
  }
}
