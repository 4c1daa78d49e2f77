/**
 * The top-level stream functions: a client's stream pair, and a server
 * whose every connection runs a handler with its own pair. They use the
 * running loop's `createConnection`/`createServer`, so they work on any
 * loop that implements those (the Node loop, the test loop's network).
 */
import { type ConnectionOptions, type Coro, getRunningLoop, type ServerOptions } from '../kernel/events.js';
import type { Server, SockAddr } from '../kernel/transport_types.js';
import { StreamReader } from './reader.js';
import { type ClientConnectedCallback, StreamReaderProtocol } from './stream_protocol.js';
import { StreamWriter } from './writer.js';

/**
 * Options of the stream functions: `limit` of the reader, plus the loop method's own.
 * @example
 * yield* openConnection('127.0.0.1', 8888, { limit: 1024, ssl: true });
 */
export interface StreamOptions {
  /** The reader's buffer limit: the longest line or chunk it accepts (default 64 KiB). */
  limit?: number;
}

function split<T extends StreamOptions>(opts: T | undefined): [number | undefined, Omit<T, 'limit'>] {
  if (opts === undefined) return [undefined, {} as Omit<T, 'limit'>];
  const { limit, ...rest } = opts;
  return [limit, rest];
}

/**
 * Connect to `host:port` and return a stream pair.
 * @example
 * const [reader, writer] = yield* openConnection('127.0.0.1', 8888);
 * writer.write('hello\n');
 * const reply = yield* reader.readLine();
 */
export function* openConnection(host: string, port: number, opts?: ConnectionOptions & StreamOptions): Coro<[StreamReader, StreamWriter]> {
  const loop = getRunningLoop();
  const [limit, rest] = split(opts);
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = yield* loop.createConnection(() => protocol, host, port, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/**
 * Serve `host:port`: each connection runs `onClient(reader, writer)` as a
 * task; when that task ends (returns, throws or is cancelled) the
 * connection is closed.
 * @example
 * const server = yield* startServer(function* (r, w) {
 *   for (;;) { const line = yield* r.readLine(); if (line.length === 0) break; w.write(line); yield* w.drain(); }
 * }, '127.0.0.1', 8888);
 */
export function* startServer(
  onClient: ClientConnectedCallback, host: string | string[] | null, port: number | null, opts?: ServerOptions & StreamOptions,
): Coro<Server<SockAddr>> {
  const loop = getRunningLoop();
  const [limit, rest] = split(opts);
  return yield* loop.createServer(() => new StreamReaderProtocol(new StreamReader({ limit, loop }), onClient, loop), host, port, rest);
}

/**
 * Connect to the Unix socket at `path` and return a stream pair.
 * @example
 * const [reader, writer] = yield* openUnixConnection('/tmp/app.sock');
 */
export function* openUnixConnection(path: string, opts?: ConnectionOptions & StreamOptions): Coro<[StreamReader, StreamWriter]> {
  const loop = getRunningLoop();
  const [limit, rest] = split(opts);
  const reader = new StreamReader({ limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = yield* loop.createUnixConnection(() => protocol, path, rest);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

/**
 * Serve the Unix socket at `path` (a stale socket file is removed first).
 * @example
 * const server = yield* startUnixServer(function* (r, w) { w.write(yield* r.read(100)); }, '/tmp/app.sock');
 */
export function* startUnixServer(onClient: ClientConnectedCallback, path: string, opts?: ServerOptions & StreamOptions): Coro<Server<string>> {
  const loop = getRunningLoop();
  const [limit, rest] = split(opts);
  return yield* loop.createUnixServer(() => new StreamReaderProtocol(new StreamReader({ limit, loop }), onClient, loop), path, rest);
}
