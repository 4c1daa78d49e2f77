/**
 * Child processes as transports (`subprocessExec`, `subprocessShell`) on
 * `node:child_process`.
 *
 * The child's stdio pipes are the pipe transports of pipes.ts, each with a
 * small protocol that forwards to the SubprocessProtocol with its fd number.
 * The protocol hears `connectionMade`, then `pipeDataReceived`* and
 * `pipeConnectionLost` per pipe, `processExited` when the child exits, and
 * `connectionLost` exactly once, after the child exited and every pipe
 * closed. Node reaps children itself, so no zombie is left; a child still
 * running when its transport is closed, or when its loop closes, is killed.
 *
 * A child belongs to the innermost scope (or the task) that started it, by
 * the kernel's own cleanup mechanism (kernel/cleanup.ts): if that scope
 * halts or fails while the child runs, the child gets SIGTERM, then SIGKILL
 * after `killGrace` ms, and the halt finishes only once it has been reaped.
 * A scope that ends normally hands the child to the scope around it. At its
 * end `run()` ends every child still running the same way. `detached: true`
 * opts out of all this (and of the child's being killed when its loop
 * closes): the child gets its own process group and may outlive tulip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Cleanups } from '../kernel/cleanup.js';
import type { Coro, EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import { _own } from '../kernel/region.js';
import { rehalt } from '../kernel/traps.js';
import type {
  Protocol, ReadTransport, SubprocessProtocol, SubprocessTransport, WriteTransport,
} from '../kernel/transport_types.js';
import { ProtocolCaller, startSoon } from './io_common.js';
import { type LoopResource, track, untrack } from './registry.js';
import { ReadPipeTransport, WritePipeTransport } from './pipes.js';

/**
 * For `stderr`: send the child's stderr to the same place as its stdout (asyncio's `subprocess.STDOUT`).
 * @example
 * const p = yield* createSubprocessShell('make 2>&1', { stdout: 'pipe', stderr: STDOUT });
 */
export const STDOUT = 'stdout';

/**
 * Where one of the child's stdio streams goes: Node's words, an fd, a Node stream, or (stderr only) {@link STDOUT}.
 * @example
 * const io: StdioOption = 'pipe';
 */
export type StdioOption = 'pipe' | 'ignore' | 'inherit' | typeof STDOUT | number | Readable | Writable;

/**
 * Options of `subprocessExec`/`subprocessShell` (stdio defaults to 'pipe', as asyncio's loop methods).
 * @example
 * yield* getRunningLoop().subprocessExec(() => ({}), 'ls', ['-l'], { stdin: 'ignore', cwd: '/tmp' });
 */
export interface SubprocessOptions {
  /** The child's stdin (default `'pipe'`). */
  stdin?: StdioOption;
  /** The child's stdout (default `'pipe'`). */
  stdout?: StdioOption;
  /** The child's stderr (default `'pipe'`; {@link STDOUT}: into stdout). */
  stderr?: StdioOption;
  /** The working directory (default: this process's). */
  cwd?: string | URL;
  /** The environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** When the owning scope halts: ms between SIGTERM and SIGKILL (default 2000). */
  killGrace?: number;
  /** Not owned by any scope, not killed when the loop closes, in its own process group: it may outlive tulip. */
  detached?: boolean;
  /** @internal */ [LAZY_READ]?: boolean;
  [key: string]: unknown;
}

/** The default of `killGrace`: how long a child has to exit after SIGTERM before SIGKILL. */
export const DEFAULT_KILL_GRACE = 2000;

/** The running children of each loop that `run()` ends at its end (not the detached ones). */
const children = new WeakMap<object, Set<NodeSubprocessTransport>>();

/**
 * @internal an option of `subprocessExec`: the child's stdout and stderr are
 * not read until their transport is first resumed (Process's streams), so
 * one that is handed to another child loses nothing to this process.
 */
export const LAZY_READ: unique symbol = Symbol('tulip.lazyRead');

/** What Node's net.Socket keeps of a pipe that has started reading (the fields Node's own child_process uses to stop it). */
interface ReadingSocket { _handle?: { reading?: boolean; readStop?: () => number } | null; _readableState?: { reading: boolean } }

/**
 * Stop Node reading a child's stdout/stderr pipe, which it starts the moment
 * the child is spawned (net.Socket reads a pipe handle from its constructor).
 * Done synchronously after spawn(), before any I/O event, so nothing has been
 * read; the stream reads again at its next read(0) ('readable' listener).
 * Node's child_process stops a stdio stream it hands to another child with
 * these same steps; false if the fields are not there.
 */
function stopReading(s: (Readable & ReadingSocket) | null): boolean {
  const h = s?._handle;
  if (s == null || h == null || typeof h.readStop !== 'function' || s._readableState === undefined) return false;
  h.reading = false;
  h.readStop();
  s._readableState.reading = false;
  return true;
}

function signalNumber(sig: string | null): number {
  if (sig === null) return 0;
  return osConstants.signals[sig as NodeJS.Signals] ?? 0;
}

/** A program's path as `execvp` would find it, or an ENOENT error. */
function which(program: string, env: NodeJS.ProcessEnv | undefined): string {
  const dirs = program.includes('/') ? [''] : (env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin').split(delimiter);
  for (const d of dirs) {
    const p = d === '' ? program : join(d, program);
    try { accessSync(p, fsConstants.X_OK); return p; } catch { /* next */ }
  }
  const e = new Error(`spawn ${program} ENOENT`) as NodeJS.ErrnoException;
  Object.assign(e, { code: 'ENOENT', errno: -osConstants.errno.ENOENT, syscall: `spawn ${program}`, path: program });
  throw e;
}

/** One child process as a transport; an OwnedResource of kernel/cleanup.ts by its internal members (not named here: the published types leave it out). */
class NodeSubprocessTransport implements SubprocessTransport, LoopResource {
  readonly #caller: ProtocolCaller;
  readonly #child: ChildProcess;
  #protocol: SubprocessProtocol = {};
  readonly #pipes = new Map<0 | 1 | 2, ReadPipeTransport | WritePipeTransport>();
  readonly #open = new Set<number>();
  #returncode: number | null = null;
  #closing = false;
  #started = false;
  #exitedEarly = false;
  #lost = false;
  readonly #killGrace: number;
  readonly #detached: boolean;
  #killAt = -1;
  #exitWaiters: Array<Future<void>> = [];
  /** @internal the scope or task that owns the child (kernel/cleanup.ts) */ _owner: Cleanups | null = null;

  /**
   * Made right after `spawn()`, so that no event of the child (a quick exit) is missed; `lazyRead`: see
   * {@link LAZY_READ}.
   */
  constructor(caller: ProtocolCaller, child: ChildProcess, killGrace = DEFAULT_KILL_GRACE, detached = false, lazyRead = false) {
    this.#caller = caller;
    this.#child = child;
    this.#killGrace = killGrace;
    this.#detached = detached;
    const stdio = [child.stdin, child.stdout, child.stderr] as const;
    for (const fd of [0, 1, 2] as const) {
      const s = stdio[fd];
      if (s === null || s === undefined) continue;
      // stdin's flow control reaches the subprocess protocol if it has pauseWriting/resumeWriting (as asyncio's does).
      const forward: Protocol = fd === 0
        ? {
            connectionLost: (exc) => this.#pipeLost(fd, exc),
            pauseWriting: () => (this.#protocol as Protocol).pauseWriting?.(),
            resumeWriting: () => (this.#protocol as Protocol).resumeWriting?.(),
          }
        : {
            dataReceived: (data) => this.#protocol.pipeDataReceived?.(fd, data),
            connectionLost: (exc) => this.#pipeLost(fd, exc),
          };
      this.#pipes.set(fd, fd === 0 ? new WritePipeTransport(caller.loop, s as Writable, forward) : new ReadPipeTransport(caller, s as Readable, forward, {}, { lazy: lazyRead && stopReading(s as Readable) }));
      this.#open.add(fd);
    }
    child.on('exit', (code, signal) => this.#exited(code ?? -signalNumber(signal)));
    child.on('error', (exception) => {
      if (child.pid !== undefined) caller.loop.callExceptionHandler({ message: 'child process error', exception, transport: this });
    });
    track(caller.loop, this);
    if (!detached && child.pid !== undefined) {
      let set = children.get(caller.loop);
      if (set === undefined) children.set(caller.loop, (set = new Set()));
      set.add(this);
    }
  }

  // ---- ownership: ended with the scope that owns it if that scope halts (kernel/cleanup.ts) ----

  /** @internal SIGTERM now; SIGKILL once the grace period is over (see _haltFinish). */
  _haltBegin(): void {
    if (this.#returncode !== null || this.#child.pid === undefined) return;
    this.#killAt = this.#caller.loop.time() + this.#killGrace;
    this.terminate();
  }

  /** @internal wait until the child is reaped, with SIGKILL at the end of the grace period; an interruption kills it at once. */
  *_haltFinish(): Coro<void> {
    if (this.#returncode !== null || this.#child.pid === undefined) return;
    const loop = this.#caller.loop;
    if (this.#killAt < 0) this._haltBegin();
    const killer = loop.callAt(this.#killAt, () => this.kill());
    let reaped = false;
    try {
      yield* this._exited();
      reaped = true;
    } finally {
      killer.cancel();
      if (!reaped) {
        this.kill();
        if (this.#returncode === null) yield* this._exited();
        yield* rehalt();
      }
    }
  }

  /** @internal a future of the child's exit (it has been reaped then), one per waiter. */
  _exited(): Future<void> {
    const f = new Future<void>({ loop: this.#caller.loop, description: `exit of pid ${this.getPid()}` });
    if (this.#returncode !== null) f.setResult();
    else this.#exitWaiters.push(f);
    return f;
  }

  /** @internal connectionMade, then the pipes start. */
  _start(protocol: SubprocessProtocol): void {
    this.#protocol = protocol;
    this.#started = true;
    this.#caller.call(this, this.#protocol, 'protocol.connectionMade()', () => this.#protocol.connectionMade?.(this), () => this.close());
    for (const p of this.#pipes.values()) p._start();
    if (this.#exitedEarly) this.#exited(this.#returncode!);
  }

  getPid(): number { return this.#child.pid ?? -1; }
  getReturncode(): number | null { return this.#returncode; }
  getPipeTransport(fd: 0 | 1 | 2): ReadTransport | WriteTransport | null { return this.#pipes.get(fd) ?? null; }
  getExtraInfo(name: string, fallback?: unknown): unknown { return name === 'subprocess' ? this.#child : fallback; }
  isClosing(): boolean { return this.#closing; }
  setProtocol(p: unknown): void { this.#protocol = p as SubprocessProtocol; }
  getProtocol(): unknown { return this.#protocol; }

  /** Send `sig` to the child (no-op once it has exited). */
  sendSignal(sig: string | number): void {
    if (this.#returncode !== null) return;
    this.#child.kill(sig as NodeJS.Signals);
  }
  terminate(): void { this.sendSignal('SIGTERM'); }
  kill(): void { this.sendSignal('SIGKILL'); }

  /** `using`: `close()` when the block ends. */
  [Symbol.dispose](): void { this.close(); }

  /** Close the pipes and kill the child if it still runs; `processExited` and `connectionLost` follow. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    for (const p of this.#pipes.values()) p.close();
    if (this.#returncode === null) this.kill();
  }

  /** @internal */
  _loopClosing(): void {
    this.#closing = true;
    if (this.#returncode === null) {
      if (this.#detached) this.#child.unref();   // it may outlive tulip, and does not keep Node alive
      else this.#child.kill('SIGKILL');
    }
    for (const p of this.#pipes.values()) p._loopClosing();
  }

  #exited(code: number): void {
    this.#returncode = code;
    this._owner?.disown(this);
    children.get(this.#caller.loop)?.delete(this);
    for (const f of this.#exitWaiters.splice(0)) if (!f.done()) f.setResult();
    if (!this.#started) { this.#exitedEarly = true; return; }
    this.#exitedEarly = false;
    this.#caller.call(this, this.#protocol, 'protocol.processExited()', () => this.#protocol.processExited?.());
    this.#tryFinish();
  }

  #pipeLost(fd: 0 | 1 | 2, exc: Error | undefined): void {
    this.#open.delete(fd);
    this.#caller.call(this, this.#protocol, 'protocol.pipeConnectionLost()', () => this.#protocol.pipeConnectionLost?.(fd, exc));
    this.#tryFinish();
  }

  #tryFinish(): void {
    if (this.#lost || this.#returncode === null || this.#exitedEarly || this.#open.size > 0) return;
    this.#lost = true;
    untrack(this.#caller.loop, this);
    this.#caller.call(this, this.#protocol, 'protocol.connectionLost()', () => this.#protocol.connectionLost?.(undefined));
  }
}

type NodeStdio = 'pipe' | 'ignore' | 'inherit' | number | Readable | Writable;

function nodeStdio(o: StdioOption | undefined, which: string): NodeStdio {
  if (o === undefined) return 'pipe';
  if (o === STDOUT) throw new TypeError(`${which}: STDOUT is only for stderr`);
  return o;
}

/** Spawn, wait for Node's 'spawn' (or 'error': ENOENT, EACCES), make the transport, start it. */
function* start<P>(loop: EventLoop, factory: () => P, command: string, args: string[], opts: SubprocessOptions, shell: boolean): Coro<[SubprocessTransport, P]> {
  const { stdin, stdout, stderr, cwd, env, killGrace = DEFAULT_KILL_GRACE, detached = false } = opts;
  if (typeof killGrace !== 'number' || !(killGrace >= 0)) throw new TypeError(`killGrace must be a number of ms >= 0, not ${String(killGrace)}`);
  let cmd = command, argv = args;
  let errIo: NodeStdio;
  if (stderr === STDOUT) {
    // Node cannot dup2 one child fd onto another: a tiny sh does it, then execs the program (same pid).
    if (shell) { argv = ['-c', `exec 2>&1\n${command}`]; }
    else { which(command, env); argv = ['-c', 'exec 2>&1; exec "$0" "$@"', command, ...args]; }
    cmd = '/bin/sh';
    shell = false;
    errIo = 'inherit';
  } else errIo = nodeStdio(stderr, 'stderr');
  const protocol = factory();   // before the child exists, as asyncio does: a factory that throws leaves nothing running
  const child = spawn(cmd, argv, { stdio: [nodeStdio(stdin, 'stdin'), nodeStdio(stdout, 'stdout'), errIo], cwd, env, shell, detached });
  const t = new NodeSubprocessTransport(new ProtocolCaller(loop), child, killGrace, detached, opts[LAZY_READ] === true);
  if (!detached && child.pid !== undefined) _own(t);   // owned from the first instant (see the top of this file)
  const spawned = new Future<void>({ loop, description: `spawn ${command}` });
  const onSpawn = (): void => { if (!spawned.done()) spawned.setResult(); };
  const onError = (e: Error): void => { if (!spawned.done()) spawned.setException(e); };
  child.once('spawn', onSpawn);
  child.once('error', onError);
  let ok = false;
  try {
    yield* spawned;
    ok = true;
  } finally {
    child.off('spawn', onSpawn);
    child.off('error', onError);
    if (!ok) {
      if (child.pid === undefined) t._owner?.disown(t);   // never started: nothing to end
      t._loopClosing();
    }
  }
  yield* startSoon(loop, `start ${command}`, () => t._start(protocol as SubprocessProtocol), () => t._loopClosing());
  return [t, protocol];
}

/** @internal `loop.subprocessExec(factory, program, args, opts)`. */
export function subprocessExec<P>(loop: EventLoop, factory: () => P, program: string, args: string[], opts: SubprocessOptions = {}): Coro<[SubprocessTransport, P]> {
  if (!Array.isArray(args)) throw new TypeError('subprocessExec: args must be an array of strings');
  return start(loop, factory, program, args.map(String), opts, false);
}

/** @internal `loop.subprocessShell(factory, cmd, opts)`. */
export function subprocessShell<P>(loop: EventLoop, factory: () => P, cmd: string, opts: SubprocessOptions = {}): Coro<[SubprocessTransport, P]> {
  if (typeof cmd !== 'string') throw new TypeError('subprocessShell: cmd must be a string');
  return start(loop, factory, cmd, [], opts, true);
}

/**
 * @internal `run()`'s end: every child of `loop` still running (not detached) gets SIGTERM, then SIGKILL after
 * its grace period; returns once all have been reaped.
 */
export function* shutdownChildren(loop: EventLoop): Coro<void> {
  const set = children.get(loop);
  if (set === undefined || set.size === 0) return;
  const running = [...set];
  for (const t of running) { t._owner?.disown(t); t._haltBegin(); }
  for (const t of running) yield* t._haltFinish();
}

export { NodeSubprocessTransport };
