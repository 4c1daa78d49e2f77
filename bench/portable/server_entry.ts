// The portable benchmark on Node, Deno or Bun (one process): NodeEventLoop and WebEventLoop; prints one JSON line.
import { performance } from 'node:perf_hooks';
import { NodeEventLoop, WebEventLoop } from '../../src/index.js';
import { measurePortable } from './measure.js';

const runtime = process.argv[2] ?? 'node';
const r = await measurePortable(runtime, [['NodeEventLoop', () => new NodeEventLoop()], ['WebEventLoop', () => new WebEventLoop()]], () => performance.now());
console.log(`RESULT ${JSON.stringify(r)}`);
