/** Helpers shared by the tests of the virtual network. */
import { Future, getRunningLoop, type Coro, type Protocol, type Transport } from '../../src/index.js';
import type { TestEventLoop } from '../../src/testing/index.js';

export const dec = new TextDecoder();
export function loop(): TestEventLoop { return getRunningLoop() as TestEventLoop; }
export function now(): number { return getRunningLoop().time(); }

/** A protocol that records every call into a trace and collects the bytes it receives. */
export class Recorder implements Protocol {
  transport!: Transport;
  received = '';
  readonly lost = new Future<Error | undefined>({ description: 'Recorder.lost' });
  constructor(readonly trace: string[], readonly name: string, readonly keepOpen = false) {}
  connectionMade(t: Transport): void { this.transport = t; this.trace.push(`${this.name} made`); }
  dataReceived(d: Uint8Array): void { this.received += dec.decode(d); this.trace.push(`${this.name} data ${dec.decode(d)}`); }
  eofReceived(): boolean { this.trace.push(`${this.name} eof`); return this.keepOpen; }
  connectionLost(e: Error | undefined): void {
    this.trace.push(`${this.name} lost${e ? ` ${(e as { code?: string }).code ?? e.message}` : ''}`);
    this.lost.setResult(e);
  }
  pauseWriting(): void { this.trace.push(`${this.name} pauseWriting`); }
  resumeWriting(): void { this.trace.push(`${this.name} resumeWriting`); }
}

export class Echo implements Protocol {
  t!: Transport;
  connectionMade(t: Transport): void { this.t = t; }
  dataReceived(d: Uint8Array): void { this.t.write(d); }
}

export function* listen(factory: () => Protocol, host: string | null = 'localhost', port = 0): Coro<[string, number]> {
  const server = yield* loop().createServer(factory, host, port);
  return server.addresses()[0] as [string, number];
}
