import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  createSubprocessExec, createSubprocessShell, createTask, defer, getRunningLoop, moveOnAfter, type Process, type ProcessOptions, sleep, STDOUT,
  StreamReader, StreamWriter, type SubprocessTransport, timeout, type Coro,
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

void test('ownership: the owner task cancelled -> its finally runs first, then the child gets SIGTERM and is reaped', T, async () => {
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
  assert.deepEqual(r, ['finally, child running: true', 'exit -15', 'ESRCH']);
});

void test('ownership: the owner task failed -> the child is ended (SIGTERM); its finally may end the child its own way first', T, async () => {
  const r = await runRecording(function* () {
    let failed: Process | undefined, gentle: Process | undefined;
    const t1 = createTask((function* () {
      failed = yield* createSubprocessExec('sleep', ['10']);
      throw new Error('owner failed');
    })());
    const t2 = createTask((function* () {
      const g = gentle = yield* createSubprocessExec('sleep', ['10']);
      try { yield* sleep(10_000); } finally { g.sendSignal('SIGINT'); yield* g.wait(); }
    })());
    while (gentle === undefined) yield* sleep(5);
    t2.cancel();
    try { yield* t1; } catch { /* owner failed */ }
    return [yield* failed!.wait(), yield* gentle.wait()];
  });
  assert.deepEqual(r, [-15, -2]);
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

// ---- ownership by scopes: SIGTERM, grace, SIGKILL, reaped; checked in the process table ----------------------

/** The process ids whose parent is this process, and those of them that are zombies, from /proc. */
function ourChildren(): { pids: number[]; zombies: number[] } {
  const pids: number[] = [], zombies: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }   // gone meanwhile
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // after "pid (comm) ": state ppid ...
    if (Number(fields[1]) !== process.pid) continue;
    pids.push(Number(name));
    if (fields[0] === 'Z') zombies.push(Number(name));
  }
  return { pids, zombies };
}

/** A node child that ignores SIGTERM and says 'ready' once its handler is installed. */
function* stubborn(opts: ProcessOptions = {}): Coro<Process> {
  const p = yield* createSubprocessExec(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'], { stdout: 'pipe', ...opts });
  assert.equal(text(yield* p.stdout!.readLine()), 'ready\n');
  return p;
}

void test('a timeout halts the scope that started a child: SIGTERM, and the TimeoutError comes only after it was reaped (no zombie, no orphan)', T, async () => {
  const r = await runRecording(function* () {
    let proc: Process | undefined;
    let seen = '';
    try {
      yield* timeout(60_000, function* (d) {
        proc = yield* createSubprocessExec('sleep', ['30']);
        assert.ok(ourChildren().pids.includes(proc.pid));
        d.reschedule(getRunningLoop().time());   // the deadline passes now (a fixed one could pass during the spawn)
        yield* proc.wait();
      });
    } catch (e) {
      const table = ourChildren();
      seen = `${(e as Error).name}; returncode ${proc!.returncode}; in the table: ${table.pids.includes(proc!.pid)}; zombies: ${table.zombies.length}`;
    }
    return seen;
  });
  assert.equal(r, 'TimeoutError; returncode -15; in the table: false; zombies: 0');
});

void test('killGrace: a child that ignores SIGTERM gets SIGKILL when the grace period is over; several share one grace period', T, async () => {
  const r = await runRecording(function* () {
    const loop = getRunningLoop();
    const procs: Process[] = [];
    let t0 = 0;
    const v = yield* moveOnAfter(60_000, function* (d) {
      for (let i = 0; i < 3; i++) procs.push(yield* stubborn({ killGrace: 1_000 }));
      t0 = loop.time();
      d.reschedule(t0);   // halt now
      yield* sleep(60_000);
    });
    const took = loop.time() - t0;
    return { v, codes: procs.map((p) => p.returncode), took, table: ourChildren() };
  });
  assert.equal(r.v, undefined);
  assert.deepEqual(r.codes, [-9, -9, -9]);
  assert.ok(r.took >= 990 && r.took < 3_000, `took ${r.took} ms: one grace period of 1 s, not three`);
  assert.deepEqual(r.table.zombies, []);
});

void test('a second cancel during the grace period kills the child at once', T, async () => {
  const r = await runRecording(function* () {
    let proc: Process | undefined;
    const t = createTask((function* () { proc = yield* stubborn({ killGrace: 60_000 }); yield* sleep(60_000); })());
    while (proc === undefined) yield* sleep(5);
    t.cancel();
    yield* sleep(50);
    const during = proc.returncode;
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    return { during, after: proc.returncode };
  });
  assert.deepEqual(r, { during: null, after: -9 });
});

void test('a scope that ends normally leaves its child running and hands it to the scope around it', T, async () => {
  const r = await runRecording(function* () {
    const trace: string[] = [];
    let proc: Process | undefined;
    const t = createTask((function* () {
      const p = proc = (yield* timeout(30_000, () => createSubprocessExec('sleep', ['30'])));
      yield* sleep(20);
      trace.push(`after the scope it runs: ${p.returncode === null}`);
      yield* sleep(60_000);
    })());
    while (proc === undefined || trace.length === 0) yield* sleep(5);
    t.cancel();   // the task now owns it: halting the task ends it
    try { yield* t; } catch { /* cancelled */ }
    trace.push(`after the task's halt: ${proc.returncode}`);
    return trace;
  });
  assert.deepEqual(r, ['after the scope it runs: true', 'after the task\'s halt: -15']);
});

void test('a task with no active scope owns its child: halted, the task finishes only after the child is reaped', T, async () => {
  const r = await runRecording(function* () {
    let proc: Process | undefined;
    const t = createTask((function* () { proc = yield* createSubprocessExec('sleep', ['30']); yield* sleep(60_000); })());
    while (proc === undefined) yield* sleep(5);
    t.cancel();
    let code: number | null = null;
    try { yield* t; } catch { code = proc.returncode; }
    return { code, inTable: ourChildren().pids.includes(proc.pid) };
  });
  assert.deepEqual(r, { code: -15, inTable: false });
});

void test('detached: true opts out: a halt leaves the child running, and so does run()', T, async () => {
  let pid = 0;
  try {
    const code = await runRecording(function* () {
      yield* moveOnAfter(60_000, function* (d) {
        const p = yield* createSubprocessExec('sleep', ['30'], { detached: true });
        pid = p.pid;
        d.reschedule(getRunningLoop().time());
        yield* sleep(60_000);
      });
      return null;
    });
    assert.equal(code, null);
    assert.ok(pid > 0);
    process.kill(pid, 0);   // still alive (throws ESRCH otherwise)
  } finally {
    if (pid > 0) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }   // its own process group
  }
});

void test('run() ends every child still running at its end (SIGTERM), and resolves only after each was reaped', T, async () => {
  const procs: Process[] = [];
  await runRecording(function* () {
    procs.push(yield* createSubprocessExec('sleep', ['30']));
    const owner = createTask(createSubprocessExec('sleep', ['30']));   // its owner task returns normally
    procs.push(yield* owner);
    procs.push(yield* stubborn({ killGrace: 100 }));
  });
  assert.deepEqual(procs.map((p) => p.returncode), [-15, -15, -9]);
  const table = ourChildren();
  for (const p of procs) assert.equal(table.pids.includes(p.pid), false);
  assert.deepEqual(table.zombies, []);
});

void test('a subprocess transport (loop.subprocessExec) belongs to its scope as a Process does', T, async () => {
  const r = await runRecording(function* () {
    let t: SubprocessTransport | undefined;
    yield* moveOnAfter(60_000, function* (d) {
      [t] = yield* getRunningLoop().subprocessExec(() => ({}), 'sleep', ['30']);
      d.reschedule(getRunningLoop().time());
      yield* sleep(60_000);
    });
    return t!.getReturncode();
  });
  assert.equal(r, -15);
});

void test('killGrace must be a number of ms >= 0', T, async () => {
  await runRecording(function* () {
    let err: unknown;
    try { yield* createSubprocessExec('true', [], { killGrace: -1 }); } catch (e) { err = e; }
    assert.match(String(err), /killGrace must be a number/);
  });
});

void test('the scope\'s own cleanups may end its child gently first: a deferred close of stdin lets cat exit 0, no signal needed', T, async () => {
  const r = await runRecording(function* () {
    let proc: Process | undefined;
    yield* moveOnAfter(60_000, function* (d) {
      const p = proc = yield* createSubprocessExec('cat', [], { stdin: 'pipe', stdout: 'ignore' });
      yield* defer(function* () { p.stdin!.close(); yield* p.wait(); });
      d.reschedule(getRunningLoop().time());
      yield* sleep(60_000);
    });
    return proc!.returncode;
  });
  assert.equal(r, 0);
});

void test('a scope that fails (its body throws) ends its child too, before the error leaves the scope', T, async () => {
  const r = await runRecording(function* () {
    let proc: Process | undefined;
    let seen = '';
    try {
      yield* timeout(60_000, function* () {
        proc = yield* createSubprocessExec('sleep', ['30']);
        throw new Error('body failed');
      });
    } catch (e) { seen = `${(e as Error).message}, child ${proc!.returncode}`; }
    return seen;
  });
  assert.equal(r, 'body failed, child -15');
});
