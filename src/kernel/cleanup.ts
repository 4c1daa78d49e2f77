/**
 * What a region of a task (a scope, or the task itself outside any scope)
 * must do when it ends: the cleanups registered with `defer()`, and the
 * resources it owns (a child process) that must not outlive a halt.
 *
 * Why the region drives these itself instead of leaving them to `finally`:
 * JavaScript's `yield*` forgets a `return()` once a `finally` below it has
 * waited, so a `finally` that waits must end with `rehalt()`. A region's
 * frame steps each cleanup by hand, as `yield*` would, and knows whether a
 * `return()` from above reached it meanwhile; the frame then delivers that
 * halt onward itself. A `return()` arriving while a cleanup runs interrupts
 * that one (the "second Ctrl-C"); the others still run. An error thrown by
 * a cleanup is kept and raised once every cleanup has run.
 *
 * Owned resources are ended only when their region ends abnormally (halted
 * or failed), after the user's cleanups had their chance to end them gently.
 * All are told to end at once (a child gets SIGTERM), then each is waited
 * for, so three children cost one grace period, not three. A region that
 * ends normally hands them to the region around it: a process returned out
 * of a `timeout()` body still belongs to its caller.
 */
import type { Coro, Suspend } from './events.js';
import { REHALT } from './traps.js';

/** A cleanup given to `defer()`: a function, or a generator function whose coroutine is driven to its end. */
export type Cleanup = () => void | Coro<void>;

/** @internal a resource a region must end if it ends abnormally (a child process). */
export interface OwnedResource {
  /** @internal the region that owns it now, or null */ _owner: Cleanups | null;
  /** @internal start ending it, without waiting (a child process: SIGTERM) */ _haltBegin(): void;
  /** @internal wait until it has ended (a child process: reaped; SIGKILL after a grace period) */ _haltFinish(): Coro<void>;
}

/** @internal the cleanups and owned resources of one region. */
export class Cleanups {
  readonly defers: Cleanup[] = [];
  readonly owned: OwnedResource[] = [];

  /** Nothing registered. */
  isEmpty(): boolean { return this.defers.length === 0 && this.owned.length === 0; }

  /** Take ownership of `r` (from whichever region owned it). */
  own(r: OwnedResource): void {
    r._owner?.disown(r);
    r._owner = this;
    this.owned.push(r);
  }

  /** `r` ended by itself, or was handed elsewhere. */
  disown(r: OwnedResource): void {
    const i = this.owned.indexOf(r);
    if (i >= 0) this.owned.splice(i, 1);
    if (r._owner === this) r._owner = null;
  }
}

/** @internal what a drain saw, for the frame that runs it. */
export interface DrainState {
  /** a cleanup suspended (so a halt that passed through the frames above must be delivered again) */
  suspended: boolean;
  /** a `return()` from above arrived while a cleanup ran */
  interrupted: boolean;
}

const NEXT = 0, THROW = 1, RETURN = 2;

function isCoro(x: unknown): x is Coro<void> {
  return x !== null && typeof x === 'object' && typeof (x as Coro<void>).next === 'function' && typeof (x as Coro<void>).return === 'function';
}

/** The next cleanup of `cl`, LIFO; then its owned resources: ended if `abnormal`, else handed to `parent` (null: let go). */
function take(cl: Cleanups, abnormal: boolean, errors: unknown[], parent: (() => Cleanups | null) | null): Cleanup | null {
  const d = cl.defers.pop();
  if (d !== undefined) return d;
  if (cl.owned.length === 0) return null;
  const owned = cl.owned.splice(0);
  if (!abnormal && errors.length === 0) {
    const p = parent?.() ?? null;
    for (const o of owned) { o._owner = null; p?.own(o); }
    return null;
  }
  for (const o of owned) {
    o._owner = null;
    try { o._haltBegin(); } catch (e) { errors.push(e); }
  }
  for (const o of owned) cl.defers.push(() => o._haltFinish());
  return cl.defers.pop() ?? null;
}

/**
 * @internal Run every cleanup of `cl` (LIFO, then the owned resources), driving each coroutine as `yield*`
 * would. Errors go to `errors`; once all have run, if there are more than `skip` of them (the caller may have
 * put its body's own error first), they are thrown as one. A `return()` from above interrupts the cleanup
 * that runs, and the rest still run (all as after a halt); `st` records it, so the caller delivers the halt
 * onward afterwards. The errors are thrown even when such a return passes straight through (it is replaced,
 * as an error in a `finally` replaces a return).
 */
export function* drainCleanups(
  cl: Cleanups, abnormal: boolean, errors: unknown[], parent: (() => Cleanups | null) | null, st: DrainState,
  what: string, skip = 0,
): Coro<void> {
  try {
    yield* drain(cl, abnormal, errors, parent, st, null);
  } finally {
    // eslint-disable-next-line no-unsafe-finally -- an error of a cleanup replaces a return passing through
    if (errors.length > skip) throw oneError(errors, what);
  }
}

function* drain(
  cl: Cleanups, abnormal: boolean, errors: unknown[], parent: (() => Cleanups | null) | null, st: DrainState,
  running: Coro<void> | null,
): Coro<void> {
  let co = running;
  let returned = running !== null;   // this coroutine was sent return(): a REHALT it yields asks for another
  let mode = returned ? RETURN : NEXT;
  let arg: unknown = undefined;
  for (;;) {
    if (co === null) {
      const next = take(cl, abnormal, errors, parent);
      if (next === null) return;
      let x: unknown;
      try { x = next(); } catch (e) { errors.push(e); continue; }
      if (!isCoro(x)) continue;
      co = x; mode = NEXT; arg = undefined; returned = false;
    }
    let r: IteratorResult<Suspend, void>;
    try {
      r = mode === NEXT ? co.next(arg) : mode === THROW ? co.throw(arg) : co.return(undefined);
    } catch (e) {
      errors.push(e);
      co = null;
      continue;
    }
    if (r.done) { co = null; continue; }
    if (r.value === REHALT) { mode = returned ? RETURN : NEXT; arg = undefined; continue; }
    st.suspended = true;
    let fromAbove = true;
    try {
      arg = yield r.value;
      fromAbove = false;
      mode = NEXT;
    } catch (e) {
      fromAbove = false;
      mode = THROW;
      arg = e;
    } finally { // eslint-disable-line tulip/require-rehalt -- interrupted (st.interrupted): the frame that drains re-halts
      if (fromAbove) {
        // A return() from above: interrupt this cleanup, run the rest here (a generator being returned can
        // only go on in its finally), as after a halt.
        st.interrupted = true;
        yield* drain(cl, true, errors, parent, st, co);
      }
    }
  }
}

/** @internal one error for several: the only one as is, else an AggregateError of all. */
export function oneError(errors: unknown[], what: string): unknown {
  return errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} errors in ${what}`);
}
