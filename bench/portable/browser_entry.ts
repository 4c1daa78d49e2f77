// The portable benchmark in Chromium (bundled and loaded by bench/portable.bench.ts): WebEventLoop with each wake.
import { WebEventLoop } from '../../src/web/index.js';
import { measurePortable, type PortableResult } from './measure.js';

const page = globalThis as unknown as { __bench?: { done: boolean; result?: PortableResult; error?: string } };
page.__bench = { done: false };
try {
  const result = await measurePortable('chromium', [
    ['WebEventLoop', () => new WebEventLoop()],
    ['WebEventLoop(postTask)', () => new WebEventLoop({ wake: 'postTask' })],
  ], () => performance.now());
  page.__bench = { done: true, result };
} catch (e) {
  page.__bench = { done: true, error: e instanceof Error ? e.stack ?? e.message : String(e) };
}
