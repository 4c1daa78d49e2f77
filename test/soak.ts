/**
 * `npm run soak`: the long sweep of exploreCancellation and simulate over
 * tulip itself (test/testing/tulip_scenarios.ts), with more seeds and more
 * cases than `npm test` runs, and explorations under timing perturbation. Bounded in count and in time: it stops by
 * itself after SOAK_SECONDS (default 240) or when every round is done, and
 * exits non-zero on the first failure, printing its replay handle.
 */
import { exploreCancellation, simulate } from '../src/testing/index.js';
import { exploreCases, simulateCases } from './testing/tulip_scenarios.js';

const budget = Number(process.env.SOAK_SECONDS ?? 240) * 1000;
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 200);
const start = Date.now();
const left = (): boolean => Date.now() - start < budget;
let explorations = 0, simulations = 0;

try {
  for (let round = 0; round < ROUNDS && left(); round++) {
    for (const c of exploreCases) {
      if (!left()) break;
      const r = await exploreCancellation(c.scenario, { ...c.opts, seed: round, timerLag: round % 7 });
      explorations += r.runs;
    }
    for (const c of simulateCases) {
      if (!left()) break;
      const r = await simulate(c.scenario, { ...c.opts, runs: 500, seed: 1000 + round });
      simulations += r.runs;
    }
    console.log(`round ${round + 1}/${ROUNDS}: ${explorations} cancellation runs, ${simulations} simulated runs, ${((Date.now() - start) / 1000).toFixed(0)} s`);
  }
  console.log(`soak: ${explorations} cancellation runs and ${simulations} simulated runs passed in ${((Date.now() - start) / 1000).toFixed(0)} s`);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
