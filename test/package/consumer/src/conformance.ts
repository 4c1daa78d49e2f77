// A third party's loops prove themselves with tulip/conformance (run with `node --test`): one extends
// NodeEventLoop's host hooks, one is written from BaseEventLoop alone on Node's timers.
import { BaseEventLoop, NodeEventLoop } from 'tulip';
import { conformanceScenarios, runConformance } from 'tulip/conformance';

class CountingLoop extends NodeEventLoop {
  wakes = 0;
  protected override _hostWake(): void { this.wakes++; super._hostWake(); }
}

/** The smallest loop: a clock and two host hooks; no I/O of its own. */
class TimersLoop extends BaseEventLoop {
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  protected _clock(): number { return performance.now(); }
  protected _hostWake(): void {
    this.#immediate ??= setImmediate(() => { this.#immediate = undefined; this._tick(); });
  }
  protected _hostTimer(when: number | null): void {
    clearTimeout(this.#timer);
    this.#timer = when === null ? undefined : setTimeout(() => { this.#timer = undefined; this._tick(); }, Math.max(0, when - this._clock()));
  }
}

runConformance(() => new CountingLoop(), { prefix: 'CountingLoop' });
runConformance(() => new TimersLoop(), {
  prefix: 'TimersLoop',
  skip: conformanceScenarios().filter((n) => n.startsWith('transport:')),
});
