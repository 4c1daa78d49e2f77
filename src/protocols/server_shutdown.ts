/**
 * A server owns the connections it accepted. When the task waiting in its
 * `serveForever()` or `waitClosed()` is halted (Ctrl-C, a timeout, a task
 * group failing), the server shuts down: it stops listening, halts the
 * tasks each connection's protocol runs (a stream server's client handler)
 * and lets their `finally`/`defer` cleanups run (they may still write and
 * flush), closes every connection left, and returns once all of them are
 * gone. asyncio instead keeps accepted connections open after
 * `serve_forever()` is cancelled and waits for them (CPython issue
 * 123720), so one idle client keeps Ctrl-C from ending a server.
 *
 * The shutdown is bounded for everything that waits on the network: after
 * `closeGrace` ms the connections still open are aborted, so a cleanup
 * blocked in `drain()` on a peer that never reads fails at once and a
 * buffer that cannot flush is dropped. A cleanup waiting on anything else
 * is the program's own; a second halt of the waiting task interrupts it
 * (the handler tasks are halted again and every connection is aborted).
 *
 * Written against the Transport and Task interfaces only, so the Node
 * loop's servers and the virtual network's share it.
 */
import type { Coro, EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { Task } from '../kernel/task.js';
import { rehalt } from '../kernel/traps.js';

/** How long a server shutting down lets its connections flush before aborting them, by default (ms). */
export const DEFAULT_CLOSE_GRACE = 2000;

/** @internal a protocol whose connection runs tasks of its own (a stream server's client handler). */
export interface TaskRunningProtocol { _connectionTasks(): Iterable<Task<unknown>> }

/** @internal a connection as the shutdown sees it. */
export interface OwnedConnection { getProtocol(): unknown; close(): void; abort(): void }

/**
 * A server that owns the connections it accepted: what its shutdown needs
 * from it. (Its members are internal: in the shipped declarations it is empty.)
 */
export interface ConnectionOwner {
  /** @internal The connections accepted and not yet lost. */
  _connections(): Iterable<OwnedConnection>;
  /** @internal A future of its own that completes once the server is closed and every connection is gone. */
  _allGone(): Future<void>;
  /** @internal Forget a future of `_allGone()` whose waiter gave up. */
  _dropWaiter(f: Future<void>): void;
  /** Stop listening. */
  close(): void;
}

/** @internal Stop listening, then shut the connections down ({@link shutDownConnections}). */
export function* shutDownServer(loop: EventLoop, owner: ConnectionOwner, grace: number): Coro<void> {
  owner.close();
  yield* shutDownConnections(loop, owner, grace);
}

/**
 * @internal A server's `waitClosed()`: wait until it is closed and every
 * connection is gone; halted, shut the server down, then let the halt go on.
 */
export function* waitClosedOrShutDown(loop: EventLoop, owner: ConnectionOwner, grace: number): Coro<void> {
  const f = owner._allGone();
  if (f.done()) return;
  let done = false;
  try {
    yield* f;
    done = true;
  } finally {
    if (!done) {
      owner._dropWaiter(f);   // a waiter that gave up keeps nothing
      yield* shutDownServer(loop, owner, grace);
      yield* rehalt();   // this cleanup waited: the halt must go on to the caller (see rehalt())
    }
  }
}

/**
 * @internal `await using` of a server: `close()`, `closeClients()`, then a
 * Promise that settles once every connection is gone (rejects if that wait
 * is cancelled, as when the loop closes first).
 */
export function disposeServerAsync(server: ConnectionOwner & { close(): void; closeClients(): void }): Promise<void> {
  server.close();
  server.closeClients();
  const f = server._allGone();
  if (f.done() && !f.cancelled()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => f.addDoneCallback(() => {
    if (f.cancelled()) reject(new Error('Server.waitClosed was cancelled')); else resolve();
  }));
}

function tasksOf(c: OwnedConnection): Iterable<Task<unknown>> {
  const p = c.getProtocol() as Partial<TaskRunningProtocol> | null | undefined;
  return typeof p?._connectionTasks === 'function' ? p._connectionTasks() : [];
}

/**
 * @internal Halt the connections' tasks, wait for them, close what is left,
 * abort what has not gone after `grace` ms, and wait until every connection
 * is gone. The server must already be closed (not listening). Interrupted
 * (a second halt), it halts the tasks again and aborts every connection.
 * It never suspends in a `finally`, so it needs no `rehalt()` itself; its
 * caller's cleanup does.
 */
export function* shutDownConnections(loop: EventLoop, owner: ConnectionOwner, grace: number): Coro<void> {
  const abortAll = (): void => { for (const c of [...owner._connections()]) c.abort(); };
  const halted: Task<unknown>[] = [];
  for (const c of owner._connections()) {
    for (const t of tasksOf(c)) {
      // A task already being cancelled (by run()'s shutdown, or a shutdown started by another waiter) is
      // left to finish: a second cancel would interrupt its cleanup.
      if (t.done()) continue;
      if (t.cancelling() === 0) t.cancel('the server is shutting down');
      halted.push(t);
    }
  }
  const timer = loop.callLater(grace, abortAll);
  let finished = false;
  try {
    if (halted.length > 0) yield* allDone(loop, halted);
    for (const c of [...owner._connections()]) c.close();
    yield* owner._allGone();
    finished = true;
  } finally {
    timer.cancel();
    if (!finished) {
      for (const t of halted) t.cancel('the server shutdown was interrupted');
      abortAll();
    }
  }
}

/** A future of its own that completes once every task in `tasks` is done (halting the wait leaves them alone). */
function allDone(loop: EventLoop, tasks: Task<unknown>[]): Future<void> {
  const f = new Future<void>({ loop, description: `server shutdown: ${tasks.length} connection task(s) finishing their cleanup` });
  let left = tasks.length;
  const one = (): void => { if (--left === 0 && !f.done()) f.setResult(); };
  for (const t of tasks) t.addDoneCallback(one);
  return f;
}
