/**
 * Charts drawn on the server as SVG: the pages need no JavaScript and no library served to the
 * browser (the issue allows server-rendered SVG). Two shapes: bars (USD per day or per hour) and
 * lines (supply per hour against demand and the 2× target). Numbers are also in the page's tables.
 */
import { esc } from './html.js';

const W = 720;
const H = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 24 };

const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

function axes(max: number, unit: string, first: string, last: string): string {
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const ticks = [0, max / 2, max]
    .map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/>` +
        `<text x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${esc(unit)}${fmt(v)}</text>`,
    )
    .join('');
  return (
    `${ticks}<text x="${PAD.left}" y="${H - 6}">${esc(first)}</text>` +
    `<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${esc(last)}</text>`
  );
}

/** A bar per value; `label` is each bar's tooltip and the axis' first and last label. */
export function barChart(
  bars: { label: string; value: number }[],
  opts: { title: string; unit?: string },
): string {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const inner = W - PAD.left - PAD.right;
  const bw = inner / Math.max(1, bars.length);
  const h = H - PAD.top - PAD.bottom;
  const rects = bars
    .map((b, i) => {
      const bh = (h * Math.max(0, b.value)) / max;
      return (
        `<rect class="bar" x="${(PAD.left + i * bw + bw * 0.1).toFixed(1)}" ` +
        `y="${(PAD.top + h - bh).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" ` +
        `height="${bh.toFixed(1)}" data-value="${b.value}">` +
        `<title>${esc(b.label)}: ${esc(opts.unit ?? '')}${b.value}</title></rect>`
      );
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="${esc(opts.title)}" viewBox="0 0 ${W} ${H}" ` +
    `data-points="${bars.length}"><title>${esc(opts.title)}</title>` +
    axes(max, opts.unit ?? '', bars[0]?.label ?? '', bars[bars.length - 1]?.label ?? '') +
    `${rects}</svg>`
  );
}

/** Lines over the same x positions: `series` drawn as data, `levels` as flat reference lines. */
export function lineChart(
  series: { name: string; values: number[]; cls: string }[],
  levels: { name: string; value: number; cls: string }[],
  opts: { title: string; first: string; last: string },
): string {
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const max = niceMax(
    Math.max(0, ...series.flatMap((s) => s.values), ...levels.map((l) => l.value)) * 1.05,
  );
  const h = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(1, n - 1);
  const y = (v: number) => PAD.top + h * (1 - v / max);
  const lines = series
    .map(
      (s) =>
        `<polyline class="${esc(s.cls)}" fill="none" ` +
        `points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}" ` +
        `data-points="${s.values.length}"><title>${esc(s.name)}</title></polyline>`,
    )
    .join('');
  const refs = levels
    .map(
      (l) =>
        `<line class="${esc(l.cls)}" x1="${PAD.left}" x2="${W - PAD.right}" ` +
        `y1="${y(l.value).toFixed(1)}" y2="${y(l.value).toFixed(1)}">` +
        `<title>${esc(l.name)}: ${l.value}</title></line>` +
        `<text class="${esc(l.cls)}" x="${W - PAD.right - 2}" y="${(y(l.value) - 3).toFixed(1)}" ` +
        `text-anchor="end">${esc(l.name)}</text>`,
    )
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="${esc(opts.title)}" viewBox="0 0 ${W} ${H}" data-points="${n}">` +
    `<title>${esc(opts.title)}</title>${axes(max, '', opts.first, opts.last)}${refs}${lines}</svg>`
  );
}
