/**
 * `tulip/conformance`: the suite every loop runs to prove it keeps the
 * guarantees of docs/design.md (Trio's `check_two_way_stream`, for loops). The
 * scenarios use only the public `EventLoop` interface, so a third party's
 * loop runs them exactly as `NodeEventLoop` and `TestEventLoop` do.
 * @module tulip/conformance
 */
import { test } from 'node:test';
import type { EventLoop } from '../kernel/events.js';
import { loopScenarios } from './loop_scenarios.js';
import type { Scenario } from './scenario.js';
import { toolkitScenarios, ScenarioUnavailable } from './toolkit_scenarios.js';
import { transportScenarios } from './transport_scenarios.js';

export type { Scenario } from './scenario.js';

const ALL: Scenario[] = [...loopScenarios, ...transportScenarios, ...toolkitScenarios];

/**
 * Options of {@link runConformance}.
 * @example
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { prefix: 'MyLoop', skip: ['transport: abort'] });
 */
export interface ConformanceOptions {
  /** Names of scenarios to skip (see {@link conformanceScenarios}), for what the loop does not offer yet. */
  skip?: string[];
  /** Prefix of each test's name (default `'conformance'`). */
  prefix?: string;
}

/**
 * The names of every scenario, grouped by their prefix: `transport: ...`
 * need `createServer`/`createConnection` on 127.0.0.1; `toolkit: ...` need
 * the toolkit in the build.
 * @example
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { skip: conformanceScenarios().filter((n) => n.startsWith('transport:')) });
 */
export function conformanceScenarios(): string[] { return ALL.map((s) => s.name); }

/**
 * Register one `node:test` test per scenario, each on a fresh loop from
 * `makeLoop`; the loop is closed afterwards if it is not closed already.
 * An unknown name in `skip` is an error, so a renamed scenario is noticed.
 * @example
 * // test/my_loop.conformance.test.ts, run with `node --test`
 * import { runConformance } from 'tulip/conformance';
 * import { NodeEventLoop } from 'tulip';
 * class MyLoop extends NodeEventLoop {}
 * runConformance(() => new MyLoop(), { prefix: 'MyLoop', skip: ['transport: half-close'] });
 */
export function runConformance(makeLoop: () => EventLoop, opts: ConformanceOptions = {}): void {
  const prefix = opts.prefix ?? 'conformance';
  const skip = new Set(opts.skip ?? []);
  const names = new Set(ALL.map((s) => s.name));
  for (const n of skip) if (!names.has(n)) throw new Error(`runConformance: no scenario named '${n}'`);
  for (const s of ALL) {
    const name = `${prefix}: ${s.name}`;
    if (skip.has(s.name)) { void test(name, { skip: 'skipped by the caller' }, () => {}); continue; }
    void test(name, async (t) => {
      const loop = makeLoop();
      try {
        await s.run(loop);
      } catch (e) {
        if (e instanceof ScenarioUnavailable) { t.skip(e.message); return; }
        throw e;
      } finally {
        if (!loop.isClosed() && !loop.isRunning()) loop.close();
      }
    });
  }
}
