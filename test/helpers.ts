/** Shared test helpers. */
import { run, type Coro, type EventLoop, type ExceptionContext, NodeEventLoop } from '../src/index.js';

/** Run `main` with `run()` on a fresh Node loop whose exception handler records into `errors`. */
export async function runRecording<T>(main: () => Coro<T>, errors: ExceptionContext[] = [], opts: { debug?: boolean; loop?: EventLoop } = {}): Promise<T> {
  const loop = opts.loop ?? new NodeEventLoop();
  loop.setExceptionHandler((_l, ctx) => { errors.push(ctx); });
  return run(main, { loop, debug: opts.debug, handleSignals: false });
}

/** A trace that tests push events into and compare as a whole (curio's style). */
export class Trace {
  readonly events: string[] = [];
  push(e: string): void { this.events.push(e); }
}
