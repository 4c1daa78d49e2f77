/**
 * race: the first awaitable to settle (with a value or an error) wins; the
 * others are cancelled and their cleanup awaited before race returns, so
 * nothing it started outlives it. Halting the racing task cancels them all
 * and waits likewise. A loser that fails (other than by cancellation) has
 * its error reported to the loop's exception handler if race created it.
 */
import { Future, ensureFuture, getRunningLoop, rehalt, type Awaitable, type Coro } from '../kernel/index.js';
import { cancelAndWait } from './gather.js';

/**
 * Run the awaitables concurrently; return (or throw) the outcome of the
 * first to settle, after cancelling the rest and awaiting their cleanup.
 * @example
 * function* ask(server: string, ms: number): Coro<string> { yield* sleep(ms); return `${server} says hi`; }
 * // ask the backup too if the primary has not answered within 50 ms; the loser is cancelled
 * const reply = yield* race([ask('primary', 80), function* () { yield* sleep(50); return yield* ask('backup', 10); }()]);
 */
export function* race<T>(aws: Iterable<Awaitable<T>>): Coro<T> {
  const fs: Future<T>[] = [];
  const created = new Set<Future<T>>();
  for (const a of aws) {
    const f = ensureFuture(a);
    if (f !== a) created.add(f);
    fs.push(f);
  }
  if (fs.length === 0) throw new TypeError('race() needs at least one awaitable');
  let winner: Future<T> | null = fs.find((f) => f.done()) ?? null;
  if (winner === null) {
    const w = new Future<void>({ description: 'race' });
    const onDone = (f: Future<T>): void => {
      if (winner !== null) return;
      winner = f;
      w.setResult();
    };
    for (const f of fs) f.addDoneCallback(onDone);
    let ok = false;
    try {
      yield* w;
      ok = true;
    } finally {
      for (const f of fs) f.removeDoneCallback(onDone);
      if (!ok && (yield* cancelAndWait(fs, 'race: awaitables finishing their cleanup')) !== false) yield* rehalt();
    }
  }
  const won: Future<T> = winner!;
  const losers = fs.filter((f) => f !== won);
  if ((yield* cancelAndWait(losers, 'race: losers finishing their cleanup')) === undefined) yield* rehalt();   // halted meanwhile
  for (const f of losers) {
    if (!created.has(f) || f.cancelled()) continue;
    const exception = f.exception();
    if (exception !== undefined) getRunningLoop().callExceptionHandler({ message: 'race(): a losing awaitable failed', exception, future: f });
  }
  return won.result();
}
