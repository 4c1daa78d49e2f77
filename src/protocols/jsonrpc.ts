/**
 * JSON-RPC 2.0 as a plain protocol over messages: PEP 3153's example of a
 * protocol reused across transports and stacked on others. It speaks to a
 * Transport whose `write()` sends one message and whose `dataReceived`
 * brings one message per call, which is what a stack gives it (`stack()`
 * with '\n'-delimited ChunkProtocol framing over TCP, or over a child's
 * pipes); it never frames or buffers bytes itself, so it cannot be confused
 * by how a stream happened to be cut.
 *
 * Both ends are symmetric: each side may call the other. Incoming requests
 * run their handler at once; a handler may return a value, a coroutine (run
 * as a task, cancelled if the connection goes) or a Promise. Calls made
 * with `call()` wait on a future in a pending map keyed by id; when the
 * connection is lost every pending call fails with the connection's error,
 * and a task cancelled while it waits forgets its id (its answer, if it
 * comes, is dropped quietly).
 *
 * Bad and greedy peers: an id that is not a string, a finite number or null
 * makes the request invalid (-32600, answered with id null); a result or an
 * error that `JSON.stringify` cannot encode (a BigInt, a cycle, nesting too
 * deep) is answered with -32603 for that request alone, and the connection
 * carries on. While the transport's writing is paused (the peer does not
 * read its answers), reading is paused too, so a peer that pipelines
 * requests and never reads cannot grow this side's memory one answer per
 * request; reading goes on while this side waits for answers to its own
 * calls, since two endpoints that both stopped reading would wait for each
 * other forever.
 */
import { getRunningLoop, type Coro, type EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { Task } from '../kernel/task.js';
import type { Protocol, Transport } from '../kernel/transport_types.js';
import { Outcome as Once } from '../toolkit/outcome.js';
import { connectionLostError } from './stream_transport.js';

/**
 * The error codes JSON-RPC 2.0 reserves.
 * @example
 * const rpc = new JsonRpcProtocol();
 * yield* getRunningLoop().createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
 * try { yield* rpc.call('nope'); }
 * catch (e) { if (e instanceof JsonRpcError && e.code === JsonRpcErrorCode.MethodNotFound) console.log('the server has no such method'); }
 */
export const JsonRpcErrorCode = {
  /** The message was not valid JSON. */
  ParseError: -32700,
  /** The JSON was not a valid request. */
  InvalidRequest: -32600,
  /** No method of that name. */
  MethodNotFound: -32601,
  /** The parameters do not fit the method. */
  InvalidParams: -32602,
  /** The method failed. */
  InternalError: -32603,
} as const;

/**
 * A request id: JSON-RPC allows a string, a number or null.
 * @example
 * const methods = { whoami: (_p: unknown, info: JsonRpcCallInfo) => ({ id: info.id satisfies JsonRpcId | undefined }) };
 */
export type JsonRpcId = string | number | null;

/**
 * A JSON-RPC error: thrown by `call()` when the peer answered with an error
 * object, and thrown by a method handler to answer with one (`code`,
 * `message`, `data` go on the wire as given).
 * @example
 * const methods = { div: (params: unknown) => {
 *   const [a, b] = params as [number, number];
 *   if (b === 0) throw new JsonRpcError(JsonRpcErrorCode.InvalidParams, 'division by zero');
 *   return a! / b;
 * } };
 */
export class JsonRpcError extends Error {
  /** The error code (see {@link JsonRpcErrorCode}; other codes are the application's). */
  readonly code: number;
  /** Extra information the error carries, if any. */
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
    this.code = code;
    this.data = data;
  }
}

/**
 * What a method handler gets besides its params (`id` is undefined for a notification).
 * @example
 * const methods = { ping: (_p: unknown, info: JsonRpcCallInfo) => (info.id === undefined ? undefined : 'pong') };
 */
export interface JsonRpcCallInfo {
  /** The connection the request came on (to call or notify the peer back). */
  protocol: JsonRpcProtocol;
  /** The method called. */
  method: string;
  /** The request's id; `undefined` for a notification (no answer is sent). */
  id: JsonRpcId | undefined;
}

/**
 * A method: returns the result (a value, a coroutine or a Promise) or throws (a {@link JsonRpcError} to pick the code).
 * @example
 * const slowAdd: JsonRpcMethod = function* (params) { yield* sleep(10); const [a, b] = params as number[]; return a! + b!; };
 */
export type JsonRpcMethod = (params: unknown, info: JsonRpcCallInfo) => unknown;

/**
 * Options of {@link JsonRpcProtocol}.
 * @example
 * const rpc = new JsonRpcProtocol({ methods: { add: (params) => { const [a, b] = params as number[]; return a! + b!; } } } satisfies JsonRpcOptions);
 */
export interface JsonRpcOptions {
  /** The methods this side serves. */
  methods?: Record<string, JsonRpcMethod>;
}

interface Response { jsonrpc: '2.0'; id: JsonRpcId; result?: unknown; error?: { code: number; message: string; data?: unknown } }
type Outcome = Response | null | Task<Response | null>;

const decoder = new TextDecoder('utf-8', { fatal: true });

function isCoro(x: unknown): x is Coro<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Coro<unknown>).next === 'function'
    && typeof (x as Coro<unknown>).throw === 'function' && typeof (x as Coro<unknown>)[Symbol.iterator] === 'function';
}
function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}
/** A valid id: a string, a finite number or null (`1e400` parses as Infinity, which JSON cannot carry back). */
function isId(x: unknown): x is JsonRpcId { return x === null || typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)); }

/** `r` as JSON; if it cannot be encoded, the -32603 error that replaces it (for the same id). */
function encodeResponse(r: Response): string {
  try {
    return JSON.stringify(r);
  } catch (e) {
    const why = e instanceof RangeError ? 'the result is nested too deeply to encode' : `the result cannot be encoded as JSON: ${e instanceof Error ? e.message : String(e)}`;
    return JSON.stringify(errorResponse(r.id, JsonRpcErrorCode.InternalError, 'Internal error', why));
  }
}
function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): Response {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}
function toErrorResponse(id: JsonRpcId, e: unknown): Response {
  if (e instanceof JsonRpcError) return errorResponse(id, e.code, e.message, e.data);
  return errorResponse(id, JsonRpcErrorCode.InternalError, 'Internal error', e instanceof Error ? e.message : String(e));
}

/**
 * A JSON-RPC 2.0 endpoint (client and server at once) over a message
 * transport: requests with ids, notifications, batches, and the standard
 * errors (-32700 parse error, -32600 invalid request, -32601 method not
 * found, -32603 internal error). A malformed message is answered with an
 * error and the connection carries on.
 * @example
 * const rpc = new JsonRpcProtocol({ methods: { add: (params: unknown) => { const [a, b] = params as number[]; return a! + b!; } } });
 * const [t] = yield* getRunningLoop().createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
 * const three = yield* rpc.call<number>('add', [1, 2]);
 * rpc.notify('log', { msg: 'done' });
 */
export class JsonRpcProtocol implements Protocol {
  /** The message transport, once connected. */
  transport: Transport | null = null;
  readonly #methods: Record<string, JsonRpcMethod>;
  readonly #pending = new Map<number, Future<unknown>>();
  /** Ids of calls whose caller gave up: their answers are expected and dropped. */
  readonly #abandoned = new Set<number>();
  readonly #tasks = new Set<Task<unknown>>();
  #loop: EventLoop | null = null;
  #nextId = 1;
  #lost: Once<Error | undefined> | null = null;
  #lostExc: Error | null = null;
  /** The transport's writing is paused (pauseWriting). */
  #writePaused = false;
  /** This side paused the transport's reading. */
  #readPaused = false;
  #eof = false;

  constructor(opts?: JsonRpcOptions) { this.#methods = opts?.methods ?? {}; }

  connectionMade(t: Transport): void {
    this.transport = t;
    this.#loop = getRunningLoop();
    this.#lost ??= new Once<Error | undefined>(this.#loop, 'JsonRpcProtocol.waitClosed');
  }

  /** One message: a request, a notification, a response to one of our calls, or a batch of them. */
  dataReceived(message: Uint8Array): void {
    let msg: unknown;
    try {
      msg = JSON.parse(decoder.decode(message));
    } catch {
      this.#send(errorResponse(null, JsonRpcErrorCode.ParseError, 'Parse error'));
      return;
    }
    if (!Array.isArray(msg)) {
      const out = this.#dispatch(msg);
      if (out === null) return;
      if (out instanceof Future) this.#track(this.#sendWhenDone(out));
      else this.#send(out);
      return;
    }
    if (msg.length === 0) { this.#send(errorResponse(null, JsonRpcErrorCode.InvalidRequest, 'Invalid Request')); return; }
    const outs = msg.map((m) => this.#dispatch(m));
    if (outs.every((o) => !(o instanceof Future))) {
      const rs = outs.filter((o): o is Response => o !== null);
      if (rs.length > 0) this.#send(rs);
    } else this.#track(this.#sendBatch(outs));
  }

  /** The peer does not read its answers: stop reading its requests (see the module comment). */
  pauseWriting(): void { this.#writePaused = true; this.#flow(); }
  resumeWriting(): void { this.#writePaused = false; this.#flow(); }

  /**
   * The peer will send nothing more: the transport stays open while
   * answers are still being computed, and is closed once they are sent
   * (over HTTP, this is what tells a notification's 204 from a late reply).
   */
  eofReceived(): boolean {
    this.#eof = true;
    return this.#tasks.size > 0;
  }

  connectionLost(exc: Error | undefined): void {
    const e = exc ?? connectionLostError();
    this.#lostExc = e;
    for (const f of this.#pending.values()) if (!f.done()) { f.setException(e); void f.exception(); }
    this.#pending.clear();
    this.#abandoned.clear();
    for (const t of this.#tasks) t.cancel();
    this.#lost?.setResult(exc);
  }

  /**
   * Call `method` on the peer and wait for its result; throws
   * {@link JsonRpcError} if the peer answers with an error, or the
   * connection's error if it is lost first.
   * @example
   * const rpc = new JsonRpcProtocol();
   * yield* getRunningLoop().createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
   * const user = yield* rpc.call<{ name: string }>('getUser', { id: 7 });
   */
  *call<R = unknown>(method: string, params?: unknown[] | Record<string, unknown>): Coro<R> {
    const t = this.#open();
    const id = this.#nextId++;
    const f = new Future<unknown>({ loop: this.#loop!, description: `JsonRpcProtocol.call ${method}` });
    const message = JSON.stringify({ jsonrpc: '2.0', method, params, id });
    this.#pending.set(id, f);
    try {
      t.write(message);
      this.#flow();
      return (yield* f) as R;
    } finally {
      if (this.#pending.delete(id) && (f.cancelled() || !f.done())) this.#abandoned.add(id);   // its answer may still come
      this.#flow();
    }
  }

  /**
   * Send a notification (no id, no answer).
   * @example
   * const rpc = new JsonRpcProtocol();
   * yield* getRunningLoop().createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
   * rpc.notify('progress', { done: 10, of: 100 });
   */
  notify(method: string, params?: unknown[] | Record<string, unknown>): void {
    this.#open().write(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Calls waiting for an answer. */
  pendingCalls(): number { return this.#pending.size; }

  /**
   * Wait until the connection is lost; returns its error (undefined for a
   * clean close). Any number of tasks may wait: one that gives up does not
   * disturb the others.
   * @example
   * const rpc = new JsonRpcProtocol();
   * yield* getRunningLoop().createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', 4000);
   * const exc = yield* rpc.waitClosed();   // undefined after a clean close
   */
  *waitClosed(): Coro<Error | undefined> {
    if (this.#lost === null) throw new Error('JsonRpcProtocol: not connected yet');
    return yield* this.#lost.wait();
  }

  #open(): Transport {
    if (this.#lostExc !== null) throw this.#lostExc;
    const t = this.transport;
    if (t === null) throw new Error('JsonRpcProtocol: not connected');
    if (t.isClosing()) throw connectionLostError();
    return t;
  }

  #send(r: Response | Response[]): void {
    const t = this.transport;
    if (t === null || t.isClosing()) return;
    t.write(Array.isArray(r) ? `[${r.map(encodeResponse).join(',')}]` : encodeResponse(r));
  }

  /** Read while writing flows, or while answers to our own calls are awaited; else pause reading. */
  #flow(): void {
    const t = this.transport;
    if (t === null || this.#lostExc !== null || t.isClosing()) return;
    const pause = this.#writePaused && this.#pending.size === 0;
    if (pause === this.#readPaused) return;
    this.#readPaused = pause;
    if (pause) t.pauseReading();
    else t.resumeReading();
  }

  /** A response to send at once, nothing (a notification, a response we consumed), or a task that will produce one. */
  #dispatch(m: unknown): Outcome {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return errorResponse(null, JsonRpcErrorCode.InvalidRequest, 'Invalid Request');
    const o = m as Record<string, unknown>;
    if (!('method' in o) && ('result' in o || 'error' in o)) { this.#response(o); return null; }
    const hasId = 'id' in o;
    const id = hasId && isId(o.id) ? o.id : null;
    const params = o.params;
    if (o.jsonrpc !== '2.0' || typeof o.method !== 'string' || (hasId && !isId(o.id))
      || (params !== undefined && (typeof params !== 'object' || params === null))) {
      return errorResponse(id, JsonRpcErrorCode.InvalidRequest, 'Invalid Request');
    }
    const method = o.method;
    const fn = Object.hasOwn(this.#methods, method) ? this.#methods[method] : undefined;
    if (fn === undefined) return hasId ? errorResponse(id, JsonRpcErrorCode.MethodNotFound, 'Method not found', method) : null;
    let r: unknown;
    try {
      r = fn.call(this.#methods, params, { protocol: this, method, id: hasId ? id : undefined });
    } catch (e) {
      return hasId ? toErrorResponse(id, e) : this.#notificationFailed(method, e);
    }
    if (!isCoro(r) && !isThenable(r)) return hasId ? { jsonrpc: '2.0', id, result: r ?? null } : null;
    return this.#track(this.#runAsync(r, hasId ? id : undefined, method));
  }

  *#runAsync(r: Coro<unknown> | PromiseLike<unknown>, id: JsonRpcId | undefined, method: string): Coro<Response | null> {
    try {
      const v = isCoro(r) ? yield* r : yield* this.#loop!.createTask(r);
      return id === undefined ? null : { jsonrpc: '2.0', id, result: v ?? null };
    } catch (e) {
      return id === undefined ? this.#notificationFailed(method, e) : toErrorResponse(id, e);
    }
  }

  *#sendWhenDone(t: Task<Response | null>): Coro<void> {
    const r = yield* t;
    if (r !== null) this.#send(r);
  }

  *#sendBatch(outs: Outcome[]): Coro<void> {
    const rs: Response[] = [];
    for (const o of outs) {
      const r = o instanceof Future ? yield* o : o;
      if (r !== null) rs.push(r);
    }
    if (rs.length > 0) this.#send(rs);
  }

  #response(o: Record<string, unknown>): void {
    const f = typeof o.id === 'number' ? this.#pending.get(o.id) : undefined;
    if (f === undefined && this.#abandoned.delete(o.id as number)) return;   // the answer to a call its caller gave up
    if (f === undefined) {
      this.#loop?.callExceptionHandler({ message: 'JSON-RPC: a response to no pending call', response: o, protocol: this, transport: this.transport ?? undefined });
      return;
    }
    this.#pending.delete(o.id as number);
    this.#flow();
    if (f.done()) return;   // its caller was cancelled and has not yet unwound
    if ('error' in o) {
      const err = o.error as { code?: unknown; message?: unknown; data?: unknown } | null;
      const code = typeof err?.code === 'number' ? err.code : JsonRpcErrorCode.InternalError;
      f.setException(new JsonRpcError(code, typeof err?.message === 'string' ? err.message : 'error', err?.data));
    } else f.setResult(o.result);
  }

  /** A notification's handler failed: nobody can be answered, so the loop's exception handler hears of it. */
  #notificationFailed(method: string, e: unknown): null {
    if (!(e instanceof JsonRpcError)) this.#loop?.callExceptionHandler({ message: `JSON-RPC notification ${method} failed`, exception: e, protocol: this });
    return null;
  }

  #track<T>(c: Coro<T>): Task<T> {
    const t = this.#loop!.createTask(c, { name: 'JsonRpcProtocol handler' });
    this.#tasks.add(t);
    t.addDoneCallback(() => {
      this.#tasks.delete(t);
      if (this.#eof && this.#tasks.size === 0) this.transport?.close();
    });
    return t;
  }
}
