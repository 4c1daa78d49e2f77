/**
 * tulip: asynchronous I/O for TypeScript on Node.js, after PEP 3156.
 * This entry point installs the Node loop as the default.
 */
import './node/policy.js';

export * from './kernel/index.js';
export { NodeEventLoop } from './node/node_loop.js';
export * from './toolkit/microthreads/index.js';
