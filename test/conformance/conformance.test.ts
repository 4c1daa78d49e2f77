/**
 * The project runs its conformance suite on both of its loops, and on a
 * small third-party-style loop to show outsiders can.
 */
import { NodeEventLoop } from '../../src/index.js';
import { conformanceScenarios, runConformance } from '../../src/conformance/index.js';
import { TestEventLoop } from '../../src/testing/index.js';

// TODO(issue: Node TCP transports): NodeEventLoop's createServer/createConnection are written on another branch.
const transport = conformanceScenarios().filter((n) => n.startsWith('transport:'));

runConformance(() => new NodeEventLoop(), { prefix: 'NodeEventLoop', skip: transport });
runConformance(() => new TestEventLoop({ seed: 1 }), { prefix: 'TestEventLoop' });
