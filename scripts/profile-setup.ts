/**
 * The run both profiling scripts measure (profile-step.ts: a training step; profile-infer.ts: inference): the
 * wasm backend, ETTh1 with TSLib's windows (96 / 48 / 96), a model of the given preset from seed 2020, and a
 * Trainer around it — one place, so the two profiles always look at the same model and data.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/cli/backends.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS } from '../src/models/index.ts';
import { Trainer } from '../src/train/trainer.ts';

export async function profiledRun(name: string, preset: 'small' | 'full'): Promise<{ ds: ForecastDataset; tr: Trainer }> {
  await initBackend('wasm');
  const table = parseCsvBytes(readFileSync('data/ETTh1.csv'), { file: 'data/ETTh1.csv' });
  const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1' });
  const rng = new Rng(2020);
  const model = createModel(name, rng, defaultConfig(7, PRESETS[preset]));
  const tr = new Trainer(model, ds, rng, { epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 1 });
  return { ds, tr };
}
