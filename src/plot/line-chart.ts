/** A small, dependency-free SVG line chart for loss curves and forecasts (the CLI, the report and the demo). */
import { niceStep, niceTicks, tickLabel } from './ticks.ts';

export interface Series {
  name: string;
  values: number[];
  /** x positions; defaults to 0, 1, 2, … */
  x?: number[];
  color: string;
  dashed?: boolean;
  /**
   * Draw each point as a marker and no line: for series whose points are separate observations (runs on
   * different data sets in a study's scatter), where a line between them would suggest an order that is not there.
   */
  points?: boolean;
}

export function lineChart(title: string, series: Series[], opts: { width?: number; height?: number; xLabel?: string; yLabel?: string } = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 360;
  const m = { l: 60, r: 140, t: 36, b: 44 };
  const xs = series.flatMap((s) => s.x ?? s.values.map((_, i) => i));
  const ys = series.flatMap((s) => s.values).filter(Number.isFinite);
  // y: 1-2-5 ticks, the axis widened to whole steps; x: ticks inside the data's range (whole numbers when the
  // x values are: epochs and time steps), a lone x value centred.
  const yt = niceTicks(Math.min(...ys), Math.max(...ys));
  const [y0, y1] = [yt.lo, yt.hi];
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const integerX = xs.every(Number.isInteger);
  const xStep = integerX ? Math.max(1, niceStep(x1 - x0)) : niceStep(x1 - x0);
  const xTicks: number[] = [];
  for (let k = Math.ceil(x0 / xStep - 1e-9); k * xStep <= x1 + 1e-9 * xStep; k++) xTicks.push(k * xStep);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ];
  for (const y of yt.values) {
    parts.push(`<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end" class="tick-y">${tickLabel(y, yt.step)}</text>`);
    parts.push(`<line x1="${m.l}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#eee"/>`);
  }
  for (const x of xTicks) parts.push(`<text x="${px(x)}" y="${H - m.b + 16}" text-anchor="middle" class="tick-x">${tickLabel(x, xStep)}</text>`);
  if (opts.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  series.forEach((s, k) => {
    const pts = s.values
      .map((v, i) => [s.x?.[i] ?? i, v] as const)
      .filter(([, v]) => Number.isFinite(v))
      .map(([x, v]) => `${px(x).toFixed(1)},${py(v).toFixed(1)}`)
      .join(' ');
    const finite = s.values.filter(Number.isFinite).length;
    // A line needs two points: a series with one finite value (one epoch so far) is drawn as a dot.
    if (finite === 1 || s.points) {
      for (const p of pts ? pts.split(' ') : []) {
        const [x, y] = p.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${s.color}" class="point"/>`);
      }
    } else if (finite > 1) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"/>`);
    }
    const ly = m.t + 16 * k + 8;
    parts.push(s.points
      ? `<circle cx="${W - m.r + 20}" cy="${ly}" r="3.5" fill="${s.color}"/>`
      : `<line x1="${W - m.r + 10}" y1="${ly}" x2="${W - m.r + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${W - m.r + 36}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
