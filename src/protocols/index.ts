/** The protocols layer (layer 3 of DESIGN.md): what every stream transport shares, written against interfaces only. */
export { StreamTransportBase, DEFAULT_HIGH_WATER, connectionLostError } from './stream_transport.js';
export { ChunkProtocol } from './chunk_protocol.js';
