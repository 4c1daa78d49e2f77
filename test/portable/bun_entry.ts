// The runtime matrix on Bun (`bun test`): the conformance suite on NodeEventLoop (Bun offers Node's API) and
// WebEventLoop, and the portable test file on both. Run by ci/runtimes/run.mjs; not a node:test file.
import { NodeEventLoop, WebEventLoop } from '../../src/index.js';
import { conformanceScenarios, runConformance, type ConformanceTest } from '../../src/conformance/index.js';
import { TestEventLoop } from '../../src/testing/index.js';
import { onceScenarios, portableScenarios, register, webSocketScenarios } from './suite.js';

// bun:test has no types here; its test(name, fn) waits for fn's Promise when fn declares no parameter.
const runner = 'bun:test';
const { test } = (await import(runner)) as { test: ConformanceTest };

const transports = conformanceScenarios().filter((n) => n.startsWith('transport:'));
runConformance(() => new NodeEventLoop(), { test, prefix: 'NodeEventLoop' });
runConformance(() => new WebEventLoop(), { test, prefix: 'WebEventLoop', skip: transports });
register(test, 'NodeEventLoop', () => new NodeEventLoop(), portableScenarios);
register(test, 'WebEventLoop', () => new WebEventLoop(), portableScenarios);
register(test, 'TestEventLoop', () => new TestEventLoop({ seed: 3 }), portableScenarios);
register(test, 'Bun', () => new WebEventLoop(), onceScenarios);
const ws = process.env.TULIP_WS_URL;
if (ws !== undefined) register(test, 'WebEventLoop', () => new WebEventLoop(), webSocketScenarios(ws));
