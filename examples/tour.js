// `npm start`: a short tour of tulip's kernel. Runs against the built package (dist/).
import {
  run, sleep, createTask, CancelScope, getRunningLoop, Future, DeadlockError, TimeoutError,
} from '../dist/index.js';

const log = (s) => console.log(s);

function* worker(name, ms) {
  try {
    log(`  ${name}: working for ${ms} ms`);
    yield* sleep(ms);
    log(`  ${name}: done`);
    return name.length;
  } finally {
    log(`  ${name}: finally (cleanup runs even when cancelled)`);
  }
}

/** A timeout built from the kernel's CancelScope: halts the body, then throws at its own boundary. */
function* within(ms, body) {
  const scope = new CancelScope({ deadline: getRunningLoop().time() + ms });
  const value = yield* scope.run(body);
  if (scope.cancelledCaught) throw new TimeoutError(`gave up after ${ms} ms`);
  return value;
}

await run(function* tour() {
  log('1. tasks run concurrently; yield* a task to get its result');
  const a = createTask(worker('alpha', 20));
  const b = createTask(worker('beta', 10));
  log(`  results: ${yield* a}, ${yield* b}`);

  log('2. cancel() halts a task where it waits; its finally blocks run, and may wait themselves');
  const slow = createTask((function* () {
    try { yield* sleep(60_000); } finally { yield* sleep(5); log('  slow: flushed and closed in its finally'); }
  })());
  yield* sleep(5);
  slow.cancel();
  try { yield* slow; } catch (e) { log(`  awaiting it throws ${e.name}; slow.cancelled() = ${slow.cancelled()}`); }

  log('3. timeouts by cancellation: the body is halted, the caller sees an ordinary TimeoutError');
  try {
    yield* within(15, worker('gamma', 1_000));
  } catch (e) {
    log(`  caught ${e.name}: ${e.message} — and the caller carries on`);
  }
});

log('4. a deadlock is reported instead of Node exiting silently');
try {
  await run(function* stuck() {
    const never = new Future({ description: 'a reply nobody will send' });
    createTask((function* helper() { yield* new Future({ description: 'Lock.acquire' }); })(), { name: 'helper' });
    yield* never;
  });
} catch (e) {
  if (!(e instanceof DeadlockError)) throw e;
  log(e.message.split('\n').map((l) => `  ${l}`).join('\n'));
}
log('tour done');
