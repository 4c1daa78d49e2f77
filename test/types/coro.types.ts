/**
 * Type tests: `npm run typecheck` compiles this file; nothing here runs.
 * Every `@ts-expect-error` line is a mistake the types must reject (the
 * check fails if that line compiles); every other line is a correct form
 * whose type is pinned with `exact<...>()`.
 */
import {
  Barrier, Condition, Event, Future, Lock, PriorityQueue, Queue, Semaphore, StreamReader, Task, TaskGroup,
  asCompleted, cede, createTask, ensureFuture, fromPromise, gather, generate, getRunningLoop, moveOnAfter, moveOnAt,
  parallelMap, pipe, put, race, rehalt, run, shield, sleep, startAndForget, startInParallel, stdin, takeFrom,
  taskGroup, timeout, timeoutAt, toCoro, wait, waitFor, CancelScope,
  type Awaitable, type Coro, type CoroOrFn, type Deadline, type MicroThread, type PipeReader, type Result, type Suspend,
} from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';

/** True when A and B are the same type (not merely assignable either way). */
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
/** Accepts `v` only if its type is exactly `T`. */
function exact<T>() {
  return <V>(_v: V & (Equals<V, T> extends true ? unknown : never)): void => undefined;
}
/** Compiles only when `Equals<A, B>`. */
type Assert<B extends true> = B;

declare const fut: Future<number>;
declare const task: Task<string>;
declare const reader: StreamReader;
declare const pr: PipeReader<number>;

// ---- the mistakes: a yield without * ------------------------------------------

export function* yieldSleep(): Coro<void> {
  // @ts-expect-error: sleep(1) is a Coro, not a Suspend: the * is missing
  yield sleep(1);
}
export function* yieldFuture(): Coro<void> {
  // @ts-expect-error: a Future is not a Suspend
  yield fut;
}
export function* yieldTask(): Coro<void> {
  // @ts-expect-error: a Task is not a Suspend
  yield task;
}
export function* yieldNumber(): Coro<void> {
  // @ts-expect-error: a number is not a Suspend
  yield 5;
}
export function* yieldNothing(): Coro<void> {
  // @ts-expect-error: a bare yield gives undefined, not a Suspend
  yield;
}
export function* yieldPromise(): Coro<void> {
  // @ts-expect-error: a Promise is not a Suspend (use yield* fromPromise(p))
  yield Promise.resolve(1);
}
export function* yieldQueueGet(q: Queue<number>): Coro<void> {
  // @ts-expect-error: q.get() is a Coro
  yield q.get();
}
export function* yieldGeneratorFunction(): Coro<void> {
  // @ts-expect-error: a generator function is not a Suspend either
  yield function* () { yield* sleep(1); };
}
export function* yieldInLoop(): Coro<number> {
  for (let i = 0; i < 3; i++) {
    // @ts-expect-error: the same mistake inside a loop
    yield sleep(i);
  }
  return 3;
}
export function* yieldInFinally(): Coro<void> {
  try { yield* sleep(1); } finally {
    // @ts-expect-error: and inside a cleanup
    yield sleep(1);
  }
}
/** A method typed to return a Coro: same rule. */
export class Worker {
  *run(): Coro<void> {
    // @ts-expect-error: a method's coroutine too
    yield sleep(1);
  }
}
/** A Suspend cannot be made by hand: only tulip's traps produce one. */
// @ts-expect-error: an object literal is not a Suspend
export const forged: Suspend = {};

// ---- inferred return types: the mistake is caught where the generator is used ---

function* inferredBad() { yield sleep(1); return 1; }
function* inferredBare() { yield; return 'x'; }
function* inferredGood() { yield* sleep(1); return 1; }

export function* delegatesToBad(): Coro<number> {
  // @ts-expect-error: inferredBad() yields a Coro<void>: it is not a coroutine
  return yield* inferredBad();
}
export function* delegatesToBare(): Coro<string> {
  // @ts-expect-error: a bare yield inside the delegate is caught here
  return yield* inferredBare();
}
export function* delegatesToGood(): Coro<number> {
  const n = yield* inferredGood();
  exact<number>()(n);
  return n;
}
export function startsInferred(): void {
  // @ts-expect-error: createTask refuses a generator that yields without *
  createTask(inferredBad());
  // @ts-expect-error: and the generator function itself
  createTask(inferredBad);
  // @ts-expect-error: run() too
  void run(inferredBad);
  exact<Task<number>>()(createTask(inferredGood()));
  exact<Task<number>>()(createTask(inferredGood));
}
export function inlineGeneratorFunctions(): void {
  // @ts-expect-error: an inline generator function is checked against () => Coro<T>
  createTask(function* () { yield sleep(1); });
  // @ts-expect-error: as a body of timeout()
  void run(function* () { yield* timeout(10, function* () { yield sleep(1); }); });
  // @ts-expect-error: a raw number yielded from a task body
  void run(function* () { yield 1; return 2; });
}

// ---- the correct forms: yield* keeps the full result type -----------------------

export function* awaitables(q: Queue<string>, pq: PriorityQueue<[number, string]>): Coro<void> {
  exact<void>()(yield* sleep(1));
  exact<string>()(yield* sleep(1, 'value'));
  exact<number>()(yield* fut);
  exact<string>()(yield* task);
  exact<void>()(yield* cede());
  exact<void>()(yield* rehalt());
  exact<number>()(yield* fromPromise(Promise.resolve(1)));
  exact<number>()(yield* ensureFuture(sleep(1, 2)));
  exact<number>()(yield* delegatesToGood());
  exact<string>()(yield* q.get());
  exact<void>()(yield* q.put('x'));
  exact<void>()(yield* q.join());
  exact<[number, string]>()(yield* pq.get());
  exact<string>()(yield* waitFor(q.get(), 100));
  exact<string>()(yield* shield(task));
  exact<Uint8Array>()(yield* reader.readLine());
}

export function* primitives(lock: Lock, sem: Semaphore, ev: Event, cond: Condition, bar: Barrier): Coro<void> {
  exact<void>()(yield* lock.acquire());
  lock.release();
  exact<number>()(yield* lock.withLock(function* () { yield* sleep(1); return 1; }));
  exact<void>()(yield* sem.acquire());
  sem.release();
  exact<string>()(yield* sem.withLock(sleep(1, 's')));
  exact<void>()(yield* ev.wait());
  exact<void>()(yield* cond.acquire());
  exact<void>()(yield* cond.wait());
  exact<boolean>()(yield* cond.waitFor(() => true));
  exact<number>()(yield* cond.withLock(function* () { return 1; }));
  exact<number>()(yield* bar.wait());
}

export function* pipes(): Coro<void> {
  const [w, r] = pipe<number>();
  exact<void>()(yield* w.put(1));
  exact<void>()(yield* w.takeFrom([1, 2]));
  exact<IteratorResult<number, undefined>>()(yield* r.next());
  exact<number[]>()(yield* r.toArray());
  exact<void>()(yield* put(1));
  exact<void>()(yield* takeFrom([1, 2]));
  exact<IteratorResult<number, undefined>>()(yield* stdin<number>().next());
  exact<IteratorResult<number, undefined>>()(yield* pr.next());
  const out = generate<string>(function* () { yield* put('a'); });
  exact<string[]>()(yield* out.toArray());
  const th = startInParallel(function* () { yield* sleep(1); return 1; });
  exact<MicroThread<number>>()(th);
  exact<number>()(yield* th.wait());
  exact<number>()(yield* th);
  exact<number[]>()(yield* parallelMap(function* (x: string) { yield* sleep(1); return x.length; }, ['a']));
}

export function* combinators(): Coro<void> {
  const g = yield* gather([sleep(1, 1), fut, task, Promise.resolve(true), function* () { yield* sleep(1); return 'gen'; }]);
  exact<[number, number, string, boolean, string]>()(g);
  exact<number>()(yield* race([sleep(1, 1), fut, function* () { return 2; }]));
  const [done, pending] = yield* wait([fut, sleep(1, 2)]);
  exact<Set<Future<number>>>()(done);
  exact<Set<Future<number>>>()(pending);
  for (const next of asCompleted([fut, function* () { return 1; }])) exact<number>()(yield* next);
  exact<number>()(yield* timeout(10, function* (d) { exact<Deadline>()(d); yield* sleep(1); return 1; }));
  exact<number>()(yield* timeout(10, sleep(1, 1)));
  exact<number>()(yield* timeoutAt(10, function* () { return 1; }));
  exact<number | undefined>()(yield* moveOnAfter(10, function* () { return 1; }));
  exact<string | undefined>()(yield* moveOnAfter(10, sleep(1, 's')));
  exact<number | undefined>()(yield* moveOnAt(10, function* () { return 1; }));
  exact<number | undefined>()(yield* new CancelScope().run(function* () { return 1; }));
  exact<number | undefined>()(yield* new CancelScope().run(sleep(1, 1)));
  exact<string>()(yield* waitFor(function* () { yield* sleep(1); return 'w'; }, 10));
  exact<number>()(yield* taskGroup(function* (tg) {
    exact<TaskGroup>()(tg);
    const a = tg.createTask(sleep(1, 1));
    const b = tg.createTask(function* () { yield* sleep(1); return 'b'; });
    exact<Task<number>>()(a);
    exact<Task<string>>()(b);
    return (yield* a) + (yield* b).length;
  }));
  exact<number>()(yield* taskGroup(function* () { return 1; }));
}

// ---- one calling convention: a coroutine or a generator function -------------

export function* oneConvention(): Coro<void> {
  exact<Task<number>>()(createTask(sleep(1, 1)));
  exact<Task<number>>()(createTask(function* () { yield* sleep(1); return 1; }));
  exact<Task<number>>()(createTask(Promise.resolve(1)));
  exact<Task<number>>()(getRunningLoop().createTask(function* () { return 1; }));
  exact<Future<number>>()(ensureFuture(function* () { return 1; }));
  exact<Future<number>>()(shield(function* () { return 1; }));
  exact<Task<unknown>>()(startAndForget(function* () { yield* sleep(1); }));
  exact<Task<unknown>>()(startAndForget(sleep(1)));
  exact<MicroThread<number>>()(startInParallel(sleep(1, 1)));
  exact<Coro<number>>()(toCoro(function* () { return 1; }));
  exact<Coro<number>>()(toCoro(sleep(1, 1)));
  const body: CoroOrFn<number> = function* () { return 1; };
  exact<Task<number>>()(createTask(body));
}
export async function promises(): Promise<void> {
  exact<number>()(await run(function* () { yield* sleep(1); return 1; }));
  exact<number>()(await run(sleep(1, 1)));
  exact<number>()(await runVirtual(function* () { return 1; }));
  exact<number>()(await getRunningLoop().runUntilComplete(function* () { return 1; }));
  exact<number>()(await fut);
}

// ---- the type relations -----------------------------------------------------

/** A Future's and a Task's iterators are coroutines: they yield Suspend. */
export type _FutureIter = Assert<Equals<ReturnType<Future<number>[typeof Symbol.iterator]>, Coro<number>>>;
export type _TaskIter = Assert<Equals<ReturnType<Task<string>[typeof Symbol.iterator]>, Coro<string>>>;
/** A generator that yields only Suspends is a Coro; one that yields anything else is not. */
export type _GenIsCoro = Assert<Generator<Suspend, number, unknown> extends Coro<number> ? true : false>;
export type _BadGenNotCoro = Assert<Generator<unknown, number, unknown> extends Coro<number> ? false : true>;
export type _NumberGenNotCoro = Assert<Generator<number, number, unknown> extends Coro<number> ? false : true>;
/** Result<> reads every awaitable's value. */
export type _Results = Assert<Equals<[Result<Future<1>>, Result<Coro<2>>, Result<() => Coro<3>>, Result<Promise<4>>], [1, 2, 3, 4]>>;
/** Every form is an Awaitable. */
export const _awaitables: Awaitable<number>[] = [fut, sleep(1, 1), function* () { return 1; }, Promise.resolve(1)];
