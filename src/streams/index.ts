/** Streams (layer 3: see docs/design.md): StreamReader/StreamWriter over any Transport. */
export { StreamReader, DEFAULT_LIMIT } from './reader.js';
export { StreamWriter } from './writer.js';
export { StreamReaderProtocol } from './stream_protocol.js';
export type { ClientConnectedCallback } from './stream_protocol.js';
export { openConnection, startServer, openUnixConnection, startUnixServer } from './open.js';
export type { StreamOptions } from './open.js';
export { TextStreamReader, Lines } from './text.js';
export type { TextOptions } from './text.js';
export { copy } from './copy.js';
export type { CopyOptions } from './copy.js';
export { fromReadableStream, fromWritableStream, toReadableStream, toWritableStream } from './web.js';
export type { FromReadableStreamOptions, ToReadableStreamOptions } from './web.js';
