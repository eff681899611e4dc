/** SVG plots of a sparse run: sparsity and validation loss against step with decisions marked, and per-layer density bars. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UpdateRecord } from '../sparse/controller.ts';
import type { Masking } from '../sparse/masking.ts';
import { niceStep, niceTicks, tickLabel } from '../plot/ticks.ts';

export function readUpdates(path: string): UpdateRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as UpdateRecord);
}

const COLORS: Record<string, string> = { shrink: '#d62728', expand: '#2ca02c', stable: '#7f7f7f' };

export function sparsityCurveSvg(title: string, updates: UpdateRecord[]): string {
  const W = 720;
  const H = 380;
  const m = { l: 60, r: 70, t: 36, b: 44 };
  const steps = updates.map((u) => u.step);
  const x0 = Math.min(0, ...steps);
  const x1 = Math.max(1, ...steps);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - y * (H - m.t - m.b);
  const losses = updates.map((u) => u.val_loss).filter((v): v is number => v !== null && Number.isFinite(v));
  // Right axis (validation loss): 1-2-5 ticks over the losses seen, the axis widened to whole steps.
  const lt = niceTicks(Math.min(...losses), Math.max(...losses));
  const pl = (v: number) => py((v - lt.lo) / (lt.hi - lt.lo));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">step</text>`,
    `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">sparsity</text>`,
  ];
  for (let i = 0; i <= 5; i++) parts.push(`<text x="${m.l - 6}" y="${py(i / 5) + 4}" text-anchor="end" class="tick-y">${tickLabel(i / 5, 0.2)}</text>`, `<line x1="${m.l}" y1="${py(i / 5)}" x2="${W - m.r}" y2="${py(i / 5)}" stroke="#eee"/>`);
  // Steps are whole numbers: 1-2-5 ticks of at least 1 across the steps drawn.
  const xStep = Math.max(1, niceStep(x1 - x0));
  for (let x = Math.ceil(x0 / xStep) * xStep; x <= x1 + 1e-9; x += xStep) parts.push(`<text x="${px(x)}" y="${H - m.b + 16}" text-anchor="middle" class="tick-x">${tickLabel(x, xStep)}</text>`);
  if (losses.length) {
    for (const v of lt.values) parts.push(`<text x="${W - m.r + 6}" y="${pl(v) + 4}" fill="#1f77b4" class="tick-loss">${tickLabel(v, lt.step)}</text>`);
    parts.push(`<text x="${W - 10}" y="${H / 2}" transform="rotate(90 ${W - 10} ${H / 2})" text-anchor="middle" fill="#1f77b4">val loss (MSE, normalised)</text>`);
    const pts = updates.filter((u) => u.val_loss !== null).map((u) => `${px(u.step).toFixed(1)},${pl(u.val_loss!).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" stroke-dasharray="4 2" points="${pts}"/>`);
  }
  parts.push(`<polyline fill="none" stroke="#000" stroke-width="1.8" points="${updates.map((u) => `${px(u.step).toFixed(1)},${py(u.sparsity).toFixed(1)}`).join(' ')}"/>`);
  for (const u of updates) parts.push(`<circle cx="${px(u.step).toFixed(1)}" cy="${py(u.sparsity).toFixed(1)}" r="2.5" fill="${COLORS[u.decision] ?? '#9467bd'}"/>`);
  let ly = m.t + 6;
  for (const [name, c] of [['sparsity', '#000'], ['val loss (right scale)', '#1f77b4'], ...Object.entries(COLORS)]) {
    parts.push(`<circle cx="${m.l + 12}" cy="${ly}" r="4" fill="${c}"/><text x="${m.l + 20}" y="${ly + 4}">${name}</text>`);
    ly += 15;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function layerDensitySvg(title: string, masking: Masking): string {
  const rows = masking.layers.map((l) => [l.name, l.active / l.param.size] as const);
  const W = 760;
  const barH = 14;
  const H = 50 + rows.length * (barH + 4);
  const left = 380;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
  ];
  rows.forEach(([name, d], i) => {
    const y = 36 + i * (barH + 4);
    parts.push(`<text x="${left - 6}" y="${y + barH - 3}" text-anchor="end">${name}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${((W - left - 60) * d).toFixed(1)}" height="${barH}" fill="#1f77b4"/>`);
    parts.push(`<text x="${left + (W - left - 60) * d + 4}" y="${y + barH - 3}">${(d * 100).toFixed(1)}%</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function writeSparsityPlots(out: string, updates: UpdateRecord[], masking: Masking, model: string): void {
  writeFileSync(join(out, 'sparsity.svg'), sparsityCurveSvg(`${model}: sparsity and validation loss per update`, updates));
  writeFileSync(join(out, 'layer-density.svg'), layerDensitySvg(`${model}: density per layer (final)`, masking));
}
