/**
 * exploreCancellation: cancellation injected at every suspension point of
 * the code under test, in virtual time.
 *
 * Cancellation is where concurrent code hides its bugs: a lock still held,
 * an item lost, a socket nobody closes, a cleanup that never ends. They
 * live at the exact moment a cancel lands, which ordinary tests never hit.
 * So the explorer runs a scenario once to count the suspension points of
 * the code marked as under test (`x.target(body)`: every value its body
 * yields to the scheduler is one), then runs it again once per point and
 * way of cancelling, and checks the outcome each time. The ways: the
 * task's own `cancel()` inside the step that suspends (before the task
 * even waits), one batch later and two batches later (the awaited future
 * may have completed meanwhile: the hand-off races), and the halt of a
 * scope around the body (a timeout firing there). A run is a pure function
 * of the seed, so a failure names its point and mode in a replay handle.
 */
import { CancelledError } from '../kernel/errors.js';
import type { Coro, Suspend } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { CancelScope } from '../kernel/scope.js';
import { currentTask } from '../kernel/task.js';
import { checkedVerdict, runScenario, type RunChecks, type ScenarioOutcome } from './scenario_run.js';
import type { TestEventLoop } from './test_loop.js';

/**
 * How a rerun cancels at its point: the task's `cancel()` inside the step
 * that suspends (`'step'`), one or two batches later (`'batch+1'`,
 * `'batch+2'`), or the halt of a scope around the target's body (`'scope'`).
 * @example
 * import type { CancelMode } from 'tulip/testing';
 * const modes: CancelMode[] = ['step', 'scope'];
 */
export type CancelMode = 'step' | 'batch+1' | 'batch+2' | 'scope';

const ALL_MODES: readonly CancelMode[] = ['step', 'batch+1', 'batch+2', 'scope'];

/**
 * What a scenario of {@link exploreCancellation} gets: the loop, and
 * `target()` to mark the code under test.
 * @example
 * import { Lock, sleep } from 'tulip';
 * import type { Explorer } from 'tulip/testing';
 * const lock = new Lock();
 * const scenario = (x: Explorer) => x.target(() => lock.withLock(() => sleep(10)));
 */
export interface Explorer {
  /** The run's loop (virtual time, seeded). */
  readonly loop: TestEventLoop;
  /**
   * Run `body()` as code under test: each of its suspensions is a point
   * where a rerun cancels. Returns the body's value, or `undefined` if a
   * rerun halted it through the scope around it (its task goes on).
   */
  target<T>(body: () => Coro<T>): Coro<T | undefined>;
  /** This run's cancellation: the point (1-based) and mode, or null on the counting run. */
  readonly injection: {
    /** The suspension point where the cancel lands, counted from 1 in the order the targets suspend. */
    point: number;
    /** How the cancel is made there. */
    mode: CancelMode;
  } | null;
  /** Whether this run's cancellation has happened yet (the point was reached). */
  readonly injected: boolean;
}

/**
 * One run of {@link exploreCancellation} as the check sees it.
 * @example
 * import type { ExploreOutcome } from 'tulip/testing';
 * const check = (o: ExploreOutcome<number>) => { if (!o.injected && o.value !== 3) throw new Error(`got ${o.value}`); };
 */
export interface ExploreOutcome<T> extends ScenarioOutcome<T> {
  /** The point and mode of this run's cancellation (null: the counting run). */
  injection: {
    /** The suspension point where the cancel lands, counted from 1 in the order the targets suspend. */
    point: number;
    /** How the cancel is made there. */
    mode: CancelMode;
  } | null;
  /** Whether the point was reached and the cancel made. */
  injected: boolean;
  /** What the target waited on at the point (`'Lock.acquire'`, `'sleep(10)'`, ...). */
  at: string | null;
}

/**
 * Options of {@link exploreCancellation}.
 * @example
 * import { Lock } from 'tulip';
 * import type { ExploreOptions } from 'tulip/testing';
 * const lock = new Lock();
 * const opts: ExploreOptions<void> = { modes: ['step', 'batch+1'], check: () => !lock.locked() };
 */
export interface ExploreOptions<T> extends RunChecks {
  /** The seed of every run's loop (default 0). */
  seed?: number;
  /** Timing perturbation of every run (the TestEventLoop option; default 0): sweeps over it find timing-dependent bugs. */
  timerLag?: number;
  /** The ways to cancel (default all four). */
  modes?: CancelMode[];
  /** Explore at most this many points (default 1000); more fails the exploration, as a runaway. */
  maxPoints?: number;
  /** The invariant, called after every run (the counting run too): throw (or return false) to fail it. */
  check?: (o: ExploreOutcome<T>) => void | boolean;
  /** Run only the case a failure's replay handle names. */
  replay?: string;
}

/**
 * What an exploration did.
 * @example
 * import { sleep } from 'tulip';
 * import { exploreCancellation, type ExploreReport } from 'tulip/testing';
 * const r: ExploreReport = await exploreCancellation((x) => x.target(() => sleep(10)));
 * console.log(`${r.points} points, ${r.runs} runs`);
 */
export interface ExploreReport {
  /** How many times the targets suspended on the counting run: the points each rerun cancels at. */
  points: number;
  /** How many runs were made: the counting run and one per point and mode (1 on a replay). */
  runs: number;
  /** The ways of cancelling that were tried at every point (on a replay, the one it replayed). */
  modes: CancelMode[];
}

/**
 * A run of {@link exploreCancellation} that broke an invariant.
 * @example
 * import { sleep } from 'tulip';
 * import { exploreCancellation, ExplorationError } from 'tulip/testing';
 * try { await exploreCancellation((x) => x.target(() => sleep(10)), { check: (o) => !o.injected }); }
 * catch (e) { if (e instanceof ExplorationError) console.log(e.point, e.mode, e.replay); }
 */
export class ExplorationError extends Error {
  /** The point where the failing run cancelled (1-based; 0 for the counting run). */
  readonly point: number;
  /** How the failing run cancelled there (null for the counting run, which does not cancel). */
  readonly mode: CancelMode | null;
  /** Pass as `{ replay }` to run this case alone. */
  readonly replay: string;
  /** What the run did. */
  readonly outcome: ExploreOutcome<unknown>;
  constructor(message: string, point: number, mode: CancelMode | null, replay: string, outcome: ExploreOutcome<unknown>) {
    super(message);
    this.name = 'ExplorationError';
    this.point = point;
    this.mode = mode;
    this.replay = replay;
    this.outcome = outcome;
  }
}

/** What a yielded value stands for, to name a point. */
function describeSuspension(v: unknown): string {
  if (v instanceof Future) return v.describe();
  if (v === undefined) return 'a trip through the ready queue (sleep(0) / cede)';
  return String(v);
}

class Run<T> implements Explorer {
  count = 0;
  injected = false;
  at: string | null = null;
  constructor(readonly loop: TestEventLoop, readonly injection: { point: number; mode: CancelMode } | null) {}

  target<R>(body: () => Coro<R>): Coro<R | undefined> {
    const scope = new CancelScope({ name: 'exploreCancellation scope' });
    return scope.run(new Counting(body(), this, scope));
  }

  /** The target suspends on `v` (called inside the step). */
  _suspend(v: unknown, scope: CancelScope): void {
    this.count++;
    const inj = this.injection;
    if (inj === null || this.injected || this.count !== inj.point) return;
    this.injected = true;
    this.at = describeSuspension(v);
    const task = currentTask()!;
    const loop = this.loop;
    switch (inj.mode) {
      case 'step': task.cancel(); break;
      case 'batch+1': loop.callSoon(() => { task.cancel(); }); break;
      case 'batch+2': loop.callSoon(() => { loop.callSoon(() => { task.cancel(); }); }); break;
      case 'scope': scope.cancel(); break;
    }
  }

  outcome(o: ScenarioOutcome<T>): ExploreOutcome<T> { return { ...o, injection: this.injection, injected: this.injected, at: this.at }; }
}

/**
 * The target's coroutine, seen through an iterator that counts what it
 * yields: `yield*` drives it exactly as it would drive the body (next,
 * throw and return are passed through), so counting changes nothing.
 */
class Counting<R> implements Coro<R> {
  readonly #body: Coro<R>;
  readonly #run: Run<unknown>;
  readonly #scope: CancelScope;
  constructor(body: Coro<R>, run: Run<unknown>, scope: CancelScope) { this.#body = body; this.#run = run; this.#scope = scope; }
  [Symbol.iterator](): this { return this; }
  next(v?: unknown): IteratorResult<Suspend, R> { return this.#seen(this.#body.next(v)); }
  throw(e: unknown): IteratorResult<Suspend, R> { return this.#seen(this.#body.throw(e)); }
  return(v: R): IteratorResult<Suspend, R> { return this.#seen(this.#body.return(v)); }
  #seen(r: IteratorResult<Suspend, R>): IteratorResult<Suspend, R> {
    if (r.done !== true) this.#run._suspend(r.value, this.#scope);
    return r;
  }
}

function handle(seed: number, lag: number, point: number, mode: CancelMode | null): string {
  return `cancel:seed=${seed}${lag > 0 ? `:lag=${lag}` : ''}:point=${point}:mode=${mode ?? 'none'}`;
}

function parseHandle(h: string): { seed: number; lag: number; point: number; mode: CancelMode | null } {
  const m = /^cancel:seed=(-?\d+)(?::lag=(\d+))?:point=(\d+):mode=(step|batch\+1|batch\+2|scope|none)$/.exec(h);
  if (m === null) throw new TypeError(`exploreCancellation: not a replay handle: ${h}`);
  return { seed: Number(m[1]), lag: Number(m[2] ?? 0), point: Number(m[3]), mode: m[4] === 'none' ? null : m[4] as CancelMode };
}

/**
 * Run `scenario` once to count the suspension points of its targets, then
 * once per point and cancel mode, checking each run: it must end (no
 * deadlock, within the time limit), end with its value or a
 * `CancelledError` (or an error `allowError` accepts), report nothing to
 * the loop's exception handler, leave no task pending, and pass `check`.
 * Resolves with what was explored; rejects with an {@link ExplorationError}
 * naming the first failing point and its replay handle. Runs in virtual
 * time on a fresh `TestEventLoop` each time.
 * @example
 * import { Lock, sleep } from 'tulip';
 * import { exploreCancellation } from 'tulip/testing';
 * const lock = new Lock();
 * await exploreCancellation((x) => x.target(() => lock.withLock(() => sleep(10))), {
 *   check: () => { if (lock.locked()) throw new Error('the lock is still held'); },
 * });
 */
export async function exploreCancellation<T>(scenario: (x: Explorer) => Coro<T>, opts: ExploreOptions<T> = {}): Promise<ExploreReport> {
  if (opts.replay !== undefined) {
    const h = parseHandle(opts.replay);
    const points = await exploreOnce(scenario, { ...opts, seed: h.seed, timerLag: h.lag }, h.mode === null ? null : { point: h.point, mode: h.mode });
    return { points, runs: 1, modes: h.mode === null ? [] : [h.mode] };
  }
  const modes = [...(opts.modes ?? ALL_MODES)];
  const points = await exploreOnce(scenario, opts, null);
  const max = opts.maxPoints ?? 1000;
  if (points > max) throw new Error(`exploreCancellation: the targets suspend ${points} times (maxPoints is ${max})`);
  if (points === 0) throw new Error('exploreCancellation: the targets never suspend (did the scenario call x.target()?)');
  let runs = 1;
  for (let point = 1; point <= points; point++) {
    for (const mode of modes) {
      await exploreOnce(scenario, opts, { point, mode });
      runs++;
    }
  }
  return { points, runs, modes };
}

/** One run with an injection (for replay): returns the number of points the run counted. */
async function exploreOnce<T>(scenario: (x: Explorer) => Coro<T>, opts: ExploreOptions<T>, injection: { point: number; mode: CancelMode } | null): Promise<number> {
  const seed = opts.seed ?? 0;
  let r: Run<T> | null = null;
  const o = await runScenario((loop) => { r = new Run<T>(loop, injection); return scenario(r); }, seed, opts.timerLag ?? 0, opts);
  const runState = r as Run<T> | null;
  if (runState === null) throw new Error('exploreCancellation: the scenario never started');
  verdict(runState.outcome(o), injection, seed, opts);
  return runState.count;
}

function verdict<T>(o: ExploreOutcome<T>, injection: { point: number; mode: CancelMode } | null, seed: number, opts: ExploreOptions<T>): void {
  const why = checkedVerdict(o, opts, opts.check);
  if (why === null) return;
  const point = injection?.point ?? 0;
  const mode = injection?.mode ?? null;
  const h = handle(seed, opts.timerLag ?? 0, point, mode);
  const where = injection === null
    ? 'on the counting run (no cancellation)'
    : `cancelling at point ${point} (${mode}${o.at !== null ? `, the target waiting on ${o.at}` : ', a point this run never reached'})`;
  const cancelledNote = o.error instanceof CancelledError ? ' The scenario ended cancelled.' : '';
  throw new ExplorationError(`exploreCancellation: ${where}: ${why}.${cancelledNote}\n  replay: exploreCancellation(scenario, { replay: '${h}' })`, point, mode, h, o);
}
