/** Fault scenarios on the virtual network: what tests of real network code look like. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelScope, createTask, Future, getRunningLoop, sleep, type Coro, type Protocol, type Transport } from '../../src/index.js';
import { runVirtual, type TestEventLoop } from '../../src/testing/index.js';

const dec = new TextDecoder();
function loop(): TestEventLoop { return getRunningLoop() as TestEventLoop; }
function now(): number { return getRunningLoop().time(); }

/** A client protocol whose `response` future settles with the first reply. */
class Client implements Protocol {
  response = new Future<string>({ description: 'Client.response' });
  dataReceived(d: Uint8Array): void { if (!this.response.done()) this.response.setResult(dec.decode(d)); }
  connectionLost(e: Error | undefined): void { if (!this.response.done()) this.response.setException(e ?? new Error('closed')); }
}

/** Run `body` with a deadline `ms` from now; undefined if the deadline halted it. */
function* withTimeout<T>(ms: number, body: Coro<T>): Coro<{ value: T | undefined; timedOut: boolean }> {
  const scope = new CancelScope({ deadline: now() + ms });
  const value = yield* scope.run(body);
  return { value, timedOut: scope.cancelledCaught };
}

void test('a client with a timeout around a server that stalls gives up at the deadline and closes', async () => {
  const serverSaw: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 20 });
    class Stall implements Protocol {
      dataReceived(d: Uint8Array): void { serverSaw.push(`request ${dec.decode(d)}@${now()}`); }   // never answers
      connectionLost(e: Error | undefined): void { serverSaw.push(`lost ${e === undefined ? 'clean' : (e as { code?: string }).code}@${now()}`); }
    }
    yield* net.onHost('server', () => loop().createServer(() => new Stall(), 'server', 80));
    const [t, p] = yield* loop().createConnection(() => new Client(), 'server', 80);
    const t0 = now();
    const r = yield* withTimeout(1000, (function* () { t.write('GET'); return yield* p.response; })());
    assert.deepEqual(r, { value: undefined, timedOut: true });
    assert.equal(now() - t0, 1000);
    t.close();
    yield* sleep(100);
  });
  assert.deepEqual(serverSaw, ['request GET@60', 'lost clean@1060']);
});

void test('a chat server pauses a slow reader instead of buffering without bound', async () => {
  const N = 500, SIZE = 1024;
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('chat');
    const members = new Set<Member>();
    let maxBuffered = 0, skipped = 0;
    class Member implements Protocol {
      t!: Transport;
      paused = false;
      connectionMade(t: Transport): void { this.t = t; members.add(this); }
      connectionLost(): void { members.delete(this); }
      pauseWriting(): void { this.paused = true; }
      resumeWriting(): void { this.paused = false; }
      dataReceived(d: Uint8Array): void {
        for (const m of members) {
          if (m === this) continue;
          if (m.paused) { skipped++; continue; }   // drop for the slow member; never buffer without bound
          m.t.write(d);
          maxBuffered = Math.max(maxBuffered, m.t.getWriteBufferSize());
        }
      }
    }
    yield* net.onHost('chat', () => loop().createServer(() => new Member(), 'chat', 6667));
    class Reader implements Protocol {
      t!: Transport;
      bytes = 0;
      connectionMade(t: Transport): void { this.t = t; }
      dataReceived(d: Uint8Array): void { this.bytes += d.length; }
    }
    const fast = [];
    for (let i = 0; i < 3; i++) fast.push((yield* loop().createConnection(() => new Reader(), 'chat', 6667))[1]);
    const [, slow] = yield* loop().createConnection(() => new Reader(), 'chat', 6667);
    const [talker] = yield* loop().createConnection(() => new Reader(), 'chat', 6667);
    slow.t.pauseReading();
    const msg = new Uint8Array(SIZE).fill(65);
    for (let i = 0; i < N; i++) { talker.write(msg); yield* sleep(1); }
    yield* sleep(100);
    for (const r of fast) assert.equal(r.bytes, N * SIZE);
    assert.ok(skipped > 0, 'the slow member was paused');
    assert.ok(maxBuffered <= 64 * 1024 + SIZE, `server buffered ${maxBuffered} bytes for one member`);
    assert.ok(slow.bytes === 0);
    slow.t.resumeReading();
    yield* sleep(10);
    assert.equal(slow.bytes, N * SIZE - skipped * SIZE);
  });
});

/** Connect with a per-attempt timeout, retrying after a pause; returns the attempt that worked and when. */
function* connectWithRetry(host: string, port: number, attempts: number, timeoutMs: number, pauseMs: number): Coro<[number, number, Transport]> {
  for (let i = 1; i <= attempts; i++) {
    const r = yield* withTimeout(timeoutMs, loop().createConnection(() => new Client(), host, port));
    if (!r.timedOut) return [i, now(), r.value![0]];
    yield* sleep(pauseMs);
  }
  throw new Error('could not connect');
}

void test('a partition healed before the retry timeout: the first attempt connects late', async () => {
  const accepted: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10 });
    class Note implements Protocol {
      connectionMade(): void { accepted.push(`made@${now()}`); }
      connectionLost(e: Error | undefined): void { accepted.push(`lost ${e === undefined ? 'clean' : (e as { code?: string }).code}@${now()}`); }
    }
    yield* net.onHost('server', () => loop().createServer(() => new Note(), 'server', 80));
    net.partition('localhost', 'server');
    loop().callLater(300, () => net.heal('localhost', 'server'));
    const [attempt, at, t] = yield* connectWithRetry('server', 80, 3, 500, 100);
    assert.deepEqual([attempt, at], [1, 320]);
    t.close();
    yield* sleep(50);
  });
  assert.deepEqual(accepted, ['made@310', 'lost clean@330']);
});

void test('a partition healed after the retry timeout: the held attempt is reset, the retry connects', async () => {
  const accepted: string[] = [];
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 10 });
    class Note implements Protocol {
      connectionMade(): void { accepted.push(`made@${now()}`); }
      connectionLost(e: Error | undefined): void { accepted.push(`lost ${e === undefined ? 'clean' : (e as { code?: string }).code}@${now()}`); }
    }
    yield* net.onHost('server', () => loop().createServer(() => new Note(), 'server', 80));
    net.partition('localhost', 'server');
    loop().callLater(800, () => net.heal('localhost', 'server'));
    const [attempt, at, t] = yield* connectWithRetry('server', 80, 3, 500, 100);
    // attempt 1: 0..500 (timed out), pause to 600, attempt 2 held until the heal at 800.
    assert.deepEqual([attempt, at], [2, 820]);
    t.close();
    yield* sleep(50);
  });
  // The first attempt's SYN and then its reset reach the server after the heal; then the retry.
  assert.deepEqual(accepted, ['made@810', 'made@810', 'lost ECONNRESET@810', 'lost clean@830']);
});

void test('the same seed gives the same run of a lossy, jittery exchange', async () => {
  const program = (seed: number): Promise<string> => runVirtual(function* () {
    const net = loop().network;
    net.addHost('server');
    net.setLink('localhost', 'server', { latency: 5, jitter: 40 });
    const log: string[] = [];
    class Echo implements Protocol {
      t!: Transport;
      connectionMade(t: Transport): void { this.t = t; }
      dataReceived(d: Uint8Array): void { this.t.write(d); }
    }
    yield* net.onHost('server', () => loop().createServer(() => new Echo(), 'server', 7));
    function* client(i: number): Coro<void> {
      yield* sleep(Math.floor(loop().random() * 50));
      const [t, p] = yield* loop().createConnection(() => new Client(), 'server', 7);
      t.write(`c${i}`);
      log.push(`${yield* p.response}@${now().toFixed(3)}`);
      t.close();
    }
    const tasks = Array.from({ length: 10 }, (_, i) => createTask(client(i)));
    for (const x of tasks) yield* x;
    return log.join(' ');
  }, { seed });
  const a = await program(11);
  assert.equal(await program(11), a);
  assert.notEqual(await program(12), a);
});
