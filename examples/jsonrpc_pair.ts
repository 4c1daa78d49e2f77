/**
 * JSON-RPC 2.0 between two processes: this program starts a copy of itself
 * as a server and calls it over TCP, one JSON text per line.
 *
 * Shows: protocol stacking (`stack(ChunkProtocol('\n'), JsonRpcProtocol)`:
 * the RPC layer never sees the framing), methods that are plain functions,
 * coroutines or that call back the caller (notifications from server to
 * client on the same connection), a call given up by `waitFor` (a timeout
 * around any coroutine), a remote error arriving as a `JsonRpcError`, and a
 * child process stopped with SIGTERM, which it handles by closing cleanly.
 *
 * Run: npx tsx examples/jsonrpc_pair.ts      (the server alone: ... --serve)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChunkProtocol, createSubprocessExec, Future, getRunningLoop, JsonRpcError, JsonRpcErrorCode, JsonRpcProtocol, run,
  sleep, stack, TimeoutError, waitFor, type Coro, type JsonRpcCallInfo, type JsonRpcMethod,
} from 'tulip';

/** One line is one message; a line over 1 MiB closes the connection. */
const framed = (rpc: JsonRpcProtocol) => stack((deliver) => new ChunkProtocol('\n', deliver, { maxChunkLength: 1 << 20 }), rpc);

function numbers(params: unknown): number[] {
  if (!Array.isArray(params) || !params.every((n) => typeof n === 'number')) {
    throw new JsonRpcError(JsonRpcErrorCode.InvalidParams, 'expected an array of numbers');
  }
  return params;
}

const methods: Record<string, JsonRpcMethod> = {
  /** A plain function. */
  sum: (params) => numbers(params).reduce((a, b) => a + b, 0),
  /** A coroutine: it may wait, and a cancelled call halts it. */
  *slowSquare(params): Coro<number> {
    const [n, ms] = numbers(params);
    yield* sleep(ms!);
    return n! * n!;
  },
  /** Calls back the caller: a `tick` notification for each step, then the answer. */
  *countdown(params, info: JsonRpcCallInfo): Coro<string> {
    for (let n = numbers(params)[0]!; n > 0; n--) {
      info.protocol.notify('tick', [n]);
      yield* sleep(10);
    }
    return 'liftoff';
  },
};

/** The server: serve on 127.0.0.1 until SIGTERM, then close every connection and exit. */
function* serve(): Coro<void> {
  const loop = getRunningLoop();
  const server = yield* loop.createServer(() => framed(new JsonRpcProtocol({ methods })), '127.0.0.1', 0);
  console.log(`listening ${(server.addresses()[0] as [string, number])[1]}`);
  const stop = new Future<void>();
  loop.addSignalHandler('SIGTERM', () => stop.setResult());
  yield* stop;
  server.close();
  server.closeClients();
  yield* server.waitClosed();
  console.error('server: stopped on SIGTERM');
}

/** The client: start the server, call it, stop it. */
function* client(): Coro<number> {
  const self = fileURLToPath(import.meta.url);
  const child = yield* createSubprocessExec(process.execPath, [...process.execArgv, self, '--serve'], { stdout: 'pipe' });
  const line = new TextDecoder().decode(yield* child.stdout!.readLine());
  const port = Number(/^listening (\d+)/.exec(line)?.[1]);

  const rpc = new JsonRpcProtocol({ methods: { tick: (params) => { console.log(`  tick ${String((params as unknown[])[0])}`); } } });
  yield* getRunningLoop().createConnection(() => framed(rpc), '127.0.0.1', port);

  console.log(`sum = ${yield* rpc.call<number>('sum', [1, 2, 3, 4])}`);
  console.log(`countdown: ${yield* rpc.call<string>('countdown', [3])}`);
  try {
    yield* waitFor(rpc.call('slowSquare', [12, 5_000]), 100);
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log('slowSquare: gave up after 100 ms');
  }
  console.log(`slowSquare = ${yield* rpc.call<number>('slowSquare', [12, 10])}`);
  try {
    yield* rpc.call('sum', ['not', 'numbers']);
  } catch (e) {
    if (!(e instanceof JsonRpcError)) throw e;
    console.log(`sum of strings: error ${e.code} (${e.message})`);
  }
  rpc.transport?.close();
  child.terminate();
  return yield* child.wait();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {   // run, not imported
  if (process.argv.includes('--serve')) await run(serve);
  else console.log(`server exited with ${await run(client)}`);
}
