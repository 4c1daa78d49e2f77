// The virtual network's isIP answers as Node's net.isIP does, without Node (so tulip/testing runs everywhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP as nodeIsIP } from 'node:net';
import fc from 'fast-check';
import { isIP } from '../../src/testing/ip.js';

const CASES = [
  '1.2.3.4', '0.0.0.0', '255.255.255.255', '01.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ', '1..3.4', '+1.2.3.4',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1::2::3', ':1::', ':::', '1:2:3:4:5:6:7:8:9',
  'fe80::1%eth0', 'fe80::1%', 'fe80::1%e.t-h:0', '::ffff:1.2.3.4', '::ffff:1.2.3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
  '::1.2.3.4', '1::1.2.3.4', '1.2.3.4::', '12345::', 'g::', 'a:b:c:d:e:f:0:1', 'A:B:C:D:E:F:0:1', '1::2:3:4:5:6:7', '1::2:3:4:5:6:7:8',
  '', 'localhost', '10.0.0.1', '2001:db8::', '2001:0db8:0000:0000:0000:0000:0000:0001', '[::1]',
];

test('isIP agrees with net.isIP on the edge cases', () => {
  for (const c of CASES) assert.equal(isIP(c), nodeIsIP(c), JSON.stringify(c));
});

test('isIP agrees with net.isIP on random strings made of address characters', () => {
  const chars = fc.constantFrom(...'0123456789abcdefABCDEFg.:%-'.split(''));
  const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.integer({ min: 0, max: 0x1ffff }).map((n) => n.toString(16)), fc.string({ unit: chars, maxLength: 5 }));
  const addr = fc.array(fc.tuple(part, fc.constantFrom('.', ':', '::', '%', '')), { maxLength: 10 }).map((xs) => xs.map(([p, s]) => p + s).join(''));
  fc.assert(fc.property(addr, (a) => isIP(a) === nodeIsIP(a)), { numRuns: 20_000 });
});
