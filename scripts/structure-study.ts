/**
 * The mask-structure study (issue 14, docs/results-structure.md): what each structure buys in measured speed and
 * file size, and what it costs in accuracy, for PALS and GraNet on the five data sets.
 *
 * Training (scripts/results.ts structure) keeps each run's folder; this module then *measures* every finished run
 * with the code of the commit that runs it, through the commands a user has:
 * - `sparsecast eval --checkpoint DIR`: the test metrics again (a check that the folder is the run) and sparse
 *   execution's timings — one test batch (batch 32) and one window (batch 1) predicted, one training step —
 *   with the masked layers dense and with sparse execution as the trainer runs it, in the same process;
 * - `sparsecast export` twice: the model file as the exporter writes it, and the dense twin's file (every layer
 *   stored dense), whose sizes give the ratio.
 * Measuring apart from training matters because the kernels and the per-layer choice change under a study that
 * takes hours to train: a table's timings then all come from one commit, stated above the table. Measurements are
 * kept in docs/runs/structure-measure.jsonl, one line per run, with the commit and the CPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineChart, type Series } from '../src/plot/line-chart.ts';

export interface StudyKey {
  data: string;
  method: string;
  structure: string;
}

export interface StudyMeasure {
  key: StudyKey;
  argv: string[];
  commit: string;
  cpu: string;
  measured_at: string;
  /** `sparsecast eval`'s JSON line. */
  eval: Record<string, unknown>;
  bytes_sparse: number;
  bytes_dense: number;
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/sparsecast.js', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sparsecast ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return r.stdout.trim().split('\n').pop()!;
}

/** Measure one finished run folder (see the module comment). */
export function measureRun(key: StudyKey, argv: string[], dir: string): StudyMeasure {
  const evalLine = JSON.parse(cli(['eval', '--checkpoint', dir])) as Record<string, unknown>;
  const tmp = mkdtempSync(join(tmpdir(), 'structure-study-'));
  try {
    const sparse = join(tmp, 'sparse.sc');
    const dense = join(tmp, 'dense.sc');
    cli(['export', '--checkpoint', dir, '--out', sparse]);
    // Threshold 0: no layer is below it, so every weight is stored dense — the dense twin's file.
    cli(['export', '--checkpoint', dir, '--out', dense, '--csr_threshold', '0']);
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    return {
      key, argv, commit, cpu: cpus()[0]?.model ?? 'unknown', measured_at: new Date().toISOString(),
      eval: evalLine, bytes_sparse: statSync(sparse).size, bytes_dense: statSync(dense).size,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const f = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** "12.3 → 6.1 (2.02×)": a dense figure, the sparse one and the speedup dense / sparse. */
function pair(dense: unknown, sparse: unknown, d = 1): string {
  const a = num(dense);
  const b = num(sparse);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '–';
  return `${a.toFixed(d)} → ${b.toFixed(d)} (${(a / b).toFixed(2)}×)`;
}

/** How the sparse side ran: the per-format layer counts when the JSON line has them, else the CSR count. */
function layersRan(e: Record<string, unknown>): string {
  const byFormat = e.sparse_layers as Record<string, number> | undefined;
  if (byFormat && typeof byFormat === 'object') {
    const parts = Object.entries(byFormat).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
    // sparse_fallback: per workload (infer, infer_b1, step), whether the whole-model guard ran it dense.
    const fb = e.sparse_fallback as Record<string, boolean> | undefined;
    const back = fb && typeof fb === 'object' ? Object.entries(fb).filter(([, v]) => v).map(([k]) => k) : [];
    const guard = back.length ? ` (guard: ${back.join(', ')} dense)` : '';
    return (parts.length ? parts.join(', ') : 'all dense') + guard;
  }
  return typeof e.csr_layers === 'number' ? `${e.csr_layers} csr` : '–';
}

export interface StudyRow {
  key: StudyKey;
  result: Record<string, unknown>;
  measure?: StudyMeasure;
}

/** The Markdown table: one row per (data, method, structure). */
export function structureTable(rows: StudyRow[], denseMse: Map<string, number>): string {
  const head = '| data | method | structure | test MSE | test MAE | MSE vs dense run | sparsity | FLOPs reduction | infer batch 32, ms | infer batch 1, ms | train step, ms | file KB | layers sparse |';
  const lines = [head, `|${' --- |'.repeat(13)}`];
  for (const r of rows) {
    const { data, method, structure } = r.key;
    const res = r.result;
    const e = r.measure?.eval ?? {};
    const red = 1 - num(res.flops_sparse) / num(res.flops_dense);
    const dm = denseMse.get(data);
    const rel = dm ? `${((num(res.mse) / dm - 1) * 100).toFixed(1)}%` : '–';
    const kb = r.measure ? `${(r.measure.bytes_dense / 1024).toFixed(0)} → ${(r.measure.bytes_sparse / 1024).toFixed(0)} (${(100 * r.measure.bytes_sparse / r.measure.bytes_dense).toFixed(0)}%)` : '–';
    lines.push(`| ${data} | ${method} | ${structure} | ${f(res.mse)} | ${f(res.mae)} | ${rel} | ${f(res.sparsity)} | ${Number.isFinite(red) ? `${(100 * red).toFixed(1)}%` : '–'} | ` +
      `${pair(e.infer_ms_dense, e.infer_ms_sparse)} | ${pair(e.infer_b1_ms_dense, e.infer_b1_ms_sparse, 2)} | ${pair(e.step_ms_dense, e.step_ms_sparse)} | ${kb} | ${r.measure ? layersRan(e) : '–'} |`);
  }
  return lines.join('\n');
}

/**
 * What each structure costs in accuracy against the unstructured run of the same method and data (the
 * reference's rule): one sentence per (method, structure), with the per-set MSE changes, said plainly.
 */
export function accuracyCost(rows: StudyRow[]): string[] {
  const byKey = new Map(rows.map((r) => [JSON.stringify(r.key), r]));
  const out: string[] = [];
  const methods = [...new Set(rows.map((r) => r.key.method))];
  for (const method of methods) for (const structure of ['fan_in', 'block']) {
    const deltas: string[] = [];
    const values: number[] = [];
    for (const r of rows.filter((x) => x.key.method === method && x.key.structure === structure)) {
      const base = byKey.get(JSON.stringify({ ...r.key, structure: 'unstructured' }));
      if (!base) continue;
      const d = (num(r.result.mse) / num(base.result.mse) - 1) * 100;
      if (!Number.isFinite(d)) continue;
      values.push(d);
      deltas.push(`${r.key.data} ${d >= 0 ? '+' : ''}${d.toFixed(1)}%`);
    }
    if (!values.length) continue;
    const worse = values.filter((v) => v > 3).length;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const verdict = worse === 0 ? 'costs no accuracy beyond 3% on any set'
      : `costs accuracy: test MSE more than 3% above unstructured on ${worse} of ${values.length} sets`;
    out.push(`- **${method}, ${structure}** ${verdict} (mean ${mean >= 0 ? '+' : ''}${mean.toFixed(1)}%; ${deltas.join(', ')}).`);
  }
  return out;
}

const COLORS: Record<string, string> = { unstructured: '#444444', fan_in: '#1f77b4', block: '#d62728' };

/**
 * The accuracy/speed frontier: test MSE relative to the dense run's (same data, same budget) against measured
 * whole-model inference speedup at batch 32 (dense twin / sparse, same process), one marker per run, one colour
 * per structure. Up-left is worse; down-right is sparsity that pays.
 */
export function frontierSvg(rows: StudyRow[], denseMse: Map<string, number>): string {
  const series: Series[] = [];
  for (const structure of ['unstructured', 'fan_in', 'block']) {
    const pts = rows.filter((r) => r.key.structure === structure && r.measure && denseMse.has(r.key.data))
      .map((r) => ({ x: num(r.measure!.eval.infer_ms_dense) / num(r.measure!.eval.infer_ms_sparse), y: num(r.result.mse) / denseMse.get(r.key.data)! }))
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .sort((a, b) => a.x - b.x);
    if (pts.length) series.push({ name: structure, x: pts.map((p) => p.x), values: pts.map((p) => p.y), color: COLORS[structure]!, points: true });
  }
  if (!series.length) return '';
  return lineChart('Accuracy against measured inference speedup (PALS and GraNet, five data sets)', series, {
    width: 720, height: 400, xLabel: 'inference speedup over the dense twin, batch 32 (×)', yLabel: 'test MSE / dense run\'s test MSE',
  });
}
