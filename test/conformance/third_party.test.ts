/**
 * An outsider's loop: it wraps NodeEventLoop, logging every request it
 * makes of its host, and proves itself with the public conformance suite,
 * importing only the package's public entry points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeEventLoop } from '../../src/index.js';
import { conformanceScenarios, runConformance } from '../../src/conformance/index.js';

const log: string[] = [];

class LoggingLoop extends NodeEventLoop {
  protected override _hostWake(): void { log.push('wake'); super._hostWake(); }
  protected override _hostTimer(when: number | null): void { log.push(when === null ? 'timer off' : 'timer'); super._hostTimer(when); }
  protected override _hostIdle(): void { log.push('idle'); super._hostIdle(); }
}

// Its transports are NodeEventLoop's.
runConformance(() => new LoggingLoop(), { prefix: 'LoggingLoop' });

void test('the logging loop was the one that ran the scenarios', () => {
  assert.ok(log.includes('wake'));
  assert.ok(log.includes('timer'));
  assert.ok(log.includes('idle'), 'the deadlock scenario went through the idle hook');
});

void test('conformanceScenarios lists every scenario once', () => {
  const names = conformanceScenarios();
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('transport: flow control'));
});

void test('runConformance refuses an unknown scenario name', () => {
  assert.throws(() => runConformance(() => new LoggingLoop(), { skip: ['no such scenario'] }), /no scenario named/);
});
