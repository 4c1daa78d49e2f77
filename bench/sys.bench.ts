/**
 * The non-socket I/O of the Node loop against raw Node: UDP ping-pong
 * round trips on 127.0.0.1 (a tulip DatagramProtocol pair vs a raw
 * node:dgram pair), and trivial worker-pool jobs one at a time (toThread
 * vs piscina's own run()). Round-trip rates are throughput measured over
 * fixed time slices, alternating A/B over several rounds and comparing
 * medians, so they do not use mitata (as net.bench.ts).
 */
import { createSocket, type Socket } from 'node:dgram';
import { Piscina } from 'piscina';
import {
  type Coro, type DatagramProtocol, type DatagramTransport, Future, NodeEventLoop, type SockAddr, ThreadPoolExecutor, toThread,
} from '../src/index.js';
import { record } from './lib.js';

const ROUNDS = 7;
const MS = 200;
const FIXTURE = new URL('../test/fixtures/worker_fns.mjs', import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

// ---- UDP ---------------------------------------------------------------------

/** Pongs every datagram back, or (the pinger) sends the next one until the deadline. */
class Pinger implements DatagramProtocol {
  t: DatagramTransport | null = null;
  count = 0;
  deadline = 0;
  done: Future<number> | null = null;
  constructor(readonly echo: boolean) {}
  connectionMade(t: DatagramTransport): void { this.t = t; }
  datagramReceived(data: Uint8Array, addr: SockAddr): void {
    if (this.echo) { this.t!.sendto(data, addr); return; }
    this.count++;
    if (performance.now() < this.deadline) this.t!.sendto(data);
    else this.done!.setResult(this.count);
  }
}

function* udpSlice(client: Pinger, loop: NodeEventLoop, ms: number): Coro<number> {
  client.count = 0;
  client.deadline = performance.now() + ms;
  client.done = new Future<number>({ loop, description: 'udp slice' });
  client.t!.sendto(Buffer.alloc(64));
  return yield* client.done;
}

async function rawUdpSlice(b: Socket, ms: number): Promise<number> {
  let count = 0;
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    const onMsg = (d: Buffer): void => {
      count++;
      if (performance.now() < deadline) b.send(d);
      else { b.off('message', onMsg); resolve(count); }
    };
    b.on('message', onMsg);
    b.send(Buffer.alloc(64));
  });
}

async function udp(): Promise<void> {
  const a = createSocket('udp4');
  a.on('message', (d, r) => a.send(d, r.port, r.address));
  await new Promise<void>((r) => a.bind(0, '127.0.0.1', r));
  const b = createSocket('udp4');
  await new Promise<void>((r) => b.connect(a.address().port, '127.0.0.1', r));

  const loop = new NodeEventLoop();
  const [server] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => new Pinger(true), { localAddr: ['127.0.0.1', 0] }));
  const [, cp] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => new Pinger(false), { remoteAddr: server.getExtraInfo('sockname') as SockAddr }));

  const tulip: number[] = [], raw: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    raw.push(await rawUdpSlice(b, MS) / (MS / 1000));
    tulip.push(await loop.runUntilComplete(udpSlice(cp, loop, MS)) / (MS / 1000));
  }
  loop.close();   // aborts both endpoints
  a.close(); b.close();
  const t = median(tulip), r = median(raw);
  console.log(`udp ping-pong 64 B: tulip ${(t / 1000).toFixed(1)}k rt/s, raw dgram ${(r / 1000).toFixed(1)}k rt/s -> ${(t / r).toFixed(2)}x raw`);
  record({ measurement: 'udp ping-pong 64 B', subject: 'tulip', baseline: 'raw dgram', ratio: t / r, higherIsBetter: true });
}

// ---- worker pool ---------------------------------------------------------------

async function pool(): Promise<void> {
  const fn = { module: FIXTURE, name: 'default' };
  const raw = new Piscina({ filename: new URL('../test/fixtures/worker_fns.mjs', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  const loop = new NodeEventLoop();
  const ours = new ThreadPoolExecutor({ minThreads: 1, maxThreads: 1 });
  loop.setDefaultExecutor(ours);
  await raw.run([1, 2]).catch(() => undefined);
  await loop.runUntilComplete(toThread(fn, 1, 2));   // warm up both pools

  function* jobs(ms: number): Coro<number> {
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) { yield* toThread<number>(fn, n, 1); n++; }
    return n;
  }
  const tulip: number[] = [], piscina: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const end = performance.now() + MS;
    let n = 0;
    while (performance.now() < end) { await raw.run(n); n++; }
    piscina.push(n / (MS / 1000));
    tulip.push(await loop.runUntilComplete(jobs(MS)) / (MS / 1000));
  }
  await raw.destroy();
  await ours.shutdown();
  loop.close();
  const t = median(tulip), p = median(piscina);
  console.log(`worker jobs one at a time: tulip toThread ${(t / 1000).toFixed(1)}k jobs/s, piscina.run ${(p / 1000).toFixed(1)}k jobs/s -> ${(t / p).toFixed(2)}x raw`);
  record({ measurement: 'worker jobs one at a time', subject: 'tulip toThread', baseline: 'piscina.run', ratio: t / p, higherIsBetter: true });
}

export async function main(): Promise<void> {
  await udp();
  await pool();
}
