/**
 * The kernel's coroutine helpers: sleeping, starting tasks, and bridging
 * Promises. Everything here is built on Future, Task and the traps.
 */
import type { Awaitable, Coro, EventLoop } from './events.js';
import { getEventLoop, getRunningLoop } from './events.js';
import { Future, isThenable } from './future.js';
import { Task } from './task.js';
import { cede } from './traps.js';
import { track } from './debug.js';

function resolveSleep<T>(f: Future<T>, value: T): void { if (!f.done()) f.setResult(value); }

function* sleepBody<T>(ms: number, value: T): Coro<T> {
  if (!(ms > 0)) { yield* cede(); return value; }
  const loop = getRunningLoop();
  const f = new Future<T>({ loop, description: `sleep(${ms})` });
  const h = loop.callLater(ms, resolveSleep, f, value);
  try {
    return yield* f;
  } finally {
    h.cancel();
  }
}

/**
 * Suspend the current task for `ms` milliseconds, then return `value`.
 * `sleep(0)` lets every other ready task run once (no timer).
 * @example
 * function* blink() { for (;;) { console.log('on'); yield* sleep(500); console.log('off'); yield* sleep(500); } }
 */
export function sleep<T = void>(ms: number, value?: T): Coro<T> {
  return track(sleepBody(ms, value as T), 'sleep()');
}

/**
 * Start a coroutine (or wrap a Promise) as a task on the running loop.
 * @example
 * function* main() { const t = createTask(fetchAll(), { name: 'fetch' }); yield* sleep(10); return yield* t; }
 */
export function createTask<T>(aw: Coro<T> | PromiseLike<T>, opts?: { name?: string }): Task<T> {
  return getRunningLoop().createTask(aw, opts);
}

/**
 * A Future for any awaitable: a Future as is, a coroutine as a new task, a
 * Promise via {@link fromPromise}.
 * @example
 * const f = ensureFuture(sleep(10, 'done')); // a Task
 */
export function ensureFuture<T>(aw: Awaitable<T>, loop?: EventLoop): Future<T> {
  if (aw instanceof Future) {
    if (loop !== undefined && aw.getLoop() !== loop) throw new Error('the future belongs to another loop');
    return aw;
  }
  const l = loop ?? getEventLoop();
  if (isThenable(aw)) return fromPromise(aw, l);
  if (aw !== null && typeof aw === 'object' && typeof (aw).next === 'function') return l.createTask(aw);
  throw new TypeError(`cannot make a future of ${String(aw)}`);
}

interface PromiseCounting { _promiseStarted?(): void; _promiseSettled?(): void }

/**
 * A Future that settles with a Promise (so a coroutine can `yield*` it).
 * The Promise cannot be cancelled: cancelling the future only stops the
 * wait. In virtual time the clock does not move while such a Promise is
 * pending: real work takes no virtual time.
 * @example
 * const res = yield* fromPromise(fetch(url, { signal: currentTask()!.signal }));
 */
export function fromPromise<T>(p: PromiseLike<T>, loop?: EventLoop): Future<T> {
  const l = loop ?? getEventLoop();
  const f = new Future<T>({ loop: l, description: 'a Promise' });
  const c = l as PromiseCounting;
  c._promiseStarted?.();
  p.then(
    (v) => { c._promiseSettled?.(); if (!f.done()) f.setResult(v); },
    (e) => { c._promiseSettled?.(); if (!f.done()) f.setException(e); },
  );
  return f;
}

/**
 * The pending tasks of a loop (default: the running one).
 * @example
 * console.log([...allTasks()].map((t) => t.getName()));
 */
export function allTasks(loop?: EventLoop): Set<Task<unknown>> {
  const l = (loop ?? getRunningLoop()) as EventLoop & { _allTasks?(): Set<Task<unknown>> };
  return l._allTasks?.() ?? new Set();
}
