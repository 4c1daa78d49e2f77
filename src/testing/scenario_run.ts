/**
 * One run of a scenario for `exploreCancellation` and `simulate`: a fresh
 * TestEventLoop, the scenario as a task of its own (so an injected cancel
 * may end it while the runner itself carries on), a time limit in virtual
 * time, a grace period for the tasks it started to finish, and everything
 * a run may get wrong gathered into one outcome: its value or error, what
 * reached the loop's exception handler, and the tasks it left behind.
 */
import { CancelledError, DeadlockError } from '../kernel/errors.js';
import { allTasks, createTask, sleep } from '../kernel/coro.js';
import type { Coro, ExceptionContext } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { run } from '../kernel/run.js';
import { currentTask, type Task } from '../kernel/task.js';
import { TestEventLoop } from './test_loop.js';

/**
 * What one run of a scenario did.
 * @example
 * import type { ScenarioOutcome } from 'tulip/testing';
 * const check = (o: ScenarioOutcome<number>) => { if (o.error === undefined && o.value !== 42) throw new Error('wrong answer'); };
 */
export interface ScenarioOutcome<T> {
  /** The scenario's result, if it returned. */
  value?: T;
  /** What it threw (a `CancelledError` if it was cancelled), if it did not return. */
  error?: unknown;
  /** It did not finish within the time limit (it was cancelled then). */
  timedOut: boolean;
  /** What reached the loop's exception handler during the run (errors nobody retrieved, failing callbacks). */
  reports: ExceptionContext[];
  /** Tasks the scenario started that were still pending after the grace period: `name: what it waits on`. */
  leftover: string[];
  /** The virtual time when the run ended. */
  time: number;
  /** The seed of the run's loop. */
  seed: number;
}

/**
 * The checks every run gets unless an option relaxes them.
 * @example
 * import { LimitOverrunError } from 'tulip';
 * import type { RunChecks } from 'tulip/testing';
 * const opts: RunChecks = { allowError: (e) => e instanceof LimitOverrunError, allowReports: false };
 */
export interface RunChecks {
  /** An error the scenario may end with besides `CancelledError` (default: none). */
  allowError?: (e: unknown) => boolean;
  /** Accept reports to the loop's exception handler (default false: each one fails the run). */
  allowReports?: boolean;
  /** Accept tasks left pending after the grace period (default false). */
  allowLeftover?: boolean;
  /** Virtual ms after which the scenario is cancelled and the run fails (default one hour). */
  timeLimit?: number;
  /** Virtual ms the tasks a scenario started get to finish after it returns (default 1000). */
  grace?: number;
}

/** @internal run `body` once on a fresh TestEventLoop and gather its outcome. */
export async function runScenario<T>(body: (loop: TestEventLoop) => Coro<T>, seed: number, timerLag: number, checks: RunChecks): Promise<ScenarioOutcome<T>> {
  const loop = new TestEventLoop({ seed, timerLag });
  const out: ScenarioOutcome<T> = { timedOut: false, reports: [], leftover: [], time: 0, seed };
  loop.setExceptionHandler((_l, ctx) => { out.reports.push(ctx); });
  const limit = checks.timeLimit ?? 3_600_000;
  const grace = checks.grace ?? 1000;
  function* main(): Coro<void> {
    const self = currentTask()!;
    let deadlock: DeadlockError | null = null;
    const t: Task<T> = createTask(body(loop), { name: 'scenario' });
    const ended = new Future<void>({ description: 'the scenario' });
    t.addDoneCallback(() => { if (!ended.done()) ended.setResult(); });
    const guard = loop.callLater(limit, () => {
      // The clock jumped here because nothing else was pending but the give-up timer: nothing could wake the scenario.
      if (loop.pendingTimers() <= 1 && loop.readyCount() === 0) {
        const tasks = [...allTasks(loop)].filter((x) => x !== self).map((x) => ({ name: x.getName(), waitingOn: x.waitingOn() }));
        deadlock = new DeadlockError(tasks, 'no callback is ready and no timer is pending but the time limit\'s');
      } else out.timedOut = true;
      t.cancel('exploreCancellation/simulate: time limit');
    });
    const giveUp = loop.callLater(2 * limit, () => { if (!ended.done()) ended.setResult(); });
    yield* ended;
    guard.cancel();
    giveUp.cancel();
    if (deadlock !== null) out.error = deadlock;
    else if (!t.done()) out.error = new Error('the scenario did not finish its cleanup after it was cancelled at the time limit');
    else if (t.cancelled()) out.error = new CancelledError('the scenario was cancelled');
    else {
      const e = t.exception();
      if (e !== undefined) out.error = e;
      else out.value = t.result();
    }
    const pending = (): Task<unknown>[] => [...allTasks(loop)].filter((x) => x !== self && x !== t);
    const until = loop.time() + grace;
    while (pending().length > 0 && loop.time() < until) yield* sleep(1);
    out.leftover = pending().map((x) => `${x.getName()}: ${x.waitingOn()}`);
  }
  try {
    await run(main, { loop, handleSignals: false });
  } catch (e) {
    out.error ??= e;
  }
  out.time = loop.time();
  return out;
}

/** @internal the first thing wrong with `o` under `checks`, or null. */
export function defaultVerdict(o: ScenarioOutcome<unknown>, checks: RunChecks): string | null {
  if (o.timedOut) return `it did not finish within ${checks.timeLimit ?? 3_600_000} virtual ms`;
  const e = o.error;
  if (e instanceof DeadlockError) return `it deadlocked: ${e.message}`;
  if (e !== undefined && !(e instanceof CancelledError) && checks.allowError?.(e) !== true) return `it failed: ${describeError(e)}`;
  if (o.reports.length > 0 && checks.allowReports !== true) {
    const r = o.reports[0]!;
    return `the loop's exception handler got: ${r.message}${r.exception !== undefined ? ` (${describeError(r.exception)})` : ''}`;
  }
  if (o.leftover.length > 0 && checks.allowLeftover !== true) return `it left tasks pending: ${o.leftover.join('; ')}`;
  return null;
}

/** @internal {@link defaultVerdict}, then the user's check: returning false or throwing is a failure. */
export function checkedVerdict<O extends ScenarioOutcome<unknown>>(o: O, checks: RunChecks, check: ((o: O) => void | boolean) | undefined): string | null {
  const why = defaultVerdict(o, checks);
  if (why !== null || check === undefined) return why;
  try {
    return check(o) === false ? 'the check returned false' : null;
  } catch (e) {
    return `the check failed: ${describeError(e)}`;
  }
}

/** @internal */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
