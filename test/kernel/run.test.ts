import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CancelledError, type Coro, ContextVar, createTask, fromPromise, DeadlockError, Future, getRunningLoop, NodeEventLoop, run, sleep, type ExceptionContext,
  coroutine,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

test('run() resolves with main\'s result and rejects with its error', async () => {
  assert.equal(await run(function* () { yield* sleep(1); return 'ok'; }, { handleSignals: false }), 'ok');
  await assert.rejects(run(function* () { yield* sleep(1); throw new Error('main failed'); }, { handleSignals: false }), /main failed/);
  await assert.rejects(run(function* () { yield* sleep(1); throw new Error('direct'); }()), /direct/);
});

test('run() cancels and awaits every task still pending when main returns', async () => {
  const trace: string[] = [];
  const loop = new NodeEventLoop();
  await run(function* () {
    createTask((function* () {
      try { yield* sleep(60_000); } finally { yield* sleep(2); trace.push('background cleaned up'); }
    })(), { name: 'background' });
    yield* sleep(1);
    return 'main done';
  }, { loop, handleSignals: false });
  assert.deepEqual(trace, ['background cleaned up']);
  assert.equal(loop.isClosed(), true);
});

test('a deadlocked main rejects with DeadlockError listing each pending task and what it waits on', async () => {
  const err = await run(function* () {
    const gate = new Future<void>({ description: 'Queue.get' });
    createTask((function* () { yield* new Future<void>({ description: 'Lock.acquire' }); })(), { name: 'worker-1' });
    const cleaned: string[] = [];
    createTask((function* () { try { yield* gate; } finally { cleaned.push('x'); } })(), { name: 'worker-2' });
    yield* gate;
  }, { handleSignals: false }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DeadlockError, String(err));
  assert.match(err.message, /task 'main' waiting on Queue\.get/);
  assert.match(err.message, /task 'worker-1' waiting on Lock\.acquire/);
  assert.match(err.message, /task 'worker-2' waiting on Queue\.get/);
  assert.deepEqual(err.tasks.map((t) => t.name).sort(), ['main', 'worker-1', 'worker-2']);
});

test('no deadlock is declared while something outside tulip can still wake main', async () => {
  const v = await run(function* () {
    const f = new Future<string>();
    const loop = getRunningLoop();
    setTimeout(() => loop.callSoon(() => f.setResult('woken by a Node timer')), 30);
    return yield* f;
  }, { handleSignals: false });
  assert.equal(v, 'woken by a Node timer');
  const w = await run(function* () {
    return yield* (new Promise<string>((r) => setTimeout(() => r('a Promise'), 20)) as unknown as Coro<string>);
  }, { handleSignals: false }).catch((e: Error) => e.message);
  assert.equal(typeof w, 'string');
});

test('a task that failed and was never awaited is reported when the loop closes', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    createTask((function* () { yield* sleep(1); throw new Error('lost?'); })(), { name: 'forgotten' });
    yield* sleep(10);
  }, errors);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /never retrieved: task 'forgotten'/);
  assert.equal((errors[0]!.exception as Error).message, 'lost?');
});

test('a failed task that someone awaited is not reported', async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    const t = createTask((function* () { yield* sleep(1); throw new Error('seen'); })());
    try { yield* t; } catch { /* handled */ }
  }, errors);
  assert.deepEqual(errors, []);
});

test('a failed task that is garbage-collected unretrieved is reported then', { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' }, async () => {
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    createTask((function* () { throw new Error('collected'); })());
    yield* sleep(5);
    globalThis.gc!();
    yield* fromTimeout(20);
    globalThis.gc!();
    yield* fromTimeout(20);
  }, errors);
  assert.ok(errors.some((e) => /never retrieved/.test(e.message)));
});

function* fromTimeout(ms: number): Coro<void> {
  yield* fromPromise(new Promise<void>((r) => setTimeout(r, ms)));
}

test('debug mode reports a coroutine that was created but never driven, with where it was created', async () => {
  const errors: ExceptionContext[] = [];
  const fetchUser = coroutine(function* fetchUser(id: number) { yield* sleep(1); return id; });
  const keep: unknown[] = [];   // kept alive, so they are reported when the loop closes (not whenever GC runs)
  await runRecording(function* () {
    keep.push(fetchUser(1));  // forgot yield*
    keep.push(sleep(5));      // forgot yield* again
    yield* fetchUser(2);      // driven: not reported
  }, errors, { debug: true });
  assert.equal(keep.length, 2);
  // Debug mode also reports slow steps, which a loaded machine can produce: count only the never-driven reports.
  const reports = errors.filter((e) => /never driven/.test(e.message));
  const msgs = reports.map((e) => e.message).sort();
  assert.equal(msgs.length, 2, errors.map((e) => e.message).join('\n'));
  assert.match(msgs[0]!, /coroutine fetchUser\(\) was never driven/);
  assert.match(msgs[1]!, /coroutine sleep\(\) was never driven/);
  assert.ok(reports.every((e) => String(e.sourceTraceback).includes('run.test.ts')));
});

test('tasks run in a copy of their creator\'s context; callbacks in the context they were scheduled in', async () => {
  const v = new ContextVar<string>('v', { default: 'root' });
  const trace: string[] = [];
  await run(function* () {
    v.set('main');
    const child = createTask((function* () {
      trace.push(`child sees ${v.get()}`);
      v.set('child');
      yield* sleep(1);
      trace.push(`child keeps ${v.get()}`);
    })());
    getRunningLoop().callSoon(() => trace.push(`callback sees ${v.get()}`));
    v.set('main-2');
    yield* child;
    trace.push(`main keeps ${v.get()}`);
    const tok = v.set('temp');
    v.reset(tok);
    trace.push(`after reset ${v.get()}`);
  }, { handleSignals: false });
  assert.deepEqual(trace, ['child sees main', 'callback sees main', 'child keeps child', 'main keeps main-2', 'after reset main-2']);
  assert.equal(v.get(), 'root');
  assert.throws(() => new ContextVar('nodefault').get(), /no value/);
});

const fixture = fileURLToPath(new URL('../fixtures/sigint_main.ts', import.meta.url));

function runChild(args: string[], signals: number): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child hung; output: ${out}`)); }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready') && signals > 0) { signals--; child.kill('SIGINT'); }
      if (out.includes('finally start') && signals > 0) { signals--; child.kill('SIGINT'); }
    });
    child.on('exit', (code, signal) => { clearTimeout(killer); resolve({ out, code, signal }); });
  });
}

test('SIGINT in a real process: the first cancels main so its finally runs', async () => {
  const r = await runChild([], 1);
  assert.match(r.out, /ready\nfinally start\nfinally done\nrejected CancelledError: interrupted by SIGINT/);
  assert.equal(r.code, 3);
});

test('SIGINT in a real process: a second one during cleanup ends the process at once', async () => {
  const r = await runChild(['slow'], 2);
  assert.match(r.out, /ready\nfinally start\n$/);
  assert.equal(r.signal, 'SIGINT');
});

test('run(main, { signal }): an abort cancels main (its cleanup runs); run() rejects with a CancelledError whose cause is the reason', async () => {
  const trace: string[] = [];
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('shutting down')), 20);
  const err = await run(function* () {
    try { yield* sleep(60_000); } finally { yield* sleep(1); trace.push('main cleaned up'); }
  }, { handleSignals: false, signal: ac.signal }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof CancelledError, String(err));
  assert.match(err.message, /signal/);
  assert.equal((err.cause as Error).message, 'shutting down');
  assert.deepEqual(trace, ['main cleaned up']);
});

test('run(main, { signal }) with a signal already aborted never starts main; AbortSignal.timeout() works too', async () => {
  let started = false;
  const err = await run(function* () { started = true; yield* sleep(1); }, { handleSignals: false, signal: AbortSignal.abort('no') })
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof CancelledError);
  assert.equal(err.cause, 'no');
  assert.equal(started, false);
  const late = await run(function* () { yield* sleep(60_000); }, { handleSignals: false, signal: AbortSignal.timeout(10) }).then(() => null, (e: unknown) => e);
  assert.equal((late as Error).name, 'CancelledError');
  assert.equal(((late as Error).cause as Error).name, 'TimeoutError');
  // a signal that does not abort changes nothing
  assert.equal(await run(function* () { yield* sleep(1); return 3; }, { handleSignals: false, signal: new AbortController().signal }), 3);
});
