/**
 * timeout, timeoutAt and moveOnAfter: a deadline around any code, built on
 * the kernel's CancelScope (docs/design.md, "How a scope halts its body"). The scope
 * halts its body when its own deadline passes, drives the body's cleanup,
 * and only then does this frame throw `TimeoutError` (or return
 * `undefined`) as ordinary code, so the caller may catch it and carry on.
 * Because the scope only converts a halt it caused itself, nested scopes
 * each answer for their own deadline, a deadline passing during cleanup
 * does not make a second error, and a task-level cancel unwinds through
 * unconverted.
 */
import { CancelScope, InvalidStateError, TimeoutError, getRunningLoop, type Coro } from '../kernel/index.js';

/**
 * The deadline of a running `timeout()`/`timeoutAt()`/`moveOnAfter()`
 * scope, as asyncio's `Timeout` object: read it, move it, or drop it.
 * @example
 * yield* timeout(1000, function* (d) {
 *   const [reader, writer] = yield* openConnection('127.0.0.1', 8888);   // the handshake gets 1 s
 *   d.reschedule(getRunningLoop().time() + 5000);                     // more time for the transfer
 *   writer.write('SEND\n');
 *   console.log((yield* reader.read()).length);
 * });
 */
export interface Deadline {
  /** The deadline in loop time (ms), or `null` for none. */
  when(): number | null;
  /** Move the deadline (`null`: none). One already past halts the body at once. */
  reschedule(when: number | null): void;
  /** True once the deadline has passed and the scope is halting (or has halted) its body. */
  expired(): boolean;
}

class ScopeDeadline implements Deadline {
  readonly #scope: CancelScope;
  #exited = false;
  constructor(scope: CancelScope) { this.#scope = scope; }
  when(): number | null { return this.#scope.deadline; }
  reschedule(when: number | null): void {
    if (this.#exited) throw new InvalidStateError('Deadline.reschedule(): the scope has already exited');
    if (this.#scope.cancelCalled) throw new InvalidStateError('Deadline.reschedule(): the deadline has already expired');
    this.#scope.deadline = when;
  }
  expired(): boolean { return this.#scope.cancelCalled; }
  /** @internal */ _exit(): void { this.#exited = true; }
}

function* runScope<T>(when: number | null, name: string, body: ((d: Deadline) => Coro<T>) | Coro<T>): Coro<[T | undefined, boolean]> {
  const scope = new CancelScope({ deadline: when, name });
  const d = new ScopeDeadline(scope);
  try {
    const v = yield* scope.run(typeof body === 'function' ? body(d) : body);
    return [v, scope.cancelledCaught];
  } finally {
    d._exit();
  }
}

function deadlineAfter(ms: number | null): number | null {
  return ms === null ? null : getRunningLoop().time() + ms;
}

/**
 * Run `body` with a deadline at loop time `when` (`null`: none); if it
 * passes, the body is halted (its `finally` blocks run) and `TimeoutError`
 * is thrown here.
 * @example
 * const loop = getRunningLoop();
 * yield* timeoutAt(loop.time() + 500, () => openConnection('127.0.0.1', 8888));
 */
export function* timeoutAt<T>(when: number | null, body: ((d: Deadline) => Coro<T>) | Coro<T>): Coro<T> {
  const [v, timedOut] = yield* runScope(when, 'timeout', body);
  if (timedOut) throw new TimeoutError(when === null ? 'timed out' : `timed out (deadline ${when.toFixed(1)})`);
  return v as T;
}

/**
 * Run `body` for at most `ms` milliseconds (`null`: no limit); if the time
 * is up, the body is halted (its `finally` blocks run) and `TimeoutError`
 * is thrown here, where the caller may catch it. `body` is a generator
 * function (given the {@link Deadline}) or a coroutine.
 * @example
 * try {
 *   const page = yield* timeout(5000, function* () { return yield* fromPromise((signal) => fetch('http://127.0.0.1:8080/', { signal })); });
 * } catch (e) { if (e instanceof TimeoutError) console.log('too slow'); }
 */
export function* timeout<T>(ms: number | null, body: ((d: Deadline) => Coro<T>) | Coro<T>): Coro<T> {
  const [v, timedOut] = yield* runScope(deadlineAfter(ms), `timeout(${ms})`, body);
  if (timedOut) throw new TimeoutError(`timed out after ${ms} ms`);
  return v as T;
}

/**
 * Run `body` for at most `ms` milliseconds; if the time is up, the body is
 * halted (its `finally` blocks run) and `undefined` is returned instead.
 * @example
 * const answer = yield* moveOnAfter(100, function* () { return yield* sleep(500, 42); });
 * if (answer === undefined) console.log('no answer, carrying on');
 */
export function* moveOnAfter<T>(ms: number | null, body: ((d: Deadline) => Coro<T>) | Coro<T>): Coro<T | undefined> {
  const [v] = yield* runScope(deadlineAfter(ms), `moveOnAfter(${ms})`, body);
  return v;
}

/**
 * Like {@link moveOnAfter}, with a deadline in loop time.
 * @example
 * yield* moveOnAt(getRunningLoop().time() + 100, function* () { for (;;) { console.log('polling'); yield* sleep(30); } });
 */
export function* moveOnAt<T>(when: number | null, body: ((d: Deadline) => Coro<T>) | Coro<T>): Coro<T | undefined> {
  const [v] = yield* runScope(when, 'moveOnAt', body);
  return v;
}
