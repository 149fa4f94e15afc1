import { type SafeHtml, html } from '../http/html.js';
import type { PublishedCount } from './requests.js';

/**
 * Bar charts as inline SVG, drawn on the server (no script, no chart library).
 * A published count is either exact or a range ("1–9": fewer than the threshold),
 * so every value here is an interval: the exact part is drawn solid, the uncertain
 * part hatched with a dashed outline, and the label says the range.
 */

/** A count known to lie between `lo` and `hi` (equal when exact). */
export interface Interval {
  lo: number;
  hi: number;
}

export const ZERO: Interval = { lo: 0, hi: 0 };

/** A published count as an interval: `12` is [12, 12], `"1–9"` is [1, 9]. */
export function intervalOf(count: PublishedCount | undefined): Interval {
  if (count === undefined) return ZERO;
  if (typeof count === 'number') return { lo: count, hi: count };
  const m = /^(\d+)\s*[–-]\s*(\d+)$/.exec(count);
  if (!m) throw new Error(`not a published count: ${count}`);
  return { lo: Number(m[1]), hi: Number(m[2]) };
}

/** The sum of two counts: the sum of two ranges is a range (nothing exact is inferred from it). */
export function addIntervals(a: Interval, b: Interval): Interval {
  return { lo: a.lo + b.lo, hi: a.hi + b.hi };
}

const numbers = new Intl.NumberFormat('en');

/** `12`, `1,204` or the range `1–9`. */
export function intervalLabel(i: Interval): string {
  return i.lo === i.hi ? numbers.format(i.lo) : `${numbers.format(i.lo)}–${numbers.format(i.hi)}`;
}

export function isRange(i: Interval): boolean {
  return i.lo !== i.hi;
}

export interface ChartSeries {
  name: string;
  /** A fixed colour from this module's palette, never user input. */
  color: string;
}

export const PALETTE = {
  blue: '#1f5fa8',
  purple: '#6a3d9a',
  green: '#2e7d32',
  red: '#b3261e',
} as const;

/** A round axis top at or above `max` and its step (1, 2 or 5 times a power of ten; at least 1). */
export function axisScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  let step = 1;
  for (let magnitude = 1; ; magnitude *= 10) {
    const found = [1, 2, 5].map((f) => f * magnitude).find((s) => max / s <= 5);
    if (found !== undefined) {
      step = found;
      break;
    }
  }
  return { top: Math.ceil(max / step) * step, step };
}

const FONT = 'system-ui, sans-serif';
const round = (n: number) => Math.round(n * 10) / 10;

function hatchDefs(id: string, series: readonly ChartSeries[]): SafeHtml {
  return html`<defs>${series.map(
    (s, k) =>
      html`<pattern id="${id}-hatch-${k}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="2.5" height="6" fill="${s.color}"/></pattern>`,
  )}</defs>`;
}

/**
 * One bar: solid up to the low end, hatched from there to the high end, with its
 * label on top. `x`, `width` in user units; `scale` maps a count to a height.
 */
function bar(
  id: string,
  k: number,
  color: string,
  value: Interval,
  geometry: { x: number; width: number; baseline: number; scale: (n: number) => number },
  title: string,
): SafeHtml {
  const { x, width, baseline, scale } = geometry;
  const yLo = baseline - scale(value.lo);
  const yHi = baseline - scale(value.hi);
  const solid =
    value.lo > 0
      ? html`<rect class="exact" x="${round(x)}" y="${round(yLo)}" width="${round(width)}" height="${round(baseline - yLo)}" fill="${color}"/>`
      : null;
  const uncertain = isRange(value)
    ? html`<rect class="range" x="${round(x)}" y="${round(yHi)}" width="${round(width)}" height="${round(yLo - yHi)}" fill="url(#${id}-hatch-${k})" stroke="${color}" stroke-dasharray="3 2"/>`
    : null;
  const label = html`<text x="${round(x + width / 2)}" y="${round(yHi - 4)}" text-anchor="middle" font-size="${width >= 18 ? 11 : 9}" fill="#1a1a1a">${intervalLabel(value)}</text>`;
  return html`<g class="bar"><title>${title}</title>${solid}${uncertain}${label}</g>`;
}

function rangeNote(value: Interval, threshold: number): string {
  return isRange(value) ? ` (a range: counts below ${threshold} are not published exactly)` : '';
}

export interface GroupedBarChart {
  /** Unique in the page; used for element ids. */
  id: string;
  title: string;
  series: readonly ChartSeries[];
  /** One group per x position (a quarter), one value per series. */
  groups: ReadonlyArray<{ label: string; values: readonly Interval[] }>;
  threshold: number;
}

/** Vertical bars, one group per quarter and one bar per series in it. */
export function groupedBarChart(chart: GroupedBarChart): SafeHtml {
  const { id, series, groups } = chart;
  const width = 640;
  const height = 280;
  const margin = { top: 24, right: 12, bottom: groups.length > 8 ? 64 : 40, left: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const baseline = margin.top + plotH;
  const { top, step } = axisScale(Math.max(0, ...groups.flatMap((g) => g.values.map((v) => v.hi))));
  const scale = (n: number) => (n / top) * plotH;
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(40, (groupW * 0.8) / series.length);
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  const rotate = groups.length > 8;
  return html`<svg class="chart" id="${id}-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="${FONT}">
<title id="${id}-title">${chart.title}</title>
<desc id="${id}-desc">Bar chart; the same figures are in the table that follows. Hatched bars are ranges.</desc>
${hatchDefs(id, series)}
${ticks.map(
  (t) =>
    html`<g class="tick"><line x1="${margin.left}" x2="${width - margin.right}" y1="${round(baseline - scale(t))}" y2="${round(baseline - scale(t))}" stroke="${t === 0 ? '#555555' : '#dddddd'}"/><text x="${margin.left - 6}" y="${round(baseline - scale(t) + 4)}" text-anchor="end" font-size="11" fill="#444444">${numbers.format(t)}</text></g>`,
)}
${groups.map((g, i) => {
  const start = margin.left + i * groupW + (groupW - barW * series.length) / 2;
  const cx = round(margin.left + i * groupW + groupW / 2);
  const labelY = baseline + 16;
  return html`<g class="group">${g.values.map((v, k) =>
    bar(
      id,
      k,
      series[k]?.color ?? PALETTE.blue,
      v,
      { x: start + k * barW, width: barW * 0.92, baseline, scale },
      `${g.label}, ${series[k]?.name ?? ''}: ${intervalLabel(v)}${rangeNote(v, chart.threshold)}`,
    ),
  )}<text x="${cx}" y="${labelY}" text-anchor="${rotate ? 'end' : 'middle'}" font-size="11" fill="#1a1a1a"${rotate ? html` transform="rotate(-40 ${cx} ${labelY})"` : null}>${g.label}</text></g>`;
})}
</svg>`;
}

export interface HorizontalBarChart {
  id: string;
  title: string;
  color: string;
  bars: ReadonlyArray<{ label: string; value: Interval }>;
  threshold: number;
}

/** Horizontal bars with their labels on the left: for categories with long names (reason codes). */
export function horizontalBarChart(chart: HorizontalBarChart): SafeHtml {
  const { id, bars } = chart;
  const width = 640;
  const rowH = 28;
  const margin = { top: 12, right: 56, bottom: 28, left: 220 };
  const height = margin.top + rowH * bars.length + margin.bottom;
  const plotW = width - margin.left - margin.right;
  const { top, step } = axisScale(Math.max(0, ...bars.map((b) => b.value.hi)));
  const scale = (n: number) => (n / top) * plotW;
  const axisY = margin.top + rowH * bars.length;
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  const series = [{ name: chart.title, color: chart.color }];
  return html`<svg class="chart" id="${id}-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="${FONT}">
<title id="${id}-title">${chart.title}</title>
<desc id="${id}-desc">Bar chart; the same figures are in the table that follows. Hatched bars are ranges.</desc>
${hatchDefs(id, series)}
${ticks.map(
  (t) =>
    html`<g class="tick"><line x1="${round(margin.left + scale(t))}" x2="${round(margin.left + scale(t))}" y1="${margin.top}" y2="${axisY}" stroke="${t === 0 ? '#555555' : '#dddddd'}"/><text x="${round(margin.left + scale(t))}" y="${axisY + 16}" text-anchor="middle" font-size="11" fill="#444444">${numbers.format(t)}</text></g>`,
)}
${bars.map((b, i) => {
  const y = margin.top + i * rowH + 5;
  const h = rowH - 10;
  const xLo = margin.left + scale(b.value.lo);
  const xHi = margin.left + scale(b.value.hi);
  const solid =
    b.value.lo > 0
      ? html`<rect class="exact" x="${margin.left}" y="${y}" width="${round(xLo - margin.left)}" height="${h}" fill="${chart.color}"/>`
      : null;
  const uncertain = isRange(b.value)
    ? html`<rect class="range" x="${round(xLo)}" y="${y}" width="${round(xHi - xLo)}" height="${h}" fill="url(#${id}-hatch-0)" stroke="${chart.color}" stroke-dasharray="3 2"/>`
    : null;
  return html`<g class="bar"><title>${b.label}: ${intervalLabel(b.value)}${rangeNote(b.value, chart.threshold)}</title><text x="${margin.left - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-size="12" fill="#1a1a1a">${b.label}</text>${solid}${uncertain}<text x="${round(xHi + 6)}" y="${y + h / 2 + 4}" font-size="11" fill="#1a1a1a">${intervalLabel(b.value)}</text></g>`;
})}
</svg>`;
}

/** The legend under a chart (HTML, so it reads as text): one swatch per series and one for ranges. */
export function chartLegend(id: string, series: readonly ChartSeries[], threshold: number): SafeHtml {
  const swatch = (fill: string, extra: SafeHtml | null = null) =>
    html`<svg class="swatch" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">${extra}<rect x="0.5" y="0.5" width="13" height="13" fill="${fill}" stroke="#555555"/></svg>`;
  const hatch = html`<defs><pattern id="${id}-legend-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="2.5" height="6" fill="#555555"/></pattern></defs>`;
  return html`<ul class="legend">${series.map((s) => html`<li>${swatch(s.color)} ${s.name}</li>`)}<li>${swatch(`url(#${id}-legend-hatch)`, hatch)} a range: the exact count, below ${threshold}, is not published</li></ul>`;
}
