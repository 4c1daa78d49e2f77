/**
 * Bridges to Node's own APIs (layer 4, beside the Node loop): Node streams
 * and node:http. The host-neutral bridges (events, `each`, Web streams,
 * `copy`) live in the toolkit and streams layers.
 */
export { fromReadable, toReadable, toWritable, toDuplex } from './node_streams.js';
export type { FromReadableOptions, ToReadableOptions } from './node_streams.js';
export { handleNodeRequests } from './http.js';
export type { NodeRequestHandler, NodeRequestListener } from './http.js';
