/** One child's stdout handed to the next child's stdin (`stdin: p1.stdout`), and EPIPE on a child's stdin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import {
  CancelledError, createSubprocessExec, createTask, type Process, sleep, StreamReader, timeout, TimeoutError, type Coro,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';
import { expectThrow } from '../interop_helpers.js';

const T = { timeout: 30_000 };

/** The parent's Node stream of a child's stdout. */
const stdoutSocket = (p: Process): Socket => p.transport.getPipeTransport(1)!.getExtraInfo('pipe') as Socket;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

void test('seq 1 100000 | grep 7 | wc -l from three processes gives 40951; no byte passes through this process', T, async () => {
  await runRecording(function* () {
    for (let round = 0; round < 3; round++) {
      const p1 = yield* createSubprocessExec('seq', ['1', '100000'], { stdout: 'pipe' });
      yield* sleep(round * 20);   // seq has long finished writing into the pipe by now
      const p2 = yield* createSubprocessExec('grep', ['7'], { stdin: p1.stdout!, stdout: 'pipe' });
      yield* sleep(round * 20);
      const p3 = yield* createSubprocessExec('wc', ['-l'], { stdin: p2.stdout!, stdout: 'pipe' });
      const out = Buffer.from(yield* p3.stdout!.read(-1)).toString().trim();
      assert.equal(out, '40951', `round ${round}`);
      assert.deepEqual([yield* p1.wait(), yield* p2.wait(), yield* p3.wait()], [0, 0, 0]);
      assert.equal(stdoutSocket(p1).bytesRead, 0);
      assert.equal(stdoutSocket(p2).bytesRead, 0);
      yield* expectThrow(p1.stdout!.read(), /handed to process \d+ as its stdin/);
    }
  });
});

void test('the same pipeline read by a slow reader in this process still gives every line', T, async () => {
  await runRecording(function* () {
    const p1 = yield* createSubprocessExec('seq', ['1', '100000'], { stdout: 'pipe' });
    const p2 = yield* createSubprocessExec('grep', ['7'], { stdin: p1.stdout!, stdout: 'pipe', limit: 1024 });
    let n = 0, last = '';
    const it = p2.stdout!.lines();
    for (;;) {
      const r = yield* it.next();
      if (r.done === true) break;
      n++;
      last = r.value;
      if (n % 2000 === 0) yield* sleep(5);   // grep and seq block on full pipes meanwhile
    }
    assert.equal(n, 40951);
    assert.equal(last, '99997');
    assert.equal(yield* p2.wait(), 0);
  });
});

void test('handing over a pipe part of which this process read is refused; so is a reader that is not a child\'s pipe', T, async () => {
  await runRecording(function* () {
    const p1 = yield* createSubprocessExec('seq', ['1', '1000000'], { stdout: 'pipe' });
    assert.equal(Buffer.from(yield* p1.stdout!.readLine()).toString(), '1\n');
    yield* expectThrow(createSubprocessExec('grep', ['7'], { stdin: p1.stdout!, stdout: 'pipe' }), /already read into this process/);
    // the reader is intact: the rest of the lines are there
    const rest = Buffer.from(yield* p1.stdout!.read(-1)).toString().split('\n').filter(Boolean);
    assert.equal(rest.length, 999_999);
    yield* expectThrow(createSubprocessExec('cat', [], { stdin: new StreamReader() }), TypeError);
    yield* expectThrow(createSubprocessExec('cat', [], { stdin: p1.stdout! }), /closed|handed/);
  });
});

void test('a pipe read from up to now, with nothing left over in this process, can still be handed over', T, async () => {
  await runRecording(function* () {
    const script = 'echo first; sleep 0.3; seq 1 1000';
    const p1 = yield* createSubprocessExec('sh', ['-c', script], { stdout: 'pipe' });
    assert.equal(Buffer.from(yield* p1.stdout!.readLine()).toString(), 'first\n');
    const wc = yield* createSubprocessExec('wc', ['-l'], { stdin: p1.stdout!, stdout: 'pipe' });
    assert.equal(Buffer.from(yield* wc.stdout!.read(-1)).toString().trim(), '1000');
    // the same, with a child that fails to start: this process reads on
    const p2 = yield* createSubprocessExec('sh', ['-c', script], { stdout: 'pipe' });
    assert.equal(Buffer.from(yield* p2.stdout!.readLine()).toString(), 'first\n');
    yield* expectThrow(createSubprocessExec('no-such-program-tulip', [], { stdin: p2.stdout! }), /ENOENT/);
    assert.equal(Buffer.from(yield* p2.stdout!.read(-1)).toString().split('\n').filter(Boolean).length, 1000);
  });
});

void test('a child that fails to start does not take the pipe: the first child\'s output is still all there', T, async () => {
  await runRecording(function* () {
    const p1 = yield* createSubprocessExec('seq', ['1', '50000'], { stdout: 'pipe' });
    yield* expectThrow(createSubprocessExec('no-such-program-tulip', [], { stdin: p1.stdout! }), /ENOENT/);
    const lines = Buffer.from(yield* p1.stdout!.read(-1)).toString().split('\n').filter(Boolean);
    assert.equal(lines.length, 50000);
  });
});

/** A pipeline of three children whose last never ends by itself; the pids go into `pids`. */
function* endlessPipeline(pids: number[]): Coro<void> {
  const p1 = yield* createSubprocessExec('seq', ['1', '1000000000'], { stdout: 'pipe' });
  const p2 = yield* createSubprocessExec('grep', ['7'], { stdin: p1.stdout!, stdout: 'pipe' });
  const p3 = yield* createSubprocessExec('wc', ['-l'], { stdin: p2.stdout!, stdout: 'pipe' });
  pids.push(p1.pid, p2.pid, p3.pid);
  yield* p3.wait();
}

function* allGone(pids: number[]): Coro<void> {
  assert.equal(pids.length, 3);
  for (let i = 0; i < 200 && pids.some(alive); i++) yield* sleep(10);
  assert.deepEqual(pids.filter(alive), []);
}

void test('a cancelled task running a pipeline leaves no process behind', T, async () => {
  await runRecording(function* () {
    const pids: number[] = [];
    const t = createTask(endlessPipeline(pids));
    while (pids.length < 3) yield* sleep(5);
    t.cancel();
    yield* expectThrow(t, CancelledError);
    yield* allGone(pids);
  });
});

// A child belongs to the innermost scope that started it: the timeout's halt ends all three, while the task runs on.
void test('a timeout around a pipeline leaves no process behind', T, async () => {
  await runRecording(function* () {
    const pids: number[] = [];
    yield* expectThrow(timeout(300, () => endlessPipeline(pids)), TimeoutError);
    yield* allGone(pids);
  });
});

void test('writing to a child that exited: drain() throws EPIPE (not ECONNRESET), before and after the pipe\'s close is seen', T, async () => {
  await runRecording(function* () {
    const p = yield* createSubprocessExec('true', [], { stdin: 'pipe' });
    yield* p.wait();
    p.stdin!.write('x');
    const e1 = (yield* expectThrow(p.stdin!.drain(), Error)) as NodeJS.ErrnoException;
    assert.equal(e1.code, 'EPIPE');

    const q = yield* createSubprocessExec('true', [], { stdin: 'pipe' });
    yield* q.wait();
    yield* sleep(20);   // the pipe's close has arrived
    q.stdin!.write('x');
    const e2 = (yield* expectThrow(q.stdin!.drain(), Error)) as NodeJS.ErrnoException;
    assert.equal(e2.code, 'EPIPE');

    // a child that closes its stdin while alive: the write that finds it closed fails with EPIPE
    const c = yield* createSubprocessExec('sh', ['-c', 'exec 0<&-; echo ready; exec sleep 5'], { stdin: 'pipe', stdout: 'pipe' });
    yield* c.stdout!.readLine();
    let err: NodeJS.ErrnoException | undefined;
    for (let i = 0; i < 50 && err === undefined; i++) {
      c.stdin!.write(Buffer.alloc(65536));
      try { yield* c.stdin!.drain(); } catch (e) { err = e as NodeJS.ErrnoException; }
      yield* sleep(1);
    }
    assert.equal(err?.code, 'EPIPE');
    c.kill();
    yield* c.wait();
    // communicate() with input for a child that exited is not an error
    const d = yield* createSubprocessExec('true', [], { stdin: 'pipe', stdout: 'pipe' });
    yield* d.wait();
    const [out] = yield* d.communicate('ignored');
    assert.equal(out!.length, 0);
  });
});
