/** exploreCancellation over tulip itself: every toolkit primitive, streams, JSON-RPC, micro-pipes, the servers. */
import { test } from 'node:test';
import { exploreCancellation } from '../../src/testing/index.js';
import { exploreCases } from './tulip_scenarios.js';

for (const c of exploreCases) {
  void test(`exploreCancellation: ${c.name}`, async () => {
    await exploreCancellation(c.scenario, c.opts);
  });
}
