// `npm start`: a short tour of tulip's kernel. Runs against the built package (dist/).
import { setTimeout as delay } from 'node:timers/promises';
import {
  run, sleep, createTask, rehalt, Future, DeadlockError, TimeoutError, timeout, taskGroup, Queue, startServer, openConnection,
  defer, fromPromise,
} from '../dist/index.js';
import { runVirtual } from '../dist/testing/index.js';

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

await run(function* tour() {
  log('1. tasks run concurrently; yield* a task to get its result');
  const a = createTask(worker('alpha', 20));
  const b = createTask(worker('beta', 10));
  log(`  results: ${yield* a}, ${yield* b}`);

  log('2. cancel() halts a task where it waits; its finally blocks run, and may wait themselves');
  const slow = createTask((function* () {
    try { yield* sleep(60_000); } finally { yield* sleep(5); log('  slow: flushed and closed in its finally'); yield* rehalt(); }
  })());
  yield* sleep(5);
  slow.cancel();
  try { yield* slow; } catch (e) { log(`  awaiting it throws ${e.name}; slow.cancelled() = ${slow.cancelled()}`); }

  log('2b. or defer() the cleanup: the scope (here the task) drives it when it ends, no rehalt() needed');
  const deferring = createTask((function* () {
    yield* defer(function* () { yield* sleep(5); log('  deferring: flushed and closed by its deferred cleanup'); });
    yield* sleep(60_000);
  })());
  yield* sleep(5);
  deferring.cancel();
  try { yield* deferring; } catch (e) { log(`  awaiting it throws ${e.name} once the cleanup is done`); }

  log('3. timeouts by cancellation: the body is halted, the caller sees an ordinary TimeoutError');
  try {
    yield* timeout(15, () => worker('gamma', 1_000));
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    log(`  caught ${e.name} — and the caller carries on`);
  }

  log('3b. a Promise-based API under a timeout: fromPromise(fn) hands it the scope\'s AbortSignal');
  try {
    yield* timeout(15, () => fromPromise((signal) => delay(60_000, 'late', { signal })));
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    log(`  caught ${e.name}; the 60 s timer was aborted through its signal, not left running`);
  }

  log('4. structured lifetimes and back-pressure: a task group around a producer and a consumer on Queue(1)');
  const q = new Queue(1);
  yield* taskGroup(function* (tg) {
    tg.createTask((function* () { for (const x of ['a', 'b', 'c']) { yield* q.put(x); log(`  put ${x}`); } })());
    tg.createTask((function* () { for (let i = 0; i < 3; i++) log(`  got ${yield* q.get()}`); })());
  });

  log('5. streams over real TCP on 127.0.0.1: an echo server and a client');
  const server = yield* startServer(function* (reader, writer) {
    for (;;) {
      const line = yield* reader.readLine();
      if (line.length === 0) break;
      writer.write(line);
      yield* writer.drain();
    }
  }, '127.0.0.1', 0);
  const [host, port] = server.addresses()[0];
  const [reader, writer] = yield* openConnection(host, port);
  writer.write('hello, tulip\n');
  log(`  echoed: ${new TextDecoder().decode(yield* reader.readLine()).trim()}`);
  writer.close();
  server.close();
  yield* server.waitClosed();
});

log('6. a deadlock is reported instead of Node exiting silently');
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
log('7. virtual time: an hour of sleeping runs in milliseconds, deterministically');
const t0 = performance.now();
const slept = await runVirtual(function* () { yield* sleep(3_600_000); return 'one virtual hour'; }, { seed: 1 });
log(`  ${slept} in ${(performance.now() - t0).toFixed(0)} ms of real time`);
log('tour done');
