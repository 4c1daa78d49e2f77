/**
 * Deadlines that all run the same duration (a server's header timeout, or
 * its keep-alive timeout), kept as Node keeps its timer lists: armed items
 * join the tail of an intrusive list, so the list is in deadline order,
 * and one loop timer waits for the head. Arming and disarming move links
 * only: a connection pays no timer object for its deadline, and a request
 * on a kept-alive connection no timer operation. The timer is lazy: it
 * fires at the old head's deadline and re-arms for whatever is first now.
 */
import type { EventLoop } from '../../kernel/events.js';
import type { TimerHandle } from '../../kernel/handles.js';

/** @internal what a list links: the fields are the list's. */
export interface DeadlineItem {
  _dlPrev: DeadlineItem | null;
  _dlNext: DeadlineItem | null;
  _dlList: DeadlineList | null;
  _dlWhen: number;
  /** The deadline passed (the item is no longer in the list). */
  _expired(list: DeadlineList): void;
}

function fire(list: DeadlineList): void { list._fire(); }

/** @internal one duration's deadlines, in order, under one timer. */
export class DeadlineList {
  readonly #loop: EventLoop;
  readonly #ms: number;
  #head: DeadlineItem | null = null;
  #tail: DeadlineItem | null = null;
  #timer: TimerHandle | null = null;

  constructor(loop: EventLoop, ms: number) {
    this.#loop = loop;
    this.#ms = ms;
  }

  /** Arm `item` for `ms` from now (out of any list it was in). */
  add(item: DeadlineItem): void {
    if (item._dlList !== null) item._dlList.remove(item);
    item._dlWhen = this.#loop.time() + this.#ms;
    item._dlList = this;
    item._dlPrev = this.#tail;
    item._dlNext = null;
    if (this.#tail === null) this.#head = item;
    else this.#tail._dlNext = item;
    this.#tail = item;
    if (this.#timer === null) this.#timer = this.#loop.callAt(item._dlWhen, fire, this);
  }

  /** Disarm `item`. */
  remove(item: DeadlineItem): void {
    if (item._dlList !== this) return;
    const p = item._dlPrev, n = item._dlNext;
    if (p === null) this.#head = n; else p._dlNext = n;
    if (n === null) this.#tail = p; else n._dlPrev = p;
    item._dlPrev = item._dlNext = null;
    item._dlList = null;
  }

  /** @internal the timer: expire what is due, then wait for the next. */
  _fire(): void {
    this.#timer = null;
    const now = this.#loop.time();
    for (let h = this.#head; h !== null && h._dlWhen <= now; h = this.#head) {
      this.remove(h);
      h._expired(this);
    }
    if (this.#head !== null && this.#timer === null) this.#timer = this.#loop.callAt(this.#head._dlWhen, fire, this);
  }

  /** Stop the timer (the server is gone). */
  close(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}
