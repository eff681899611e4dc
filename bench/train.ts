/**
 * Training-step and evaluation-batch time of each forecasting model on ETTh1 (batch 32, seq 96 / label 48 /
 * pred 96), small or full preset: `npm run bench -- train [--preset small|full] [--backend wasm] [--models A,B]`.
 * Prints {"bench":"train","model","preset","backend","step_ms","eval_batch_ms"} per model (medians).
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsv } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS, modelNames } from '../src/models/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { emit, medianMs } from './stats.ts';

export async function benchTrain(opts: { json: boolean; backend?: string; preset?: 'small' | 'full'; models?: string[]; runs?: number }): Promise<void> {
  const backend = opts.backend ?? 'wasm';
  const preset = opts.preset ?? 'small';
  engine.useBackend(backend);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const table = parseCsv(readFileSync(join(root, 'data', 'ETTh1.csv'), 'utf8'));
  const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1.csv' });
  const models = opts.models ?? modelNames().filter((m) => ['Transformer', 'Informer', 'Autoformer', 'FEDformer', 'NSTransformer'].includes(m));
  for (const name of models) {
    const rng = new Rng(2020);
    const model = createModel(name, rng, defaultConfig(ds.channels, { ...PRESETS[preset] }));
    const trainer = new Trainer(model, ds, rng, { epochs: 10, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 2020 });
    const batches = ds.batches('train', 32, new Rng(1));
    let i = 0;
    const stepMs = await medianMs(async () => await trainer.trainStep(ds.batch('train', batches[i++ % batches.length]!)), { warmup: 2, runs: opts.runs ?? 7 });
    const test = ds.batches('test', 32, null);
    let j = 0;
    const evalMs = await medianMs(async () => await trainer.predict(ds.batch('test', test[j++ % test.length]!)), { warmup: 1, runs: opts.runs ?? 7 });
    emit(opts.json, { bench: 'train', impl: `sparsecast-${backend}`, model: name, preset, backend, step_ms: +stepMs.toFixed(1), eval_batch_ms: +evalMs.toFixed(1) });
    trainer.dispose();
    model.dispose();
    if (name === 'Transformer') torchPeer(opts.json, preset);
  }
}

/**
 * The PyTorch peer (bench/peers/torch_transformer_step.py, one thread) in the same run, when a Python with
 * torch is available: $SPARSECAST_TORCH_PYTHON, else python3. Reported as unavailable otherwise.
 */
function torchPeer(json: boolean, preset: string): void {
  const python = process.env.SPARSECAST_TORCH_PYTHON ?? 'python3';
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'torch_transformer_step.py');
  const r = spawnSync(python, [script, preset], { encoding: 'utf8' });
  if (r.status === 0) process.stdout.write(json ? r.stdout : r.stdout.replace(/[{}"]/g, ''));
  else emit(json, { bench: 'train', impl: 'pytorch', model: 'Transformer', preset, unavailable: `no torch in ${python} (set SPARSECAST_TORCH_PYTHON)` });
}
