/**
 * A UDP echo server and a client that measures round trips.
 *
 * Shows: datagram endpoints (createDatagramEndpoint) with a DatagramProtocol
 * on each side, turning callbacks into values a coroutine waits for (a
 * Future per ping), a timeout per datagram (UDP may lose any of them), and
 * SIGTERM/Ctrl-C handling in a server that runs until told to stop.
 *
 * Run: npx tsx examples/udp_echo.ts                 (server and client in one process)
 *      npx tsx examples/udp_echo.ts --serve [port]  (the server alone; try: nc -u 127.0.0.1 <port>)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CancelledError, Future, getRunningLoop, run, timeout, TimeoutError,
  type Coro, type DatagramProtocol, type DatagramTransport, type SockAddr,
} from 'tulip';

/** Sends every datagram back where it came from. */
class EchoServer implements DatagramProtocol {
  transport!: DatagramTransport;
  connectionMade(t: DatagramTransport): void { this.transport = t; }
  datagramReceived(data: Uint8Array, addr: SockAddr): void { this.transport.sendto(data, addr); }
}

/** Starts an echo server on `port` of 127.0.0.1; returns its transport (close it to stop). */
export function* startEchoServer(port: number): Coro<DatagramTransport> {
  const [t] = yield* getRunningLoop().createDatagramEndpoint(() => new EchoServer(), { localAddr: ['127.0.0.1', port] });
  return t;
}

/** The client side: each ping is a Future that its echo completes. */
class Pinger implements DatagramProtocol {
  transport!: DatagramTransport;
  readonly #waiting = new Map<string, Future<void>>();
  connectionMade(t: DatagramTransport): void { this.transport = t; }
  datagramReceived(data: Uint8Array): void { this.#waiting.get(new TextDecoder().decode(data))?.setResult(); }
  /** Send `text` and wait for it to come back. */
  *ping(text: string): Coro<void> {
    const echoed = new Future<void>();
    this.#waiting.set(text, echoed);
    try {
      this.transport.sendto(text);
      yield* echoed;
    } finally {
      this.#waiting.delete(text);
    }
  }
}

/** Ping `port` `count` times; returns each round trip in ms, or null for a lost one. */
export function* pingServer(port: number, count: number, limitMs = 2_000): Coro<Array<number | null>> {
  const loop = getRunningLoop();
  const [t, pinger] = yield* loop.createDatagramEndpoint(() => new Pinger(), { remoteAddr: ['127.0.0.1', port] });
  const times: Array<number | null> = [];
  try {
    for (let i = 0; i < count; i++) {
      const sent = loop.time();
      try {
        yield* timeout(limitMs, () => pinger.ping(`ping ${i}`));
        times.push(loop.time() - sent);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        times.push(null);                                   // lost: UDP promises nothing
      }
    }
  } finally {
    t.close();
  }
  return times;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {   // run, not imported
  const i = process.argv.indexOf('--serve');
  if (i >= 0) {
    try {
      await run(function* () {
        const server = yield* startEchoServer(Number(process.argv[i + 1] ?? process.env.PORT ?? 9999));
        console.log(`udp echo server on 127.0.0.1:${(server.getExtraInfo('sockname') as SockAddr)[1]}`);
        const stop = new Future<void>();
        getRunningLoop().addSignalHandler('SIGTERM', () => stop.setResult());
        try { yield* stop; } finally { server.close(); }     // SIGTERM, or Ctrl-C (which cancels main)
      });
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
    }
    console.log('udp echo server stopped');
  } else {
    await run(function* () {
      const server = yield* startEchoServer(0);
      const [, port] = server.getExtraInfo('sockname') as SockAddr;
      const times = yield* pingServer(port, 5);
      for (const [n, ms] of times.entries()) console.log(`ping ${n}: ${ms === null ? 'lost' : `${ms.toFixed(2)} ms`}`);
      server.close();
    });
  }
}
