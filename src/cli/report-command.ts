/**
 * `sparsecast report --out DIR`: one self-contained HTML page, `DIR/report.html`, from a training run's --out
 * folder — first a summary in words and one table (test error against the naive baseline, sparsity, FLOPs,
 * speed and model-file size against the dense twin: report-summary.ts), then the result JSON as a table, loss curves (log.jsonl), the sparsity curve with the controller's
 * decisions (sparsity.jsonl), per-layer density (the final masks in model.safetensors, else the last update),
 * the forecast-vs-truth plots the run drew, and the run's configuration. Inline SVG and CSS only: no scripts to
 * run, no external assets (the result also sits in a `<script type="application/json">` data block).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './flags.ts';
import { REPORT } from './commands.ts';
import { lineChart } from './svg-plot.ts';
import { modelFileSizes, summarySection } from './report-summary.ts';
import { readModelWeights } from '../io/model-weights.ts';
import { densityBarsSvg, esc, sparsityChartSvg, DECISION_COLORS } from '../web/charts.ts';
import type { EpochLog } from '../train/trainer.ts';
import type { UpdateRecord } from '../sparse/controller.ts';

type Json = Record<string, unknown>;

function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').map((l, i) => [l.trim(), i + 1] as const).filter(([l]) => l !== '').map(([l, line]) => {
    try {
      return JSON.parse(l) as T;
    } catch (e) {
      throw new Error(`sparsecast report: ${path}:${line}: not a JSON line (${(e as Error).message})`);
    }
  });
}

/** result.json (train writes it beside result.txt); else the metrics of result.txt's last entry. */
function readResult(dir: string): Json | null {
  const json = join(dir, 'result.json');
  if (existsSync(json)) return JSON.parse(readFileSync(json, 'utf8')) as Json;
  const txt = join(dir, 'result.txt');
  if (!existsSync(txt)) return null;
  const lines = readFileSync(txt, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const metrics = lines.filter((l) => l.startsWith('mse:')).pop();
  if (!metrics) return null;
  const out: Json = { setting: lines[lines.indexOf(metrics) - 1]?.trim() ?? '' };
  for (const part of metrics.split(',')) {
    const [k, v] = part.split(':').map((s) => s.trim());
    if (k) out[k] = Number(v);
  }
  return out;
}

/** Final density of each masked layer: mask ones / size from model.safetensors (no mask stored: dense). */
function finalDensities(dir: string, layers: string[]): Record<string, number> | null {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path) || layers.length === 0) return null;
  // Checksum verified (a corrupt file is refused); the values are only counted here, so they are not checked.
  const file = readModelWeights(path, { values: false });
  const out: Record<string, number> = {};
  for (const name of layers) {
    const m = file.tensors.get(`mask.${name}`);
    if (!m) {
      out[name] = 1;
      continue;
    }
    let ones = 0;
    for (let i = 0; i < m.data.length; i++) if (m.data[i]) ones++;
    out[name] = +(ones / m.data.length).toFixed(6);
  }
  return out;
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(+v.toPrecision(6));
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function table(rows: [string, unknown][], id?: string): string {
  return `<table${id ? ` id="${id}"` : ''}><tbody>\n${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(fmt(v))}</td></tr>`).join('\n')}\n</tbody></table>`;
}

/** Nested config as dotted keys; long arrays (scaler statistics) summarised. */
function flatten(o: Json, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v as Json, key));
    else if (Array.isArray(v) && v.length > 8) out.push([key, `[${v.slice(0, 4).map(fmt).join(', ')}, … ${v.length} values]`]);
    else out.push([key, v]);
  }
  return out;
}

/** An SVG file the run wrote, for inlining (only a plain <svg> document; anything else is skipped). */
function inlineSvg(path: string): string | null {
  const text = readFileSync(path, 'utf8').replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
  if (!text.startsWith('<svg') || /<script|<foreignObject|\bon\w+\s*=|href\s*=\s*["'](?!#)/i.test(text)) return null;
  return text;
}

const CSS = `
body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d232b;background:#f6f7f9}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #d9dee3}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#66707a}
main{padding:8px 24px 32px;max-width:1400px}
section{background:#fff;border:1px solid #d9dee3;border-radius:6px;padding:12px 16px;margin:14px 0}
section h2{font-size:16px;margin:0 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px} th,td{padding:3px 10px;border-bottom:1px solid #eef0f2;text-align:left;vertical-align:top}
th{color:#66707a;font-weight:600} td{font-variant-numeric:tabular-nums}
.note{color:#66707a}
.pill{display:inline-block;padding:0 8px;border-radius:9px;color:#fff;font-size:12px;margin-right:6px}
details summary{cursor:pointer;color:#66707a}
`;

export interface ReportSummary {
  path: string;
  sections: string[];
}

/** Build DIR/report.html from a run folder; returns its path and the sections it has data for. */
export async function writeReport(dir: string): Promise<ReportSummary> {
  if (!existsSync(dir)) throw new Error(`sparsecast report: ${dir} does not exist`);
  const configPath = join(dir, 'config.json');
  const config = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as Json) : null;
  const log = readJsonLines<EpochLog>(join(dir, 'log.jsonl'));
  const updates = readJsonLines<UpdateRecord>(join(dir, 'sparsity.jsonl'));
  const result = readResult(dir);
  if (!config && !log.length && !result) {
    throw new Error(`sparsecast report: ${dir} has no config.json, log.jsonl or result file (is it the --out folder of sparsecast train?)`);
  }
  const model = String(result?.model ?? config?.model ?? 'model');
  const data = String(result?.data ?? String(config?.data ?? '').split(/[\\/]/).pop() ?? '');
  const method = String(result?.method ?? (config?.sparse as Json | undefined)?.method ?? 'dense');
  const has: string[] = [];
  const sections: string[] = [];

  // Summary: what a reader came for, before the raw keys.
  if (result) {
    has.push('summary');
    sections.push(summarySection(result, await modelFileSizes(dir)));
  }

  // Result
  if (result) {
    has.push('result');
    const data = JSON.stringify(result).replace(/</g, '\\u003c');
    sections.push(`<section id="result"><h2>Result</h2>\n${table(Object.entries(result), 'result-table')}\n<script type="application/json" id="result-json">${data}</script></section>`);
  } else {
    sections.push('<section id="result"><h2>Result</h2><p class="note">No result file yet (the run has not finished, or was interrupted).</p></section>');
  }

  // Loss curves
  if (log.length) {
    has.push('loss');
    const x = log.map((h) => h.epoch);
    const svg = lineChart(`${model} on ${data}: loss per epoch`, [
      { name: 'train', values: log.map((h) => h.train_loss), x, color: '#1f77b4' },
      { name: 'val', values: log.map((h) => h.val_loss), x, color: '#ff7f0e' },
      { name: 'test', values: log.map((h) => h.test_loss), x, color: '#2ca02c', dashed: true },
    ], { xLabel: 'epoch', yLabel: 'MSE (normalised)' });
    const rows = log.map((h) => `<tr><td>${h.epoch}</td><td>${fmt(h.train_loss)}</td><td>${fmt(h.val_loss)}</td><td>${fmt(h.test_loss)}</td><td>${h.lr.toExponential(2)}</td><td>${h.seconds.toFixed(1)}</td></tr>`);
    sections.push(`<section id="loss"><h2>Loss</h2>\n<div class="grid"><div>${svg}</div>\n<div><table><thead><tr><th>epoch</th><th>train</th><th>val</th><th>test</th><th>lr</th><th>s</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div></div></section>`);
  } else {
    sections.push('<section id="loss"><h2>Loss</h2><p class="note">No log.jsonl (no epoch finished).</p></section>');
  }

  // Sparsity curve with decisions
  if (updates.length) {
    has.push('sparsity');
    const counts = new Map<string, number>();
    for (const u of updates) counts.set(u.decision, (counts.get(u.decision) ?? 0) + 1);
    const pills = [...counts].map(([d, n]) => `<span class="pill" style="background:${DECISION_COLORS[d] ?? '#9467bd'}">${esc(d)} × ${n}</span>`).join('');
    const last = updates[updates.length - 1]!;
    const svg = sparsityChartSvg(`${model} (${method}): sparsity per topology update`, updates, { width: 760, height: 360 });
    sections.push(`<section id="sparsity"><h2>Sparsity</h2>\n<p>${updates.length} updates · ${pills} · final sparsity ${fmt(last.sparsity)} (masked layers ${fmt(last.masked_sparsity)})</p>\n${svg}</section>`);
  } else {
    sections.push(`<section id="sparsity"><h2>Sparsity</h2><p class="note">No topology updates recorded (${esc(method)} run${method === 'dense' ? ': every layer stays dense' : ''}).</p></section>`);
  }

  // Per-layer density
  const lastLayers = updates.length ? updates[updates.length - 1]!.layers : null;
  const finals = lastLayers ? finalDensities(dir, Object.keys(lastLayers)) ?? lastLayers : null;
  if (finals) {
    has.push('density');
    sections.push(`<section id="density"><h2>Per-layer density</h2>\n${densityBarsSvg(`${model}: fraction of weights kept per layer (final)`, finals, { width: 900 })}</section>`);
  } else {
    sections.push('<section id="density"><h2>Per-layer density</h2><p class="note">Dense run: every layer keeps 100% of its weights.</p></section>');
  }

  // Forecast plots (drawn by train from the best weights)
  const plots = readdirSync(dir).filter((f) => /^forecast-\d+\.svg$/.test(f)).sort((a, b) => parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10));
  const svgs = plots.map((f) => inlineSvg(join(dir, f))).filter((s): s is string => s !== null);
  if (svgs.length) {
    has.push('forecast');
    sections.push(`<section id="forecast"><h2>Forecast vs truth</h2>\n<p class="note">The target column in three test windows, drawn by train from the best weights: history, truth and forecast in the data's own units.</p>\n<div class="grid">${svgs.map((s) => `<div>${s}</div>`).join('\n')}</div></section>`);
  } else {
    sections.push('<section id="forecast"><h2>Forecast vs truth</h2><p class="note">No forecast plots in this folder.</p></section>');
  }

  // Configuration
  if (config) {
    has.push('config');
    sections.push(`<section id="config"><h2>Configuration</h2><details><summary>config.json (${Object.keys(config).length} entries)</summary>\n${table(flatten(config))}\n</details></section>`);
  }

  const title = `sparsecast report: ${model} on ${data} (${method})`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(title)}</h1><p>${log.length} epochs · ${updates.length} topology updates${result && typeof result.mse === 'number' ? ` · test MSE ${fmt(result.mse)}` : ''}${result && typeof result.sparsity === 'number' ? ` · sparsity ${fmt(result.sparsity)}` : ''}</p></header>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
  const path = join(dir, 'report.html');
  writeFileSync(path, html);
  return { path, sections: has };
}

export async function reportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(REPORT, argv);
  const dir = (args.flags.get('out') ?? args.command)!;
  const { path, sections } = await writeReport(dir);
  console.log(JSON.stringify({ report: path, sections }));
}
