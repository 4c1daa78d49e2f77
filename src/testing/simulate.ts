/**
 * simulate: a scenario run over many seeds on the virtual network with
 * faults and timing perturbation, each run checked, and a failing run
 * shrunk to a minimal case that replays exactly.
 *
 * A case is data: the loop's seed, the links' base setting (latency,
 * jitter, loss: jitter is how I/O delivery is stretched, and a stream
 * still never reorders), the timer lag (each jump of the virtual clock
 * lands up to that many ms late, so timers run late and nearby ones
 * coalesce, without breaking the loop's ordering guarantees), and a
 * schedule of faults (partitions healed after a while, connection resets,
 * link changes) at virtual times. Cases are drawn and shrunk by fast-check
 * (an optional peer dependency, loaded when `simulate` first runs): on a
 * failure it removes faults, moves them, lowers settings and the seed
 * while the run still fails, and the error names the smallest case and the
 * handle that replays it. A run is a pure function of its case.
 */
import type { Coro } from '../kernel/events.js';
import { checkedVerdict, describeError, runScenario, type RunChecks, type ScenarioOutcome } from './scenario_run.js';
import type { TestEventLoop } from './test_loop.js';
import type { VirtualNetwork } from './network.js';

/**
 * One fault of a simulated run, at virtual time `at`.
 * @example
 * import type { Fault } from 'tulip/testing';
 * const f: Fault = { at: 120, kind: 'partition', a: 'client', b: 'server', ms: 500 };
 */
export type Fault =
  | {
    /** Virtual time (ms) the partition starts. */
    at: number;
    /** Cut the link between hosts `a` and `b`, both ways, and heal it `ms` later. */
    kind: 'partition';
    /** One end of the link. */
    a: string;
    /** The other end. */
    b: string;
    /** How long the partition lasts (ms). */
    ms: number;
  }
  | {
    /** Virtual time (ms) of the reset. */
    at: number;
    /** Reset every connection of `host` (each end sees `ECONNRESET`). */
    kind: 'reset';
    /** The host whose connections are reset. */
    host: string;
  }
  | {
    /** Virtual time (ms) the link changes. */
    at: number;
    /** Give the link between hosts `a` and `b` a new setting from then on. */
    kind: 'link';
    /** One end of the link. */
    a: string;
    /** The other end. */
    b: string;
    /** One-way latency (ms). */
    latency: number;
    /** How much each delivery may be stretched beyond the latency (ms); a stream still never reorders. */
    jitter: number;
    /** Probability that a datagram is lost (0 to 1). */
    loss: number;
  };

/**
 * Everything a simulated run depends on: rerun it and the run is the same.
 * @example
 * import type { SimCase } from 'tulip/testing';
 * const c: SimCase = { seed: 3, latency: 10, jitter: 5, loss: 0, timerLag: 2, faults: [] };
 */
export interface SimCase {
  /** The seed of the run's loop (its random choices: jitter, loss, timer lag). */
  seed: number;
  /** The base one-way latency of every link between the hosts (ms). */
  latency: number;
  /** The base jitter of every link (ms): how much each delivery may be stretched beyond the latency. */
  jitter: number;
  /** The base probability that a datagram is lost on a link (0 to 1). */
  loss: number;
  /** Max ms each jump of the virtual clock lands late. */
  timerLag: number;
  /** The faults the run suffers, in order of virtual time. */
  faults: Fault[];
}

/**
 * What a scenario of {@link simulate} gets.
 * @example
 * import { startServer, type Coro } from 'tulip';
 * import type { Simulation } from 'tulip/testing';
 * function* scenario(sim: Simulation): Coro<void> {
 *   const server = yield* sim.network.onHost('server', () => startServer(() => undefined, 'server', 7));
 *   server.close();
 * }
 */
export interface Simulation {
  /** The run's loop (virtual time, seeded with the case's seed). */
  readonly loop: TestEventLoop;
  /** The loop's virtual network, with the hosts made and the case's links set. */
  readonly network: VirtualNetwork;
  /** The case this run plays. */
  readonly case: SimCase;
}

/**
 * How wild the faults may get; each bound is a maximum the cases draw under.
 * @example
 * import type { FaultBounds } from 'tulip/testing';
 * const faults: FaultBounds = { latency: 50, jitter: 20, partitions: true, resets: false, maxFaults: 3 };
 */
export interface FaultBounds {
  /** Max base one-way latency, ms (default 20). */
  latency?: number;
  /** Max jitter, ms (default 10). */
  jitter?: number;
  /** Max datagram loss probability (default 0). */
  loss?: number;
  /** Allow partitions (default true), each up to `maxPartition` ms. */
  partitions?: boolean;
  /** Max length of a partition, ms (default 2000). */
  maxPartition?: number;
  /** Allow connection resets (default true). */
  resets?: boolean;
  /** Allow link changes during the run (default true). */
  linkChanges?: boolean;
  /** At most this many faults per run (default 4). */
  maxFaults?: number;
  /** Faults fall in [0, duration) ms of virtual time (default 5000). */
  duration?: number;
  /** Max timer lag, ms (default 5). */
  timerLag?: number;
}

/**
 * Options of {@link simulate}.
 * @example
 * import type { SimulateOptions } from 'tulip/testing';
 * const opts: SimulateOptions<string> = { hosts: ['client', 'server'], runs: 200, check: (o) => o.value !== 'wrong' };
 */
export interface SimulateOptions<T> extends RunChecks {
  /** Hosts the run creates (besides 'localhost'); faults strike the links between all of them. Default ['client', 'server']. */
  hosts?: string[];
  /** How many cases (default 100). */
  runs?: number;
  /** The seed that draws the cases (default 0: the same cases every time). */
  seed?: number;
  /** How wild the drawn cases' links and faults may get (defaults: those of {@link FaultBounds}). */
  faults?: FaultBounds;
  /** The invariant, called after every run: throw (or return false) to fail it. */
  check?: (o: SimOutcome<T>) => void | boolean;
  /** Run only the case a failure's replay handle names. */
  replay?: string;
}

/**
 * One run of {@link simulate} as the check sees it.
 * @example
 * import type { SimOutcome } from 'tulip/testing';
 * const check = (o: SimOutcome<string>) => o.case.faults.length > 0 || o.value === 'pong';
 */
export interface SimOutcome<T> extends ScenarioOutcome<T> {
  /** The case the run played. */
  case: SimCase;
}

/**
 * What a simulation did.
 * @example
 * import { sleep } from 'tulip';
 * import { simulate, type SimulationReport } from 'tulip/testing';
 * const r: SimulationReport = await simulate(() => sleep(10), { runs: 50 });
 * console.log(r.runs);
 */
export interface SimulationReport {
  /** How many cases were run and passed (1 on a replay). */
  runs: number;
}

/**
 * A simulated run that broke an invariant, shrunk to the smallest case fast-check found.
 * @example
 * import { sleep } from 'tulip';
 * import { simulate, SimulationError } from 'tulip/testing';
 * try { await simulate(() => sleep(10), { check: (o) => o.case.faults.length === 0 }); }
 * catch (e) { if (e instanceof SimulationError) console.log(e.case, e.replay); }
 */
export class SimulationError extends Error {
  /** The smallest failing case fast-check found (on a replay, the case replayed). */
  readonly case: SimCase;
  /** Pass as `{ replay }` to run this case alone. */
  readonly replay: string;
  /** What the failing case's run did. */
  readonly outcome: SimOutcome<unknown>;
  constructor(message: string, c: SimCase, replay: string, outcome: SimOutcome<unknown>) {
    super(message);
    this.name = 'SimulationError';
    this.case = c;
    this.replay = replay;
    this.outcome = outcome;
  }
}

/** The replay handle of a case: `sim:` and the case as base64url JSON. */
function toHandle(c: SimCase): string {
  let bin = '';
  for (const b of new TextEncoder().encode(JSON.stringify(c))) bin += String.fromCharCode(b);
  return `sim:${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
function fromHandle(h: string): SimCase {
  if (!h.startsWith('sim:')) throw new TypeError(`simulate: not a replay handle: ${h}`);
  const bin = atob(h.slice(4).replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)))) as SimCase;
}

function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'partition': return `partition ${f.a}-${f.b} at ${f.at} ms for ${f.ms} ms`;
    case 'reset': return `reset ${f.host}'s connections at ${f.at} ms`;
    case 'link': return `link ${f.a}-${f.b} at ${f.at} ms: latency ${f.latency}, jitter ${f.jitter}, loss ${f.loss}`;
  }
}

/** Run one case: make the hosts, set the links, arm the faults, run the scenario. */
async function playCase<T>(scenario: (sim: Simulation) => Coro<T>, c: SimCase, hosts: string[], checks: RunChecks): Promise<SimOutcome<T>> {
  const o: ScenarioOutcome<T> = await runScenario((loop) => {
    const net = loop.network;
    for (const h of hosts) if (h !== 'localhost' && !net.hosts().includes(h)) net.addHost(h);
    const all = ['localhost', ...hosts.filter((h) => h !== 'localhost')];
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) net.setLink(all[i]!, all[j]!, { latency: c.latency, jitter: c.jitter, loss: c.loss });
    }
    const timers = c.faults.map((f) => loop.callAt(f.at, () => {
      switch (f.kind) {
        case 'partition':
          net.partition(f.a, f.b);
          loop.callLater(f.ms, () => { net.heal(f.a, f.b); });
          break;
        case 'reset': net.resetConnections(f.host); break;
        case 'link': net.setLink(f.a, f.b, { latency: f.latency, jitter: f.jitter, loss: f.loss }); break;
      }
    }));
    return (function* () {
      try {
        return yield* scenario({ loop, network: net, case: c });
      } finally {
        for (const t of timers) t.cancel();
      }
    })();
  }, c.seed, c.timerLag, checks);
  return { ...o, case: c };
}

function verdict<T>(o: SimOutcome<T>, opts: SimulateOptions<T>): string | null {
  return checkedVerdict(o, opts, opts.check);
}

interface FastCheck {
  integer(c: { min: number; max: number }): unknown;
  constantFrom(...xs: unknown[]): unknown;
  record(r: Record<string, unknown>): unknown;
  array(a: unknown, c: { maxLength: number }): unknown;
  oneof(...a: unknown[]): unknown;
  asyncProperty(...a: unknown[]): unknown;
  check(p: unknown, o: { numRuns: number; seed: number }): Promise<{ failed: boolean; counterexample: unknown[] | null; numRuns: number; errorInstance?: unknown }>;
}

async function loadFastCheck(): Promise<FastCheck> {
  try {
    return await import('fast-check');
  } catch {
    throw new Error('simulate() needs the fast-check package (an optional peer dependency of tulip): npm install --save-dev fast-check');
  }
}

/**
 * Run `scenario` over many cases of the virtual network with faults and
 * timing perturbation and check each run: it must end (no deadlock,
 * within the time limit), end with its value or a `CancelledError` (or an
 * error `allowError` accepts), report nothing to the loop's exception
 * handler, leave no task pending, and pass `check`. On a failure, rejects
 * with a {@link SimulationError} naming the smallest failing case and how
 * to replay it.
 * @example
 * import { openConnection, startServer, type StreamReader, type StreamWriter } from 'tulip';
 * import { simulate } from 'tulip/testing';
 * function* echo(r: StreamReader, w: StreamWriter) { w.write(yield* r.readLine()); yield* w.drain(); }
 * await simulate(function* (sim) {
 *   const server = yield* sim.network.onHost('server', () => startServer(echo, 'server', 7));
 *   try {
 *     const [r, w] = yield* openConnection('server', 7);
 *     w.write('ping\n');
 *     return new TextDecoder().decode(yield* r.readLine());
 *   } finally { server.close(); }
 * }, { allowError: (e) => (e as { code?: string }).code === 'ECONNRESET', check: (o) => o.error !== undefined || o.value === 'ping\n' });
 */
export async function simulate<T>(scenario: (sim: Simulation) => Coro<T>, opts: SimulateOptions<T> = {}): Promise<SimulationReport> {
  const hosts = opts.hosts ?? ['client', 'server'];
  if (opts.replay !== undefined) {
    const c = fromHandle(opts.replay);
    const o = await playCase(scenario, c, hosts, opts);
    const why = verdict(o, opts);
    if (why !== null) throw failure(c, o, why);
    return { runs: 1 };
  }
  const fc = await loadFastCheck();
  const b = opts.faults ?? {};
  const duration = b.duration ?? 5000;
  const all = ['localhost', ...hosts.filter((h) => h !== 'localhost')];
  const host = fc.constantFrom(...all);
  const at = fc.integer({ min: 0, max: Math.max(0, duration - 1) });
  const kinds: unknown[] = [];
  if (b.partitions ?? true) kinds.push(fc.record({ at, kind: fc.constantFrom('partition'), a: host, b: host, ms: fc.integer({ min: 1, max: b.maxPartition ?? 2000 }) }));
  if (b.resets ?? true) kinds.push(fc.record({ at, kind: fc.constantFrom('reset'), host }));
  if (b.linkChanges ?? true) {
    kinds.push(fc.record({
      at, kind: fc.constantFrom('link'), a: host, b: host,
      latency: fc.integer({ min: 0, max: b.latency ?? 20 }), jitter: fc.integer({ min: 0, max: b.jitter ?? 10 }),
      loss: fc.constantFrom(0, b.loss ?? 0),
    }));
  }
  const caseArb = fc.record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    latency: fc.integer({ min: 0, max: b.latency ?? 20 }),
    jitter: fc.integer({ min: 0, max: b.jitter ?? 10 }),
    loss: fc.constantFrom(0, b.loss ?? 0),
    timerLag: fc.integer({ min: 0, max: b.timerLag ?? 5 }),
    faults: kinds.length === 0 ? fc.constantFrom([]) : fc.array(fc.oneof(...kinds), { maxLength: b.maxFaults ?? 4 }),
  });
  const clean = (c: SimCase): SimCase => ({ ...c, faults: c.faults.filter((f) => f.kind === 'reset' || f.a !== f.b).sort((x, y) => x.at - y.at) });
  const runs = opts.runs ?? 100;
  const details = await fc.check(fc.asyncProperty(caseArb, async (raw: SimCase) => {
    const c = clean(raw);
    const o = await playCase(scenario, c, hosts, opts);
    const why = verdict(o, opts);
    if (why !== null) throw new Error(why);
  }), { numRuns: runs, seed: opts.seed ?? 0 });
  if (!details.failed) return { runs: details.numRuns };
  const c = clean(details.counterexample![0] as SimCase);
  const o = await playCase(scenario, c, hosts, opts);
  throw failure(c, o, verdict(o, opts) ?? describeError(details.errorInstance));
}

function failure(c: SimCase, o: SimOutcome<unknown>, why: string): SimulationError {
  const h = toHandle(c);
  const faults = c.faults.length === 0 ? 'no faults' : c.faults.map(describeFault).join('; ');
  return new SimulationError(
    `simulate: a run failed: ${why}.\n  case: seed ${c.seed}, links latency ${c.latency} ms jitter ${c.jitter} ms loss ${c.loss}, timer lag ${c.timerLag} ms, ${faults}`
    + `\n  replay: simulate(scenario, { replay: '${h}' })`, c, h, o);
}
