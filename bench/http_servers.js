// The servers of http.bench.ts, in a process of their own started with plain `node` (no TypeScript loader:
// a loader's hooks slow the process down, and not evenly), both in one process so that they run alike:
// a node:http server and a tulip serveHttp server (from dist/, as users run it), with the same two routes.
// IPC: it sends { nodePort, tulipPort } when ready; then answers 'cpu' with process.cpuUsage(),
// 'mem' with { js, rss } after GC (and the sweeper), 'count' with the open connections of each; 'exit'.
import * as http from 'node:http';
import { Future, NodeEventLoop } from '../dist/index.js';
import { serveHttp } from '../dist/protocols/http/index.js';

const node = http.createServer((req, res) => {
  if (req.url === '/hello') {
    res.setHeader('Content-Type', 'text/plain');
    res.end('hello');
    return;
  }
  const length = req.headers['content-length'];
  if (length !== undefined) res.setHeader('Content-Length', length);
  req.pipe(res);
});
node.keepAliveTimeout = 60_000;   // the idle-memory measurement holds connections longer than the 5 s default
let nodeOpen = 0;
node.on('connection', (s) => { nodeOpen++; s.on('close', () => { nodeOpen--; }); });
await new Promise((resolve) => node.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));

const loop = new NodeEventLoop();
const stop = new Future({ loop, description: 'bench stop' });
let tulip = null;
const serving = loop.runUntilComplete(loop.createTask((function* () {
  tulip = yield* serveHttp(function* (req, res) {
    if (req.path === '/hello') {
      res.setHeader('Content-Type', 'text/plain');
      res.end('hello');
      return;
    }
    const length = req.headers.get('content-length');
    if (length !== null) res.setHeader('Content-Length', length);
    for (let c = yield* req.read(); c !== null; c = yield* req.read()) {
      res.write(c);
      yield* res.drain();
    }
    res.end();
  }, '127.0.0.1', 0, { keepAliveTimeout: 60_000, backlog: 4096 });
  try {
    yield* stop;
  } finally {
    tulip.close();
    tulip.abortClients();
  }
})()));
while (tulip === null) await new Promise((r) => setTimeout(r, 5));

process.on('message', async (cmd) => {
  if (cmd === 'cpu') { process.send(process.cpuUsage()); return; }
  if (cmd === 'count') { process.send({ node: nodeOpen, tulip: tulip.connections }); return; }
  if (cmd === 'mem') {
    // After GC, and after the background sweeper has freed the array buffers it found.
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); }
    const m = process.memoryUsage();
    process.send({ js: m.heapUsed + m.external, rss: m.rss });
    return;
  }
  if (cmd === 'exit') {
    node.close();
    node.closeAllConnections();
    stop.setResult();
    await serving;
    loop.close();
    process.exit(0);
  }
});
process.send({ nodePort: node.address().port, tulipPort: tulip.addresses()[0][1] });
