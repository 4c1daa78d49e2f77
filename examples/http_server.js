// An HTTP/1.1 server on tulip: `npm run build`, then `node examples/http_server.js --port 8080`.
//
//   GET  /hello        200 "hello"
//   POST /echo         the request body streamed back (Content-Length or chunked in, the same out)
//   GET  /slow?ms=N    "slow" after N ms; a client that leaves first halts the handler ("halted /slow")
//   POST /rpc          JSON-RPC 2.0 over HTTP: add(a, b), echo(x); bodies up to 1 MiB
//   anything else      404 (405 for a wrong method on a known path)
//
// Ctrl-C or SIGTERM stops it at once, even with clients connected: cancelling serveForever() halts
// every handler and closes every connection.
import { CancelledError, currentTask, getRunningLoop, JsonRpcProtocol, run, sleep } from 'tulip';
import { HttpError, httpMessageHandler, serveHttp } from 'tulip/http';

const at = process.argv.indexOf('--port');
const port = at >= 0 ? Number(process.argv[at + 1]) : 8080;

const rpc = httpMessageHandler(() => new JsonRpcProtocol({
  methods: {
    add: ([a, b]) => a + b,
    echo: ([x]) => x,
  },
}), { limit: 1024 * 1024 });

function allow(req, ...methods) {
  if (!methods.includes(req.method)) throw new HttpError(405, `use ${methods.join(' or ')}`, { headers: { Allow: methods.join(', ') } });
}

function* handler(req, res) {
  switch (req.path) {
    case '/hello':
      allow(req, 'GET', 'HEAD');
      res.setHeader('Content-Type', 'text/plain');
      res.end('hello');
      return;
    case '/echo': {
      allow(req, 'POST');
      const length = req.headers.get('content-length');
      if (length !== null) res.setHeader('Content-Length', length);
      const type = req.headers.get('content-type');
      if (type !== null) res.setHeader('Content-Type', type);
      for (let chunk = yield* req.read(); chunk !== null; chunk = yield* req.read()) {
        res.write(chunk);
        yield* res.drain();   // at the client's pace
      }
      res.end();
      return;
    }
    case '/slow': {
      allow(req, 'GET');
      const ms = Number(req.query.get('ms') ?? 0);
      if (!Number.isFinite(ms) || ms < 0) throw new HttpError(400, 'ms must be a number of milliseconds');
      let answered = false;
      try {
        yield* sleep(ms);
        res.setHeader('Content-Type', 'text/plain');
        res.end('slow');
        answered = true;
      } finally {
        if (!answered) console.log('halted /slow');
      }
      return;
    }
    case '/rpc':
      yield* rpc(req, res);
      return;
    default:
      throw new HttpError(404);
  }
}

try {
  await run(function* main() {
    const server = yield* serveHttp(handler, '127.0.0.1', port);
    const me = currentTask();
    getRunningLoop().addSignalHandler('SIGTERM', () => me.cancel());   // run() itself answers SIGINT
    const [host, p] = server.addresses()[0];
    console.log(`listening on ${host}:${p}`);
    yield* server.serveForever();
  });
} catch (e) {
  if (!(e instanceof CancelledError)) throw e;
}
