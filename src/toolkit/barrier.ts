/**
 * Barrier: asyncio's barrier, built on a {@link Condition} like asyncio's.
 * It cycles through filling (tasks arrive), draining (the last arrival let
 * everyone through; newcomers wait until all have left), resetting
 * (`reset()` broke the current round; waiters get BrokenBarrierError) and
 * broken (`abort()`: every wait fails until `reset()`). A task cancelled
 * while it waits just leaves: it does not break the barrier for the others.
 */
import { BrokenBarrierError, type Coro } from '../kernel/index.js';
import { Condition } from './condition.js';

const FILLING = 0, DRAINING = 1, RESETTING = 2, BROKEN = 3;

/**
 * Lets `parties` tasks wait until all of them have arrived.
 * @example
 * const b = new Barrier(3);
 * function* worker(i: number): Coro<void> { yield* sleep(10 * i); const n = yield* b.wait(); if (n === 0) console.log('all ready'); }
 * yield* gather([worker(1), worker(2), worker(3)]);
 */
export class Barrier {
  readonly #parties: number;
  #cond = new Condition(undefined, 'Barrier.wait');
  #state = FILLING;
  #count = 0;

  constructor(parties: number) {
    if (!Number.isInteger(parties) || parties < 1) throw new RangeError(`Barrier parties must be an integer >= 1, got ${parties}`);
    this.#parties = parties;
  }

  /** How many tasks must arrive to let them through. */
  get parties(): number { return this.#parties; }
  /** How many tasks are waiting in the current round. */
  get nWaiting(): number { return this.#state === FILLING ? this.#count : 0; }
  /** True after `abort()` (until `reset()`). */
  get broken(): boolean { return this.#state === BROKEN; }

  /**
   * Wait until `parties` tasks have called `wait()`; returns this task's
   * arrival index (0 .. parties-1). Throws `BrokenBarrierError` if the
   * barrier is aborted or reset meanwhile.
   * @example
   * const barrier = new Barrier(2);
   * createTask(barrier.wait());
   * const i = yield* barrier.wait();   // 0 or 1: this task's place
   */
  wait(): Coro<number> {
    return this.#cond.withLock(() => this.#waitLocked());
  }

  *#waitLocked(): Coro<number> {
    yield* this.#cond.waitFor(() => this.#state !== DRAINING && this.#state !== RESETTING);
    if (this.#state === BROKEN) throw new BrokenBarrierError('Barrier aborted');
    try {
      const index = this.#count++;
      if (index + 1 === this.#parties) {
        this.#state = DRAINING;
        this.#cond.notifyAll();
      } else {
        yield* this.#cond.waitFor(() => this.#state !== FILLING);
        if (this.#state === BROKEN || this.#state === RESETTING) throw new BrokenBarrierError('Barrier aborted or reset');
      }
      return index;
    } finally {
      this.#count--;
      if (this.#count === 0) {
        if (this.#state === RESETTING || this.#state === DRAINING) this.#state = FILLING;
        this.#cond.notifyAll();
      }
    }
  }

  /**
   * Return the barrier to its empty state; tasks waiting in the current
   * round get `BrokenBarrierError`.
   * @example
   * const barrier = new Barrier(2);
   * yield* barrier.reset();   // waiting tasks get BrokenBarrierError; the barrier is usable again
   */
  reset(): Coro<void> {
    return this.#cond.withLock(function* (this: Barrier) {
      this.#state = this.#count > 0 ? RESETTING : FILLING;
      this.#cond.notifyAll();
    }.bind(this));
  }

  /**
   * Put the barrier in the broken state: current and future `wait()` calls
   * throw `BrokenBarrierError` until `reset()`.
   * @example
   * const barrier = new Barrier(2);
   * yield* barrier.abort();   // every wait() fails with BrokenBarrierError from now on
   */
  abort(): Coro<void> {
    return this.#cond.withLock(function* (this: Barrier) {
      this.#state = BROKEN;
      this.#cond.notifyAll();
    }.bind(this));
  }

  /** A short description for logs and debugging. */
  toString(): string { return `<Barrier parties=${this.#parties} waiting=${this.nWaiting}${this.broken ? ' broken' : ''}>`; }
}
