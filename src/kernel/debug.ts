/**
 * Debug-mode bookkeeping that costs nothing when debug mode is off.
 *
 * A coroutine object that is created and never driven (`sleep(100)` written
 * without `yield*`) does nothing, silently: the classic mistake. JavaScript
 * has no hook on generator creation, so tulip tracks the coroutines made by
 * its own functions and by functions wrapped with {@link coroutine}: while
 * any loop is in debug mode, each such coroutine remembers where it was
 * created, and one that is collected, or still alive when its loop closes,
 * without ever having been started is reported to the loop's exception
 * handler with that stack.
 */
import type { Coro, EventLoop, Suspend } from './events.js';
import { _getRunningLoopOrNull } from './events.js';

let debugLoops = 0;

/** @internal a loop entered or left debug mode. */
export function _noteDebugLoop(delta: 1 | -1): void { debugLoops += delta; }

interface Origin { name: string; stack: string; loop: EventLoop | null; started: boolean }

const notStarted = new FinalizationRegistry<Origin>((o) => { if (!o.started) report(o); });
const alive = new Map<EventLoop, Set<WeakRef<TrackedCoro<unknown>>>>();

function report(o: Origin): void {
  const ctx = { message: `coroutine ${o.name} was never driven (created but not started with yield*, createTask or run)`, sourceTraceback: o.stack };
  if (o.loop !== null) o.loop.callExceptionHandler(ctx);
  else console.error(`${ctx.message}\n${o.stack}`);
}

class TrackedCoro<T> implements Coro<T> {
  readonly #gen: Coro<T>;
  readonly #origin: Origin;
  constructor(gen: Coro<T>, origin: Origin) { this.#gen = gen; this.#origin = origin; }
  next(v?: unknown): IteratorResult<Suspend, T> { this.#origin.started = true; return this.#gen.next(v); }
  throw(e: unknown): IteratorResult<Suspend, T> { this.#origin.started = true; return this.#gen.throw(e); }
  return(v?: any): IteratorResult<Suspend, T> { this.#origin.started = true; return this.#gen.return(v); }
  [Symbol.iterator](): this { return this; }
  /** @internal */ get _origin(): Origin { return this.#origin; }
}

/** @internal is any loop in debug mode? (Tulip functions call {@link track} only then.) */
export function _debugOn(): boolean { return debugLoops !== 0; }

/**
 * @internal the frames of `here.stack` below its first one: `here` is an Error made by the tulip function that
 * made the coroutine, so what is left starts with that function's caller. V8 (and Bun) start a stack with an
 * `Error` header line; JavaScriptCore in Safari and SpiderMonkey do not. The Error is made there, not in
 * `track()`, because JavaScriptCore drops the frame of a function that returns a call's result (and Bun's
 * compiler makes `const c = f(); return c;` such a call), so counting frames above `track()` is unreliable.
 */
export function _creationFrames(stack: string): string {
  const lines = stack.split('\n');
  const header = lines[0] === 'Error' || lines[0]?.startsWith('Error: ') === true ? 1 : 0;
  return lines.slice(header + 1).join('\n');
}

/**
 * @internal wrap `gen` for never-driven detection; `here` is `new Error()` made by the tulip function that made
 * `gen` (call it only when {@link _debugOn} says so: `_debugOn() ? track(gen, 'f()', new Error()) : gen`).
 */
export function track<T>(gen: Coro<T>, name: string, here: Error): Coro<T> {
  if (debugLoops === 0) return gen;
  const stack = _creationFrames(here.stack ?? '');
  const loop = _getRunningLoopOrNull();
  const origin: Origin = { name, stack, loop, started: false };
  const t = new TrackedCoro(gen, origin);
  notStarted.register(t, origin, t);
  if (loop !== null) {
    let set = alive.get(loop);
    if (set === undefined) alive.set(loop, (set = new Set()));
    set.add(new WeakRef(t));
  }
  return t;
}

/** @internal the loop closes: report its coroutines that are alive and never started. */
export function _reportNeverDriven(loop: EventLoop): void {
  const set = alive.get(loop);
  if (set === undefined) return;
  alive.delete(loop);
  for (const ref of set) {
    const t = ref.deref();
    if (t === undefined) continue;
    notStarted.unregister(t);
    if (!t._origin.started) report(t._origin);
  }
}

/**
 * Mark a generator function as a tulip coroutine function: in debug mode,
 * a coroutine it returns that is never driven is reported with the place it
 * was created.
 * @example
 * const fetchUser = coroutine(function* fetchUser(id: number) { yield* sleep(10); return { id }; });
 * fetchUser(1);   // debug mode reports: coroutine fetchUser() was never driven
 */
export function coroutine<A extends unknown[], T>(fn: (...args: A) => Coro<T>): (...args: A) => Coro<T> {
  const name = `${fn.name || 'anonymous'}()`;
  const wrapped = (...args: A): Coro<T> => (debugLoops === 0 ? fn(...args) : track(fn(...args), name, new Error()));
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped;
}
