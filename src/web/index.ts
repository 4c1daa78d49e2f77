/**
 * `tulip/web` (and `tulip` itself in a browser): tulip's core with the web
 * loop installed as the default, and WebSockets as transports.
 *
 * ```ts
 * import { run, sleep, createWebSocketConnection, JsonRpcProtocol } from 'tulip/web';
 * await run(function* () {
 *   const [t, rpc] = yield* createWebSocketConnection(() => new JsonRpcProtocol(), 'wss://example.org/rpc');
 *   console.log(yield* rpc.call('ping'));
 *   t.close();
 * });
 * ```
 * @module tulip/web
 */
import './policy.js';

export * from '../core.js';
export { WebEventLoop } from './web_loop.js';
export type { WebEventLoopOptions } from './web_loop.js';
export type { WakeMethod } from './host.js';
export { WebSocketTransport, createWebSocketConnection } from './websocket.js';
export type { WebSocketConnectionOptions, WebSocketConstructor, WebSocketLike } from './websocket.js';
