/**
 * Producers and consumers (PEP 3153) on every write transport of the Node
 * loop: TCP, a write pipe, a subprocess's stdin (loop.subprocessExec and
 * Process.stdin). Each transport pauses a registered producer inside the
 * write that crosses the high-water mark, resumes it once the consumer
 * drained the buffer, and stops it when the connection is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  type Coro, createSubprocessExec, createTask, type ExceptionContext, Future, getRunningLoop, type Protocol, type PushProducer,
  sleep, type Transport, type WriteTransport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { portOf, testCert } from '../net_helpers.js';

const T = { timeout: 15_000 };
const MiB = 1024 * 1024;

class RecProducer implements PushProducer {
  readonly trace: string[] = [];
  readonly stopped = new Future<void>({ description: 'RecProducer.stopped' });
  pauseProducing(): void { this.trace.push('pause'); }
  resumeProducing(): void { this.trace.push('resume'); }
  stopProducing(): void { this.trace.push('stop'); if (!this.stopped.done()) this.stopped.setResult(); }
}

const paused = (p: RecProducer): boolean => p.trace.at(-1) === 'pause';

/** pause, resume, then (pause resume)* as the producer kept writing, and stop last. */
function assertCycle(trace: string[]): void {
  assert.deepEqual(trace.slice(0, 2), ['pause', 'resume']);
  assert.equal(trace.at(-1), 'stop');
  trace.slice(0, -1).forEach((e, i) => assert.equal(e, i % 2 === 0 ? 'pause' : 'resume', trace.join(' ')));
}

/** Poll (bounded) until `cond()` holds. */
function* until(cond: () => boolean, what: string, ms = 5000): Coro<void> {
  const end = getRunningLoop().time() + ms;
  while (!cond()) {
    if (getRunningLoop().time() > end) assert.fail(`timed out waiting for ${what}`);
    yield* sleep(2);
  }
}

/** Write 1 MiB chunks until the producer is paused; assert it happened inside the write that crossed the mark. */
function writeUntilPaused(t: WriteTransport, p: RecProducer): void {
  const [, high] = t.getWriteBufferLimits();
  for (let i = 0; i < 64 && p.trace.length === 0; i++) {
    const before = t.getWriteBufferSize();
    t.write(Buffer.alloc(MiB, 120));
    if (p.trace.length > 0) assert.ok(before <= high && t.getWriteBufferSize() > high, `paused by the crossing write (${before} -> ${t.getWriteBufferSize()})`);
  }
  assert.deepEqual(p.trace, ['pause']);
}

void test('TCP: a producer is paused above high water, resumed at low water, stopped when the peer resets', T, async () => {
  const trace = await runRecording(function* () {
    const loop = getRunningLoop();
    let peer: Transport | null = null;
    const server = yield* loop.createServer(() => ({
      connectionMade: (t: Transport) => { peer = t; t.pauseReading(); },
    } satisfies Protocol), '127.0.0.1', 0);
    const [t] = yield* loop.createConnection(() => ({}), '127.0.0.1', portOf(server));
    yield* until(() => peer !== null, 'accept');
    const p = new RecProducer();
    t.registerProducer(p);
    writeUntilPaused(t, p);
    peer!.resumeReading();
    yield* until(() => p.trace.length === 2, 'resume');
    assert.ok(t.getWriteBufferSize() <= t.getWriteBufferLimits()[0]);
    peer!.abort();
    yield* p.stopped;
    server.close();
    return p.trace;
  });
  assert.deepEqual(trace, ['pause', 'resume', 'stop']);
});

void test('write pipe: pause, resume once the reader drained it, stop when the reader died', T, async () => {
  const trace = await runRecording(function* () {
    const child = spawn('sh', ['-c', 'cat >/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const lost = new Future<Error | undefined>({ description: 'pipe lost' });
    const [t] = yield* getRunningLoop().connectWritePipe(() => ({ connectionLost: (e?: Error) => lost.setResult(e) }), child.stdin);
    const p = new RecProducer();
    t.registerProducer(p);
    writeUntilPaused(t, p);
    yield* until(() => p.trace.length === 2, 'resume');
    child.kill('SIGKILL');
    yield* until(() => child.exitCode !== null || child.signalCode !== null, 'child exit');
    // Node destroys a dead child's stdin; had it not, the next write would fail with EPIPE.
    for (let i = 0; i < 100 && !lost.done(); i++) { if (!paused(p)) t.write(Buffer.alloc(64 * 1024)); yield* sleep(5); }
    const e = yield* lost;
    assert.ok(e === undefined || (e as NodeJS.ErrnoException).code === 'EPIPE', String(e));
    return p.trace;
  });
  assertCycle(trace);
});

void test('subprocess stdin (subprocessExec and Process.stdin): pause, resume, stop when the child exits', T, async () => {
  const traces = await runRecording(function* () {
    const loop = getRunningLoop();
    const out: string[][] = [];
    // The child reads 3 MiB, then exits with stdin still open.
    const script = 'let n=0;process.stdin.on("data",(d)=>{n+=d.length;if(n>=3*1048576)process.exit(0)})';
    const [sub] = yield* loop.subprocessExec(() => ({}), process.execPath, ['-e', script], { stdout: 'ignore', stderr: 'inherit' });
    const stdin = sub.getPipeTransport(0) as WriteTransport;
    const p1 = new RecProducer();
    stdin.registerProducer(p1);
    writeUntilPaused(stdin, p1);
    yield* until(() => p1.trace.length === 2, 'resume');
    for (let i = 0; i < 200 && !p1.stopped.done(); i++) { if (!paused(p1)) stdin.write(Buffer.alloc(256 * 1024)); yield* sleep(5); }
    yield* p1.stopped;
    out.push(p1.trace);

    const proc = yield* createSubprocessExec(process.execPath, ['-e', script], { stdin: 'pipe', stdout: 'ignore' });
    const t = proc.stdin!.transport;
    const p2 = new RecProducer();
    t.registerProducer(p2);
    writeUntilPaused(t, p2);
    yield* until(() => p2.trace.length === 2, 'resume');
    for (let i = 0; i < 200 && !p2.stopped.done(); i++) { if (!paused(p2)) t.write(Buffer.alloc(256 * 1024)); yield* sleep(5); }
    yield* p2.stopped;
    out.push(p2.trace);
    assert.equal(yield* proc.wait(), 0);
    return out;
  });
  assert.equal(traces.length, 2);
  for (const tr of traces) assertCycle(tr);
});

void test('a producer registered on a lost transport is stopped at once; a throwing producer reaches the exception handler', T, async () => {
  const errors: ExceptionContext[] = [];
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const child = spawn('sh', ['-c', 'cat >/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const lost = new Future<void>({ description: 'pipe lost' });
    const [t] = yield* loop.connectWritePipe(() => ({ connectionLost: () => lost.setResult() }), child.stdin);
    const bad: PushProducer = { pauseProducing: () => { throw new Error('bad pause'); }, resumeProducing() {}, stopProducing() {} };
    t.registerProducer(bad);
    t.write(Buffer.alloc(MiB));   // must not throw into the writer
    t.unregisterProducer();
    t.close();
    yield* lost;
    const late = new RecProducer();
    t.registerProducer(late);
    yield* until(() => child.exitCode !== null, 'child exit');
    return late.trace;
  }, errors);
  assert.deepEqual(r, ['stop']);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]!.message), /pauseProducing/);
  assert.match(String((errors[0]!.exception as Error).message), /bad pause/);
});

void test('TLS after startTls: the producer registered on the plain transport carries on (not stopped), paused and resumed by the new one', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const { key, cert } = testCert();
    let peer: Transport | null = null;
    const peerProto: Protocol = { connectionMade: (t: Transport) => { peer = t; } };
    const server = yield* loop.createServer(() => peerProto, '127.0.0.1', 0);
    const proto: Protocol = {};
    const [plain] = yield* loop.createConnection(() => proto, '127.0.0.1', portOf(server));
    yield* until(() => peer !== null, 'accept');
    const p = new RecProducer();
    plain.registerProducer(p);
    const serverSide = createTask(loop.startTls(peer!, peerProto, { key, cert }, { serverSide: true }));
    const t = yield* loop.startTls(plain, proto, { ca: cert }, { serverHostname: 'localhost' });
    const st = yield* serverSide;
    const afterUpgrade = [...p.trace];
    st.pauseReading();
    writeUntilPaused(t, p);
    st.resumeReading();
    yield* until(() => p.trace.length === 2, 'resume');
    st.abort();
    yield* p.stopped;
    server.close();
    return { afterUpgrade, trace: p.trace };
  });
  assert.deepEqual(r.afterUpgrade, []);
  assert.deepEqual(r.trace, ['pause', 'resume', 'stop']);
});
