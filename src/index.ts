/**
 * tulip: asynchronous I/O for TypeScript on Node.js, after PEP 3156.
 * This entry point installs the Node loop as the default.
 */
import './node/policy.js';

export * from './kernel/index.js';
export { NodeEventLoop } from './node/node_loop.js';
export * from './protocols/index.js';
export * from './streams/index.js';
export { SocketTransport } from './node/socket_transport.js';
export { NodeServer } from './node/server.js';
