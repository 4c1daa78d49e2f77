/**
 * The loop's ready queue: a FIFO ring buffer. In a ping-pong between two
 * tasks every batch holds one entry, so the queue empties and refills at
 * every task switch; a ring never reallocates for that (an array emptied by
 * `length = 0` gives up its storage and allocates it again at the next push).
 */
import type { Runnable } from './future.js';

export class ReadyQueue {
  #buf: Array<Runnable | undefined> = new Array<Runnable | undefined>(64);
  #mask = 63;
  #head = 0;
  #size = 0;

  get size(): number { return this.#size; }

  push(r: Runnable): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & this.#mask] = r;
    this.#size++;
  }

  /** Remove and return the oldest entry; the queue must not be empty. */
  shift(): Runnable {
    const i = this.#head;
    const r = this.#buf[i]!;
    this.#buf[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#size--;
    return r;
  }

  clear(): void {
    this.#buf = new Array<Runnable | undefined>(64);
    this.#mask = 63;
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#buf, n = old.length;
    const buf = new Array<Runnable | undefined>(n * 2);
    for (let i = 0; i < n; i++) buf[i] = old[(this.#head + i) & this.#mask];
    this.#buf = buf;
    this.#mask = n * 2 - 1;
    this.#head = 0;
  }
}
