import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSubprocessExec, createSubprocessShell, createTask, type Process, sleep, STDOUT, StreamReader, StreamWriter,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 15_000 };
const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString());

void test('communicate: input through cat comes back on stdout; stderr not piped is null', T, async () => {
  const r = await runRecording(function* () {
    const p = yield* createSubprocessExec('cat', [], { stdin: 'pipe', stdout: 'pipe' });
    assert.ok(p.stdin instanceof StreamWriter);
    assert.ok(p.stdout instanceof StreamReader);
    assert.equal(p.stderr, null);
    assert.ok(p.pid > 0);
    const [out, err] = yield* p.communicate('hello');
    return { out: text(out), err, code: p.returncode };
  });
  assert.deepEqual(r, { out: 'hello', err: null, code: 0 });
});

void test('stdout as a StreamReader: readLine, then wait() gives the exit code', T, async () => {
  const r = await runRecording(function* () {
    const p = yield* createSubprocessShell('printf "one\\ntwo\\n"; exit 7', { stdout: 'pipe' });
    const lines: string[] = [];
    for (;;) {
      const l = yield* p.stdout!.readLine();
      if (l.length === 0) break;
      lines.push(Buffer.from(l).toString());
    }
    return { lines, code: yield* p.wait(), again: yield* p.wait() };
  });
  assert.deepEqual(r, { lines: ['one\n', 'two\n'], code: 7, again: 7 });
});

void test('stderr: STDOUT merges the two; stderr alone is its own reader', T, async () => {
  const r = await runRecording(function* () {
    const a = yield* createSubprocessShell('echo a; echo b >&2', { stdout: 'pipe', stderr: STDOUT });
    const [out, err] = yield* a.communicate();
    const b = yield* createSubprocessShell('echo c >&2', { stdout: 'pipe', stderr: 'pipe' });
    const [out2, err2] = yield* b.communicate();
    return [text(out), err, text(out2), text(err2)];
  });
  assert.deepEqual(r, ['a\nb\n', null, '', 'c\n']);
});

void test('a megabyte each way through cat: drain and the reader limit pause and resume both sides', T, async () => {
  const size = 1024 * 1024;
  const n = await runRecording(function* () {
    const p = yield* createSubprocessExec('cat', [], { stdin: 'pipe', stdout: 'pipe', limit: 16 * 1024 });
    const input = Buffer.alloc(size, 120);
    const [out] = yield* p.communicate(input);
    return out!.length;
  });
  assert.equal(n, size);
});

void test('stdio defaults to inherit: no pipes; a missing program is ENOENT', T, async () => {
  await runRecording(function* () {
    const p = yield* createSubprocessExec('true');
    assert.deepEqual([p.stdin, p.stdout, p.stderr], [null, null, null]);
    assert.equal(yield* p.wait(), 0);
    let code: string | undefined;
    try { yield* createSubprocessExec('no-such-program-tulip'); } catch (e) { code = (e as NodeJS.ErrnoException).code; }
    assert.equal(code, 'ENOENT');
  });
});

void test('communicate: a child that closes stdin early is not an error', T, async () => {
  const r = await runRecording(function* () {
    const p = yield* createSubprocessShell('exec 0<&-; echo done', { stdin: 'pipe', stdout: 'pipe' });
    const [out] = yield* p.communicate(Buffer.alloc(1024 * 1024));
    return text(out);
  });
  assert.equal(r, 'done\n');
});

void test('cancelling one wait() does not disturb another', T, async () => {
  const codes = await runRecording(function* () {
    const p = yield* createSubprocessExec('sleep', ['0.1']);
    const a = createTask(p.wait());
    const b = createTask(p.wait());
    yield* sleep(10);
    a.cancel();
    return [a, yield* b] as const;
  });
  assert.equal(codes[0].cancelled(), true);
  assert.equal(codes[1], 0);
});

void test('ownership: the owner task cancelled -> its finally runs first, then the child is killed', T, async () => {
  const r = await runRecording(function* () {
    const trace: string[] = [];
    let proc: Process | undefined;
    const owner = createTask((function* () {
      const p = proc = yield* createSubprocessExec('sleep', ['10']);
      try { yield* sleep(10_000); } finally { trace.push(`finally, child running: ${p.returncode === null}`); }
    })());
    while (proc === undefined) yield* sleep(5);
    owner.cancel();
    const code = yield* proc.wait();
    trace.push(`exit ${code}`);
    // Reaped, not a zombie: a zombie still answers kill(pid, 0).
    let probe = 'alive';
    try { process.kill(proc.pid, 0); } catch (e) { probe = (e as NodeJS.ErrnoException).code!; }
    trace.push(probe);
    return trace;
  });
  assert.deepEqual(r, ['finally, child running: true', 'exit -9', 'ESRCH']);
});

void test('ownership: the owner task failed -> the child is killed; its finally may end the child gently first', T, async () => {
  const r = await runRecording(function* () {
    let failed: Process | undefined, gentle: Process | undefined;
    const t1 = createTask((function* () {
      failed = yield* createSubprocessExec('sleep', ['10']);
      throw new Error('owner failed');
    })());
    const t2 = createTask((function* () {
      const g = gentle = yield* createSubprocessExec('sleep', ['10']);
      try { yield* sleep(10_000); } finally { g.terminate(); yield* g.wait(); }
    })());
    while (gentle === undefined) yield* sleep(5);
    t2.cancel();
    try { yield* t1; } catch { /* owner failed */ }
    return [yield* failed!.wait(), yield* gentle.wait()];
  });
  assert.deepEqual(r, [-9, -15]);
});

void test('ownership: an owner that returns normally leaves the child running', T, async () => {
  const r = await runRecording(function* () {
    const owner = createTask(createSubprocessExec('sleep', ['10']));
    const p = yield* owner;
    yield* sleep(100);
    const running = p.returncode === null;
    p.kill();
    return { running, code: yield* p.wait() };
  });
  assert.deepEqual(r, { running: true, code: -9 });
});
