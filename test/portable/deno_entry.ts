// The runtime matrix on Deno (`deno test`): the conformance suite on NodeEventLoop (Deno offers Node's API) and
// WebEventLoop, and the portable test file on both. Run by ci/runtimes/run.mjs; not a node:test file.
import { NodeEventLoop, WebEventLoop } from '../../src/index.js';
import { conformanceScenarios, runConformance, type ConformanceTest } from '../../src/conformance/index.js';
import { TestEventLoop } from '../../src/testing/index.js';
import { onceScenarios, portableScenarios, register, webSocketScenarios } from './suite.js';

declare const Deno: { test: ConformanceTest; env: { get(name: string): string | undefined } };

const test = Deno.test;
const transports = conformanceScenarios().filter((n) => n.startsWith('transport:'));
runConformance(() => new NodeEventLoop(), { test, prefix: 'NodeEventLoop' });
runConformance(() => new WebEventLoop(), { test, prefix: 'WebEventLoop', skip: transports });
register(test, 'NodeEventLoop', () => new NodeEventLoop(), portableScenarios);
register(test, 'WebEventLoop', () => new WebEventLoop(), portableScenarios);
register(test, 'TestEventLoop', () => new TestEventLoop({ seed: 3 }), portableScenarios);
register(test, 'Deno', () => new WebEventLoop(), onceScenarios);
const ws = Deno.env.get('TULIP_WS_URL');
if (ws !== undefined) register(test, 'WebEventLoop', () => new WebEventLoop(), webSocketScenarios(ws));
