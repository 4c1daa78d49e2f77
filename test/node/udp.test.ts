import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContextVar, type Coro, type DatagramProtocol, type DatagramTransport, Future, getRunningLoop, NodeEventLoop, type SockAddr, sleep,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 10_000 };

class Recorder implements DatagramProtocol {
  readonly trace: string[] = [];
  readonly got: Array<[string, SockAddr]> = [];
  readonly errors: Array<NodeJS.ErrnoException> = [];
  readonly lost = new Future<void>({ description: 'udp lost' });
  #waiter: Future<void> | null = null;
  connectionMade(): void { this.trace.push('made'); }
  datagramReceived(data: Uint8Array, addr: SockAddr): void { this.got.push([Buffer.from(data).toString(), addr]); this.#wake(); }
  errorReceived(exc: Error): void { this.errors.push(exc); this.#wake(); }
  connectionLost(exc?: Error): void { this.trace.push(`lost ${exc?.message}`); this.lost.setResult(); }
  /** Wait until `n` datagrams (or errors) have arrived. */
  *until(n: number): Coro<void> {
    while (this.got.length + this.errors.length < n) {
      this.#waiter = new Future<void>({ description: 'udp datagram' });
      yield* this.#waiter;
    }
  }
  #wake(): void { const w = this.#waiter; this.#waiter = null; if (w !== null && !w.done()) w.setResult(); }
}

function port(t: DatagramTransport): number { return (t.getExtraInfo('sockname') as SockAddr)[1]; }

void test('unconnected endpoints exchange datagrams on 127.0.0.1 with [host, port] addresses', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const [server, sp] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const [client, cp] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const serverAddr = server.getExtraInfo('sockname') as SockAddr;
    assert.equal(serverAddr[0], '127.0.0.1');
    assert.ok(serverAddr[1] > 0);
    assert.equal(server.getExtraInfo('peername'), undefined);
    client.sendto('ping', serverAddr);
    yield* sp.until(1);
    const [msg, from] = sp.got[0]!;
    assert.equal(msg, 'ping');
    assert.deepEqual(from, ['127.0.0.1', port(client)]);
    server.sendto(Buffer.from('pong'), from);
    yield* cp.until(1);
    assert.throws(() => client.sendto('no address'), TypeError);
    client.close();
    server.close();
    yield* cp.lost; yield* sp.lost;
    return { cp, sp, serverAddr };
  });
  assert.deepEqual(r.cp.got, [['pong', r.serverAddr]]);
  assert.deepEqual(r.cp.trace, ['made', 'lost undefined']);
  assert.deepEqual(r.sp.trace, ['made', 'lost undefined']);
});

void test('a connected endpoint: sendto without an address, peername, and a wrong address refused', T, async () => {
  const got = await runRecording(function* () {
    const loop = getRunningLoop();
    const [server, sp] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const [client] = yield* loop.createDatagramEndpoint(() => new Recorder(), { remoteAddr: ['127.0.0.1', port(server)] });
    assert.deepEqual(client.getExtraInfo('peername'), ['127.0.0.1', port(server)]);
    client.sendto('one');
    client.sendto('two', ['127.0.0.1', port(server)]);
    assert.throws(() => client.sendto('x', ['127.0.0.1', port(server) + 1]), TypeError);
    yield* sp.until(2);
    client.abort();
    server.close();
    return sp.got.map((g) => g[0]);
  });
  assert.deepEqual(got, ['one', 'two']);
});

void test('errorReceived: a connected endpoint whose peer is not listening hears ECONNREFUSED and stays open', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    // Find a free port: bind, note it, close.
    const [probe, pp] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const free = port(probe);
    probe.close();
    yield* pp.lost;
    const [client, cp] = yield* loop.createDatagramEndpoint(() => new Recorder(), { remoteAddr: ['127.0.0.1', free] });
    for (let i = 0; i < 20 && cp.errors.length === 0; i++) { client.sendto('anyone?'); yield* sleep(10); }
    const closing = client.isClosing();
    client.close();
    yield* cp.lost;
    return { codes: cp.errors.map((e) => e.code), closing };
  });
  assert.ok(r.codes.length > 0);
  assert.equal(r.codes[0], 'ECONNREFUSED');
  assert.equal(r.closing, false);
});

void test('reuseAddress lets two endpoints bind one port; without it the second fails with EADDRINUSE', T, async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    const [a] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0], reuseAddress: true });
    const [b] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', port(a)], reuseAddress: true });
    assert.equal(port(b), port(a));
    let err: NodeJS.ErrnoException | undefined;
    try { yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', port(a)] }); } catch (e) { err = e as NodeJS.ErrnoException; }
    assert.equal(err?.code, 'EADDRINUSE');
    a.close(); b.close();
  });
});

void test('allowBroadcast sets SO_BROADCAST; IPv6 loopback works with family inferred', T, async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    const [t] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0], allowBroadcast: true });
    // Sending to the limited broadcast address needs SO_BROADCAST (EACCES without it).
    const [u, up] = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    u.sendto('x', ['255.255.255.255', 9]);
    t.sendto('x', ['255.255.255.255', 9]);
    yield* sleep(30);
    assert.equal(up.errors[0]?.code, 'EACCES');
    t.close(); u.close();
    let six: [DatagramTransport, Recorder] | undefined;
    try { six = yield* loop.createDatagramEndpoint(() => new Recorder(), { localAddr: ['::1', 0] }); } catch { /* no IPv6 here */ }
    if (six !== undefined) {
      const [s6, p6] = six;
      s6.sendto('v6', ['::1', port(s6)]);
      yield* p6.until(1);
      assert.deepEqual(p6.got[0], ['v6', ['::1', port(s6)]]);
      s6.close();
    }
  });
});

void test('the write buffer counts unsent bytes; close() waits for them, loop.close() aborts', T, async () => {
  const loop = new NodeEventLoop();
  let p!: Recorder;
  await runRecording(function* () {
    const l = getRunningLoop();
    const [server, sp] = yield* l.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    const [c] = yield* l.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
    c.sendto('12345', ['127.0.0.1', port(server)]);
    assert.equal(c.getWriteBufferSize(), 5);
    c.close();
    yield* sp.until(1);
    assert.equal(c.getWriteBufferSize(), 0);
    p = sp;
  }, [], { loop });
  assert.deepEqual(p.trace, ['made', 'lost undefined']);
});

void test('protocol methods run with their loop running and in the context the endpoint was made in', T, async () => {
  const seen = await runRecording(function* () {
    const loop = getRunningLoop();
    const v = new ContextVar<string>('who', { default: 'nobody' });
    v.set('creator');
    const out: string[] = [];
    class Probe extends Recorder {
      override datagramReceived(data: Uint8Array, addr: SockAddr): void {
        out.push(`${v.get()} ${getRunningLoop() === loop}`);
        super.datagramReceived(data, addr);
      }
    }
    const [t, p] = yield* loop.createDatagramEndpoint(() => new Probe(), { localAddr: ['127.0.0.1', 0] });
    v.set('changed later');
    t.sendto('x', t.getExtraInfo('sockname') as SockAddr);
    yield* p.until(1);
    t.close();
    return out;
  });
  assert.deepEqual(seen, ['creator true']);
});
