/* global process, URL, TextEncoder */
/* eslint-disable require-yield -- the cases are coroutines whether or not they wait */
/**
 * Hot paths for instruction counts (not a `*.bench.ts`: `npm run bench` does not run it). One case, N
 * operations, against a build of tulip, so two builds can be compared side by side:
 *
 *   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
 *     node --single-threaded bench/hot_paths.mjs ./dist queue 150000
 *
 * Run each case at two N (say 50,000 and 150,000): (Ir(N2) - Ir(N1)) / (N2 - N1) is the instructions per
 * operation, free of start-up costs. Cases: spawn, yield0, sleeps, queue, lock, sem, gather, readline, chunk.
 */
const [dist, which, nStr] = process.argv.slice(2);
const N = Number(nStr);
const t = await import(new URL(`${dist.replace(/\/$/, "")}/index.js`, `file://${process.cwd()}/`).href);
const { NodeEventLoop, createTask, sleep, Queue, Lock, Semaphore, gather, StreamReader, ChunkProtocol } = t;
const loop = new NodeEventLoop();
const enc = new TextEncoder();
function* child(i) { return i; }
const cases = {
  *spawn(n) { const ts = []; for (let i = 0; i < n; i++) ts.push(createTask(child(i))); let s = 0; for (const x of ts) s += yield* x; return s; },
  *yield0(n) { for (let i = 0; i < n; i++) yield* sleep(0); },
  *sleeps(n) { const ts = []; for (let i = 0; i < n; i++) ts.push(createTask(sleep(i % 7))); for (const x of ts) yield* x; },
  *queue(n) { const q = new Queue(1); const p = createTask((function* () { for (let i = 0; i < n; i++) yield* q.put(i); })()); for (let i = 0; i < n; i++) yield* q.get(); yield* p; },
  *lock(n) { const l = new Lock(); const ts = []; for (let k = 0; k < 10; k++) ts.push(createTask((function* () { for (let i = 0; i < n / 10; i++) { yield* l.acquire(); yield* sleep(0); l.release(); } })())); for (const x of ts) yield* x; },
  *sem(n) { const s = new Semaphore(2); const ts = []; for (let k = 0; k < 10; k++) ts.push(createTask((function* () { for (let i = 0; i < n / 10; i++) { yield* s.acquire(); yield* sleep(0); s.release(); } })())); for (const x of ts) yield* x; },
  *gather(n) { for (let i = 0; i < n / 4; i++) yield* gather([child(1), child(2), child(3), child(4)]); },
  *readline(n) { const r = new StreamReader({ loop }); const line = enc.encode('0123456789abcdef0123456789abcdef0123456789abcdef012345678\n'); for (let i = 0; i < n; i++) { r.feedData(line); yield* r.readLine(); } },
  *chunk(n) { let c = 0; const p = new ChunkProtocol('\r\n', () => { c++; }); p.connectionMade({ isClosing: () => false, abort() {}, writeLines() {} }); const d = enc.encode('0123456789abcdef0123456789abcdef0123456789abcdef0123\r\n'); for (let i = 0; i < n; i++) p.dataReceived(d); if (c !== n) throw new Error('chunks'); },
};
await loop.runUntilComplete(cases[which](N));
loop.close();
