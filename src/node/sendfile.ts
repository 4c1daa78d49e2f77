/**
 * `loop.sendfile`: send a file's bytes over a transport. Node offers no
 * zero-copy sendfile for sockets, so this is asyncio's fallback: read a
 * chunk, write it, and wait while the transport's write buffer is above
 * its high-water mark, so a large file never sits in memory whole.
 */
import * as fsp from 'node:fs/promises';
import { fromPromise } from '../kernel/coro.js';
import type { Coro } from '../kernel/events.js';
import { rehalt } from '../kernel/traps.js';
import type { Transport } from '../kernel/transport_types.js';
import { StreamTransportBase } from '../protocols/stream_transport.js';
import { acquirePromise } from './io_common.js';

const CHUNK = 256 * 1024;

/** Open `path` for reading; a halt while it opens closes the handle it opens. */
export function openOwned(path: string): Coro<fsp.FileHandle> {
  return acquirePromise(fsp.open(path, 'r'), (h) => h.close(), `open(${path})`);
}

/** `file`: a path, a file descriptor, or a `fs.promises.FileHandle`. Returns the bytes sent. */
export function* sendfile(transport: Transport, file: unknown, offset = 0, count?: number): Coro<number> {
  if (!(transport instanceof StreamTransportBase)) throw new TypeError('sendfile needs a stream transport');
  if (transport.isClosing()) throw new Error('sendfile on a transport that is closing');
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, not ${offset}`);
  if (count !== undefined && (!Number.isInteger(count) || count <= 0)) throw new RangeError(`count must be a positive integer, not ${count}`);
  let handle: fsp.FileHandle;
  let own = false;
  if (typeof file === 'string') { handle = yield* openOwned(file); own = true; }
  else if (typeof file === 'number') { handle = yield* openOwned(`/dev/fd/${file}`); own = true; }
  else if (file !== null && typeof file === 'object' && typeof (file as fsp.FileHandle).read === 'function') handle = file as fsp.FileHandle;
  else throw new TypeError('file must be a path, a file descriptor or a FileHandle');
  let sent = 0;
  try {
    for (;;) {
      const want = count === undefined ? CHUNK : Math.min(CHUNK, count - sent);
      if (want <= 0) break;
      const buf = new Uint8Array(want);
      const { bytesRead } = yield* fromPromise(handle.read(buf, 0, want, offset + sent));
      if (bytesRead === 0) break;
      yield* transport._whenWritable();
      transport.write(buf.subarray(0, bytesRead));
      sent += bytesRead;
    }
    yield* transport._whenWritable();
    return sent;
  } finally {
    if (own) {
      yield* fromPromise(handle.close());
      yield* rehalt();   // this cleanup waited: a halt must go on to the caller (see rehalt())
    }
  }
}
