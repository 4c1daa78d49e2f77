/**
 * `tulip/testing`: the virtual-time loop and its in-memory network, for
 * deterministic tests of timing and network code.
 */
export { TestEventLoop, runVirtual } from './test_loop.js';
export type { TestEventLoopOptions } from './test_loop.js';
export { VirtualNetwork } from './network.js';
export type { LinkSetting } from './link.js';
export { VirtualServer } from './server.js';
export { VirtualTransport } from './stream.js';
export { VirtualDatagramTransport } from './datagram.js';
export { seededRandom } from './random.js';
