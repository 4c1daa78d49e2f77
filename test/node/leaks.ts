/**
 * What a test checks after an acquisition was cancelled or dropped: the
 * process's open file descriptors (/proc/self/fd), its child processes, and
 * Node's active handles; and `cancelAtEveryPoint`, which runs an operation
 * once to count its suspension points and then reruns it cancelling at each
 * one, in two ways: while it waits there, and in the same loop turn as the
 * wait completes (before the operation sees the result).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { CancelledError, type Coro, Future, getRunningLoop, sleep, type Suspend, type Task } from '../../src/index.js';

/** The open file descriptors of this process, each with what it points at. */
export function openFds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try { out.set(fd, readlinkSync(`/proc/self/fd/${fd}`)); } catch { /* closed while listing (the directory's own fd) */ }
  }
  return out;
}

/** The pids of this process's living children (zombies included: a zombie is a child nobody reaped). */
export function childPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      // A thread of this process (a worker thread) is no child, should the kernel list it.
      const tgid = /^Tgid:\s*(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (tgid !== undefined && Number(tgid) !== Number(d)) continue;
      // tsx's esbuild service, started the first time a worker thread imports a .ts module (from source, as
      // these tests run), is not ours; when a cancelled job's worker is terminated, its service is left a
      // zombie that nothing reaps (Node's, not tulip's: the built package runs no esbuild).
      if (stat.includes('(esbuild)') || readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('esbuild')) continue;
      out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return `${cmd || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}, state ${stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)}`;
  } catch { return 'gone'; }
}

/** Node's active resources that hold the process open (handles, not timers or promises). */
export function activeHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => !/Timeout|Immediate|FSReqPromise|FSReqCallback|GetAddrInfoReqWrap/.test(r));
}

/** What a run must leave behind: no new fd, no child, no new active handle. */
export interface Snapshot { fds: Map<string, string>; children: number[]; handles: string[] }
export function snapshot(): Snapshot { return { fds: openFds(), children: childPids(), handles: activeHandles() }; }

function extra(now: Snapshot, base: Snapshot): string[] {
  const out: string[] = [];
  for (const [fd, what] of now.fds) if (base.fds.get(fd) !== what) out.push(`fd ${fd} -> ${what}`);
  for (const pid of now.children) if (!base.children.includes(pid)) out.push(`child ${pid} (${describeProcess(pid)})`);
  const handles = [...base.handles];
  for (const h of now.handles) {
    const i = handles.indexOf(h);
    if (i >= 0) handles.splice(i, 1); else out.push(`handle ${h}`);
  }
  return out;
}

/** File descriptors Node closed on garbage collection: a FileHandle nobody closed (Node warns of each). */
const closedByGc: string[] = [];
process.on('warning', (w) => { if (/Closing file descriptor \d+ on garbage collection/.test(w.message)) closedByGc.push(w.message); });

/**
 * Wait (up to `ms`) until nothing is left beyond `base`; fail naming what
 * is. Then collect garbage: a file handle dropped without being closed is
 * closed by the collector, with a warning, and that fails too.
 */
export function* settlesTo(base: Snapshot, what: string, ms = 3000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  const gcBefore = closedByGc.length;
  for (;;) {
    const left = extra(snapshot(), base);
    if (left.length === 0) break;
    if (getRunningLoop().time() > end) assert.fail(`${what}: left behind ${left.join(', ')}`);
    yield* sleep(10);
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) { gc(); yield* sleep(5); }
  assert.deepEqual(closedByGc.slice(gcBefore), [], `${what}: a file handle was left to the garbage collector`);
}

/**
 * How a cancel lands at a suspension point: during the step that suspends
 * (the awaited future is cancelled before anything happens), one batch
 * later, or in the batch in which the awaited future completes, before the
 * task resumes (it sees the halt, not the result).
 */
export type CancelMode = 'in the step' | 'a batch later' | 'as the wait completes';
export const MODES: readonly CancelMode[] = ['in the step', 'a batch later', 'as the wait completes'];

/**
 * A coroutine wrapper that counts the suspensions of `inner` and, if `at`
 * is given, cancels `task()` at the at-th one (1-based) in `mode`.
 */
class Counting<T> implements Coro<T> {
  count = 0;
  constructor(readonly inner: Coro<T>, readonly task: () => Task<unknown>, readonly at = 0, readonly mode: CancelMode = 'in the step') {}
  #step(r: IteratorResult<Suspend, T>): IteratorResult<Suspend, T> {
    if (r.done === true) return r;
    this.count++;
    if (this.count !== this.at) return r;
    const t = this.task();
    const v = r.value;
    if (this.mode === 'as the wait completes' && v instanceof Future) {
      // Registered before the task itself waits on v, so it runs first in the batch that v's completion
      // schedules: the task resumes halted although what it waited for has arrived.
      v.addDoneCallback(() => { t.cancel(); });
    } else if (this.mode === 'a batch later') {
      getRunningLoop().callSoon(() => t.cancel());
    } else {
      t.cancel();   // during the task's own step: it cancels the future it waits on as soon as the step ends
    }
    return r;
  }
  next(v?: unknown): IteratorResult<Suspend, T> { return this.#step(this.inner.next(v)); }
  throw(e: unknown): IteratorResult<Suspend, T> { return this.#step(this.inner.throw(e)); }
  return(v: T): IteratorResult<Suspend, T> { return this.#step(this.inner.return(v)); }
  [Symbol.iterator](): this { return this; }
}

/** Options of {@link cancelAtEveryPoint}. */
export interface AcquisitionProbe<T> {
  /** What is explored: an acquisition (connect, listen, spawn...). */
  acquire: () => Coro<T>;
  /** Release what `acquire` returned when it was not cancelled (close the transport...). */
  release: (value: T) => Coro<void> | void;
  /** Extra checks after each run, once everything settled. */
  check?: (info: { at: number; mode: CancelMode; completed: boolean }) => Coro<void>;
  /** Runs of the exploration so far are reported here (for the report). */
  log?: string[];
}

/**
 * Run `acquire` once (counting its suspension points), then once per point
 * and mode cancelling there; after each run nothing may be left beyond
 * what was open before it. Returns the number of suspension points.
 */
export function* cancelAtEveryPoint<T>(name: string, probe: AcquisitionProbe<T>): Coro<number> {
  const loop = getRunningLoop();
  let total = 0;
  function* once(at: number, mode: CancelMode, warmUp = false): Coro<number> {
    const base = snapshot();
    let task: Task<T> | null = null;
    const c = new Counting<T>(probe.acquire(), () => task!, at, mode);
    task = loop.createTask(c, { name: `${name} (cancel at ${at}, ${mode})` });
    let completed = false;
    try {
      const v = yield* task;
      completed = true;
      const r = probe.release(v);
      if (r !== undefined) yield* r;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
    }
    const where = at === 0 ? 'not cancelled' : `cancelled at suspension ${at} of ${total} (${mode})`;
    if (at > 0 && completed && mode === 'in the step') assert.fail(`${name}, ${where}: it completed anyway`);
    if (at === 0) assert.ok(completed, `${name} failed uncancelled`);
    if (warmUp) return c.count;   // it may open what stays open (the DNS pool, a worker's module loader...)
    yield* settlesTo(base, `${name}, ${where}`);
    if (probe.check !== undefined) yield* probe.check({ at, mode, completed });
    probe.log?.push(`${name}: ${where}: ${completed ? 'completed' : 'cancelled'}, nothing left`);
    return c.count;
  }
  yield* once(0, 'in the step', true);
  const count = total = yield* once(0, 'in the step');
  assert.ok(count > 0, `${name} never suspends`);
  for (let at = 1; at <= count; at++) for (const mode of MODES) yield* once(at, mode);
  return count;
}
