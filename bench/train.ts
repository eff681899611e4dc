/**
 * Training-step and evaluation-batch time of each forecasting model on ETTh1 (batch 32, seq 96 / label 48 /
 * pred 96), small or full preset: `npm run bench -- train [--preset small|full] [--backend wasm|webgpu] [--models A,B]
 * [--no-peer]`.
 * Prints {"bench":"train","model","preset","backend","step_ms","eval_batch_ms"} per model (medians).
 * `--epoch`: also one whole epoch of the Transformer as `sparsecast train` runs it (every training batch, then
 * the validation and test losses, TSLib's per-epoch work), timed end to end, and the PyTorch peer running the
 * same number of training steps and evaluation batches: {"bench":"train-epoch","impl","steps","eval_batches",
 * "epoch_s"} each.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS, modelNames } from '../src/models/index.ts';
import { Trainer } from '../src/train/trainer.ts';
import { emit, medianMs } from './stats.ts';

/**
 * `peer: false` skips the PyTorch peer; `tags` are added to each of our lines (the webgpu run's adapter).
 */
export async function benchTrain(opts: {
  json: boolean; backend?: string; preset?: 'small' | 'full'; models?: string[]; runs?: number; epoch?: boolean;
  peer?: boolean; tags?: Record<string, unknown>;
}): Promise<void> {
  const peer = opts.peer ?? true;
  const tags = opts.tags ?? {};
  const backend = opts.backend ?? 'wasm';
  const preset = opts.preset ?? 'small';
  engine.useBackend(backend);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const table = parseCsvBytes(readFileSync(join(root, 'data', 'ETTh1.csv')), { file: 'ETTh1.csv' });
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
    emit(opts.json, { bench: 'train', impl: `sparsecast-${backend}`, model: name, preset, backend, step_ms: +stepMs.toFixed(1), eval_batch_ms: +evalMs.toFixed(1), ...tags });
    trainer.dispose();
    model.dispose();
    if (name === 'Transformer' && peer) torchPeer(opts.json, preset);
    if (name === 'Transformer' && opts.epoch) await epochRun(opts.json, ds, backend, preset, peer, tags);
  }
}

/** One epoch of fit() (train batches, then val and test losses), ours and the peer's at the same counts. */
async function epochRun(json: boolean, ds: ForecastDataset, backend: string, preset: 'small' | 'full', peer: boolean, tags: Record<string, unknown>): Promise<void> {
  const rng = new Rng(2020);
  const model = createModel('Transformer', rng, defaultConfig(ds.channels, { ...PRESETS[preset] }));
  const trainer = new Trainer(model, ds, rng, { epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 2020 });
  const steps = ds.batches('train', 32, new Rng(1)).length;
  const evalBatches = ds.batches('val', 32, null).length + ds.batches('test', 32, null).length;
  const r = await trainer.fit();
  emit(json, { bench: 'train-epoch', impl: `sparsecast-${backend}`, model: 'Transformer', preset, steps, eval_batches: evalBatches, epoch_s: +r.history[0]!.seconds.toFixed(2), ...tags });
  trainer.dispose();
  model.dispose();
  if (peer) torchPeer(json, preset, ['--epoch', String(steps), String(evalBatches)]);
}

/**
 * The PyTorch peer (bench/peers/torch_transformer_step.py, one thread) in the same run, when a Python with
 * torch is available: $SPARSECAST_TORCH_PYTHON, else python3. Reported as unavailable otherwise.
 */
export function torchPeer(json: boolean, preset: string, extra: string[] = [], bench = 'train'): void {
  const python = process.env.SPARSECAST_TORCH_PYTHON ?? 'python3';
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'torch_transformer_step.py');
  const r = spawnSync(python, [script, preset, ...extra], { encoding: 'utf8' });
  if (r.status === 0) process.stdout.write(json ? r.stdout : r.stdout.replace(/[{}"]/g, ''));
  else emit(json, { bench, impl: 'pytorch', model: 'Transformer', preset, unavailable: `no torch in ${python} (set SPARSECAST_TORCH_PYTHON)` });
}
