/**
 * The high-level subprocess API (asyncio's `create_subprocess_exec/shell`):
 * a {@link Process} whose pipes are streams, on top of `subprocessExec`.
 *
 * A child process is a resource with an owner: the innermost scope (or the
 * task) that created the Process (subprocess.ts does it for every
 * subprocess transport). If that scope halts or fails while the child runs,
 * the child gets SIGTERM, then SIGKILL after `killGrace` ms, only after the
 * scope's own `finally` blocks and deferred cleanups had their chance to end
 * it more gently, and the halt finishes once the child is reaped. A scope
 * that ends normally hands the child on (it may have been returned);
 * `run()` ends whatever is still running at its end; `detached: true` opts
 * out.
 */
import { getRunningLoop, type Coro, type EventLoop } from '../kernel/events.js';
import { Future } from '../kernel/future.js';
import type { Task } from '../kernel/task.js';
import type {
  ReadTransport, SubprocessProtocol, SubprocessTransport, Transport, WriteTransport,
} from '../kernel/transport_types.js';
import { DEFAULT_LIMIT, StreamReader } from '../streams/reader.js';
import { StreamReaderProtocol } from '../streams/stream_protocol.js';
import { StreamWriter } from '../streams/writer.js';
import { LAZY_READ, type StdioOption } from './subprocess.js';
import { brokenPipeError, type ReadPipeTransport, type WritePipeTransport } from './pipes.js';

/**
 * Options of {@link createSubprocessExec}/{@link createSubprocessShell}: stdio defaults to 'inherit'.
 * @example
 * yield* createSubprocessExec('grep', ['x'], { stdin: 'pipe', stdout: 'pipe', limit: 1 << 20 });
 */
export interface ProcessOptions {
  /**
   * The child's stdin (default `'inherit'`; `'pipe'`: `process.stdin` is a StreamWriter); also another
   * Process's `stdout` or `stderr`, whose pipe is handed to this child (see {@link createSubprocessExec}).
   */
  stdin?: StdioOption | StreamReader;
  /** The child's stdout (default `'inherit'`; `'pipe'`: `process.stdout` is a StreamReader). */
  stdout?: StdioOption;
  /** The child's stderr (default `'inherit'`; {@link STDOUT}: into stdout). */
  stderr?: StdioOption;
  /** The working directory (default: this process's). */
  cwd?: string | URL;
  /** The environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The StreamReaders' limit (default 64 KiB). */
  limit?: number;
  /** When the owning scope halts: ms between SIGTERM and SIGKILL (default 2000). */
  killGrace?: number;
  /** Owned by no scope, not killed when the loop closes, in its own process group: it may outlive tulip. */
  detached?: boolean;
}

/** Feeds the child's output to StreamReaders and keeps stdin's flow-control state for `drain()`. */
class SubprocessStreamProtocol implements SubprocessProtocol {
  stdin: StreamWriter | null = null;
  stdout: StreamReader | null = null;
  stderr: StreamReader | null = null;
  readonly #limit: number;
  readonly #loop: EventLoop;
  #stdinProtocol: StreamReaderProtocol | null = null;
  #exitWaiters: Array<Future<number>> = [];
  #transport: SubprocessTransport | null = null;

  constructor(limit: number, loop: EventLoop) { this.#limit = limit; this.#loop = loop; }

  connectionMade(t: SubprocessTransport): void {
    this.#transport = t;
    const reader = (fd: 1 | 2): StreamReader | null => {
      const pipe = t.getPipeTransport(fd) as ReadTransport | null;
      if (pipe === null) return null;
      const r = new StreamReader({ limit: this.#limit, loop: this.#loop });
      r.setTransport(pipe);
      childPipes.set(r, pipe as ReadPipeTransport);
      return r;
    };
    this.stdout = reader(1);
    this.stderr = reader(2);
    const stdin = t.getPipeTransport(0) as WriteTransport | null;
    if (stdin !== null) {
      // StreamWriter is written against a Transport; it uses only the write side of it.
      const p = new StreamReaderProtocol(new StreamReader({ loop: this.#loop }), null, this.#loop);
      p.connectionMade(stdin as Transport);
      this.#stdinProtocol = p;
      this.stdin = new StreamWriter(stdin as Transport, p, null, this.#loop);
    }
  }

  pipeDataReceived(fd: 1 | 2, data: Uint8Array): void { (fd === 1 ? this.stdout : this.stderr)?.feedData(data); }

  pipeConnectionLost(fd: 0 | 1 | 2, exc?: Error): void {
    if (fd === 0) {
      // The child exited (or closed its stdin) before this side closed it: later writes are to a broken pipe.
      const pipe = this.#transport?.getPipeTransport(0) as Partial<WritePipeTransport> | null;
      this.#stdinProtocol?.connectionLost(exc ?? (pipe?._closedByPeer?.() === true ? brokenPipeError() : undefined));
      return;
    }
    const r = fd === 1 ? this.stdout : this.stderr;
    if (exc === undefined) r?.feedEof();
    else r?.setException(exc);
  }

  pauseWriting(): void { this.#stdinProtocol?.pauseWriting(); }
  resumeWriting(): void { this.#stdinProtocol?.resumeWriting(); }

  processExited(): void {
    const code = this.#transport!.getReturncode()!;
    for (const f of this.#exitWaiters.splice(0)) if (!f.done()) f.setResult(code);
  }

  /** A future of the exit code, one per waiter (cancelling one wait does not disturb the others). */
  _exitFuture(): Future<number> {
    const f = new Future<number>({ loop: this.#loop, description: `Process.wait (pid ${this.#transport?.getPid()})` });
    const code = this.#transport?.getReturncode() ?? null;
    if (code !== null) f.setResult(code);
    else this.#exitWaiters.push(f);
    return f;
  }
}

function isBrokenPipe(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/**
 * A child process with stream pipes (asyncio's `Process`).
 * @example
 * const p = yield* createSubprocessExec('ls', ['-l'], { stdout: 'pipe' });
 * const [out] = yield* p.communicate();
 * console.log(p.returncode, Buffer.from(out!).toString());
 */
export class Process {
  /** The child's process id. */
  readonly pid: number;
  /** A StreamWriter to the child's stdin ('pipe' only), else null. */
  readonly stdin: StreamWriter | null;
  /** A StreamReader of the child's stdout ('pipe' only), else null. */
  readonly stdout: StreamReader | null;
  /** A StreamReader of the child's stderr ('pipe' only), else null. */
  readonly stderr: StreamReader | null;
  readonly #transport: SubprocessTransport;
  readonly #protocol: SubprocessStreamProtocol;

  /** @internal */
  constructor(transport: SubprocessTransport, protocol: SubprocessStreamProtocol) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.pid = transport.getPid();
    this.stdin = protocol.stdin;
    this.stdout = protocol.stdout;
    this.stderr = protocol.stderr;
  }

  /** The exit code, `-signal` if a signal ended it, `null` while it runs. */
  get returncode(): number | null { return this.#transport.getReturncode(); }
  /** The transport underneath. */
  get transport(): SubprocessTransport { return this.#transport; }

  /**
   * Wait for the child to exit and return its exit code. With `stdout: 'pipe'`,
   * read the output too (or use `communicate()`): a child whose pipe is full waits forever.
   */
  *wait(): Coro<number> { return yield* this.#protocol._exitFuture(); }

  /**
   * Write `input` to stdin and close it, read stdout and stderr to their end,
   * wait for the exit; returns `[stdout, stderr]` (null for a stream that is
   * not a pipe). A child that closed its stdin early is not an error.
   */
  *communicate(input?: Uint8Array | string): Coro<[Uint8Array | null, Uint8Array | null]> {
    if (input !== undefined && this.stdin === null) throw new TypeError('communicate(input) needs stdin: \'pipe\'');
    const loop = getRunningLoop();
    const tasks: Array<Task<unknown>> = [];
    const start = <T>(c: Coro<T>, name: string): Task<T> => { const t = loop.createTask(c, { name: `communicate ${name} (pid ${this.pid})` }); tasks.push(t); return t; };
    try {
      const feed = this.stdin !== null ? start(this.#feedStdin(input), 'stdin') : null;
      const out = this.stdout !== null ? start(this.stdout.read(-1), 'stdout') : null;
      const err = this.stderr !== null ? start(this.stderr.read(-1), 'stderr') : null;
      if (feed !== null) yield* feed;
      const o = out !== null ? yield* out : null;
      const e = err !== null ? yield* err : null;
      yield* this.wait();
      return [o, e];
    } finally {
      for (const t of tasks) t.cancel();
    }
  }

  *#feedStdin(input: Uint8Array | string | undefined): Coro<void> {
    const w = this.stdin!;
    try {
      if (input !== undefined) w.write(input);
      yield* w.drain();
    } catch (e) {
      if (!isBrokenPipe(e)) throw e;
    }
    w.close();
  }

  /** Send `sig` (a name or a number); nothing happens once the child has exited. */
  sendSignal(sig: string | number): void { this.#transport.sendSignal(sig); }
  /** SIGTERM. */
  terminate(): void { this.#transport.terminate(); }
  /** SIGKILL. */
  kill(): void { this.#transport.kill(); }

  /**
   * `using`: SIGKILL if the child still runs (Node reaps it when it exits).
   * @example
   * using p = yield* createSubprocessExec('sleep', ['60']);
   */
  [Symbol.dispose](): void { if (this.returncode === null) this.kill(); }

  /**
   * `await using`: SIGKILL if the child still runs, then wait until it has exited and been reaped.
   * @example
   * await using p = await getRunningLoop().createTask(createSubprocessExec('sleep', ['60']));
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const exited = this.#protocol._exitFuture();
    if (this.returncode === null) this.kill();
    await exited;
  }
}

function* create(spawn: (loop: EventLoop, factory: () => SubprocessStreamProtocol, opts: Record<string, unknown>) => Coro<[SubprocessTransport, SubprocessStreamProtocol]>, opts: ProcessOptions): Coro<Process> {
  const loop = getRunningLoop();
  const { limit = DEFAULT_LIMIT, stdin = 'inherit', stdout = 'inherit', stderr = 'inherit', ...rest } = opts;
  const handed = stdin instanceof StreamReader ? handOver(stdin) : null;
  let spawned: [SubprocessTransport, SubprocessStreamProtocol] | null = null;
  try {
    spawned = yield* spawn(loop, () => new SubprocessStreamProtocol(limit, loop), {
      ...rest, stdin: handed?.stream ?? stdin, stdout, stderr, [LAZY_READ]: true,
    });
  } finally {
    if (handed !== null) { if (spawned !== null) handed.release(spawned[0].getPid()); else handed.restore(); }
  }
  const [t, p] = spawned;
  return new Process(t, p);   // the child is owned by the innermost scope from spawn on (subprocess.ts)
}

/**
 * Start `program` with `args` (no shell) and return a {@link Process}.
 * stdin, stdout, stderr: 'pipe' | 'ignore' | 'inherit' (default) | an fd, and
 * {@link STDOUT} for stderr. The innermost scope (or task) that calls it
 * owns the child (see above).
 * @example
 * const p = yield* createSubprocessExec('cat', [], { stdin: 'pipe', stdout: 'pipe' });
 * const [out] = yield* p.communicate('hello');   // out: 'hello' as bytes
 */
export function createSubprocessExec(program: string, args: string[] = [], opts: ProcessOptions = {}): Coro<Process> {
  return create((loop, f, o) => loop.subprocessExec(f, program, args, o), opts);
}

/**
 * Run `cmd` with /bin/sh and return a {@link Process} (see {@link createSubprocessExec}).
 * @example
 * const p = yield* createSubprocessShell('ls | wc -l', { stdout: 'pipe' });
 * const n = Number(Buffer.from(yield* p.stdout!.read()).toString());
 */
export function createSubprocessShell(cmd: string, opts: ProcessOptions = {}): Coro<Process> {
  return create((loop, f, o) => loop.subprocessShell(f, cmd, o), opts);
}

/** The pipe transport behind each StreamReader of a child's stdout/stderr, for handing it to another child. */
const childPipes = new WeakMap<StreamReader, ReadPipeTransport>();

/**
 * `stdin: otherProcess.stdout`: the Node stream of that pipe goes to spawn(),
 * which gives the new child a duplicate of its fd (the bytes never pass
 * through this process); once the child runs, this process's end is closed
 * and the reader ends with an error saying where its data went. Allowed
 * only while no byte of the pipe was read into this process: after that,
 * the child would start in the middle of the data.
 */
function handOver(reader: StreamReader): { stream: StdioOption; release(pid: number): void; restore(): void } {
  const t = childPipes.get(reader);
  if (t === undefined) {
    throw new TypeError('stdin: a StreamReader can be given only if it is another Process\'s stdout or stderr (else use stdin: \'pipe\' and copy())');
  }
  if (t.isClosing() || reader.exception() !== undefined) throw new Error('stdin: that pipe is closed or was already handed to another process');
  if (reader.buffered > 0 || !t._untouched()) {
    throw new Error(`stdin: ${reader.buffered} byte(s) of that pipe were already read into this process, so another child cannot take it whole; use stdin: 'pipe' and copy()`);
  }
  return {
    stream: t.getExtraInfo('pipe') as StdioOption,
    release(pid: number): void {
      reader.setException(new Error(`this pipe was handed to process ${pid} as its stdin`));
      t.close();
    },
    /** The child did not start: Node stopped this process reading the pipe anyway; read on. */
    restore(): void { t._readAgain(); },
  };
}
