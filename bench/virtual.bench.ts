/**
 * TestEventLoop benchmarks (issue 5):
 *  - 10,000 virtual clients each making 10 request/response round trips
 *    with 50 ms latency against one virtual server (target: under 2 s of
 *    wall time);
 *  - the same timer-heavy program (sleeps of 100 ms and more) on
 *    TestEventLoop and on NodeEventLoop (target: virtual >= 5x faster).
 */
import { measure } from 'mitata';
import { createTask, Future, getRunningLoop, NodeEventLoop, run, sleep, type Coro, type EventLoop, type Protocol, type Task, type Transport } from '../src/index.js';
import { TestEventLoop } from '../src/testing/index.js';

const CLIENTS = 10_000, TRIPS = 10, LATENCY = 50;

class Echo implements Protocol {
  t!: Transport;
  connectionMade(t: Transport): void { this.t = t; }
  dataReceived(d: Uint8Array): void { this.t.write(d); }
}

class Requester implements Protocol {
  reply: Future<Uint8Array> | null = null;
  dataReceived(d: Uint8Array): void { const f = this.reply; this.reply = null; f?.setResult(d); }
}

function makeEcho(): Echo { return new Echo(); }
function makeRequester(): Requester { return new Requester(); }

const request = new TextEncoder().encode('ping');

function* client(loop: TestEventLoop): Coro<number> {
  const [t, p] = yield* loop.createConnection(makeRequester, 'server', 7);
  let n = 0;
  for (let i = 0; i < TRIPS; i++) {
    const f = p.reply = new Future<Uint8Array>({ loop, description: 'reply' });
    t.write(request);
    n += (yield* f).length;
  }
  t.close();
  return n;
}

function* manyClients(): Coro<number> {
  const loop = getRunningLoop() as TestEventLoop;
  const net = loop.network;
  net.addHost('server');
  net.setLink('localhost', 'server', { latency: LATENCY });
  yield* net.onHost('server', function* () { yield* loop.createServer(makeEcho, 'server', 7); });
  const tasks: Task<number>[] = [];
  for (let i = 0; i < CLIENTS; i++) tasks.push(createTask(client(loop)));
  let total = 0;
  for (const t of tasks) total += yield* t;
  if (total !== CLIENTS * TRIPS * request.length) throw new Error(`lost replies: ${total}`);
  return loop.time();
}

function* sleeper(i: number): Coro<void> {
  yield* sleep(100);
  yield* sleep(200 + (i % 10) * 10);
  yield* sleep(300);
  yield* sleep(400);
}

function* timerHeavy(): Coro<void> {
  const tasks: Task<void>[] = [];
  for (let i = 0; i < 1000; i++) tasks.push(createTask(sleeper(i)));
  for (const t of tasks) yield* t;
}

function runOn(loop: EventLoop, main: () => Coro<unknown>): Promise<unknown> { return run(main, { loop, handleSignals: false }); }

const ms = (ns: number): string => `${(ns / 1e6).toFixed(0)} ms`;

export async function main(): Promise<void> {
  const once = { min_samples: 3, max_samples: 3, min_cpu_time: 0 };
  let virtualEnd = 0;
  // CPU time too: on a shared machine it says what the wall time would be without the neighbours.
  const cpu0 = process.cpuUsage();
  const clients = await measure(async () => { virtualEnd = (await runOn(new TestEventLoop(), manyClients)) as number; }, once);
  const cpu = process.cpuUsage(cpu0);
  const cpuPerRun = (cpu.user + cpu.system) / 1000 / (clients.samples.length + 1);   // mitata runs it once more to warm up
  console.log(`${CLIENTS} virtual clients x ${TRIPS} round trips at ${LATENCY} ms latency: ${ms(clients.avg)} wall (min ${ms(clients.min)}; `
    + `${cpuPerRun.toFixed(0)} ms CPU per run), ${(virtualEnd / 1000).toFixed(2)} s virtual (target < 2000 ms wall) ${clients.avg < 2e9 ? 'OK' : 'MISSED'}`);

  const virtual = await measure(() => runOn(new TestEventLoop(), timerHeavy), once);
  const real = await measure(() => runOn(new NodeEventLoop(), timerHeavy), once);
  const ratio = real.avg / virtual.avg;
  console.log(`timer-heavy (1000 tasks, sleeps of 100-400 ms, 1 s in all): TestEventLoop ${ms(virtual.avg)}, NodeEventLoop ${ms(real.avg)} `
    + `-> ${ratio.toFixed(0)}x faster in virtual time (target >= 5x) ${ratio >= 5 ? 'OK' : 'MISSED'}`);
}
