/// <reference types="node" preserve="true" />
/**
 * tulip: asynchronous I/O for TypeScript on Node.js, after PEP 3156.
 * This entry point (`tulip` on Node, Deno and Bun) installs the Node loop
 * as the default; in a browser `tulip` is `tulip/web` (src/web/index.ts).
 * @module tulip
 */
import './node/policy.js';

export * from './kernel/index.js';
export * from './toolkit/index.js';
export { NodeEventLoop } from './node/node_loop.js';
export { WebEventLoop } from './web/web_loop.js';
export type { WebEventLoopOptions } from './web/web_loop.js';
export type { WakeMethod } from './web/host.js';
export { WebSocketTransport, createWebSocketConnection } from './web/websocket.js';
export type { WebSocketConnectionOptions, WebSocketConstructor, WebSocketLike } from './web/websocket.js';
export * from './protocols/index.js';
export * from './streams/index.js';
export { SocketTransport } from './node/socket_transport.js';
export { NodeServer } from './node/server.js';
export * from './toolkit/microthreads/index.js';
export { toThread, ThreadPoolExecutor } from './node/executor.js';
export type { ThreadPoolOptions } from './node/executor.js';
export { STDOUT } from './node/subprocess.js';
export type { StdioOption, SubprocessOptions } from './node/subprocess.js';
export type { DatagramEndpointOptions } from './node/udp.js';
export type { AddrInfoOptions } from './node/dns.js';
export type { PipeLike } from './node/pipes.js';
export type {} from './node/extra_info.js';   // types only: the Node loop's names in ExtraInfo
export { Process, createSubprocessExec, createSubprocessShell } from './node/process.js';
export { main } from './node/main.js';
export type { ProcessOptions } from './node/process.js';
export { FileProducer } from './node/file_producer.js';
export type { FileProducerOptions } from './node/file_producer.js';
export * from './interop/index.js';
