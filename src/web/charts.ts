/**
 * Dependency-free SVG charts shared by the browser demo and the HTML report (pure functions returning SVG
 * text; no DOM, no Node). Loss and forecast curves use the CLI's lineChart; these two add the sparsity curve
 * with the controller's decisions marked and per-layer density bars.
 */
import { lineChart, type Series } from '../plot/line-chart.ts';
import { niceStep, niceTicks, tickLabel } from '../plot/ticks.ts';

export const DECISION_COLORS: Record<string, string> = { shrink: '#d62728', expand: '#2ca02c', stable: '#7f7f7f' };
const OTHER_DECISION = '#9467bd';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An empty chart frame with a message (before the first data arrives). */
export function placeholderSvg(title: string, message: string, W = 640, H = 300): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#999">${esc(message)}</text>`,
    '</svg>',
  ].join('\n');
}

/** lineChart, or a placeholder when no series has a finite value yet. */
export function curveSvg(title: string, series: Series[], opts: { width?: number; height?: number; xLabel?: string; yLabel?: string } = {}): string {
  const any = series.some((s) => s.values.some(Number.isFinite));
  return any ? lineChart(title, series.filter((s) => s.values.length > 0), opts) : placeholderSvg(title, 'waiting for data…', opts.width, opts.height);
}

export interface SparsitySample {
  step: number;
  sparsity: number;
  decision: string | null;
  val_loss: number | null;
}

/**
 * Overall sparsity (left axis, 0–1) against training step, with each controller decision marked (PALS:
 * shrink ▼ red, expand ▲ green, stable ● grey; other methods' topology updates ◆ purple), and the
 * validation loss the decisions saw (dashed, right axis).
 */
export function sparsityChartSvg(title: string, samples: SparsitySample[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 300;
  if (samples.length === 0) return placeholderSvg(title, 'waiting for data…', W, H);
  const pts = [...samples].sort((a, b) => a.step - b.step);
  const m = { l: 56, r: 64, t: 52, b: 40 };
  const x1 = Math.max(1, ...pts.map((p) => p.step));
  const px = (x: number) => m.l + (x / x1) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - y * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">step</text>`,
    `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">sparsity</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = i / 5;
    parts.push(`<line x1="${m.l}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end" class="tick-y">${tickLabel(y, 0.2)}</text>`);
  }
  // Steps are whole numbers: 1-2-5 ticks of at least 1 from 0 to the last step.
  const xStep = Math.max(1, niceStep(x1));
  for (let x = 0; x <= x1 + 1e-9; x += xStep) parts.push(`<text x="${px(x)}" y="${H - m.b + 15}" text-anchor="middle" class="tick-x">${tickLabel(x, xStep)}</text>`);
  const losses = pts.filter((p) => p.val_loss !== null && Number.isFinite(p.val_loss));
  if (losses.length > 0) {
    // Right axis (validation loss): its own 1-2-5 ticks over the losses seen, the axis widened to whole steps.
    const lt = niceTicks(Math.min(...losses.map((p) => p.val_loss!)), Math.max(...losses.map((p) => p.val_loss!)));
    const pl = (v: number) => py((v - lt.lo) / (lt.hi - lt.lo));
    parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" stroke-dasharray="4 2" points="${losses.map((p) => `${px(p.step).toFixed(1)},${pl(p.val_loss!).toFixed(1)}`).join(' ')}"/>`);
    for (const v of lt.values) parts.push(`<text x="${W - m.r + 4}" y="${pl(v) + 4}" fill="#1f77b4" class="tick-loss">${tickLabel(v, lt.step)}</text>`);
  }
  parts.push(`<polyline fill="none" stroke="#111" stroke-width="2" points="${pts.map((p) => `${px(p.step).toFixed(1)},${py(p.sparsity).toFixed(1)}`).join(' ')}"/>`);
  for (const p of pts) {
    if (p.decision === null) continue;
    const x = px(p.step);
    const y = py(p.sparsity);
    const c = DECISION_COLORS[p.decision] ?? OTHER_DECISION;
    const shape = p.decision === 'shrink' ? `<path d="M${(x - 5).toFixed(1)},${(y - 4).toFixed(1)} h10 l-5,8 z"` // ▼
      : p.decision === 'expand' ? `<path d="M${(x - 5).toFixed(1)},${(y + 4).toFixed(1)} h10 l-5,-8 z"` // ▲
      : p.decision === 'stable' ? `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4"`
      : `<path d="M${x.toFixed(1)},${(y - 5).toFixed(1)} l5,5 l-5,5 l-5,-5 z"`; // ◆
    parts.push(`${shape} fill="${c}" class="decision" data-decision="${esc(p.decision)}"><title>step ${p.step}: ${esc(p.decision)}, sparsity ${p.sparsity.toFixed(4)}</title>${shape.startsWith('<circle') ? '</circle>' : '</path>'}`);
  }
  const used = new Set(pts.map((p) => p.decision).filter((d): d is string => d !== null));
  const legend: [string, string][] = [['sparsity', '#111']];
  if (losses.length) legend.push(['val loss (right)', '#1f77b4']);
  for (const d of used) legend.push([d, DECISION_COLORS[d] ?? OTHER_DECISION]);
  // One row under the title, above the plot area.
  let lx = m.l;
  for (const [name, c] of legend) {
    parts.push(`<rect x="${lx}" y="${m.t - 19}" width="10" height="10" fill="${c}"/><text x="${lx + 14}" y="${m.t - 10}">${esc(name)}</text>`);
    lx += 24 + 6.5 * name.length;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Horizontal bars: the fraction of weights kept in each masked layer. */
export function densityBarsSvg(title: string, layers: Record<string, number>, opts: { width?: number } = {}): string {
  const rows = Object.entries(layers);
  const W = opts.width ?? 640;
  if (rows.length === 0) return placeholderSvg(title, 'no masked layers yet', W, 120);
  const barH = 12;
  const gap = 4;
  const H = 44 + rows.length * (barH + gap);
  const left = Math.min(300, 12 + 6.2 * Math.max(...rows.map(([n]) => n.length)));
  const span = W - left - 60;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  rows.forEach(([name, d], i) => {
    const y = 34 + i * (barH + gap);
    const shown = name.length > 48 ? `…${name.slice(-47)}` : name;
    parts.push(`<text x="${left - 6}" y="${y + barH - 2}" text-anchor="end">${esc(shown)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${span}" height="${barH}" fill="#f0f0f0"/>`);
    parts.push(`<rect x="${left}" y="${y}" width="${(span * Math.max(0, Math.min(1, d))).toFixed(1)}" height="${barH}" fill="#1f77b4" class="density-bar"><title>${esc(name)}: ${(d * 100).toFixed(1)}%</title></rect>`);
    parts.push(`<text x="${left + span + 4}" y="${y + barH - 2}">${(d * 100).toFixed(1)}%</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** History, truth and forecast of one window (x: time steps, the forecast starting at seqLen). */
export function forecastSvg(title: string, history: number[], truth: number[], forecast: number[], opts: { width?: number; height?: number; yLabel?: string; xLabel?: string } = {}): string {
  const xs = truth.map((_, t) => history.length + t);
  return curveSvg(title, [
    { name: 'history', values: history, color: '#555555' },
    { name: 'truth', values: truth, x: xs, color: '#2ca02c' },
    { name: 'forecast', values: forecast, x: xs, color: '#d62728', dashed: true },
  ], { xLabel: opts.xLabel ?? 'time step', yLabel: opts.yLabel ?? 'value', width: opts.width, height: opts.height });
}
