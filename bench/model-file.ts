/**
 * The exported model file of the small preset's Transformer (7 channels) with static masks (src/sparse/
 * structure.ts's initial masks; unstructured, fan_in, block 4×4), standalone: `node --import tsx
 * bench/model-file.ts [--runs N]`. One JSON line each:
 *   - `model-file-size`: at 50, 60, 70 and 90% reference sparsity, the file the writer makes (the smallest
 *     encoding per weight, src/io/sparse-encoding.ts) against the dense twin (`csrThreshold: 0`) and the
 *     version-1 layout (every masked weight CSR): bytes and ratios (deterministic: same bytes on any machine);
 *   - `model-file-load`: at 40% density (below the CSR threshold, so every masked Linear runs as CSR whatever its
 *     encoding), the rule's file against the all-CSR file, alternately in one process on the wasm inference
 *     kernels: median ms to read (parse + decode + check), to load (read + build + bind) and to forecast one
 *     window, and whether the two forecasts are the same bits. The machine may be shared: the load and forecast
 *     times are noisy; the decode is the part the encodings change.
 */
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createModel, defaultConfig } from '../src/models/index.ts';
import { PRESETS } from '../src/models/config.ts';
import { structuredInitMask, type StructureKind } from '../src/sparse/structure.ts';
import { readModelFile, writeModelFile, type ModelConfigInput, type WeightInput } from '../src/io/model-file.ts';
import { loadForecaster } from '../src/infer/index.ts';

const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 7;

engine.registerBackend(createJsBackend());
const cfg = defaultConfig(7, { ...PRESETS.small });
const config: ModelConfigInput = {
  model: 'Transformer', cfg: { ...cfg }, features: 'M', target: 'OT',
  scaler: { mean: Array(7).fill(0), std: Array(7).fill(1), columns: ['a', 'b', 'c', 'd', 'e', 'f', 'OT'] },
  timeFeatures: { encoding: 'timeF', freq: 'h', count: 4 },
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Weights with every matrix masked: `density` of the masked weights (sizes: chosen for a reference sparsity). */
function masked(kind: StructureKind, density: (all: number, maskedCount: number) => number): { weights: WeightInput[]; sparsity: number } {
  engine.useBackend('js');
  const model = createModel('Transformer', new Rng(1), cfg);
  const params = model.namedParameters();
  const all = params.reduce((a, [, p]) => a + p.size, 0);
  const d = density(all, params.filter(([, p]) => p.rank >= 2).reduce((a, [, p]) => a + p.size, 0));
  const rng = new Rng(2);
  let nnz = 0;
  const weights: WeightInput[] = params.map(([name, p]) => {
    const data = Float32Array.from(p.dataSync() as Float32Array);
    if (p.rank < 2) {
      nnz += p.size;
      return { name, shape: [...p.shape], data };
    }
    const mask = kind === 'unstructured'
      ? Uint8Array.from(rng.uniform(p.size), (u) => (u < d ? 1 : 0))
      : structuredInitMask({ kind, blockSize: 4, ablation: 0 }, rng, [...p.shape], d);
    for (let i = 0; i < data.length; i++) if (!mask[i]) data[i] = 0;
    nnz += mask.reduce((a, v) => a + v, 0);
    return { name, shape: [...p.shape], data, mask };
  });
  model.dispose();
  return { weights, sparsity: 1 - nnz / all };
}

const allCsr = (weights: WeightInput[]) => weights.map((w) => (w.mask ? { ...w, encoding: 'csr' as const } : w));
const encodings = (bytes: Uint8Array) => {
  const n: Record<string, number> = {};
  for (const c of readModelFile(bytes).csr.values()) n[c.encoding] = (n[c.encoding] ?? 0) + 1;
  return n;
};

for (const kind of ['unstructured', 'fan_in', 'block'] as const) {
  for (const target of [0.5, 0.6, 0.7, 0.9]) {
    const { weights, sparsity } = masked(kind, (all, m) => ((1 - target) * all - (all - m)) / m);
    const file = writeModelFile(config, weights);
    const dense = writeModelFile(config, weights, { csrThreshold: 0 });
    const v1 = writeModelFile(config, allCsr(weights));
    console.log(JSON.stringify({
      bench: 'model-file-size', structure: kind, target, sparsity: +sparsity.toFixed(4), dense_bytes: dense.length, file_bytes: file.length,
      all_csr_bytes: v1.length, ratio: +(file.length / dense.length).toFixed(4), all_csr_ratio: +(v1.length / dense.length).toFixed(4), encodings: encodings(file),
    }));
  }
}

const values = Float32Array.from({ length: cfg.seqLen * 7 }, (_, k) => Math.sin(k / 5));
const dates = Array.from({ length: cfg.seqLen }, (_, k) => new Date(Date.UTC(2020, 0, 1, k)).toISOString());
for (const kind of ['unstructured', 'fan_in', 'block'] as const) {
  const { weights } = masked(kind, () => 0.4);
  const files = { rule: writeModelFile(config, weights), all_csr: writeModelFile(config, allCsr(weights)) };
  const t: Record<string, { read: number[]; load: number[]; forecast: number[]; hex: string }> = {};
  for (let r = 0; r < RUNS; r++) {
    for (const [what, bytes] of Object.entries(files)) {
      const o = (t[what] ??= { read: [], load: [], forecast: [], hex: '' });
      const t0 = performance.now();
      readModelFile(bytes);
      const t1 = performance.now();
      const f = await loadForecaster(bytes);
      const t2 = performance.now();
      const y = f.forecast({ values, dates });
      const t3 = performance.now();
      f.dispose();
      o.read.push(t1 - t0);
      o.load.push(t2 - t1);
      o.forecast.push(t3 - t2);
      o.hex = Buffer.from(y.buffer, y.byteOffset, y.byteLength).toString('hex');
    }
  }
  for (const [what, bytes] of Object.entries(files)) {
    const o = t[what]!;
    console.log(JSON.stringify({
      bench: 'model-file-load', structure: kind, density: 0.4, file: what, encodings: encodings(bytes), bytes: bytes.length, runs: RUNS,
      read_ms: +median(o.read).toFixed(2), load_ms: +median(o.load).toFixed(2), forecast_ms: +median(o.forecast).toFixed(2), same_bits: o.hex === t.rule!.hex,
    }));
  }
}
