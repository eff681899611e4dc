/**
 * Training-step and evaluation-batch time of each forecasting model on ETTh1 (batch 32, seq 96 / label 48 /
 * pred 96), small or full preset: `npm run bench -- train [--preset small|full] [--backend wasm] [--models A,B]`.
 * Prints {"bench":"train","model","preset","backend","step_ms","eval_batch_ms"} per model (medians).
 */
import { readFileSync } from 'node:fs';
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
    const stepMs = await medianMs(() => trainer.trainStep(ds.batch('train', batches[i++ % batches.length]!)), { warmup: 2, runs: opts.runs ?? 7 });
    const test = ds.batches('test', 32, null);
    let j = 0;
    const evalMs = await medianMs(() => trainer.predict(ds.batch('test', test[j++ % test.length]!)), { warmup: 1, runs: opts.runs ?? 7 });
    emit(opts.json, { bench: 'train', model: name, preset, backend, step_ms: +stepMs.toFixed(1), eval_batch_ms: +evalMs.toFixed(1) });
    trainer.dispose();
    model.dispose();
  }
}
