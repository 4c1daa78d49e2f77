/**
 * `handleNodeRequests(handler)`: node:http (or https, or Express) in front
 * of tulip. Each request runs `handler(req, res)` as a task of its own on
 * the loop, so a request is a coroutine with tulip's cancellation: the
 * client going away halts it (its `finally` blocks run), and
 * `yield* listener.close()` halts every request still running and waits
 * for their cleanup, for a graceful shutdown.
 *
 * What the handler leaves undone is finished for it: a response it did not
 * end is ended; if it threw, the error goes to the loop's exception handler
 * and the client gets a 500 (or, if the headers were already sent, the
 * connection is destroyed); if it was halted, the client gets a 503 (or
 * the destroyed connection) instead of waiting forever.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Coro, currentTask, type EventLoop, fromPromise, getRunningLoop, type Task,
} from '../kernel/index.js';

/**
 * A request handler for {@link handleNodeRequests}: a coroutine of the request and the response.
 * @example
 * const hello: NodeRequestHandler = function* (_req, res) { res.end('hello'); };
 */
export type NodeRequestHandler<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> =
  (req: Req, res: Res) => Coro<void>;

/**
 * The listener {@link handleNodeRequests} returns: a `(req, res)` function
 * for a server's `'request'` event (or Express), with `close()`.
 * @example
 * const listener: NodeRequestListener = handleNodeRequests(function* (_req, res) { res.end('ok'); });
 */
export interface NodeRequestListener<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> {
  (req: Req, res: Res): void;
  /** Refuse new requests (503), halt the running ones and wait until every one has finished its cleanup. */
  close(): Coro<void>;
  /** The requests running now. */
  readonly active: number;
}

/**
 * A `(req, res)` listener for a node:http or https server's `'request'`
 * event (or the last handler of an Express app) that runs
 * `handler(req, res)` as a tulip task per request on the running loop (the
 * one running when it is made, or else when the first request comes).
 * The client disconnecting halts that request's task;
 * `yield* listener.close()` halts every request task still running and
 * waits for their cleanup.
 * @example
 * import { defer, handleNodeRequests, sleep, once, type Coro } from 'tulip';
 * import { createServer } from 'node:http';
 * function* serve(): Coro<void> {
 *   const listener = handleNodeRequests(function* (req, res) {
 *     yield* sleep(10);
 *     res.end(`you asked for ${req.url}`);
 *   });
 *   const server = createServer(listener).listen(8080, '127.0.0.1');
 *   // a cleanup that waits: defer() runs it when serve() ends or is halted, and needs no rehalt()
 *   yield* defer(function* () { server.close(); yield* listener.close(); });
 *   yield* once(server, 'close');
 * }
 */
export function handleNodeRequests<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  handler: NodeRequestHandler<Req, Res>,
): NodeRequestListener<Req, Res> {
  // The loop running now, or else the one running when the first request comes (a listener made at a
  // module's top level, before run() makes its loop).
  let loop = runningLoop();
  const tasks = new Set<Task<void>>();
  let closed = false;

  const listener = ((req: Req, res: Res): void => {
    loop ??= runningLoop();
    if (loop === null) {
      process.emitWarning('handleNodeRequests: a request came while no tulip loop was running; answered 503');
      refuse(res, 503);
      return;
    }
    if (closed || loop.isClosed()) { refuse(res, 503); return; }
    const task = loop.createTask(runRequest(loop, handler, req, res), { name: `${req.method ?? '?'} ${req.url ?? ''}` });
    tasks.add(task);
    const onClose = (): void => { if (!res.writableFinished) task.cancel(); };
    res.once('close', onClose);
    task.addDoneCallback(() => {
      tasks.delete(task);
      res.removeListener('close', onClose);
    });
  }) as NodeRequestListener<Req, Res>;

  function* close(): Coro<void> {
    closed = true;
    const running = [...tasks];
    for (const t of running) t.cancel();
    if (running.length > 0) yield* fromPromise(Promise.allSettled(running));
  }
  Object.defineProperty(listener, 'close', { value: close });
  Object.defineProperty(listener, 'active', { get: () => tasks.size });
  return listener;
}

function runningLoop(): EventLoop | null {
  try { return getRunningLoop(); } catch { return null; }
}

/** Answer `status` with an empty body and close the connection (the request was not served). */
function refuse(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) { res.destroy(); return; }
  res.writeHead(status, { 'content-length': '0', connection: 'close' });
  res.end();
}

function* runRequest<Req extends IncomingMessage, Res extends ServerResponse>(loop: EventLoop, handler: NodeRequestHandler<Req, Res>, req: Req, res: Res): Coro<void> {
  let outcome: 'halted' | 'failed' | 'done' = 'halted';
  try {
    yield* handler(req, res);
    // A handler whose cleanup waited returns as if it finished (yield* forgets the halt): the task knows better.
    outcome = (currentTask()?.cancelling() ?? 0) > 0 ? 'halted' : 'done';
  } catch (exception) {
    outcome = 'failed';
    loop.callExceptionHandler({ message: `Unhandled exception in a node:http request handler (${req.method ?? '?'} ${req.url ?? ''})`, exception });
  } finally {
    if (!res.writableEnded) {
      if (outcome === 'done') res.end();
      else refuse(res, outcome === 'failed' ? 500 : 503);
    }
  }
}
