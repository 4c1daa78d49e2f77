import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  type Coro, createTask, Future, getRunningLoop, NodeEventLoop, sleep, STDOUT,
  type ReadTransport, type SubprocessProtocol, type SubprocessTransport, type WriteTransport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 10_000 };

/** Records every protocol call; `done` resolves at connectionLost. */
class Recorder implements SubprocessProtocol {
  readonly trace: string[] = [];
  readonly out: Buffer[] = [];
  readonly err: Buffer[] = [];
  readonly lost: Future<void>;
  pipeErrors: Array<NodeJS.ErrnoException | undefined> = [];
  constructor() { this.lost = new Future<void>({ description: 'Recorder.lost' }); }
  connectionMade(_t?: SubprocessTransport): void { this.trace.push('made'); }
  pipeDataReceived(fd: 1 | 2, data: Uint8Array): void { (fd === 1 ? this.out : this.err).push(Buffer.from(data)); }
  pipeConnectionLost(fd: 0 | 1 | 2, exc?: Error): void { this.trace.push(`pipe ${fd} lost`); if (fd === 0) this.pipeErrors.push(exc); }
  processExited(): void { this.trace.push('exited'); }
  connectionLost(exc?: Error): void { this.trace.push(`lost ${String(exc)}`); this.lost.setResult(); }
  stdout(): string { return Buffer.concat(this.out).toString(); }
  stderr(): string { return Buffer.concat(this.err).toString(); }
}

/** connectionLost comes last, after processExited and every pipe. */
function assertOrder(trace: string[], pipes: number): void {
  assert.equal(trace[0], 'made');
  assert.equal(trace.at(-1), 'lost undefined');
  assert.equal(trace.filter((e) => e === 'exited').length, 1);
  assert.equal(trace.filter((e) => e.startsWith('pipe')).length, pipes);
  assert.equal(trace.length, pipes + 3);
}

void test('subprocessExec: cat echoes stdin, then the order is made, pipes, exited, lost', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const [t, p] = yield* loop.subprocessExec(() => new Recorder(), 'cat', []);
    assert.ok(t.getPid() > 0);
    assert.equal(t.getReturncode(), null);
    const stdin = t.getPipeTransport(0) as WriteTransport;
    stdin.write('hello ');
    stdin.writeLines(['wor', Buffer.from('ld\n')]);
    stdin.close();
    yield* p.lost;
    return { p, code: t.getReturncode() };
  });
  assert.equal(r.code, 0);
  assert.equal(r.p.stdout(), 'hello world\n');
  assertOrder(r.p.trace, 3);
});

void test('subprocessShell: stdout, stderr and the exit code', T, async () => {
  const r = await runRecording(function* () {
    const [t, p] = yield* getRunningLoop().subprocessShell(() => new Recorder(), 'echo out; echo err >&2; exit 3', { stdin: 'ignore' });
    assert.equal(t.getPipeTransport(0), null);
    yield* p.lost;
    return { p, code: t.getReturncode() };
  });
  assert.equal(r.code, 3);
  assert.equal(r.p.stdout(), 'out\n');
  assert.equal(r.p.stderr(), 'err\n');
  assertOrder(r.p.trace, 2);
});

void test('stderr: STDOUT merges stderr into stdout, for exec and shell', T, async () => {
  const [a, b] = await runRecording(function* () {
    const loop = getRunningLoop();
    const [t1, p1] = yield* loop.subprocessExec(() => new Recorder(), 'sh', ['-c', 'echo one; echo two >&2'], { stdin: 'ignore', stderr: STDOUT });
    const [, p2] = yield* loop.subprocessShell(() => new Recorder(), 'echo three >&2', { stdin: 'ignore', stderr: STDOUT });
    assert.equal(t1.getPipeTransport(2), null);
    yield* p1.lost; yield* p2.lost;
    return [p1, p2];
  });
  assert.equal(a.stdout(), 'one\ntwo\n');
  assert.equal(b.stdout(), 'three\n');
  assert.equal(a.stderr() + b.stderr(), '');
});

void test('a program that does not exist fails with ENOENT (also with stderr: STDOUT)', T, async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    for (const stderr of ['pipe', STDOUT] as const) {
      let err: NodeJS.ErrnoException | undefined;
      try { yield* loop.subprocessExec(() => new Recorder(), '/nonexistent/program-xyz', [], { stderr }); } catch (e) { err = e as NodeJS.ErrnoException; }
      assert.equal(err?.code, 'ENOENT');
    }
  });
});

void test('writing to a pipe whose reader closed it: EPIPE reaches pipeConnectionLost, nothing is thrown', T, async () => {
  const errors: unknown[] = [];
  const p = await runRecording(function* () {
    // The child closes its stdin and prints a line; it stays alive until killed.
    const [t, p] = yield* getRunningLoop().subprocessExec(() => new Recorder(), 'sh', ['-c', 'exec 0<&-; echo closed; exec sleep 5'], { stderr: 'ignore' });
    const stdin = t.getPipeTransport(0) as WriteTransport;
    while (p.stdout() === '') yield* sleep(5);
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 20 && !stdin.isClosing(); i++) { stdin.write(chunk); yield* sleep(1); }
    assert.ok(stdin.isClosing());
    assert.equal(t.getReturncode(), null);
    t.kill();
    yield* p.lost;
    return p;
  }, errors as never);
  assert.deepEqual(errors, []);
  assert.equal(p.pipeErrors[0]?.code, 'EPIPE');
  assert.equal(p.trace.at(-1), 'lost undefined');
});

void test('output of a child that exited while its stdout was paused is not lost', T, async () => {
  const out = await runRecording(function* () {
    class Pausing extends Recorder {
      override connectionMade(t: SubprocessTransport): void { super.connectionMade(); (t.getPipeTransport(1) as ReadTransport).pauseReading(); }
    }
    const [t, p] = yield* getRunningLoop().subprocessShell(() => new Pausing(), 'echo early', { stdin: 'ignore' });
    const stdout = t.getPipeTransport(1) as ReadTransport;
    assert.equal(stdout.isReading(), false);
    while (t.getReturncode() === null) yield* sleep(5);
    yield* sleep(50);   // Node resumes a dead child's untouched stdio streams: that must not discard the output
    assert.equal(p.stdout(), '');
    stdout.resumeReading();
    yield* p.lost;
    return p.stdout();
  });
  assert.equal(out, 'early\n');
});

void test('terminate, kill and sendSignal: the return code is minus the signal number', T, async () => {
  const codes = await runRecording(function* () {
    const loop = getRunningLoop();
    const out: number[] = [];
    for (const how of ['terminate', 'kill', 'SIGUSR1'] as const) {
      const [t, p] = yield* loop.subprocessExec(() => new Recorder(), 'sleep', ['10'], { stdin: 'ignore' });
      if (how === 'SIGUSR1') t.sendSignal(how); else t[how]();
      yield* p.lost;
      out.push(t.getReturncode()!);
      t.kill();   // after exit: a no-op
    }
    return out;
  });
  assert.deepEqual(codes, [-15, -9, -10]);
});

void test('close() kills a running child; processExited and connectionLost still follow', T, async () => {
  const r = await runRecording(function* () {
    const [t, p] = yield* getRunningLoop().subprocessExec(() => new Recorder(), 'sleep', ['10']);
    t.close();
    assert.ok(t.isClosing());
    yield* p.lost;
    return { p, code: t.getReturncode() };
  });
  assert.equal(r.code, -9);
  assertOrder(r.p.trace, 3);
});

void test('loop.close() kills children still running', T, async () => {
  const loop = new NodeEventLoop();
  let t!: SubprocessTransport;
  await runRecording(function* () {
    [t] = yield* getRunningLoop().subprocessExec(() => ({}), 'sleep', ['10'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  }, [], { loop });
  assert.ok(loop.isClosed());
  const pid = t.getPid();
  const deadline = Date.now() + 2000;
  for (;;) {
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    if (!alive) break;
    assert.ok(Date.now() < deadline, 'the child is still alive');
    await new Promise((r) => setTimeout(r, 10));
  }
});

void test('cwd and env reach the child; a node child reads and writes', T, async () => {
  const p = await runRecording(function* () {
    const [t, p] = yield* getRunningLoop().subprocessExec(() => new Recorder(), process.execPath,
      ['-e', 'process.stdin.on("data", (d) => process.stdout.write(process.cwd() + " " + process.env.X + " " + d))'],
      { cwd: '/tmp', env: { ...process.env, X: 'y' } });
    (t.getPipeTransport(0) as WriteTransport).write('z');
    (t.getPipeTransport(0) as WriteTransport).close();
    yield* p.lost;
    return p;
  });
  assert.equal(p.stdout(), '/tmp y z');
});

void test('a protocol whose pipeDataReceived throws: the error goes to the exception handler', T, async () => {
  const errors: { message: string; exception?: unknown }[] = [];
  await runRecording(function* (): Coro<void> {
    class Bad extends Recorder { override pipeDataReceived(): void { throw new Error('boom'); } }
    const [, p] = yield* getRunningLoop().subprocessShell(() => new Bad(), 'echo x', { stdin: 'ignore' });
    yield* p.lost;
  }, errors as never);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /dataReceived/);
  assert.equal((errors[0]!.exception as Error).message, 'boom');
});

void test('cancelling the task while it waits for the spawn kills the child', T, async () => {
  const marker = `/tmp/tulip-spawn-cancel-${process.pid}`;
  await runRecording(function* () {
    const loop = getRunningLoop();
    const task = createTask(loop.subprocessExec(() => new Recorder(), 'sh', ['-c', `sleep 0.3; touch ${marker}`]));
    yield* sleep(0);   // the task has called spawn and waits for Node's 'spawn' event
    task.cancel();
    try { yield* task; assert.fail('not cancelled'); } catch (e) { assert.equal((e as Error).name, 'CancelledError'); }
    yield* sleep(600);
  });
  assert.equal(existsSync(marker), false, 'the child ran on');
});
