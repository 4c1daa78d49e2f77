/**
 * `tulip/testing`: the virtual-time loop and its in-memory network, for
 * deterministic tests of timing and network code.
 *
 * @example
 * await runVirtual(function* () {
 *   const loop = getRunningLoop() as TestEventLoop;
 *   loop.network.addHost('server');
 *   loop.network.setLink('localhost', 'server', { latency: 50, jitter: 5 });
 *   yield* loop.network.onHost('server', () => startServer(function* (r, w) { w.write(yield* r.readLine()); }, 'server', 80));
 *   const [reader, writer] = yield* openConnection('server', 80);   // 100-110 ms of virtual time, ~0 of wall time
 *   writer.write('ping\n');
 *   console.log(new TextDecoder().decode(yield* reader.readLine()));
 * }, { seed: 1 });
 * @module tulip/testing
 */
export { TestEventLoop, runVirtual } from './test_loop.js';
export type { TestEventLoopOptions } from './test_loop.js';
export { VirtualNetwork } from './network.js';
export type { LinkSetting } from './link.js';
export { VirtualServer } from './server.js';
export { VirtualTransport } from './stream.js';
export { VirtualDatagramTransport } from './datagram.js';
export { seededRandom } from './random.js';
export { exploreCancellation, ExplorationError } from './explore.js';
export type { CancelMode, Explorer, ExploreOptions, ExploreOutcome, ExploreReport } from './explore.js';
export { simulate, SimulationError } from './simulate.js';
export type { Fault, FaultBounds, SimCase, Simulation, SimulateOptions, SimOutcome, SimulationReport } from './simulate.js';
export type { RunChecks, ScenarioOutcome } from './scenario_run.js';
