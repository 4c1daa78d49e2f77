// The runtime matrix in Chromium: bundled for the browser by ci/runtimes/run.mjs and loaded by a page. It runs the
// conformance suite and the portable test file on WebEventLoop (both wake methods), and the WebSocket scenarios
// against the matrix's server, then leaves the results in `globalThis.__tulipResults` for the driver.
import { WebEventLoop } from '../../src/web/index.js';
import { conformanceScenarios, runConformance, type ConformanceTest } from '../../src/conformance/index.js';
import { TestEventLoop } from '../../src/testing/index.js';
import { onceScenarios, portableScenarios, register, webSocketScenarios } from './suite.js';

interface Result { name: string; ok: boolean; skipped?: boolean; error?: string; ms: number }
interface PageGlobals { location: { search: string }; __tulipResults?: { done: boolean; results: Result[] } }

const page = globalThis as unknown as PageGlobals;
const queue: { name: string; fn: () => Promise<void> }[] = [];
const results: Result[] = [];
const test: ConformanceTest = Object.assign((name: string, fn: () => Promise<void>) => { queue.push({ name, fn }); }, {
  skip: (name: string) => { results.push({ name, ok: true, skipped: true, ms: 0 }); },
});

const transports = conformanceScenarios().filter((n) => n.startsWith('transport:'));
runConformance(() => new WebEventLoop(), { test, prefix: 'WebEventLoop(MessageChannel)', skip: transports });
runConformance(() => new WebEventLoop({ wake: 'postTask' }), { test, prefix: 'WebEventLoop(postTask)', skip: transports });
register(test, 'WebEventLoop(MessageChannel)', () => new WebEventLoop(), portableScenarios);
register(test, 'WebEventLoop(postTask)', () => new WebEventLoop({ wake: 'postTask' }), portableScenarios);
register(test, 'TestEventLoop', () => new TestEventLoop({ seed: 3 }), portableScenarios);
register(test, 'Chromium', () => new WebEventLoop(), onceScenarios);
const ws = new URLSearchParams(page.location.search).get('ws');
if (ws !== null) register(test, 'WebEventLoop', () => new WebEventLoop(), webSocketScenarios(ws));

page.__tulipResults = { done: false, results };
for (const { name, fn } of queue) {
  const t0 = performance.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: performance.now() - t0 });
  } catch (e) {
    results.push({ name, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e), ms: performance.now() - t0 });
  }
}
page.__tulipResults.done = true;
