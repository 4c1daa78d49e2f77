// The portable test file on Node, on each of tulip's loops (the runtime matrix runs it on Deno, Bun and Chromium).
import { test } from 'node:test';
import { NodeEventLoop, WebEventLoop } from '../../src/index.js';
import { TestEventLoop } from '../../src/testing/index.js';
import { onceScenarios, portableScenarios, register } from './suite.js';

register(test, 'NodeEventLoop', () => new NodeEventLoop(), portableScenarios);
register(test, 'WebEventLoop', () => new WebEventLoop(), portableScenarios);
register(test, 'TestEventLoop', () => new TestEventLoop({ seed: 3 }), portableScenarios);
register(test, 'Node', () => new NodeEventLoop(), onceScenarios);
