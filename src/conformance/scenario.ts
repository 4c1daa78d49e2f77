/**
 * What a conformance scenario is, and the few helpers scenarios share. A
 * scenario gets a fresh loop from the caller's factory and uses only the
 * public `EventLoop` interface and the kernel, so it runs on any loop.
 */
import { CancelScope } from '../kernel/scope.js';
import type { Coro, EventLoop } from '../kernel/events.js';
import { getRunningLoop } from '../kernel/events.js';
import { run } from '../kernel/run.js';

/**
 * One named check of a loop guarantee.
 * @example
 * const s: Scenario = { name: 'my check', async run(loop) { await loop.runUntilComplete(sleep(1)); } };
 */
export interface Scenario {
  /** The name `skip` refers to. */
  readonly name: string;
  /** Run the check on a fresh loop; reject to fail. */
  run(loop: EventLoop): Promise<void>;
}

/** Run `main` on `loop` as `run()` does, signals left alone. */
export function runOn<T>(loop: EventLoop, main: () => Coro<T>): Promise<T> {
  return run(main, { loop, handleSignals: false });
}

/** Drive `body`, failing the scenario if it takes longer than `ms` of loop time. */
export function* within<T>(ms: number, what: string, body: Iterable<unknown, T>): Coro<T> {
  const scope = new CancelScope({ deadline: getRunningLoop().time() + ms });
  const v = yield* scope.run(isCoro(body) ? body : wrap(body));
  if (scope.cancelledCaught) throw new Error(`${what}: did not happen within ${ms} ms`);
  return v as T;
}

function isCoro<T>(x: Iterable<unknown, T>): x is Coro<T> { return typeof (x as Partial<Coro<T>>).next === 'function'; }
function* wrap<T>(x: Iterable<unknown, T>): Coro<T> { return yield* x as unknown as Coro<T>; }
