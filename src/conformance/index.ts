/**
 * `tulip/conformance`: the suite every loop runs to prove it keeps the
 * guarantees of docs/design.md (Trio's `check_two_way_stream`, for loops). The
 * scenarios use only the public `EventLoop` interface, so a third party's
 * loop runs them exactly as `NodeEventLoop`, `WebEventLoop` and
 * `TestEventLoop` do. The suite needs nothing of any runtime (its own small
 * assertions, the toolkit imported statically), and registers its tests
 * with whichever runner it is given: `node:test`, `Deno.test`, `bun:test`,
 * or a page's own.
 * @module tulip/conformance
 */
import type { EventLoop } from '../kernel/events.js';
import { loopScenarios } from './loop_scenarios.js';
import type { Scenario } from './scenario.js';
import { toolkitScenarios } from './toolkit_scenarios.js';
import { transportScenarios } from './transport_scenarios.js';

export type { Scenario } from './scenario.js';

const ALL: Scenario[] = [...loopScenarios, ...transportScenarios, ...toolkitScenarios];

/**
 * A test runner's `test(name, fn)`: `node:test`'s `test`, `Deno.test`,
 * `bun:test`'s `test`. Skipped scenarios go to its `skip` (node:test,
 * bun:test) or `ignore` (Deno) if it has one. `fn` takes no parameter, so
 * runners that pass a `done` callback to functions that declare one (Bun)
 * wait for its Promise instead.
 * @example
 * import { test as nodeTest } from 'node:test';
 * const test: ConformanceTest = nodeTest;
 */
export interface ConformanceTest {
  /** Register the test `name`. */
  (name: string, fn: () => Promise<void>): unknown;
  /** Register a skipped test (node:test, bun:test). */
  skip?: (name: string, fn: () => Promise<void>) => unknown;
  /** Register an ignored test (Deno). */
  ignore?: (name: string, fn: () => Promise<void>) => unknown;
}

/**
 * Options of {@link runConformance}.
 * @example
 * import { test } from 'node:test';
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { test, prefix: 'MyLoop', skip: ['transport: abort'] });
 */
export interface ConformanceOptions {
  /** The runner's `test` function (default: `node:test`'s, where the runtime has it). */
  test?: ConformanceTest;
  /** Names of scenarios to skip (see {@link conformanceScenarios}), for what the loop does not offer. */
  skip?: string[];
  /** Prefix of each test's name (default `'conformance'`). */
  prefix?: string;
}

/**
 * The names of every scenario, grouped by their prefix: `transport: ...`
 * need `createServer`/`createConnection` on 127.0.0.1; `toolkit: ...` use
 * the toolkit's queues and locks.
 * @example
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { skip: conformanceScenarios().filter((n) => n.startsWith('transport:')) });
 */
export function conformanceScenarios(): string[] { return ALL.map((s) => s.name); }

interface NodeLike { process?: { getBuiltinModule?(id: string): unknown } }

/** `node:test`'s `test`, on runtimes that have it (Node 20.16 and later, Deno, Bun), without importing it statically. */
function defaultTest(): ConformanceTest {
  const mod = (globalThis as NodeLike).process?.getBuiltinModule?.('node:test') as { test?: ConformanceTest } | undefined;
  if (typeof mod?.test !== 'function') throw new TypeError('runConformance: this runtime has no node:test; pass your runner\'s test function as { test }');
  return mod.test;
}

/**
 * Register one test per scenario with the runner's `test`, each on a fresh
 * loop from `makeLoop`; the loop is closed afterwards if it is not closed
 * already. An unknown name in `skip` is an error, so a renamed scenario is
 * noticed.
 * @example
 * // test/my_loop.conformance.test.ts, run with `node --test`
 * import { test } from 'node:test';
 * import { runConformance } from 'tulip/conformance';
 * import { NodeEventLoop } from 'tulip';
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { test, prefix: 'MyLoop', skip: ['transport: half-close'] });
 * // in Deno: runConformance(() => new MyLoop(), { test: Deno.test });
 * // in Bun:  import { test } from 'bun:test'; runConformance(() => new MyLoop(), { test });
 */
export function runConformance(makeLoop: () => EventLoop, opts: ConformanceOptions = {}): void {
  const prefix = opts.prefix ?? 'conformance';
  const skip = new Set(opts.skip ?? []);
  const names = new Set(ALL.map((s) => s.name));
  for (const n of skip) if (!names.has(n)) throw new Error(`runConformance: no scenario named '${n}'`);
  const test = opts.test ?? defaultTest();
  for (const s of ALL) {
    const name = `${prefix}: ${s.name}`;
    if (skip.has(s.name)) {
      const skipIt = test.skip ?? test.ignore;
      if (typeof skipIt === 'function') void skipIt.call(test, name, () => Promise.resolve());
      continue;
    }
    void test(name, async () => {
      const loop = makeLoop();
      try {
        await s.run(loop);
      } finally {
        if (!loop.isClosed() && !loop.isRunning()) loop.close();
      }
    });
  }
}
