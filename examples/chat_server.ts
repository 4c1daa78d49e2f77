/**
 * A line-based chat server: what one client types, every other client reads.
 *
 * Shows: one task per connection (startServer), broadcasting to many
 * connections without letting a slow reader hold everyone up (its write
 * buffer is watched; past 1 MiB it is disconnected), a client that vanishes
 * mid-conversation (a reset is an ordinary end of its session), and Ctrl-C
 * with clients still connected: the server owns its connections, so halting
 * `serveForever()` stops listening, halts every session (each says goodbye
 * in its `finally`), flushes and closes every connection, and waits until
 * all of them are gone.
 *
 * Run: npx tsx examples/chat_server.ts [port]      (default 8888; PORT=0 picks a free one)
 * Then, in a few terminals: nc 127.0.0.1 8888
 */
import {
  CancelledError, currentTask, run, startServer, type Coro, type StreamReader, type StreamWriter,
} from 'tulip';

/** A client whose unsent backlog passes this is too slow to keep. */
const MAX_BACKLOG = 1 << 20;

const clients = new Map<StreamWriter, string>();
const decoder = new TextDecoder();
let guests = 0;

/** Send `text` to every client but `from`; drop the ones that cannot keep up. */
function broadcast(from: StreamWriter | null, text: string): void {
  for (const w of clients.keys()) {
    if (w === from || w.isClosing()) continue;
    w.write(text);
    if (w.transport.getWriteBufferSize() > MAX_BACKLOG) w.transport.abort(new Error('too slow'));
  }
}

/** The peer went away without a goodbye: for a chat, just another way to leave. */
function isDisconnect(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

function* session(reader: StreamReader, writer: StreamWriter): Coro<void> {
  let name: string | null = null;
  try {
    writer.write('Welcome! Your name? ');
    const first = yield* reader.readLine();
    if (first.length === 0) return;                           // gone before saying a name
    name = decoder.decode(first).trim() || `guest${++guests}`;
    clients.set(writer, name);
    writer.write(`Hello ${name}: ${clients.size - 1} other(s) here.\n`);
    broadcast(writer, `* ${name} joined\n`);
    for (;;) {
      const line = yield* reader.readLine();
      if (line.length === 0) return;                          // the client closed its side
      broadcast(writer, `${name}: ${decoder.decode(line)}`);
    }
  } catch (e) {
    if (!isDisconnect(e)) throw e;                            // vanished: fall through to the goodbye
  } finally {
    clients.delete(writer);
    if (currentTask()!.cancelling() > 0) {
      writer.write('* server shutting down, bye\n');          // halted: the server is shutting down (Ctrl-C)
    } else if (name !== null) {
      broadcast(null, `* ${name} left\n`);
    }
  }
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 8888);
try {
  await run(function* () {
    const server = yield* startServer(session, '127.0.0.1', port);
    const [host, actual] = server.addresses()[0] as [string, number];
    console.log(`chat server listening on ${host}:${actual}`);
    // Until Ctrl-C halts main here; then the server shuts down: no new clients, every session halted
    // (its goodbye written), every connection flushed and closed, and only then does this return.
    yield* server.serveForever();
  });
} catch (e) {
  if (!(e instanceof CancelledError)) throw e;                // Ctrl-C cancels main: a normal way out
  console.log('chat server stopped');
}
