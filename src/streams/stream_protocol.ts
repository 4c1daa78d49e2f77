/**
 * StreamReaderProtocol: the protocol behind a stream pair. It feeds a
 * StreamReader, keeps the write-side state `drain()` needs (paused by the
 * transport's flow control, connection lost and why), and for a server
 * starts the client handler as a task whose end, however it ends, closes
 * the connection. The server owns that task: shutting down, it halts it
 * and waits for its cleanup before closing what is left.
 */
import { CancelledError } from '../kernel/errors.js';
import { fromPromise } from '../kernel/coro.js';
import { type Coro, type EventLoop, getEventLoop } from '../kernel/events.js';
import { Future, isThenable } from '../kernel/future.js';
import type { Task } from '../kernel/task.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';
import { Outcome } from '../toolkit/outcome.js';
import { connectionLostError } from '../protocols/stream_transport.js';
import type { StreamReader } from './reader.js';
import { StreamWriter } from './writer.js';

/**
 * A client handler of `startServer`: a coroutine (or a plain or async function) given the stream pair.
 * @example
 * const handler: ClientConnectedCallback = function* (r, w) { w.write(yield* r.readLine()); };
 */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => Coro<void> | PromiseLike<void> | void;

/**
 * Adapts a transport to a StreamReader and StreamWriter.
 * @example
 * const reader = new StreamReader();
 * const protocol = new StreamReaderProtocol(reader);
 * const [transport] = yield* getRunningLoop().createConnection(() => protocol, '127.0.0.1', 8888);
 * const writer = new StreamWriter(transport, protocol, reader);
 */
export class StreamReaderProtocol implements Protocol {
  /** The reader this protocol feeds. */
  readonly reader: StreamReader;
  readonly #onClient: ClientConnectedCallback | null;
  readonly #loop: EventLoop;
  #transport: Transport | null = null;
  #paused = false;
  #lost = false;
  /** The error the connection was lost with, for every later `drain()` (EPIPE stays EPIPE). */
  #lostExc: Error | undefined = undefined;
  #drainWaiters: Future<void>[] = [];
  readonly #closed: Outcome<void>;
  /** The handler's task (servers only). */
  task: Task<void> | null = null;

  constructor(reader: StreamReader, onClient: ClientConnectedCallback | null = null, loop?: EventLoop) {
    this.reader = reader;
    this.#onClient = onClient;
    this.#loop = loop ?? getEventLoop();
    this.#closed = new Outcome<void>(this.#loop, 'StreamWriter.waitClosed');
  }

  /** @internal the handler's task, which the server halts when it shuts down (protocols/server_shutdown.ts). */
  _connectionTasks(): Iterable<Task<unknown>> { return this.task !== null ? [this.task] : []; }

  /** The transport (the one after `startTls`, once upgraded). */
  get transport(): Transport | null { return this.#transport; }
  /** @internal after startTls. */
  _replaceTransport(t: Transport): void { this.#transport = t; this.reader.setTransport(t); }

  connectionMade(t: Transport): void {
    this.#transport = t;
    this.reader.setTransport(t);
    const cb = this.#onClient;
    if (cb === null) return;
    const writer = new StreamWriter(t, this, this.reader, this.#loop);
    const task = this.#loop.createTask(runClient(cb, this.reader, writer), { name: `stream client ${String(t.getExtraInfo('peername', ''))}` });
    this.task = task;
    task.addDoneCallback(() => {
      if (task.cancelled()) return;
      const e = task.exception();
      if (e !== undefined && !(e instanceof CancelledError)) {
        this.#loop.callExceptionHandler({ message: 'Unhandled exception in client_connected_cb', exception: e, transport: t, protocol: this });
        t.abort(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  dataReceived(data: Uint8Array): void { this.reader.feedData(data); }

  eofReceived(): boolean {
    this.reader.feedEof();
    return true;
  }

  connectionLost(exc: Error | undefined): void {
    this.#lost = true;
    this.#lostExc = exc;
    if (exc === undefined) this.reader.feedEof();
    else this.reader.setException(exc);
    if (exc === undefined) this.#closed.setResult();
    else this.#closed.setException(exc);
    this.#wakeDrain(exc ?? connectionLostError());
  }

  pauseWriting(): void { this.#paused = true; }
  resumeWriting(): void { this.#paused = false; this.#wakeDrain(undefined); }

  /** @internal the error the connection was lost with (undefined: lost cleanly, or not lost). */
  _lostException(): Error | undefined { return this.#lostExc; }

  /** @internal wait while writing is paused; throw if the connection is lost. */
  *_drainHelper(): Coro<void> {
    if (this.#lost) throw this.#lostExc ?? connectionLostError();
    if (!this.#paused) return;
    const f = new Future<void>({ loop: this.#loop, description: 'StreamWriter.drain' });
    this.#drainWaiters.push(f);
    try {
      yield* f;
    } finally {
      const i = this.#drainWaiters.indexOf(f);
      if (i >= 0) this.#drainWaiters.splice(i, 1);
    }
  }

  /** @internal wait until the connection is lost (throws its error, if any); each waiter waits on a future of its own. */
  _waitClosed(): Coro<void> { return this.#closed.wait(); }
  /** @internal */
  _isLost(): boolean { return this.#lost; }

  #wakeDrain(e: Error | undefined): void {
    const ws = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const f of ws) {
      if (f.done()) continue;
      if (e === undefined) f.setResult();
      else { f.setException(e); void f.exception(); }
    }
  }
}

function* runClient(cb: ClientConnectedCallback, reader: StreamReader, writer: StreamWriter): Coro<void> {
  try {
    const r = cb(reader, writer);
    if (r !== undefined && r !== null) {
      if (isThenable(r)) yield* fromPromise(r);
      else if (typeof (r).next === 'function') yield* r;
    }
  } finally {
    writer.close();
  }
}
