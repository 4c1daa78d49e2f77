/**
 * HTTP/1.1: a tulip `serveHttp` server against a node:http server doing
 * the same work, side by side in one run and driven by the same load
 * generator, wrk (in its own process): hello-world requests per second and
 * p99 latency at 50 keep-alive connections, a 1 MiB POST echoed back
 * (streamed, Content-Length in and out) at 10 connections, and the memory
 * per idle keep-alive connection. The servers take turns over several
 * rounds (A/B alternation) and each ratio is the median of the per-round
 * ratios, so that the machine's slow swings cancel out. Both servers run
 * in one process of their own (bench/http_servers.js), started with plain
 * `node`: tulip from its build (dist/), the code users run, and no
 * TypeScript loader in that process (its hooks slowed tulip's echo by up to
 * 2x and node:http's less). When Debian's python3-aiohttp is installed, an
 * aiohttp server (its own process) takes its turns too.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, record } from './lib.js';

const ROUNDS = 7;
const SECONDS = 3;
const IDLE_CONNS = 5000;
const ECHO_SIZE = 1 << 20;

/** The server process (bench/http_servers.js): plain node, no TypeScript loader. */
let servers: ChildProcess | null = null;
function ask<T>(cmd: string): Promise<T> {
  return new Promise((resolve) => { servers!.once('message', resolve as (m: unknown) => void); servers!.send(cmd); });
}

interface WrkResult { rps: number; p99: number; errors: string; cpu: number }


/** Run wrk; `cpu`: the server process's CPU time per request, in µs (NaN for a server elsewhere). */
async function wrk(args: string[], own = true): Promise<WrkResult> {
  const cpu0 = own ? await ask<NodeJS.CpuUsage>('cpu') : null;
  const r = await runWrk(args);
  if (cpu0 !== null) {
    const c = await ask<NodeJS.CpuUsage>('cpu');
    r.cpu = (c.user - cpu0.user + c.system - cpu0.system) / r.requests;
  }
  return r;
}

function runWrk(args: string[]): Promise<WrkResult & { requests: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const p99 = m === null ? NaN : Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]!;
      const errors = [/Socket errors:.*/.exec(out)?.[0], /Non-2xx or 3xx responses:.*/.exec(out)?.[0]].filter((x) => x !== undefined).join('; ');
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
      if (Number.isNaN(rps)) reject(new Error(`wrk said: ${out}`));
      else resolve({ rps, p99, errors, cpu: NaN, requests });
    });
  });
}

const fmt = (x: number): string => (x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));

export async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) { console.log('http bench: wrk is not installed (apt-get install wrk); skipped'); return; }
  servers = fork(join(import.meta.dirname, 'http_servers.js'), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { nodePort, tulipPort } = await new Promise<{ nodePort: number; tulipPort: number }>((resolve) => { servers!.once('message', resolve as (m: unknown) => void); });
  const list: Array<readonly [string, number]> = [['node:http', nodePort], ['tulip', tulipPort]];
  let aiohttp: ChildProcess | null = null;
  if (spawnSync('/usr/bin/python3', ['-c', 'import aiohttp']).status === 0) {
    // (its stderr is dropped: aiohttp prints a traceback for every upload wrk cuts off at the end of a run)
    aiohttp = spawn('/usr/bin/python3', [join(import.meta.dirname, 'aiohttp_server.py')], { stdio: ['ignore', 'pipe', 'ignore'] });
    list.push(['aiohttp', await new Promise<number>((resolve) => { aiohttp!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))); })]);
  }
  const lua = join(mkdtempSync(join(tmpdir(), 'tulip-bench-')), 'post.lua');
  writeFileSync(lua, `wrk.method = "POST"\nwrk.body = string.rep("a", ${ECHO_SIZE})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  const loads = {
    hello: (port: number, s: number) => ['-t1', '-c50', `-d${s}s`, '--latency', `http://127.0.0.1:${port}/hello`],
    echo: (port: number, s: number) => ['-t1', '-c10', `-d${s}s`, '--latency', '-s', lua, `http://127.0.0.1:${port}/echo`],
  };
  let idle: ChildProcess | null = null;
  try {
    for (const [what, load] of Object.entries(loads)) {
      for (const [name, port] of list) await wrk(load(port, 1), name !== 'aiohttp');   // warm-up
      const res = new Map<string, WrkResult[]>(list.map(([n]) => [n, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < list.length; i++) {
          const [name, port] = list[(i + round) % list.length]!;
          const r = await wrk(load(port, SECONDS), name !== 'aiohttp');
          if (r.errors !== '') console.log(`  (${name}, ${what}, round ${round}: ${r.errors})`);
          res.get(name)!.push(r);
        }
      }
      const t = res.get('tulip')!, n = res.get('node:http')!;
      const rate = median(t.map((x, i) => x.rps / n[i]!.rps));
      const p99 = median(t.map((x, i) => x.p99 / n[i]!.p99));
      const mt = median(t.map((x) => x.rps)), mn = median(n.map((x) => x.rps));
      const pt = median(t.map((x) => x.p99)), pn = median(n.map((x) => x.p99));
      const ct = median(t.map((x) => x.cpu)), cn = median(n.map((x) => x.cpu));
      const cpuLine = `  server CPU per request: node:http ${cn.toFixed(1)} µs, tulip ${ct.toFixed(1)} µs -> ${(ct / cn).toFixed(2)}x; `
        + `rounds (req/s): node:http ${n.map((x) => fmt(x.rps)).join(' ')}, tulip ${t.map((x) => fmt(x.rps)).join(' ')}`;
      record({ measurement: what === 'hello' ? 'HTTP GET /hello, 50 connections' : 'HTTP 1 MiB POST echo, 10 connections', subject: 'tulip serveHttp', baseline: 'node:http', ratio: rate, higherIsBetter: true });
      if (what === 'hello') record({ measurement: 'HTTP GET /hello p99 latency', subject: 'tulip serveHttp', baseline: 'node:http', ratio: p99, higherIsBetter: false });
      if (what === 'hello') {
        console.log(`GET /hello, 50 keep-alive connections: node:http ${fmt(mn)} req/s, tulip ${fmt(mt)} req/s -> ${rate.toFixed(2)}x node:http (target >= 1.0x, aim 1.5x)`);
        console.log(`  p99 latency: node:http ${pn.toFixed(2)} ms, tulip ${pt.toFixed(2)} ms -> ${p99.toFixed(2)}x node:http's (target <= 1.0x)`);
      } else {
        console.log(`POST /echo 1 MiB, 10 connections: node:http ${mn.toFixed(0)} MiB/s, tulip ${mt.toFixed(0)} MiB/s echoed -> ${rate.toFixed(2)}x node:http (target >= 0.9x)`);
        console.log(`  p99 latency: node:http ${pn.toFixed(1)} ms, tulip ${pt.toFixed(1)} ms -> ${p99.toFixed(2)}x`);
      }
      console.log(cpuLine);
      const a = res.get('aiohttp');
      if (a !== undefined) {
        const ra = median(t.map((x, i) => x.rps / a[i]!.rps));
        record({ measurement: what === 'hello' ? 'HTTP GET /hello, 50 connections' : 'HTTP 1 MiB POST echo, 10 connections', subject: 'tulip serveHttp', baseline: 'python aiohttp', ratio: ra, higherIsBetter: true });
        const unit = what === 'hello' ? 'req/s' : 'MiB/s';
        console.log(`  Python aiohttp ${aiohttp === null ? '' : '(Debian python3-aiohttp, its own process)'} ${what === 'hello' ? fmt(median(a.map((x) => x.rps))) : median(a.map((x) => x.rps)).toFixed(0)} ${unit}, p99 ${median(a.map((x) => x.p99)).toFixed(2)} ms -> tulip ${ra.toFixed(2)}x aiohttp`);
      }
      console.log(`  [wrk -t1, medians of ${ROUNDS} alternated rounds of ${SECONDS} s; ratio = median of per-round ratios]`);
    }

    // Memory per idle keep-alive connection (each made one request): the server process, after GC.
    idle = fork(join(import.meta.dirname, 'http_idle.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve) => idle!.once('message', () => resolve()));
    const hold = (cmd: unknown): Promise<{ error?: string }> => new Promise((resolve) => { idle!.once('message', resolve as (m: unknown) => void); idle!.send(cmd as string); });
    const used = async (): Promise<[number, number]> => { const m = await ask<{ js: number; rss: number }>('mem'); return [m.js, m.rss]; };
    const until = async (which: 'node' | 'tulip', n: number): Promise<void> => {
      let open = -1;
      for (let i = 0; i < 6000; i++) {
        open = (await ask<{ node: number; tulip: number }>('count'))[which];
        if (open === n) return;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error(`the ${which} server has ${open} connections open, not ${n}`);
    };
    const perConn = async (port: number, which: 'node' | 'tulip'): Promise<[number, number]> => {
      await until(which, 0);
      const before = await used();
      const r = await hold({ port, conns: IDLE_CONNS });
      if (r.error !== undefined) throw new Error(r.error);
      await until(which, IDLE_CONNS);
      const after = await used();
      await hold('release');
      await until(which, 0);
      return [(after[0] - before[0]) / IDLE_CONNS, (after[1] - before[1]) / IDLE_CONNS];
    };
    const js = new Map<string, number[]>([['node:http', []], ['tulip', []]]);
    const rss = new Map<string, number[]>([['node:http', []], ['tulip', []]]);
    const pair = [['node:http', nodePort, 'node'], ['tulip', tulipPort, 'tulip']] as const;
    await perConn(nodePort, 'node');   // a first round of each, not counted: lazily made things
    await perConn(tulipPort, 'tulip');
    for (let round = 0; round < 3; round++) {
      for (const [name, port, which] of round % 2 === 0 ? pair : [pair[1], pair[0]]) {
        const [j, r] = await perConn(port, which);
        js.get(name)!.push(j);
        rss.get(name)!.push(r);
      }
    }
    const mj = (n: string): number => median(js.get(n)!), mr = (n: string): number => median(rss.get(n)!);
    record({ measurement: `memory per idle HTTP keep-alive connection (${IDLE_CONNS})`, subject: 'tulip serveHttp', baseline: 'node:http', ratio: mj('tulip') / mj('node:http'), higherIsBetter: false });
    console.log(`${IDLE_CONNS} idle keep-alive connections: node:http ${mj('node:http').toFixed(0)} B/conn, tulip ${mj('tulip').toFixed(0)} B/conn -> ${(mj('tulip') / mj('node:http')).toFixed(2)}x node:http's (target <= 1.0x)`);
    console.log(`  [the server process's JS heap + external after GC, medians of 3 alternated rounds; RSS growth: node:http ${mr('node:http').toFixed(0)} B/conn, tulip ${mr('tulip').toFixed(0)} B/conn, reported only]`);
  } finally {
    idle?.send('exit');
    aiohttp?.kill();
    servers.send('exit');
  }
}
