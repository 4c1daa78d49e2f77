/**
 * Issue 6 (PEP 3153): what stacking and producers cost against plain Node.
 * - JSON-RPC round trips over TCP: JsonRpcProtocol stacked on '\n' framing
 *   (ChunkProtocol) on a tulip transport, against a hand-written line-JSON
 *   client and server on raw node:net (same framing, same JSON work).
 * - Streaming a 32 MiB file over TCP: FileProducer into a transport, against
 *   `fs.createReadStream(file).pipe(socket)`; both into the same raw sink.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChunkProtocol, type Coro, FileProducer, JsonRpcProtocol, NodeEventLoop, type SockAddr, stack, type Transport,
} from '../src/index.js';
import { compare, report } from './lib.js';

const N_CALLS = 2000;
const FILE_SIZE = 32 * 1024 * 1024;

const loop = new NodeEventLoop();
const onLoop = <T>(c: Coro<T>): Promise<T> => loop.runUntilComplete(c);

function* calls(rpc: JsonRpcProtocol, n: number): Coro<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += yield* rpc.call<number>('add', [i, 1]);
  return s;
}

/** The raw side: a line-JSON server and a client with a pending map, as one would write them on node:net. */
function rawServer(): Promise<net.Server> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const req = JSON.parse(buf.slice(0, i)) as { id: number; params: [number, number] };
        buf = buf.slice(i + 1);
        sock.write(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: req.params[0] + req.params[1] }) + '\n');
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}
class RawClient {
  readonly #pending = new Map<number, (v: number) => void>();
  #id = 0;
  #buf = '';
  constructor(readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        const res = JSON.parse(this.#buf.slice(0, i)) as { id: number; result: number };
        this.#buf = this.#buf.slice(i + 1);
        this.#pending.get(res.id)?.(res.result);
        this.#pending.delete(res.id);
      }
    });
  }
  call(method: string, params: number[]): Promise<number> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.sock.write(JSON.stringify({ jsonrpc: '2.0', method, params, id }) + '\n');
    });
  }
}
async function rawCalls(c: RawClient, n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await c.call('add', [i, 1]);
  return s;
}

/** A raw sink that counts bytes; `until(n)` resolves once n more bytes arrived. */
function sink(): Promise<{ server: net.Server; until(n: number): Promise<void> }> {
  let count = 0, target = Infinity, wake: (() => void) | null = null;
  const server = net.createServer((sock) => sock.on('data', (d: Buffer) => {
    count += d.length;
    if (count >= target && wake !== null) { const w = wake; wake = null; w(); }
  }));
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({
    server,
    until: (n) => new Promise<void>((res) => { target = count + n; wake = res; }),
  })));
}

export async function main(): Promise<void> {
  // ---- JSON-RPC round trips
  const tulipServer = await onLoop(loop.createServer(
    () => stack((d) => new ChunkProtocol('\n', d), new JsonRpcProtocol({ methods: { add: (p) => (p as number[])[0]! + (p as number[])[1]! } })),
    '127.0.0.1', 0));
  const rpc = new JsonRpcProtocol();
  const [tt] = await onLoop(loop.createConnection(() => stack((d) => new ChunkProtocol('\n', d), rpc), '127.0.0.1', (tulipServer.addresses()[0] as SockAddr)[1]));
  (tt.getExtraInfo('socket') as net.Socket).setNoDelay(true);
  const raw = await rawServer();
  const rawClient = new RawClient(net.connect((raw.address() as net.AddressInfo).port, '127.0.0.1'));
  await new Promise((r) => rawClient.sock.once('connect', r));
  const rpcCases = [
    { name: 'tulip JsonRpcProtocol', fn: () => onLoop(calls(rpc, N_CALLS)), ops: N_CALLS },
    { name: 'raw node:net line-JSON', fn: () => rawCalls(rawClient, N_CALLS), ops: N_CALLS },
  ];
  report(`JSON-RPC sequential calls over TCP (${N_CALLS} per sample)`, 'calls', rpcCases, await compare(rpcCases), [
    ['tulip JsonRpcProtocol', 'raw node:net line-JSON', 'none set; for information'],
  ]);
  tt.close(); tulipServer.close(); rawClient.sock.destroy(); raw.close();

  // ---- streaming a file
  const dir = mkdtempSync(join(tmpdir(), 'tulip-bench-'));
  const file = join(dir, 'f.bin');
  writeFileSync(file, Buffer.alloc(FILE_SIZE, 7));
  const s = await sink();
  const port = (s.server.address() as net.AddressInfo).port;
  const [t] = await onLoop(loop.createConnection(() => ({}), '127.0.0.1', port));
  const rawSock = net.connect(port, '127.0.0.1');
  await new Promise((r) => rawSock.once('connect', r));
  const viaProducer = async (tr: Transport): Promise<void> => {
    const done = s.until(FILE_SIZE);
    await onLoop(new FileProducer(file).streamTo(tr));
    await done;
  };
  const viaPipe = async (): Promise<void> => {
    const done = s.until(FILE_SIZE);
    createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(rawSock, { end: false });
    await done;
  };
  const fileCases = [
    { name: 'tulip FileProducer', fn: () => viaProducer(t), ops: FILE_SIZE / 1e6 },
    { name: 'createReadStream.pipe(socket)', fn: viaPipe, ops: FILE_SIZE / 1e6 },
  ];
  report(`streaming a ${FILE_SIZE >> 20} MiB file over TCP`, 'MB', fileCases, await compare(fileCases, { rounds: 3, minSamples: 3 }), [
    ['tulip FileProducer', 'createReadStream.pipe(socket)', 'none set; for information'],
  ]);
  t.close(); rawSock.destroy(); s.server.close();
  rmSync(dir, { recursive: true, force: true });
  loop.close();
}
