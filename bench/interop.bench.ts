/**
 * Issue 12's interop benchmarks, each side by side with the Node way of
 * doing the same, in alternating rounds in one process:
 * - events: `on()` over a hot EventEmitter (bursts of events, a consumer
 *   task taking them with `yield* sub.next()`) against `events.on()` and
 *   `for await`. Target >= 0.8x.
 * - bulk copy: 1 GiB from a source socket to a sink socket through
 *   `copy(reader, writer)` against `stream.pipeline(socket, socket)`, the
 *   source and sink being the same raw node:net servers. Target >= 0.9x.
 * - a subprocess pipeline, `seq 1 N | grep 7 | wc -l` from three tulip
 *   processes (`stdin: p1.stdout`) against the same pipeline under
 *   `bash -c`. Target >= 0.9x.
 * Ratios are of throughput (higher is better for tulip).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EventEmitter, on as nodeOn } from 'node:events';
import { createConnection as netConnect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import {
  copy, createSubprocessExec, NodeEventLoop, on, openConnection, type Coro,
} from '../src/index.js';
import { median, record } from './lib.js';

const loop = new NodeEventLoop();
const onLoop = <T>(c: Coro<T>): Promise<T> => loop.runUntilComplete(c);

interface Timing { median: number; best: number; cpu: number; childCpu: number }

/** CPU time (ms) of the children this process has reaped, their own reaped children included (/proc/self/stat). */
function childrenCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;   // cutime + cstime, in clock ticks of 10 ms
  } catch { return NaN; }
}

/**
 * Run each case `rounds` times, alternating: the median and best wall time
 * (ms) of each, and the median CPU time this process spent (ms), which a
 * noisy neighbour disturbs far less than the wall time.
 */
async function alternate(cases: Array<{ name: string; fn: () => Promise<unknown> }>, rounds: number): Promise<Map<string, Timing>> {
  const wall = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const kids = new Map<string, number>(cases.map((c) => [c.name, 0]));
  for (const c of cases) await c.fn();   // warm up
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      globalThis.gc?.();
      const c0 = process.cpuUsage();
      const k0 = childrenCpu();
      const t0 = performance.now();
      await c.fn();
      wall.get(c.name)!.push(performance.now() - t0);
      kids.set(c.name, kids.get(c.name)! + childrenCpu() - k0);
      const used = process.cpuUsage(c0);
      cpu.get(c.name)!.push((used.user + used.system) / 1000);
    }
  }
  return new Map(cases.map((c) => [c.name, {
    median: median(wall.get(c.name)!), best: Math.min(...wall.get(c.name)!), cpu: median(cpu.get(c.name)!), childCpu: kids.get(c.name)! / rounds,
  }]));
}

/**
 * Print both rates and the ratios b/a of the median wall times, of the best
 * runs (the least disturbed, on a shared machine) and, where this process
 * does the work, of the CPU times.
 */
function ratioLine(label: string, times: Map<string, Timing>, a: string, b: string, target: string, unit: string, amount: number, withCpu = true): void {
  const ta = times.get(a)!, tb = times.get(b)!;
  record({ measurement: label, subject: a, baseline: b, ratio: tb.median / ta.median, higherIsBetter: true });
  const rate = (ms: number): string => (amount / (ms / 1000)).toExponential(3);
  console.log(`${label}: ${a} ${rate(ta.median)} ${unit}/s, ${b} ${rate(tb.median)} ${unit}/s`);
  const cpuPart = withCpu ? `, CPU time ${(tb.cpu / ta.cpu).toFixed(2)}x (${ta.cpu.toFixed(0)} vs ${tb.cpu.toFixed(0)} ms)` : '';
  console.log(`  ${a} vs ${b}: wall ${(tb.median / ta.median).toFixed(2)}x, best runs ${(tb.best / ta.best).toFixed(2)}x${cpuPart}  (target ${target})`);
}

// ---- events ---------------------------------------------------------------------------------
const EVENTS = 200_000, BURST = 500;

/** Emit EVENTS 'data' events in bursts, one burst per turn of Node's loop. */
function produce(ee: EventEmitter): void {
  let i = 0;
  const burst = (): void => {
    for (let k = 0; k < BURST && i < EVENTS; k++) ee.emit('data', i++);
    if (i < EVENTS) setImmediate(burst);
  };
  setImmediate(burst);
}

function* tulipConsumer(): Coro<number> {
  const ee = new EventEmitter();
  const sub = on<[number]>(ee, 'data', { capacity: 4 * BURST });
  produce(ee);
  let sum = 0;
  for (let n = 0; n < EVENTS; n++) sum += (yield* sub.next())[0];
  sub.close();
  return sum;
}

async function nodeConsumer(): Promise<number> {
  const ee = new EventEmitter();
  const it = nodeOn(ee, 'data');
  produce(ee);
  let sum = 0, n = 0;
  for await (const [x] of it) { sum += x as number; if (++n === EVENTS) break; }
  return sum;
}

// ---- bulk copy through sockets ------------------------------------------------------------
const GIB = 1 << 30;

interface Ends { sourcePort: number; sinkPort: number; stop(): void }

/** Start interop_peer.js (the source and the sink, in a process of their own). */
async function ends(total: number): Promise<Ends> {
  const peer = spawn(process.execPath, [fileURLToPath(new URL('./interop_peer.js', import.meta.url)), String(total)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => { let out = ''; peer.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out); }); });
  const { source, sink } = JSON.parse(line) as { source: number; sink: number };
  return { sourcePort: source, sinkPort: sink, stop: () => peer.stdin.end() };
}

function checkCount(reply: string, total: number): void {
  if (Number(reply.trim()) !== total) throw new Error(`the sink got ${reply.trim()} of ${total} bytes`);
}

/** tulip: copy() from a connection to the source into a connection to the sink, then read the sink's count. */
async function tulipCopy(e: Ends, total: number): Promise<void> {
  const reply = await onLoop((function* (): Coro<string> {
    const [r, w1] = yield* openConnection('127.0.0.1', e.sourcePort);
    const [r2, w2] = yield* openConnection('127.0.0.1', e.sinkPort);
    yield* copy(r, w2);   // ends with writeEof: the sink sees EOF and answers
    const count = Buffer.from(yield* r2.readLine()).toString();
    w1.close(); w2.close();
    return count;
  })());
  checkCount(reply, total);
}

/** Node: stream.pipeline() between the same two connections, then read the sink's count. */
async function nodePipeline(e: Ends, total: number): Promise<void> {
  const a = netConnect(e.sourcePort, '127.0.0.1');
  const b = netConnect({ port: e.sinkPort, host: '127.0.0.1', allowHalfOpen: true });
  let reply = '';
  b.on('data', (d: Buffer) => { reply += d.toString(); });
  const ended = new Promise<void>((r) => b.once('end', () => r()));
  await pipeline(a, b);
  await ended;
  b.destroy();
  checkCount(reply, total);
}

// ---- a subprocess pipeline --------------------------------------------------------------------
const SEQ_N = 10_000_000;

function* tulipPipeline(): Coro<string> {
  const p1 = yield* createSubprocessExec('seq', ['1', String(SEQ_N)], { stdout: 'pipe' });
  const p2 = yield* createSubprocessExec('grep', ['7'], { stdin: p1.stdout!, stdout: 'pipe' });
  const p3 = yield* createSubprocessExec('wc', ['-l'], { stdin: p2.stdout!, stdout: 'pipe' });
  const out = Buffer.from(yield* p3.stdout!.read(-1)).toString().trim();
  for (const p of [p1, p2, p3]) yield* p.wait();
  return out;
}

function bashPipeline(): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-c', `seq 1 ${SEQ_N} | grep 7 | wc -l`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('error', reject);
    c.on('close', () => resolve(out.trim()));
  });
}

export async function main(): Promise<void> {
  // The subprocess pipeline first, while this process is small (every spawn forks it).
  const expected = await bashPipeline();
  const check = async (): Promise<void> => { const r = await onLoop(tulipPipeline()); if (r !== expected) throw new Error(`tulip pipeline gave ${r}, bash ${expected}`); };
  const pl = await alternate([
    { name: 'tulip processes', fn: check },
    { name: 'bash -c', fn: bashPipeline },
  ], 7);
  ratioLine(`seq 1 ${SEQ_N} | grep 7 | wc -l (${expected} lines)`, pl, 'tulip processes', 'bash -c', '>= 0.9x', 'runs', 1, false);
  const [tp, bp] = [pl.get('tulip processes')!, pl.get('bash -c')!];
  console.log(`  CPU per run of the pipeline's processes: tulip's ${tp.childCpu.toFixed(0)} ms, under bash ${bp.childCpu.toFixed(0)} ms (${(bp.childCpu / tp.childCpu).toFixed(2)}x);`
    + ` of this process: ${tp.cpu.toFixed(1)} vs ${bp.cpu.toFixed(1)} ms (the data never passes through it)`);

  const ev = await alternate([
    { name: 'tulip on()', fn: () => onLoop(tulipConsumer()) },
    { name: 'events.on()', fn: nodeConsumer },
  ], 7);
  ratioLine(`on() over a hot EventEmitter, ${EVENTS} events in bursts of ${BURST}`, ev, 'tulip on()', 'events.on()', '>= 0.8x', 'events', EVENTS);

  const e = await ends(GIB);
  const cp = await alternate([
    { name: 'tulip copy()', fn: () => tulipCopy(e, GIB) },
    { name: 'stream.pipeline', fn: () => nodePipeline(e, GIB) },
  ], 3);
  ratioLine('1 GiB source socket -> copier -> sink socket (source and sink in another process)', cp, 'tulip copy()', 'stream.pipeline', '>= 0.9x', 'B', GIB);
  e.stop();
  loop.close();
}
