import type { GrowthPath, GrowthResult, GrowthSeries } from './growth.js';
import { GROWTH_PATHS, growthExponent } from './growth.js';

/**
 * One growth chart as a standalone SVG file: size on a logarithmic x axis, time on a
 * logarithmic y axis, so a flat line is constant time and a slope of one decade per
 * decade is linear. Each store is a solid line, its baseline of the same run the same
 * colour dashed. No library: a few dozen elements.
 */

const WIDTH = 680;
const HEIGHT = 340;
const MARGIN = { left: 64, right: 180, top: 40, bottom: 48 };
const COLOURS: Record<string, string> = { sqlite: '#1f6feb', postgres: '#b35900', memory: '#2e7d32' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

function label(v: number): string {
  if (v >= 1_000_000) return `${v / 1_000_000}M`;
  if (v >= 1_000) return `${v / 1_000}k`;
  if (v >= 1) return String(v);
  return v.toString();
}

export function growthChartSvg(path: GrowthPath, all: GrowthSeries[]): string {
  const series = all.filter((s) => s.path === path && s.points.length > 0);
  const meta = GROWTH_PATHS[path];
  const sizes = series.flatMap((s) => s.points.map((p) => p.size));
  const times = series.flatMap((s) => s.points.flatMap((p) => [p.ms, p.baselineMs])).filter((t) => t > 0);
  const xTicks = decades(Math.min(...sizes), Math.max(...sizes));
  const yTicks = decades(Math.min(...times), Math.max(...times));
  const [x0, x1] = [Math.log10(xTicks[0]!), Math.log10(xTicks.at(-1)!)];
  const [y0, y1] = [Math.log10(yTicks[0]!), Math.log10(yTicks.at(-1)!)];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((Math.log10(Math.max(v, 10 ** y0)) - y0) / (y1 - y0 || 1)) * plotH;
  const el: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(`${meta.title}: ${meta.timed} by ${meta.size}`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">${esc(meta.title)}</text>`,
  ];
  for (const t of xTicks) {
    el.push(
      `<line x1="${x(t)}" y1="${MARGIN.top}" x2="${x(t)}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`,
      `<text x="${x(t)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  for (const t of yTicks) {
    el.push(
      `<line x1="${MARGIN.left}" y1="${y(t)}" x2="${MARGIN.left + plotW}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(t) + 4}" text-anchor="end">${t >= 1 ? label(t) : t.toPrecision(1)}</text>`,
    );
  }
  el.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${esc(meta.size)} (log)</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">ms (log)</text>`,
  );
  let legendY = MARGIN.top + 8;
  for (const s of series) {
    const colour = COLOURS[s.store] ?? '#555';
    const line = (pick: (p: (typeof s.points)[number]) => number) =>
      s.points.map((p) => `${x(p.size).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ');
    el.push(
      `<polyline points="${line((p) => p.ms)}" fill="none" stroke="${colour}" stroke-width="2"/>`,
      `<polyline points="${line((p) => p.baselineMs)}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
      ...s.points.map(
        (p) => `<circle cx="${x(p.size).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="3" fill="${colour}"/>`,
      ),
    );
    const k = growthExponent(s.points);
    const lx = MARGIN.left + plotW + 12;
    el.push(
      `<line x1="${lx}" y1="${legendY}" x2="${lx + 20}" y2="${legendY}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${legendY + 4}">${esc(s.store)}${k === null ? '' : ` (k ≈ ${k.toFixed(2)})`}</text>`,
      `<line x1="${lx}" y1="${legendY + 16}" x2="${lx + 20}" y2="${legendY + 16}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
      `<text x="${lx + 26}" y="${legendY + 20}">${esc(meta.baseline)}</text>`,
    );
    legendY += 40;
  }
  el.push('</svg>');
  return `${el.join('\n')}\n`;
}

/** Every path the result holds, in a fixed order. */
export function growthPaths(r: GrowthResult): GrowthPath[] {
  const order: GrowthPath[] = [
    'lookup',
    'queue',
    'intake',
    'transparencyQuarter',
    'transparencyDsaYear',
    'matching',
    'scanning',
  ];
  return order.filter((p) => r.series.some((s) => s.path === p && s.points.length > 0));
}
