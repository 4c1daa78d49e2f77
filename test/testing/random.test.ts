import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/testing/index.js';

void test('seededRandom: the same seed gives the same stream; numbers are in [0, 1) and spread out', () => {
  const a = seededRandom(123), b = seededRandom(123), c = seededRandom(124);
  const xs = Array.from({ length: 10_000 }, a);
  assert.deepEqual(Array.from({ length: 10_000 }, b), xs);
  assert.notDeepEqual(Array.from({ length: 10 }, c), xs.slice(0, 10));
  const buckets = new Array<number>(10).fill(0);
  for (const x of xs) { assert.ok(x >= 0 && x < 1); buckets[Math.floor(x * 10)]!++; }
  for (const n of buckets) assert.ok(n > 900 && n < 1100, `bucket of ${n}`);
});
