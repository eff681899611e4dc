/**
 * The report's opening section: what a reader came for, ahead of the raw result keys — the test error against
 * the naive baseline, sparsity, the forward FLOPs saved, the measured speed and the model file's size against
 * the dense twin — in a few sentences and one small table. Every number is result.json's, as train wrote it,
 * except the file sizes, which are measured here by exporting the run twice. Where the sparse model is slower,
 * larger or less accurate, the text says so in those words.
 *
 * The dense twin is this model with its masked layers run or stored dense: the same weights, so the same
 * forecasts — it is not a separately trained dense model, and no accuracy is compared against it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportRun } from './export-command.ts';
import { DEFAULT_CSR_THRESHOLD } from '../io/model-file.ts';
import { esc } from '../web/charts.ts';

type Json = Record<string, unknown>;

/** Bytes of the `.sc` model file `sparsecast export` writes for the run, with CSR layers and all dense. */
export interface ModelFileSizes {
  sparse: number;
  dense: number;
  /** Layers stored as CSR in the sparse file. */
  csr: number;
  threshold: number;
}

/**
 * Export the run as `sparsecast export` does, at the default CSR threshold and with every layer dense
 * (threshold 0), and keep only the byte counts. A reason instead when the run cannot be exported.
 */
export async function modelFileSizes(dir: string): Promise<ModelFileSizes | { reason: string }> {
  if (!existsSync(join(dir, 'model.safetensors'))) return { reason: 'the folder has no model.safetensors' };
  try {
    const sparse = await exportRun(dir, { csrThreshold: DEFAULT_CSR_THRESHOLD });
    const dense = await exportRun(dir, { csrThreshold: 0 });
    return { sparse: sparse.summary.bytes, dense: dense.summary.bytes, csr: sparse.summary.csr + sparse.summary.csr_expanded, threshold: DEFAULT_CSR_THRESHOLD };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function show(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(+v.toPrecision(4));
}

const pct = (x: number) => `${+(100 * x).toFixed(1)}%`;

/** A table cell that carries its number and the result key it came from, so a test can compare them. */
function cell(key: string, v: number, text = show(v)): string {
  return `<td data-key="${esc(key)}" data-value="${v}">${esc(text)}</td>`;
}

/** How `ours` compares with `ref` when lower is better (error, FLOPs, bytes, milliseconds). */
function lowerIsBetter(ours: number, ref: number, better: string, worse: string): string {
  if (ref === 0 || ours === ref) return 'the same';
  return ours < ref ? `${pct(1 - ours / ref)} ${better}` : `${pct(ours / ref - 1)} ${worse}`;
}

function speed(sparse: number, dense: number): string {
  if (sparse === dense) return 'the same speed';
  return sparse < dense ? `${(dense / sparse).toFixed(2)}× faster` : `${(sparse / dense).toFixed(2)}× slower`;
}

/** Timings train measured with the masked layers dense and sparse: infer_ms_*, step_ms_*, and any later pair. */
function timingPairs(r: Json): Array<{ name: string; label: string }> {
  const labels: Record<string, string> = {
    infer_ms: 'predict one test batch (ms)',
    step_ms: 'one training step, forward + backward (ms)',
  };
  return Object.keys(r)
    .filter((k) => k.endsWith('_dense') && /_ms_dense$/.test(k) && num(r[k]) && num(r[k.replace(/_dense$/, '_sparse')]))
    .map((k) => {
      const name = k.replace(/_dense$/, '');
      return { name, label: labels[name] ?? `${name.replace(/_ms$/, '').replace(/_/g, ' ')} (ms)` };
    });
}

export function summarySection(r: Json, files: ModelFileSizes | { reason: string }): string {
  const model = String(r.model ?? 'model');
  const data = String(r.data ?? '');
  const method = String(r.method ?? 'dense');
  const dense = method === 'dense';
  const text: string[] = [];
  const rows: string[] = [];

  if (num(r.mse) && num(r.naive_mse)) {
    const worse = r.mse > r.naive_mse;
    text.push(`${esc(model)} trained with ${esc(method)} on ${esc(data)}${num(r.epochs_run) ? ` for ${r.epochs_run} epoch${r.epochs_run === 1 ? '' : 's'}` : ''} reaches a test MSE of ${show(r.mse)} on normalised values, ` +
      (worse ? `<strong>worse than the naive forecast</strong> that repeats the last observed value (${show(r.naive_mse)}; ${pct(r.mse / r.naive_mse - 1)} higher).`
        : `${pct(1 - r.mse / r.naive_mse)} below the naive forecast that repeats the last observed value (${show(r.naive_mse)}).`));
    rows.push(`<tr><th>test MSE (normalised)</th>${cell('mse', r.mse)}<td>naive repeat-last</td>${cell('naive_mse', r.naive_mse)}<td>${lowerIsBetter(r.mse, r.naive_mse, 'lower', 'higher: worse than naive')}</td></tr>`);
  } else if (num(r.mse)) {
    text.push(`${esc(model)} on ${esc(data)} reaches a test MSE of ${show(r.mse)} on normalised values (no naive baseline recorded).`);
    rows.push(`<tr><th>test MSE (normalised)</th>${cell('mse', r.mse)}<td>naive repeat-last</td><td>–</td><td></td></tr>`);
  }
  if (num(r.mae) && num(r.naive_mae)) {
    if (r.mae > r.naive_mae) text.push(`Its test MAE, ${show(r.mae)}, is <strong>worse than the naive forecast's</strong> (${show(r.naive_mae)}).`);
    rows.push(`<tr><th>test MAE (normalised)</th>${cell('mae', r.mae)}<td>naive repeat-last</td>${cell('naive_mae', r.naive_mae)}<td>${lowerIsBetter(r.mae, r.naive_mae, 'lower', 'higher: worse than naive')}</td></tr>`);
  }

  if (num(r.sparsity)) {
    rows.push(`<tr><th>sparsity (share of weights that are zero)</th>${cell('sparsity', r.sparsity, pct(r.sparsity))}<td>dense twin</td><td>0%</td><td></td></tr>`);
  }
  if (num(r.flops_sparse) && num(r.flops_dense)) {
    const saved = 1 - r.flops_sparse / r.flops_dense;
    if (dense) text.push('A dense run: every weight is kept, so no FLOPs are saved and there is no sparse model to set against a dense twin.');
    else {
      text.push(`${num(r.sparsity) ? `${pct(r.sparsity)} of its ${num(r.params) ? `${show(r.params)} ` : ''}weights are zero; ` : ''}skipping them, one window's forward pass needs ${show(r.flops_sparse)} FLOPs instead of ${show(r.flops_dense)}: ${pct(saved)} saved.`);
    }
    rows.push(`<tr><th>forward FLOPs, one window</th>${cell('flops_sparse', r.flops_sparse)}<td>dense twin</td>${cell('flops_dense', r.flops_dense)}<td>${lowerIsBetter(r.flops_sparse, r.flops_dense, 'saved', 'more')}</td></tr>`);
  }

  const timings = timingPairs(r);
  // No layer ran sparse (CSR, or any format in `sparse_layers` where the run reports them): both timings ran the
  // same dense code, so their difference is measurement noise, not a speed-up or a cost of sparsity — say so
  // rather than call one of them faster.
  const formats = r.sparse_layers && typeof r.sparse_layers === 'object' ? Object.values(r.sparse_layers as Record<string, number>) : [];
  const samePath = r.csr_layers === 0 && formats.every((v) => v === 0);
  if (timings.length) {
    const said = timings.map(({ name, label }) => {
      const s = r[`${name}_sparse`] as number;
      const d = r[`${name}_dense`] as number;
      rows.push(`<tr><th>${esc(label)}</th>${cell(`${name}_sparse`, s)}<td>dense twin</td>${cell(`${name}_dense`, d)}<td>${samePath ? 'the same code (noise)' : speed(s, d)}</td></tr>`);
      const verdict = samePath ? `${show(s)} ms against ${show(d)} ms`
        : s > d ? `<strong>slower</strong> with sparse execution (${show(s)} ms against ${show(d)} ms dense)` : `${speed(s, d)} (${show(s)} ms against ${show(d)} ms dense)`;
      return `${label.replace(/ \(ms\)$/, '')}: ${verdict}`;
    });
    const slower = !samePath && timings.some(({ name }) => (r[`${name}_sparse`] as number) > (r[`${name}_dense`] as number));
    const how = samePath
      ? 'no layer was sparse enough to run as CSR, so both timings ran the same dense code and differ only by measurement noise'
      : 'the same layers run dense and sparse';
    text.push(`Measured at the end of training${r.backend ? ` on the ${esc(String(r.backend))} backend` : ''}, median of three; ${how}: ${said.join('; ')}.${slower ? ' Fewer FLOPs need not mean less time: a sparse kernel does more work per multiply-add than a dense one.' : ''}`);
  } else if (!dense) {
    text.push('No speed was measured: this run did not use sparse execution (train records infer_ms_* and step_ms_* when it does).');
  }

  if ('reason' in files) {
    text.push(`The model file size was not measured: ${esc(files.reason)}.`);
  } else {
    const smaller = files.sparse < files.dense;
    const how = files.csr === 0
      ? `no layer is below ${pct(files.threshold)} density, so none is stored as CSR`
      : `${files.csr} layer${files.csr === 1 ? '' : 's'} below ${pct(files.threshold)} density stored as CSR`;
    const verdict = files.sparse === files.dense ? ': the same.'
      : files.csr === 0 ? ` (the ${Math.abs(files.sparse - files.dense)}-byte difference is the header recording the CSR threshold: the same layers, stored dense both times).`
      : files.sparse < files.dense ? `: ${pct(1 - files.sparse / files.dense)} smaller.`
      : `: <strong>${pct(files.sparse / files.dense - 1)} larger</strong> (CSR's indices cost more than the zeros they drop).`;
    text.push(`Exported as a <code>.sc</code> model file (<code>sparsecast export</code>, measured now), the run takes ${show(files.sparse)} bytes — ${how} — against ${show(files.dense)} bytes with every layer dense${verdict}`);
    rows.push(`<tr><th>model file, .sc (bytes)</th>${cell('file_bytes_sparse', files.sparse)}<td>dense twin</td>${cell('file_bytes_dense', files.dense)}<td>${files.csr === 0 && files.sparse !== files.dense ? 'the same layers (header differs)' : lowerIsBetter(files.sparse, files.dense, 'smaller', 'larger')}</td></tr>`);
  }

  const head = '<thead><tr><th></th><th>this run</th><th>against</th><th></th><th></th></tr></thead>';
  const notes = [
    ...(dense ? [] : ['The dense twin is this model with its masked layers run or stored dense: the same weights and forecasts, not a separately trained dense model.']),
    'Errors are on normalised values (each column scaled by the training rows\' mean and standard deviation), as TSLib reports them; the forecast plots below are in the data\'s own units.',
  ];
  const twin = `<p class="note">${notes.join(' ')}</p>`;
  return `<section id="summary"><h2>Summary</h2>\n<p>${text.join(' ')}</p>\n<table id="summary-table">${head}<tbody>\n${rows.join('\n')}\n</tbody></table>\n${twin}</section>`;
}
