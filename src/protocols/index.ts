/** The protocols layer (layer 3: see docs/design.md): what every stream transport shares, written against interfaces only. */
export { StreamTransportBase, DEFAULT_HIGH_WATER, connectionLostError } from './stream_transport.js';
export { ChunkProtocol } from './chunk_protocol.js';
export { stack, StackedProtocol, ProtocolTransport } from './stack.js';
export type { StackOptions } from './stack.js';
export { SubprocessPipesProtocol } from './subprocess_pipes.js';
export { JsonRpcProtocol, JsonRpcError, JsonRpcErrorCode } from './jsonrpc.js';
export type { JsonRpcId, JsonRpcMethod, JsonRpcCallInfo, JsonRpcOptions } from './jsonrpc.js';
