// A newcomer's program, compiled against the installed package (strict, skipLibCheck: false) and run.
import assert from 'node:assert/strict';
import {
  AsyncEvent, Queue, TimeoutError, run, sleep, startServer, openConnection, taskGroup, timeout, createTask,
  type Coro, type StreamReader, type StreamWriter,
} from 'tulip';
import { TestEventLoop, runVirtual } from 'tulip/testing';
import { HttpClient, serveHttp } from 'tulip/http';
import { getRunningLoop } from 'tulip';

function* echo(reader: StreamReader, writer: StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* reader.readLine();
    if (line.length === 0) return;
    writer.write(line);
    yield* writer.drain();
  }
}

// A real server on 127.0.0.1 and a client, a timeout, a task group and an event.
const real = await run(function* (): Coro<string> {
  const server = yield* startServer(echo, '127.0.0.1', 0);
  try {
    const [, port] = server.addresses()[0] as [string, number];
    const [reader, writer] = yield* openConnection('127.0.0.1', port);
    writer.write('hello, tulip\n');
    const answer = new TextDecoder().decode(yield* reader.readLine()).trim();
    writer.close();
    yield* writer.waitClosed();

    let timedOut = false;
    try { yield* timeout(10, () => sleep(10_000)); } catch (e) { timedOut = e instanceof TimeoutError; }
    assert.ok(timedOut);

    const ready = new AsyncEvent();
    const q = new Queue<number>(1);
    const got: number[] = [];
    yield* taskGroup(function* (tg) {
      tg.createTask((function* () { yield* ready.wait(); for (let i = 0; i < 3; i++) yield* q.put(i); })());
      tg.createTask((function* () { for (let i = 0; i < 3; i++) got.push(yield* q.get()); })());
      const setter = createTask((function* () { yield* sleep(1); ready.set(); })());
      yield* setter;
    });
    assert.deepEqual(got, [0, 1, 2]);
    return answer;
  } finally {
    server.close();
    yield* server.waitClosed();
  }
});
assert.equal(real, 'hello, tulip');
console.log(`real network: ${real}`);

// The same echo server on the virtual network: 50 ms each way takes virtual time only.
const wallStart = Date.now();
const elapsed = await runVirtual(function* (): Coro<number> {
  const loop = getRunningLoop() as TestEventLoop;
  loop.network.addHost('server');
  loop.network.setLink('localhost', 'server', { latency: 50 });
  const server = yield* loop.network.onHost('server', () => startServer(echo, 'server', 7));
  const t0 = loop.time();
  const [reader, writer] = yield* openConnection('server', 7);
  writer.write('ping\n');
  assert.equal(new TextDecoder().decode(yield* reader.readLine()), 'ping\n');
  const t = loop.time() - t0;
  writer.close();
  server.close();
  return t;
}, { seed: 1 });
assert.ok(elapsed >= 150, `virtual round trip took ${elapsed} ms of virtual time`);
console.log(`virtual network: connect + round trip took ${elapsed} ms of virtual time, ${Date.now() - wallStart} ms of wall time`);
// HTTP: a server and a client of tulip/http.
const greeting = await run(function* (): Coro<string> {
  const server = yield* serveHttp(function* (req, res) { res.end(`hello ${req.path}`); }, '127.0.0.1', 0);
  const client = new HttpClient();
  try {
    const [, port] = server.addresses()[0] as [string, number];
    return yield* (yield* client.request('GET', `http://127.0.0.1:${port}/http`)).text();
  } finally {
    client.close();
    server.close();
  }
});
assert.equal(greeting, 'hello /http');
console.log(`http: ${greeting}`);
console.log('consumer done');
