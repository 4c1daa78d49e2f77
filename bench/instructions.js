// Instruction counts of the kernel's hot paths, for changes too small for wall-clock time on a noisy machine.
//
//   node bench/instructions.js [distA [distB ...]]     (default: ./dist; needs valgrind; REPS=n, default 2;
//                                                      CASES=spawn,sleep0,pingpong to pick)
//
// For each built package (a dist/ folder) and each case, runs the case under
// `valgrind --tool=cachegrind --cache-sim=no node --single-threaded` at two sizes
// and prints (instructions at N2 - instructions at N1) / (N2 - N1): the cost of one
// operation, startup and JIT warm-up cancelled out (the mean of REPS runs; the
// garbage collector's timing moves a single run by about 1%). With two dists it
// prints the ratio of each case (B / A), the dists taking turns so that a
// neighbour's load hurts both alike. One run of one case:
// node bench/instructions.js --case spawn 1000 ./dist
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CASES = {
  /** create tasks that return at once, 100 at a time, and join them (a small heap: the GC's timing moves less) */
  spawn: (t) => function* (n) {
    function* child(i) { return i; }
    const ts = new Array(100);
    let s = 0;
    for (let done = 0; done < n; done += 100) {
      for (let i = 0; i < 100; i++) ts[i] = t.createTask(child(i));
      for (let i = 0; i < 100; i++) s += yield* ts[i];
    }
    return s;
  },
  /** create every task first, then join them all (a big heap: the bench's spawn case) */
  spawnAll: (t) => function* (n) {
    function* child(i) { return i; }
    const ts = new Array(n);
    for (let i = 0; i < n; i++) ts[i] = t.createTask(child(i));
    let s = 0;
    for (let i = 0; i < n; i++) s += yield* ts[i];
    return s;
  },
  /** one task yielding to the scheduler */
  sleep0: (t) => function* (n) { for (let i = 0; i < n; i++) yield* t.sleep(0); },
  /** a producer and a consumer through a Queue(1) */
  pingpong: (t) => function* (n) {
    const q = new t.Queue(1);
    const p = t.createTask((function* () { for (let i = 0; i < n; i++) yield* q.put(i); })());
    let s = 0;
    for (let i = 0; i < n; i++) s += yield* q.get();
    yield* p;
    return s;
  },
};
const SIZES = { spawn: [20_000, 120_000], spawnAll: [20_000, 120_000], sleep0: [50_000, 300_000], pingpong: [50_000, 300_000] };

async function runCase(name, n, dist) {
  const t = await import(pathToFileURL(join(resolve(dist), 'index.js')).href);
  const body = CASES[name](t);
  const loop = new t.NodeEventLoop();
  await loop.runUntilComplete(loop.createTask(body(1000)));   // warm up, so both sizes pay the same JIT cost
  await loop.runUntilComplete(loop.createTask(body(n)));
  loop.close();
}

function instructions(name, n, dist) {
  const out = join(tmpdir(), `cg-${process.pid}-${name}-${n}.out`);
  execFileSync('valgrind', ['--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${out}`,
    // Fixed seeds and a large young generation: fewer scavenges, at the same moments in every run.
    process.execPath, '--single-threaded', '--hash-seed=1', '--random-seed=1', '--max-semi-space-size=64', '--min-semi-space-size=64', new URL(import.meta.url).pathname, '--case', name, String(n), dist], { stdio: ['ignore', 'ignore', 'ignore'] });
  const m = /^summary:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  if (m === null) throw new Error(`no cachegrind summary for ${name} ${n}`);
  return Number(m[1]);
}

const argv = process.argv.slice(2);
if (argv[0] === '--case') {
  await runCase(argv[1], Number(argv[2]), argv[3]);
} else {
  const dists = argv.length > 0 ? argv : ['dist'];
  const reps = Number(process.env.REPS ?? 2);
  const per = {};
  const only = process.env.CASES?.split(',');
  for (const name of Object.keys(CASES).filter((c) => only === undefined || only.includes(c))) {
    const [n1, n2] = SIZES[name];
    const sums = dists.map(() => 0);
    for (let r = 0; r < reps; r++) {
      dists.forEach((d, i) => { sums[i] += (instructions(name, n2, d) - instructions(name, n1, d)) / (n2 - n1); });
    }
    per[name] = sums.map((x) => x / reps);
    const cols = per[name].map((x, i) => `${dists[i]}: ${x.toFixed(0)}`).join(', ');
    const ratios = per[name].slice(1).map((x) => `${(x / per[name][0]).toFixed(3)}x`).join(', ');
    console.log(`${name}: instructions per operation ${cols}${ratios ? `; ratio ${ratios}` : ''}`);
  }
}
