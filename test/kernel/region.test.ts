import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cede, CancelScope, createTask, currentSignal, currentTask, defer, Future, getRunningLoop, moveOnAfter, rehalt, sleep, taskGroup, timeout, type Coro,
  type ExceptionContext,
} from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { runRecording } from '../helpers.js';

const reasonName = (s: AbortSignal): string => (s.aborted ? (s.reason as Error).name : 'not aborted');

// ---- currentSignal() ---------------------------------------------------------------

void test('currentSignal() in a timeout body is the scope\'s signal: aborted with TimeoutError at the deadline', async () => {
  const r = await runRecording(function* () {
    let inBody: AbortSignal | undefined;
    const seen: string[] = [];
    try {
      yield* timeout(5, function* () {
        inBody = currentSignal();
        inBody.addEventListener('abort', () => seen.push(`abort event: ${reasonName(inBody!)}`));
        yield* sleep(1000);
      });
    } catch (e) { seen.push(`caller: ${(e as Error).name}`); }
    return { seen, reason: reasonName(inBody!), top: currentSignal() === currentTask()!.signal };
  });
  assert.deepEqual(r, { seen: ['abort event: TimeoutError', 'caller: TimeoutError'], reason: 'TimeoutError', top: true });
});

void test('a scope that ends normally never aborts its signal, even when the task is cancelled later', async () => {
  await runRecording(function* () {
    let kept: AbortSignal | undefined;
    const scopeEnded = new Future<void>();
    const t = createTask((function* () {
      yield* timeout(1000, function* () { kept = currentSignal(); yield* sleep(1); });
      scopeEnded.setResult();
      yield* sleep(1000);
    })());
    yield* scopeEnded;
    assert.equal(kept!.aborted, false);
    t.cancel();
    yield* sleep(1);
    assert.equal(t.cancelled(), true);
    assert.equal(kept!.aborted, false);
    assert.equal(t.signal.aborted, true);
  });
});

void test('an enclosing deadline aborts the inner scopes\' signals with a TimeoutError; cancel() gives a CancelledError', async () => {
  const r = await runRecording(function* () {
    const signals: AbortSignal[] = [];
    yield* moveOnAfter(5, function* () {
      signals.push(currentSignal());
      yield* moveOnAfter(1000, function* () {
        signals.push(currentSignal());
        yield* moveOnAfter(null, function* () { signals.push(currentSignal()); yield* sleep(1000); });
      });
    });
    const scope = new CancelScope();
    const t = createTask((function* () { return yield* scope.run((function* () { signals.push(currentSignal()); yield* sleep(1000); })()); })());
    yield* sleep(1);
    scope.cancel();
    yield* t;
    return { reasons: signals.map(reasonName), distinct: new Set(signals).size, same: signals[3] === scope.signal };
  });
  assert.deepEqual(r, { reasons: ['TimeoutError', 'TimeoutError', 'TimeoutError', 'CancelledError'], distinct: 4, same: true });
});

void test('a task\'s cancel aborts every active scope\'s signal and the task\'s, with a CancelledError', async () => {
  const r = await runRecording(function* () {
    const signals: AbortSignal[] = [];
    const t = createTask((function* () {
      signals.push(currentSignal());
      yield* timeout(1000, function* () { signals.push(currentSignal()); yield* taskGroup(function* () { signals.push(currentSignal()); yield* sleep(1000); }); });
    })());
    yield* sleep(1);
    t.cancel('stop');
    yield* sleep(1);
    return { reasons: signals.map(reasonName), first: signals[0] === t.signal, msg: (signals[1]!.reason as Error).message };
  });
  assert.deepEqual(r, { reasons: ['CancelledError', 'CancelledError', 'CancelledError'], first: true, msg: 'stop' });
});

void test('in a cleanup that runs because of a task\'s cancel, currentSignal() is fresh; a second cancel aborts it', async () => {
  const r = await runRecording(function* () {
    const seen: string[] = [];
    let cleanupSignal: AbortSignal | undefined;
    const t = createTask((function* () {
      try { yield* sleep(1000); } finally {
        cleanupSignal = currentSignal();
        seen.push(`in finally: ${reasonName(cleanupSignal)}, task signal ${reasonName(currentTask()!.signal)}`);
        try { yield* sleep(1000); } finally { seen.push(`second level: ${reasonName(currentSignal())}`); }
      }
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    seen.push(`before 2nd cancel: ${reasonName(cleanupSignal!)}`);
    t.cancel();
    yield* sleep(1);
    seen.push(`after: ${reasonName(cleanupSignal!)}`);
    return seen;
  });
  assert.deepEqual(r, [
    'in finally: not aborted, task signal CancelledError',
    'before 2nd cancel: not aborted',
    'second level: not aborted',
    'after: CancelledError',
  ]);
});

void test('in the cleanup of a halted scope, currentSignal() is the signal around it: aborted by a cancel that interrupts the cleanup', async () => {
  const r = await runRecording(function* () {
    const seen: string[] = [];
    let inCleanup: AbortSignal | undefined;
    const cleaning = new Future<void>();
    const t = createTask((function* () {
      yield* moveOnAfter(2, function* () {
        try { yield* sleep(1000); } finally {
          inCleanup = currentSignal();
          seen.push(`cleanup: ${reasonName(inCleanup)}, is the task's: ${inCleanup === currentTask()!.signal}`);
          cleaning.setResult();
          yield* sleep(1000);
          seen.push('never');
        }
      });
    })());
    yield* cleaning;   // the scope's deadline halted the body, whose cleanup runs now
    t.cancel();
    yield* sleep(1);
    seen.push(`after cancel: ${reasonName(inCleanup!)}`);
    return seen;
  });
  assert.deepEqual(r, ['cleanup: not aborted, is the task\'s: true', 'after cancel: CancelledError']);
});

void test('currentSignal() and defer() outside a task throw a clear error', () => {
  assert.throws(() => currentSignal(), /currentSignal\(\) must be called inside a task/);
  assert.throws(() => defer(() => {}).next(), /defer\(\) must be called inside a task/);
});

// ---- defer() -------------------------------------------------------------------------

void test('defer: cleanups run last first, after the body\'s finally, when the scope ends normally', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const v = yield* timeout(1000, function* () {
      yield* defer(() => { trace.push('first deferred'); });
      yield* defer(function* () { yield* sleep(1); trace.push('second deferred (waited)'); });
      try { yield* sleep(1); return 'value'; } finally { trace.push('body finally'); }
    });
    trace.push(`scope returned ${v}`);
  });
  assert.deepEqual(trace, ['body finally', 'second deferred (waited)', 'first deferred', 'scope returned value']);
});

void test('defer: a waiting cleanup of a halted scope needs no rehalt(); the halt goes on to the frames above', async () => {
  const trace: string[] = [];
  function* worker(): Coro<void> {
    yield* timeout(1000, function* () {
      yield* defer(function* () { trace.push('cleanup starts'); yield* sleep(5); trace.push('cleanup done'); });
      yield* sleep(1000);
    });
    trace.push('never: the frame above the scope resumed as if nothing happened');
  }
  await runRecording(function* () {
    const t = createTask((function* () {
      try { yield* worker(); trace.push('never either'); } finally { trace.push('task finally'); }
    })());
    yield* sleep(2);
    t.cancel();
    try { yield* t; } catch (e) { trace.push((e as Error).name); }
    // the same through an enclosing deadline
    try { yield* timeout(3, worker); } catch (e) { trace.push(`caller: ${(e as Error).name}`); }
  });
  assert.deepEqual(trace, [
    'cleanup starts', 'cleanup done', 'task finally', 'CancelledError',
    'cleanup starts', 'cleanup done', 'caller: TimeoutError',
  ]);
});

void test('defer outside any scope: the task runs the cleanups when its coroutine ends, and ends as the coroutine did', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const ok = createTask((function* () {
      yield* defer(function* () { yield* sleep(1); trace.push('ok cleaned'); });
      return 7;
    })());
    const halted = createTask((function* () {
      yield* defer(function* () { yield* sleep(1); trace.push('halted cleaned'); });
      yield* sleep(1000);
    })());
    const failed = createTask((function* () {
      yield* defer(() => { trace.push('failed cleaned'); });
      yield* sleep(1);
      throw new Error('boom');
    })());
    assert.equal(yield* ok, 7);
    halted.cancel();
    try { yield* halted; } catch (e) { trace.push(`halted: ${(e as Error).name}`); }
    try { yield* failed; } catch (e) { trace.push(`failed: ${(e as Error).message}`); }
    assert.equal(halted.cancelled(), true);
  });
  assert.deepEqual(trace, ['ok cleaned', 'failed cleaned', 'halted cleaned', 'halted: CancelledError', 'failed: boom']);
});

void test('defer: a second cancel interrupts the cleanup that runs; the other cleanups still run', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const t = createTask((function* () {
      yield* timeout(1000, function* () {
        yield* defer(() => { trace.push('outer cleanup runs'); });
        yield* defer(function* () {
          try { trace.push('slow cleanup starts'); yield* sleep(1000); trace.push('never'); } finally { trace.push('slow cleanup interrupted'); }
        });
        yield* sleep(1000);
      });
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { trace.push((e as Error).name); }
  });
  assert.deepEqual(trace, ['slow cleanup starts', 'slow cleanup interrupted', 'outer cleanup runs', 'CancelledError']);
});

void test('defer: an error of a cleanup is raised after the others ran; several make an AggregateError after the body\'s', async () => {
  const trace: string[] = [];
  const errors: ExceptionContext[] = [];
  await runRecording(function* () {
    let caught: unknown;
    try {
      yield* timeout(1000, function* () {
        yield* defer(() => { trace.push('first still runs'); });
        yield* defer(() => { throw new Error('cleanup failed'); });
        yield* sleep(1);
      });
    } catch (e) { caught = e; }
    assert.equal((caught as Error).message, 'cleanup failed');
    try {
      yield* moveOnAfter(1000, function* () {
        yield* defer(function* () { yield* sleep(1); throw new Error('second'); });
        yield* defer(() => { throw new Error('first'); });
        throw new Error('body');
      });
    } catch (e) { caught = e; }
    assert.ok(caught instanceof AggregateError);
    assert.deepEqual(caught.errors.map((e) => (e as Error).message), ['body', 'first', 'second']);
    // On a halt, a cleanup's error replaces the cancellation (as an error in a finally does).
    const t = createTask((function* () {
      yield* timeout(1000, function* () { yield* defer(() => { throw new Error('while halting'); }); yield* sleep(1000); });
    })());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { caught = e; }
    assert.equal((caught as Error).message, 'while halting');
  }, errors);
  assert.deepEqual(trace, ['first still runs']);
  assert.deepEqual(errors, []);
});

void test('defer in a taskGroup body runs after every child has finished', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    yield* taskGroup(function* (tg) {
      yield* defer(() => { trace.push('group cleanup'); });
      tg.createTask((function* () { yield* sleep(5); trace.push('child done'); })());
      trace.push('body done');
    });
    trace.push('after group');
  });
  assert.deepEqual(trace, ['body done', 'child done', 'group cleanup', 'after group']);
});

void test('defer: a cleanup may itself defer and wait under a timeout; a cleanup\'s own finally+rehalt does not end the task\'s cleanup early', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const t = createTask((function* () {
      yield* defer(function* () {
        // a frame that finishes normally and ends its finally with rehalt(), as the README recommends
        function* tidy(): Coro<void> { try { yield* sleep(1); } finally { yield* sleep(1); yield* rehalt(); } }
        yield* tidy();
        trace.push('after tidy');
        yield* defer(() => { trace.push('deferred from a cleanup'); });
        yield* moveOnAfter(5, function* () { yield* sleep(1000); });
        trace.push('timeout in cleanup fired');
      });
      yield* sleep(1000);
    })());
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch { /* cancelled */ }
    assert.equal(t.cancelled(), true);
  });
  assert.deepEqual(trace, ['after tidy', 'timeout in cleanup fired', 'deferred from a cleanup']);
});

void test('defer: a plain function registered on the task; a non-function is refused', async () => {
  await runRecording(function* () {
    let ran = false;
    const t = createTask((function* () { yield* defer(() => { ran = true; }); })());
    yield* t;
    assert.equal(ran, true);
    let err: unknown;
    try { yield* defer(42 as unknown as () => void); } catch (e) { err = e; }
    assert.match(String(err), /must be a function/);
  });
});

void test('defer: an enclosing halt during a scope\'s deferred cleanup (after a normal end) interrupts it; the rest run; the halt goes on', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    try {
      yield* timeout(10, function* () {
        yield* moveOnAfter(60_000, function* () {
          yield* defer(() => { trace.push(`last cleanup, signal: ${reasonName(currentSignal())}`); });
          yield* defer(function* () { try { yield* sleep(60_000); } finally { trace.push('slow cleanup interrupted'); } });
        });
        trace.push('never: the outer halt was lost');
      });
    } catch (e) { trace.push(`outer: ${(e as Error).name}`); }
  });
  // The last cleanup runs because of the outer halt: its currentSignal() is the one around it, not aborted.
  assert.deepEqual(trace, ['slow cleanup interrupted', 'last cleanup, signal: not aborted', 'outer: TimeoutError']);
});

void test('defer on the task: a second cancel interrupts its running cleanup; a cancel during the cleanups of a task that returned ends it cancelled', async () => {
  const trace: string[] = [];
  await runRecording(function* () {
    const t = createTask((function* () {
      yield* defer(() => { trace.push('t: other cleanup runs'); });
      yield* defer(function* () { try { yield* sleep(60_000); } finally { trace.push('t: slow cleanup interrupted'); } });
      yield* sleep(60_000);
    })());
    yield* sleep(1);
    t.cancel();
    yield* sleep(1);
    t.cancel();
    try { yield* t; } catch (e) { trace.push(`t: ${(e as Error).name}`); }
    const u = createTask((function* () {
      yield* defer(function* () { try { yield* sleep(60_000); } finally { trace.push('u: cleanup interrupted'); } });
      return 'value';
    })());
    yield* sleep(1);
    u.cancel();
    try { yield* u; } catch (e) { trace.push(`u: ${(e as Error).name}`); }
  });
  assert.deepEqual(trace, ['t: slow cleanup interrupted', 't: other cleanup runs', 't: CancelledError', 'u: cleanup interrupted', 'u: CancelledError']);
});

// ---- property: whatever moment a halt lands on, every deferred cleanup runs once, in order ----------------

interface Level { deadline: number | null; defers: number[] }

/** A frame that ends normally with a finally that waits and ends with rehalt(), as the README recommends. */
function* tidy(): Coro<void> { try { yield* cede(); } finally { yield* cede(); yield* rehalt(); } }

void test('property: nested scopes with deferred cleanups, halted by deadlines and one or two cancels at random moments: each cleanup starts exactly once, last registered first, inner scopes before outer ones; the task ends cancelled if cancelled', async () => {
  const level: fc.Arbitrary<Level> = fc.record({
    deadline: fc.option(fc.nat(6), { nil: null }),
    defers: fc.array(fc.nat(5), { maxLength: 3 }),   // 0: a function; 1-3: waits that many batches; 4: a timeout inside; 5: finally + rehalt()
  });
  await fc.assert(fc.asyncProperty(
    fc.array(level, { minLength: 1, maxLength: 4 }),
    fc.array(fc.oneof(fc.constant('step' as const), fc.constant('cancel' as const), fc.constant('sleep' as const)), { maxLength: 12 }),
    async (levels, actions) => {
      const errors: ExceptionContext[] = [];
      await runVirtual(function* () {
        const registered: string[] = [];
        const started: string[] = [];
        function* nest(d: number): Coro<void> {
          if (d === levels.length) { for (;;) { yield* sleep(1); yield* cede(); } }
          const lv = levels[d]!;
          yield* moveOnAfter(lv.deadline, function* () {
            for (const [k, waits] of lv.defers.entries()) {
              const name = `${d}.${k}`;
              registered.push(name);
              if (waits === 0) yield* defer(() => { started.push(name); });
              else if (waits === 4) yield* defer(function* () { started.push(name); yield* moveOnAfter(1, () => sleep(5)); yield* cede(); });
              else if (waits === 5) yield* defer(function* () { started.push(name); yield* tidy(); });
              else yield* defer(function* () { started.push(name); for (let i = 0; i < waits; i++) yield* cede(); });
              yield* cede();
            }
            yield* nest(d + 1);
          });
        }
        const t = createTask(nest(0));
        let cancels = 0;
        for (const a of actions) {
          if (a === 'step') yield* cede();
          else if (a === 'sleep') yield* sleep(1);
          else if (cancels < 2 && t.cancel()) cancels++;
        }
        if (t.cancel()) cancels++;   // a task still running is cancelled at the end
        yield* moveOnAfter(10_000, function* () { try { yield* t; } catch { /* cancelled */ } });
        assert.equal(t.done(), true, 'the task ended');
        assert.equal(t.cancelled(), cancels > 0);
        // each registered cleanup started exactly once, in the reverse of registration (inner scopes register later)
        assert.deepEqual(started, [...registered].reverse());
      }, { seed: 1 }).catch((e: unknown) => { throw e; });
      assert.deepEqual(errors, []);
    },
  ), { numRuns: 150 });
});

void test('defer: a second cancel that passes straight through an inner scope\'s cleanups still leaves the outer scope\'s cleanups to run', async () => {
  // The case the property above found: the inner scope halted itself, its cleanup is interrupted by the first
  // cancel, the next one by the second cancel, which then has nothing to wait for on its way out.
  const trace: string[] = [];
  await runRecording(function* () {
    const started = [new Future<void>(), new Future<void>()];
    const t = createTask(moveOnAfter(null, function* () {
      yield* defer(() => { trace.push('outer cleanup'); });
      yield* moveOnAfter(60_000, function* (d) {
        for (const i of [0, 1]) {
          yield* defer(function* () {
            trace.push(`inner ${i} starts`);
            started[i]!.setResult();
            try { yield* new Future<void>(); } finally { trace.push(`inner ${i} interrupted`); }
          });
        }
        d.reschedule(getRunningLoop().time());   // the inner scope halts itself at the next suspension
        yield* sleep(60_000);
      });
      trace.push('never: the outer body goes on');
    }));
    yield* started[1]!;
    t.cancel();
    yield* started[0]!;
    t.cancel();
    try { yield* t; } catch (e) { trace.push((e as Error).name); }
  });
  assert.deepEqual(trace, ['inner 1 starts', 'inner 1 interrupted', 'inner 0 starts', 'inner 0 interrupted', 'outer cleanup', 'CancelledError']);
});
