import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerHeap, type TimerEntry } from '../../src/kernel/timer_heap.js';

function entry(when: number, seq: number): TimerEntry {
  return { _when: when, _seq: seq, _cancelled: false, _scheduled: true, _run() {} };
}

test('timers come out in (when, scheduling order), cancelled ones never, whatever the mix of due times', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean(), fc.boolean()), { maxLength: 300 }),
    (ops) => {
      const heap = new TimerHeap();
      const all: TimerEntry[] = [];
      let seq = 0;
      const out: TimerEntry[] = [];
      for (const [when, cancel, popNow] of ops) {
        const t = entry(when, seq++);
        heap.push(t);
        all.push(t);
        if (cancel) {
          const victim = all[(when * 7) % all.length]!;
          if (!victim._cancelled && victim._scheduled) { victim._cancelled = true; heap.noteCancelled(); }
        }
        if (popNow) { const p = heap.pop(); if (p !== undefined) out.push(p); }
      }
      const drainStart = out.length;
      for (let p = heap.pop(); p !== undefined; p = heap.pop()) out.push(p);
      const drain = out.slice(drainStart);
      assert.deepEqual(drain, [...drain].sort((a, b) => a._when - b._when || a._seq - b._seq));
      // every live timer came out exactly once, never a cancelled one
      const live = all.filter((t) => !t._cancelled || out.includes(t));
      assert.equal(out.length, new Set(out).size);
      assert.ok(out.every((t) => live.includes(t)));
      assert.equal(heap.live, 0);
      assert.equal(heap.size, 0);
      return true;
    },
  ), { numRuns: 200 });
});

test('a drain without interleaved pushes is sorted by (when, seq)', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 200 }), (whens) => {
    const heap = new TimerHeap();
    whens.forEach((w, i) => heap.push(entry(w, i)));
    const out: TimerEntry[] = [];
    for (let p = heap.pop(); p !== undefined; p = heap.pop()) out.push(p);
    const sorted = [...out].sort((a, b) => a._when - b._when || a._seq - b._seq);
    assert.deepEqual(out.map((t) => t._seq), sorted.map((t) => t._seq));
    assert.equal(out.length, whens.length);
  }), { numRuns: 200 });
});

test('compaction keeps memory proportional to live timers', () => {
  const heap = new TimerHeap();
  const ts = Array.from({ length: 1000 }, (_, i) => entry(i % 13, i));
  for (const t of ts) heap.push(t);
  for (let i = 0; i < 900; i++) { ts[i]!._cancelled = true; heap.noteCancelled(); }
  assert.equal(heap.live, 100);
  assert.ok(heap.size < 1000, `held ${heap.size}`);
  assert.ok(ts.slice(0, 900).some((t) => !t._scheduled), 'compaction dropped cancelled timers');
  const out: number[] = [];
  for (let p = heap.pop(); p !== undefined; p = heap.pop()) out.push(p._seq);
  assert.equal(out.length, 100);
});
