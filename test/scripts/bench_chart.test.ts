// scripts/bench_chart.ts: the README's chart of bench/results.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { renderChart, RESULTS, score, type BenchResults } from '../../scripts/bench_chart.js';
import type { RatioRecord } from '../../bench/lib.js';

const rec = (over: Partial<RatioRecord>): RatioRecord => ({
  bench: 'kernel', measurement: 'spawn', subject: 'tulip', baseline: 'async', ratio: 1, higherIsBetter: true, kind: 'node', ...over,
});

void test('a bar per ratio, right of parity when tulip is ahead (a rate above 1x, or memory below 1x)', () => {
  const results: BenchResults = {
    generated: '2026-01-02T03:04:05Z', node: 'v20.0.0', machine: '2 x test cpu',
    records: [
      rec({ ratio: 0.5 }),
      rec({ baseline: 'effection', kind: 'peer', ratio: 120 }),
      rec({ measurement: 'memory per idle task', ratio: 0.75, higherIsBetter: false }),
      rec({ bench: 'net', measurement: 'echo <64 B> & more', subject: 'tulip "Protocol"', baseline: 'raw', ratio: 1.02 }),
    ],
  };
  const svg = renderChart(results);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="14" fill="(#[0-9a-f]+)"/g)];
  assert.equal(bars.length, 4);
  const parity = Number(/<line x1="([\d.]+)"[^>]*class="parity"/.exec(svg)![1]);
  const [slow, fast, memory, echo] = bars.map((b) => ({ x: Number(b[1]), w: Number(b[2]), color: b[3] }));
  assert.ok(slow!.x + slow!.w <= parity + 0.1 && slow!.x < parity, 'a 0.5x rate is left of parity');
  assert.ok(fast!.x >= parity - 0.1 && fast!.w > echo!.w, 'a 120x rate is right of parity, and long');
  assert.ok(memory!.x >= parity - 0.1, '0.75x the memory is tulip ahead');
  assert.notEqual(fast!.color, slow!.color, 'peers and raw Node have their own colours');
  assert.match(svg, /echo &lt;64 B&gt; &amp; more/);
  assert.match(svg, /tulip &quot;Protocol&quot;/);
  assert.match(svg, /memory per idle task \(less is better\)/);
  assert.equal(score(rec({ ratio: 0.8, higherIsBetter: false })), 1.25);
});

void test('bench/results.json exists, is well formed, and docs/bench.svg is drawn from it', () => {
  assert.ok(existsSync(RESULTS));
  const results = JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults;
  assert.ok(results.records.length >= 10);
  for (const r of results.records) {
    assert.ok(Number.isFinite(r.ratio) && r.ratio > 0, JSON.stringify(r));
    assert.ok(r.kind === 'node' || r.kind === 'peer');
  }
  const chart = readFileSync(new URL('../../docs/bench.svg', import.meta.url), 'utf8');
  assert.equal(chart, renderChart(results), 'docs/bench.svg is out of date: npm run bench:chart');
});
