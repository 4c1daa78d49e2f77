/** simulate over tulip itself: streams, JSON-RPC and the toolkit on a faulty, perturbed virtual network. */
import { test } from 'node:test';
import { simulate } from '../../src/testing/index.js';
import { simulateCases } from './tulip_scenarios.js';

for (const c of simulateCases) {
  void test(`simulate: ${c.name}`, async () => {
    await simulate(c.scenario, { runs: 40, ...c.opts });
  });
}
