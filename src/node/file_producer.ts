/**
 * A push producer (PEP 3153) that streams a file into any write transport
 * with flat memory: the transport pauses it synchronously inside the write
 * that crosses its high-water mark and resumes it below the low-water mark,
 * so at most the high-water mark plus one chunk is ever buffered, whatever
 * the file's size and however slow the reader. It lives under src/node/
 * because it reads with `node:fs`; the consumer side is the protocols
 * layer's (every WriteTransport accepts `registerProducer`).
 *
 * It is a coroutine rather than a callback pump so that it stops the way
 * everything else does: cancelling the task that runs `streamTo` halts it
 * and closes the file; `stopProducing` (the connection was lost) ends it
 * early with `stopped` set.
 */
import type { FileHandle } from 'node:fs/promises';
import { getRunningLoop, type Coro } from '../kernel/events.js';
import { fromPromise } from '../kernel/coro.js';
import { Future } from '../kernel/future.js';
import { rehalt } from '../kernel/traps.js';
import { openOwned } from './sendfile.js';
import type { PushProducer, WriteTransport } from '../kernel/transport_types.js';

/**
 * Options of {@link FileProducer}.
 * @example
 * const producer = new FileProducer('/var/backups/big.tar', { chunkSize: 256 * 1024 });
 */
export interface FileProducerOptions {
  /** Bytes read and written at a time (default 64 KiB). */
  chunkSize?: number;
}

/**
 * Streams a file to a transport as a registered push producer.
 * @example
 * const [t] = yield* getRunningLoop().createConnection(() => ({}), '127.0.0.1', 9000);
 * const producer = new FileProducer('/var/backups/big.tar');
 * const sent = yield* producer.streamTo(t);   // honours pause/resume; returns early if the connection is lost
 * if (!producer.stopped) t.close();
 */
export class FileProducer implements PushProducer {
  /** The file streamed. */
  readonly path: string;
  /** Bytes read and written at a time. */
  readonly chunkSize: number;
  /** Bytes handed to the transport so far. */
  bytesWritten = 0;
  #paused = false;
  #stopped = false;
  #running = false;
  #wake: Future<void> | null = null;

  constructor(path: string, opts?: FileProducerOptions) {
    this.path = path;
    this.chunkSize = opts?.chunkSize ?? 64 * 1024;
    if (!(Number.isInteger(this.chunkSize) && this.chunkSize > 0)) throw new RangeError(`chunkSize must be a positive integer, not ${this.chunkSize}`);
  }

  /** True once the consumer stopped it (its connection was lost) before the end of the file. */
  get stopped(): boolean { return this.#stopped; }
  /** True while paused by the consumer. */
  get paused(): boolean { return this.#paused; }

  pauseProducing(): void { this.#paused = true; }
  resumeProducing(): void { this.#paused = false; this.#wakeUp(); }
  stopProducing(): void { this.#stopped = true; this.#wakeUp(); }

  /**
   * Register with `transport`, write the file to it chunk by chunk while
   * not paused, unregister, and return the number of bytes written (less
   * than the file's size if the consumer stopped it: see `stopped`). The
   * transport is left open.
   */
  *streamTo(transport: WriteTransport): Coro<number> {
    if (this.#running) throw new Error('FileProducer: already streaming');
    this.#running = true;
    let fh: FileHandle | null = null;
    let registered = false;
    try {
      fh = yield* openOwned(this.path);
      transport.registerProducer(this);
      registered = true;
      while (!this.#stopped) {
        if (this.#paused) {
          this.#wake = new Future<void>({ loop: getRunningLoop(), description: 'FileProducer.resume' });
          yield* this.#wake;
          continue;
        }
        const buf = Buffer.allocUnsafe(this.chunkSize);
        const { bytesRead } = yield* fromPromise(fh.read(buf, 0, buf.length, null));
        if (bytesRead === 0 || this.#stopped) break;
        transport.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
        this.bytesWritten += bytesRead;
      }
    } finally {
      this.#wake = null;
      // A stopped producer was already dropped by its transport.
      if (registered && !this.#stopped) transport.unregisterProducer();
      this.#running = false;
      if (fh !== null) {
        yield* fromPromise(fh.close());
        yield* rehalt();   // this cleanup waited: a halt must go on to the caller (see rehalt())
      }
    }
    return this.bytesWritten;
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = null;
    if (w !== null && !w.done()) w.setResult();
  }
}
