/**
 * `sparsecast report --out DIR`: trains a tiny PALS run through the CLI (scripts/dev-cli.ts, as `npx tsx`
 * would), turns its --out folder into report.html, and checks the page: one self-contained document (no
 * external assets, no executable script), well-formed (balanced tags), with the result table and its JSON data
 * block equal to the run's result line, loss curves, the sparsity curve with decisions marked, per-layer density
 * and the forecast plots. The opening summary: its numbers equal result.json's, the model-file sizes equal
 * `sparsecast export`'s with and without CSR, and it says so plainly when sparse is slower or worse. The
 * forecast plots are in raw units (ETTh1's OT in °C, read back from the drawn line) with each axis's unit
 * named. Also: a dense run's report and a folder that is not a run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarySection } from '../src/cli/report-summary.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dev-cli.ts', ...args], { cwd: root, encoding: 'utf8' });
const TINY = [
  '--data', 'data/ETTh1.csv', '--backend', 'wasm', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16',
  '--n_heads', '2', '--e_layers', '1', '--d_ff', '32', '--train_epochs', '2', '--max_train_batches', '8',
];

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** Balanced tags (HTML void elements and `/>` self-closing SVG elements allowed); returns the problems. */
function tagProblems(html: string): string[] {
  const body = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(style|script)\b([^>]*)>[\s\S]*?<\/\1>/gi, '<$1$2></$1>');
  const stack: string[] = [];
  const problems: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const [, close, rawName, rest] = m;
    const name = rawName!.toLowerCase();
    if (close) {
      const top = stack.pop();
      if (top !== name) problems.push(`</${name}> closes <${top ?? 'nothing'}> at offset ${m.index}`);
    } else if (!VOID.has(name) && !rest!.trimEnd().endsWith('/')) {
      stack.push(name);
    }
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  return problems;
}

describe('sparsecast report', () => {
  let dir: string;
  let trainJson: Record<string, unknown>;
  let html: string;
  let reportOut: Record<string, unknown>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sparsecast-report-'));
    const run = join(dir, 'pals');
    const t = cli(['train', ...TINY, '--method', 'pals', '--update_freq', '2', '--val_batches', '2', '--out', run]);
    if (t.status !== 0) throw new Error(`train failed (${t.status}): ${t.stderr}`);
    trainJson = JSON.parse(t.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    const r = cli(['report', '--out', run]);
    if (r.status !== 0) throw new Error(`report failed (${r.status}): ${r.stderr}`);
    reportOut = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    html = readFileSync(join(run, 'report.html'), 'utf8');
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('train writes result.json equal to its stdout line', () => {
    expect(JSON.parse(readFileSync(join(dir, 'pals', 'result.json'), 'utf8'))).toEqual(trainJson);
  });

  it('writes DIR/report.html and names the sections it filled', () => {
    expect(reportOut.report).toBe(join(dir, 'pals', 'report.html'));
    expect(reportOut.sections).toEqual(['summary', 'result', 'loss', 'sparsity', 'density', 'forecast', 'config']);
  });

  it('is one well-formed, self-contained HTML document', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(tagProblems(html)).toEqual([]);
    expect(html.match(/<html\b/g)).toHaveLength(1);
    // Nothing fetched, nothing executed.
    expect(html).not.toMatch(/\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/href\s*=\s*["'](?!#)/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!.trim());
    expect(scripts).toEqual(['type="application/json" id="result-json"']);
  });

  it('has the result as a table and as JSON equal to the run result', () => {
    const data = html.match(/<script type="application\/json" id="result-json">([\s\S]*?)<\/script>/)![1]!;
    expect(JSON.parse(data)).toEqual(trainJson);
    const resultTable = html.match(/<table id="result-table">([\s\S]*?)<\/table>/)![1]!;
    for (const key of ['model', 'mse', 'mae', 'sparsity', 'nnz', 'method']) expect(resultTable).toContain(`<th>${key}</th>`);
    expect(resultTable).toContain('<td>Transformer</td>');
    expect(resultTable).toContain('<td>pals</td>');
  });

  const section = (id: string): string => {
    const m = html.match(new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`));
    expect(m, `section #${id}`).not.toBeNull();
    return m![1]!;
  };

  it('opens with a summary whose numbers are the run result, before the raw keys', () => {
    expect(html.indexOf('<section id="summary">')).toBeGreaterThan(0);
    expect(html.indexOf('<section id="summary">')).toBeLessThan(html.indexOf('<section id="result">'));
    const s = section('summary');
    const cells = new Map([...s.matchAll(/data-key="(\w+)" data-value="([^"]*)"/g)].map((m) => [m[1]!, Number(m[2])]));
    const fromResult = ['mse', 'naive_mse', 'mae', 'naive_mae', 'sparsity', 'flops_sparse', 'flops_dense', 'infer_ms_sparse', 'infer_ms_dense', 'step_ms_sparse', 'step_ms_dense'];
    for (const k of fromResult) expect(cells.get(k), k).toBe(trainJson[k]);
    // The words carry the same numbers as the table: MSE, the baseline's, FLOPs (thousands separated).
    const words = s.match(/<p>([\s\S]*?)<\/p>/)![1]!;
    expect(words).toContain(String(+(trainJson.mse as number).toPrecision(4)));
    expect(words).toContain(String(+(trainJson.naive_mse as number).toPrecision(4)));
    expect(words).toContain((trainJson.flops_sparse as number).toLocaleString('en-US'));
    // File sizes: the .sc that `sparsecast export` writes at the default CSR threshold and with every layer dense.
    for (const [threshold, key] of [['0.5', 'file_bytes_sparse'], ['0', 'file_bytes_dense']] as const) {
      const e = cli(['export', '--checkpoint', join(dir, 'pals'), '--out', join(dir, `t${threshold}.sc`), '--csr_threshold', threshold]);
      expect(e.status, e.stderr).toBe(0);
      expect(cells.get(key), key).toBe((JSON.parse(e.stdout.trim()) as { bytes: number }).bytes);
    }
  }, 60_000);

  it('says plainly when sparse is slower, larger or worse than the baseline', () => {
    const r = { model: 'Transformer', data: 'ETTh1.csv', method: 'pals', backend: 'wasm', mse: 0.9, naive_mse: 0.8, mae: 0.7, naive_mae: 0.6,
      sparsity: 0.5, params: 1000, flops_dense: 2000, flops_sparse: 1200, infer_ms_dense: 5, infer_ms_sparse: 6, step_ms_dense: 10, step_ms_sparse: 8 };
    const s = summarySection(r, { sparse: 1100, dense: 1000, csr: 2, threshold: 0.5 });
    expect(s).toContain('<strong>worse than the naive forecast</strong>');
    expect(s).toContain("<strong>worse than the naive forecast's</strong>");
    expect(s).toMatch(/predict one test batch: <strong>slower<\/strong> with sparse execution \(6 ms against 5 ms dense\)/);
    expect(s).toContain('1.25× faster'); // the training step: 10 / 8
    expect(s).toContain('<strong>10% larger</strong>');
    expect(s).toContain('40% saved'); // FLOPs
    const better = summarySection({ ...r, mse: 0.4, mae: 0.3, infer_ms_sparse: 4 }, { sparse: 800, dense: 1000, csr: 2, threshold: 0.5 });
    expect(better).not.toMatch(/worse|slower|larger/);
    expect(better).toContain('50% below the naive forecast');
    expect(better).toContain('20% smaller');
    // No layer ran as CSR: the two timings ran the same code; the summary calls neither faster nor slower.
    const same = summarySection({ ...r, csr_layers: 0 }, { sparse: 1008, dense: 1000, csr: 0, threshold: 0.5 });
    expect(same).toContain('both timings ran the same dense code and differ only by measurement noise');
    expect(same).not.toMatch(/slower|faster|larger/);
    expect(same).toContain('the 8-byte difference is the header recording the CSR threshold');
  });

  it('draws the forecasts in raw units with each axis unit named', () => {
    const s = section('forecast');
    const first = s.match(/<svg[\s\S]*?<\/svg>/)![0];
    expect(first).toContain('>OT: oil temperature (°C)</text>');
    expect(first).toContain('>time step (1 step = 1 h)</text>');
    // Test window 0 of ETTh1 (TSLib borders): history = OT of rows [11520 − 48, 11520), truth = the next 24.
    const rows = readFileSync(join(root, 'data', 'ETTh1.csv'), 'utf8').trim().split('\n').slice(1);
    const ot = (r: number) => Number(rows[r]!.split(',').pop());
    const history = Array.from({ length: 48 }, (_, t) => ot(11472 + t));
    const truth = Array.from({ length: 24 }, (_, t) => ot(11520 + t));
    // Read the drawn values back: y pixels → values through two labelled ticks (a tick's text sits 4 px below it).
    const ticks = [...first.matchAll(/y="([\d.]+)" text-anchor="end" class="tick-y">([^<]+)</g)].map((m) => [Number(m[1]) - 4, Number(m[2])] as const);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    const [[p0, v0], [p1, v1]] = [ticks[0]!, ticks.at(-1)!];
    const value = (py: number) => v0 + ((py - p0) * (v1 - v0)) / (p1 - p0);
    const line = (color: string) => first.match(new RegExp(`<polyline[^>]*stroke="${color}"[^>]*points="([^"]*)"`))![1]!.trim().split(/\s+/).map((p) => value(Number(p.split(',')[1])));
    const span = Math.abs(v1 - v0);
    const drawnHistory = line('#555');
    const drawnTruth = line('#2ca02c');
    expect(drawnHistory).toHaveLength(48);
    drawnHistory.forEach((v, t) => expect(Math.abs(v - history[t]!), `history ${t}: drawn ${v}, data ${history[t]}`).toBeLessThan(0.002 * span + 1e-3));
    drawnTruth.forEach((v, t) => expect(Math.abs(v - truth[t]!), `truth ${t}: drawn ${v}, data ${truth[t]}`).toBeLessThan(0.002 * span + 1e-3));
    // Not z-scores: ETTh1's OT there is a temperature of several °C.
    expect(Math.max(...history)).toBeGreaterThan(4);
  });

  it('plots the loss curves of every epoch', () => {
    const s = section('loss');
    expect(s).toContain('<svg');
    const polylines = [...s.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.trim().split(/\s+/).length);
    expect(polylines).toEqual([2, 2, 2]); // train, val, test over 2 epochs
    expect(s.match(/<tr><td>\d+<\/td>/g)).toHaveLength(2);
  });

  it('plots the sparsity curve with every PALS decision marked', () => {
    const s = section('sparsity');
    const records = readFileSync(join(dir, 'pals', 'sparsity.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { decision: string });
    expect(records.length).toBeGreaterThan(3);
    const marks = [...s.matchAll(/data-decision="(\w+)"/g)].map((m) => m[1]);
    expect(marks).toEqual(records.map((r) => r.decision));
    expect(s).toMatch(/\d+ updates/);
  });

  it('shows the final density of every masked layer', () => {
    const s = section('density');
    const records = readFileSync(join(dir, 'pals', 'sparsity.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { layers: Record<string, number> });
    const layers = Object.keys(records.at(-1)!.layers);
    expect(s.match(/class="density-bar"/g)).toHaveLength(layers.length);
    expect(s).toContain(`<title>${layers[0]}:`);
  });

  it('inlines the forecast-vs-truth plots', () => {
    const s = section('forecast');
    expect(s.match(/<svg/g)).toHaveLength(3);
    expect(s).toContain('forecast');
    expect(s).toContain('truth');
  });

  it('reports a dense run (no topology updates) and refuses a folder that is not a run', () => {
    const dense = join(dir, 'dense');
    const t = cli(['train', ...TINY, '--train_epochs', '1', '--max_train_batches', '3', '--out', dense]);
    expect(t.status, t.stderr).toBe(0);
    const r = cli(['report', '--out', dense]);
    expect(r.status, r.stderr).toBe(0);
    const page = readFileSync(join(dense, 'report.html'), 'utf8');
    expect(tagProblems(page)).toEqual([]);
    expect(page).toContain('every layer stays dense');
    const summary = page.match(/<section id="summary">([\s\S]*?)<\/section>/)![1]!;
    expect(summary).toContain('A dense run: every weight is kept');
    const bytes = [...summary.matchAll(/data-key="file_bytes_(sparse|dense)" data-value="(\d+)"/g)].map((m) => Number(m[2]));
    expect(bytes).toHaveLength(2);
    expect(bytes[0]).toBe(bytes[1]);
    expect(page).toContain('<section id="forecast">');

    const empty = mkdtempSync(join(dir, 'empty-'));
    const bad = cli(['report', '--out', empty]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/has no config\.json, log\.jsonl or result file/);
    expect(existsSync(join(empty, 'report.html'))).toBe(false);
    const missing = cli(['report']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--out DIR/);
  }, 90_000);
});
