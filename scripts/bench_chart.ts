/**
 * Draw bench/results.json (what `npm run bench` measured) as an SVG bar
 * chart, docs/bench.svg, which the README shows: one bar per ratio of tulip
 * to a baseline (raw Node or a peer library), on a log scale around parity.
 * A bar to the right of 1x means tulip is ahead: for rates it is tulip /
 * baseline, for memory and wall time baseline / tulip.
 *
 * `npm run bench` calls it after a run; `npm run bench:chart` redraws.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RatioRecord } from '../bench/lib.js';

/** What bench/results.json holds. */
export interface BenchResults {
  generated: string;
  node: string;
  machine: string;
  records: RatioRecord[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = join(ROOT, 'bench/results.json');
export const CHART = join(ROOT, 'docs/bench.svg');

const COLORS = { node: '#3b6fb6', peer: '#e08a2c' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The bar's length: how many times better tulip is (above 1: ahead). */
export function score(r: RatioRecord): number { return r.higherIsBetter ? r.ratio : 1 / r.ratio; }

/** The SVG text of the chart. */
export function renderChart(results: BenchResults): string {
  const groups = new Map<string, RatioRecord[]>();
  for (const r of results.records) {
    const key = `${r.bench}\u0000${r.measurement}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const scores = results.records.map(score);
  const lo = Math.min(0.5, 2 ** Math.floor(Math.log2(Math.min(...scores, 1))));
  const hi = Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(...scores, 1))));
  const width = 960, labelW = 420, plotX = labelW + 10, plotW = width - plotX - 90;
  const rowH = 20, headH = 22, top = 78;
  const x = (v: number): number => plotX + (Math.log2(v) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo)) * plotW;
  const rows: string[] = [];
  let y = top;
  for (const list of groups.values()) {
    const m = list[0]!;
    rows.push(`<text x="8" y="${y + 15}" class="group">${esc(m.measurement)}${m.higherIsBetter ? '' : ' (less is better)'}</text>`);
    y += headH;
    for (const r of list) {
      const s = score(r);
      const x0 = x(1), x1 = x(Math.min(hi, Math.max(lo, s)));
      const label = `${r.ratio >= 10 ? r.ratio.toFixed(0) : r.ratio.toFixed(2)}x`;
      rows.push(
        `<text x="${labelW}" y="${y + 14}" class="row" text-anchor="end">${esc(r.subject)} vs ${esc(r.baseline)}</text>`,
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${rowH - 6}" fill="${COLORS[r.kind]}"><title>${esc(`${r.subject} / ${r.baseline}: ${r.ratio.toFixed(3)}x`)}</title></rect>`,
        `<text x="${(Math.max(x0, x1) + 4).toFixed(1)}" y="${y + 14}" class="value">${label}</text>`,
      );
      y += rowH;
    }
    y += 6;
  }
  const ticks: string[] = [];
  const every = Math.log2(hi / lo) > 10 ? 2 : 1;   // a wide range labels every other power of two (1x always)
  for (let v = lo; v <= hi * 1.0001; v *= 2) {
    const tx = x(v).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${y}" class="${v === 1 ? 'parity' : 'grid'}"/>`);
    if (Math.round(Math.log2(v)) % every === 0) {
      ticks.push(`<text x="${tx}" y="${top - 10}" class="tick" text-anchor="middle">${v >= 1 ? `${v}x` : `1/${1 / v}x`}</text>`);
    }
  }
  const height = y + 34;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}.group{font-size:12px;font-weight:bold;fill:#222}'
      + '.row{font-size:11px;fill:#333}.value{font-size:11px;fill:#111}.tick{font-size:10px;fill:#555}'
      + '.grid{stroke:#ddd;stroke-width:1}.parity{stroke:#222;stroke-width:1.5}</style>',
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="8" y="22" class="title">tulip against raw Node and peer libraries (npm run bench)</text>`,
    `<text x="8" y="40" class="sub">${esc(`${results.generated.slice(0, 10)}, Node ${results.node}, ${results.machine}. Log scale; right of 1x: tulip ahead (rates: tulip / baseline; memory and time: baseline / tulip).`)}</text>`,
    `<rect x="8" y="50" width="10" height="10" fill="${COLORS.node}"/><text x="22" y="59" class="sub">vs raw Node</text>`,
    `<rect x="100" y="50" width="10" height="10" fill="${COLORS.peer}"/><text x="114" y="59" class="sub">vs a peer (Effection, js-csp, Python asyncio, piscina)</text>`,
    ...ticks,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const results = JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults;
  writeFileSync(CHART, renderChart(results));
  console.log(`wrote ${CHART} (${results.records.length} ratios)`);
}
