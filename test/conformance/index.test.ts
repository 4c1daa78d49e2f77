/**
 * The project runs its conformance suite on its three loops, and on a
 * small third-party-style loop to show outsiders can (third_party.test.ts).
 * The web loop has no sockets: it skips the transport scenarios.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeEventLoop, WebEventLoop } from '../../src/index.js';
import { conformanceScenarios, runConformance } from '../../src/conformance/index.js';
import { TestEventLoop } from '../../src/testing/index.js';

// TODO(issue: Node TCP transports, branch net): after abort(), SocketTransport.getWriteBufferSize() still
// reports the socket's writableLength until connectionLost; the contract says abort drops the buffer.
runConformance(() => new NodeEventLoop(), { prefix: 'NodeEventLoop' });
runConformance(() => new TestEventLoop({ seed: 1 }), { prefix: 'TestEventLoop' });
runConformance(() => new WebEventLoop(), { test, prefix: 'WebEventLoop', skip: conformanceScenarios().filter((n) => n.startsWith('transport:')) });

void test('the public names of tulip/conformance and tulip/testing', async () => {
  assert.deepEqual(Object.keys(await import('../../src/conformance/index.js')).sort(), ['conformanceScenarios', 'runConformance']);
  assert.deepEqual(Object.keys(await import('../../src/testing/index.js')).sort(), [
    'ExplorationError', 'SimulationError', 'TestEventLoop', 'VirtualDatagramTransport', 'VirtualNetwork', 'VirtualServer', 'VirtualTransport',
    'exploreCancellation', 'runVirtual', 'seededRandom', 'simulate',
  ]);
});
