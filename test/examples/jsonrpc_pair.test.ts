// examples/jsonrpc_pair.ts: two real processes speaking JSON-RPC over line-framed TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reap, runExample } from './helpers.js';

void test('jsonrpc_pair: calls, server-to-client notifications, a call given up, a remote error, SIGTERM', async () => {
  const ex = runExample('jsonrpc_pair.ts');
  try {
    assert.equal(await ex.exited, 0, ex.err());
    assert.equal(ex.out(), [
      'sum = 10',
      '  tick 3',
      '  tick 2',
      '  tick 1',
      'countdown: liftoff',
      'slowSquare: gave up after 100 ms',
      'slowSquare = 144',
      'sum of strings: error -32602 (expected an array of numbers)',
      'server exited with 0',
      '',
    ].join('\n'));
    assert.equal(ex.err(), 'server: stopped on SIGTERM\n');
  } finally {
    reap(ex);
  }
});
