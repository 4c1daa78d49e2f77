/**
 * TCP echo round trips per second: a tulip Protocol echo server and a
 * tulip streams echo server against a raw node:net echo server (noDelay),
 * with 64-byte and 16 KiB messages over 1 and 50 connections. The load
 * comes from a child process speaking raw node:net (bench/net_load.js), so
 * the client's cost is the same for every server and is not on the
 * servers' thread. Servers are measured in rotating order over several
 * rounds (A/B alternation); each ratio is the median of the per-round
 * ratios (a server against raw measured in the same round, so that the
 * machine's slow swings cancel out). Also a tulip BufferedProtocol echo
 * server (Node reads into its own buffer, no allocation per read), and
 * Python's asyncio protocol echo server when python3 is here. This is a
 * throughput measurement taken by the client, so it does not use mitata.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import {
  Future, NodeEventLoop, type Protocol, type StreamReader, type StreamWriter, startServer, type Transport, type Coro,
  type Server, type SockAddr, type BufferedProtocol,
} from '../src/index.js';
import { record } from './lib.js';

const ROUNDS = 15;
const IDLE_CONNS = 10_000;
const MS = 200;
const CONFIGS: Array<{ size: number; conns: number }> = [
  { size: 64, conns: 1 }, { size: 64, conns: 50 }, { size: 16384, conns: 1 }, { size: 16384, conns: 50 },
];

/** Connections each server has open (the idle-memory measurement waits until every one is accepted). */
const open = { raw: 0, tulip: 0 };

class EchoProtocol implements Protocol {
  t: Transport | null = null;
  connectionMade(t: Transport): void { this.t = t; open.tulip++; }
  connectionLost(): void { open.tulip--; }
  dataReceived(d: Uint8Array): void { this.t!.write(d); }
}

/** Echo from the buffer Node read into; a fresh buffer only while a write still holds the last one. */
class BufferedEcho implements BufferedProtocol {
  t: Transport | null = null;
  buf = new Uint8Array(65536);
  connectionMade(t: Transport): void { this.t = t; }
  getBuffer(): Uint8Array {
    if (this.t!.getWriteBufferSize() > 0) this.buf = new Uint8Array(65536);
    return this.buf;
  }
  bufferUpdated(n: number): void { this.t!.write(this.buf.subarray(0, n)); }
}

function* echoStreams(r: StreamReader, w: StreamWriter): Coro<void> {
  try {
    for (;;) {
      const d = yield* r.read(65536);
      if (d.length === 0) return;
      w.write(d);
      yield* w.drain();
    }
  } catch {
    // the load generator resets its connections when a measurement ends
  }
}

function* serveTulip(loop: NodeEventLoop, ports: { protocol: number; streams: number; buffered: number }, stop: Future<void>): Coro<void> {
  const a: Server = yield* loop.createServer(() => new EchoProtocol(), '127.0.0.1', 0, { backlog: 4096 });
  const b: Server = yield* startServer(echoStreams, '127.0.0.1', 0);
  const c: Server = yield* loop.createServer(() => new BufferedEcho(), '127.0.0.1', 0);
  ports.protocol = (a.addresses()[0] as SockAddr)[1];
  ports.streams = (b.addresses()[0] as SockAddr)[1];
  ports.buffered = (c.addresses()[0] as SockAddr)[1];
  try {
    yield* stop;
  } finally {
    for (const x of [a, b, c]) { x.close(); x.abortClients(); }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function main(): Promise<void> {
  const raw = net.createServer({ noDelay: true }, (s) => {
    open.raw++;
    s.on('data', (d) => s.write(d)); s.on('error', () => undefined); s.on('close', () => { open.raw--; });
  });
  await new Promise<void>((resolve) => raw.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));   // the idle test opens 10,000 at once
  const rawPort = (raw.address() as net.AddressInfo).port;

  const loop = new NodeEventLoop();
  const ports = { protocol: 0, streams: 0, buffered: 0 };
  const stop = new Future<void>({ loop, description: 'bench stop' });
  const serving = loop.runUntilComplete(loop.createTask(serveTulip(loop, ports, stop)));
  while (ports.buffered === 0) await new Promise((r) => setTimeout(r, 5));

  const child = fork(join(import.meta.dirname, 'net_load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  /** Round trips per second, and this (server) process's CPU time per round trip in µs. */
  const measure = (port: number, size: number, conns: number, ms: number): Promise<[number, number]> => new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    child.once('message', (m: { roundTrips?: number; error?: string }) => {
      if (m.error !== undefined) { reject(new Error(m.error)); return; }
      const cpu = process.cpuUsage(cpu0);
      resolve([m.roundTrips! / (ms / 1000), (cpu.user + cpu.system) / Math.max(1, m.roundTrips!)]);
    });
    child.send({ port, size, conns, ms });
  });

  // Python's asyncio protocol echo server, in its own process, when python3 is here.
  let py: ChildProcess | null = null;
  let pyPort = 0;
  if (spawnSync('python3', ['--version']).status === 0) {
    py = spawn('python3', [join(import.meta.dirname, 'asyncio_echo.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
    pyPort = await new Promise<number>((resolve) => { py!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))); });
  }
  const servers: Array<readonly [string, number]> = [
    ['raw', rawPort], ['protocol', ports.protocol], ['streams', ports.streams], ['buffered', ports.buffered],
  ];
  if (py !== null) servers.push(['python asyncio', pyPort]);
  try {
    for (const { size, conns } of CONFIGS) {
      const results = new Map<string, number[]>(servers.map(([n]) => [n, []]));
      const cpus = new Map<string, number[]>(servers.map(([n]) => [n, []]));
      for (const [, port] of servers) await measure(port, size, conns, 100);   // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < servers.length; i++) {
          const [name, port] = servers[(i + round) % servers.length]!;
          const [rate, cpu] = await measure(port, size, conns, MS);
          results.get(name)!.push(rate);
          cpus.get(name)!.push(cpu);
        }
      }
      const m = (n: string): number => median(results.get(n)!);
      /** The median over rounds of (server / raw) measured in the same round. */
      const ratioTo = (n: string, base: string): number => {
        const a = results.get(n)!, r = results.get(base)!;
        return median(a.map((x, i) => x / r[i]!));
      };
      const vsRaw = (n: string): string => `${ratioTo(n, 'raw').toFixed(2)}x`;
      const c = (n: string): string => `${median(cpus.get(n)!).toFixed(1)} µs`;
      const fmt = (x: number): string => x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`;
      const label = `echo ${size === 64 ? '64 B' : '16 KiB'} x ${conns} conn${conns > 1 ? 's' : ''}`;
      const pad = ' '.repeat(label.length);
      console.log(`${label}: raw ${fmt(m('raw'))} rt/s, protocol ${fmt(m('protocol'))} rt/s -> ${vsRaw('protocol')} raw (target >= 0.95x)`);
      console.log(`${pad}  streams ${fmt(m('streams'))} rt/s -> ${vsRaw('streams')} raw (target >= 0.85x)`);
      console.log(`${pad}  BufferedProtocol ${fmt(m('buffered'))} rt/s -> ${vsRaw('buffered')} raw (aim > 1x)`);
      console.log(`${pad}  server CPU per round trip: raw ${c('raw')}, protocol ${c('protocol')}, streams ${c('streams')}, buffered ${c('buffered')}   [medians of ${ROUNDS} rounds of ${MS} ms]`);
      const subjects = { protocol: 'tulip Protocol', streams: 'tulip streams', buffered: 'tulip BufferedProtocol' } as const;
      for (const [n, subject] of Object.entries(subjects)) {
        record({ measurement: `TCP echo, ${label.slice(5)}`, subject, baseline: 'raw node:net', ratio: ratioTo(n, 'raw'), higherIsBetter: true });
        if (py !== null) record({ measurement: `TCP echo, ${label.slice(5)}`, subject, baseline: 'python asyncio', ratio: ratioTo(n, 'python asyncio'), higherIsBetter: true });
      }
      if (py !== null) {
        const pr = (n: string): string => `${median(results.get(n)!.map((x, i) => x / results.get('python asyncio')![i]!)).toFixed(2)}x`;
        console.log(`${pad}  python3 asyncio protocol (its own process) ${fmt(m('python asyncio'))} rt/s -> tulip protocol / asyncio ${pr('protocol')}, BufferedProtocol / asyncio ${pr('buffered')}, raw node:net / asyncio ${pr('raw')}`);
      }
    }
    await idleMemory(child, rawPort, ports.protocol);   // (the load generator has closed every echo connection by now)
  } finally {
    py?.kill();
    child.send('exit');
    raw.close();
    stop.setResult();
    await serving;
    loop.close();
  }
}

/** Memory of this (server) process per idle connection: heap + external + array buffers, after GC. */
async function idleMemory(child: ChildProcess, rawPort: number, tulipPort: number): Promise<void> {
  if (typeof globalThis.gc !== 'function') { console.log('idle connections: run with --expose-gc'); return; }
  const used = (): number => { globalThis.gc!(); globalThis.gc!(); const m = process.memoryUsage(); return m.heapUsed + m.external; };
  const ask = (cmd: string | { port: number; conns: number; hold: boolean }): Promise<{ error?: string }> => new Promise((resolve) => { child.once('message', resolve as (m: unknown) => void); child.send(cmd); });
  /**
   * Wait (at most 60 s) until the server has `n` connections open: a connection the client sees as open may
   * wait in the kernel for a retransmitted handshake when the accept queue overflowed.
   */
  const until = async (count: () => number, n: number): Promise<void> => {
    for (let i = 0; i < 6000 && count() !== n; i++) await new Promise((res) => setTimeout(res, 10));
    if (count() !== n) throw new Error(`the server has ${count()} connections open, not ${n}`);
  };
  const perConn = async (port: number, count: () => number): Promise<number> => {
    await until(count, 0);
    const before = used();
    const r = await ask({ port, conns: IDLE_CONNS, hold: true });
    if (r.error !== undefined) throw new Error(r.error);
    await until(count, IDLE_CONNS);   // every connection accepted (and, for tulip, its protocol made)
    const bytes = (used() - before) / IDLE_CONNS;
    await ask('release');
    await until(count, 0);
    return bytes;
  };
  // Alternated over three rounds (a single measurement of raw has swung 630-1000 B/conn): the medians.
  const raws: number[] = [], tulips: number[] = [];
  for (let round = 0; round < 3; round++) {
    raws.push(await perConn(rawPort, () => open.raw));
    tulips.push(await perConn(tulipPort, () => open.tulip));
  }
  const raw = median(raws), tulip = median(tulips);
  console.log(`${IDLE_CONNS} idle connections: raw node:net server ${raw.toFixed(0)} B/conn, tulip Protocol server ${tulip.toFixed(0)} B/conn -> ${(tulip / raw).toFixed(2)}x raw (JS heap + external, after GC, medians of 3 rounds; reported)`);
  record({ measurement: `memory per idle connection (${IDLE_CONNS})`, subject: 'tulip Protocol server', baseline: 'raw node:net server', ratio: tulip / raw, higherIsBetter: false });
}
