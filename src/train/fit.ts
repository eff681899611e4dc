/**
 * `fit`: a whole training run from code in one call — the model built from its name and seed, the sparse
 * method's masks and controller, Adam, Time-Series-Library's epochs with validation, early stopping and the
 * learning-rate schedule, and the best weights at the end — returning a `RunForecaster` to evaluate, export,
 * save or forecast with. With the same settings it draws exactly what `sparsecast train` draws (the same
 * generators from the same seed), so it trains the same weights.
 */
import { Rng } from '../tensor/random.ts';
import { createModel, defaultConfig, type ModelName } from '../models/index.ts';
import { hasHeads } from '../models/heads.ts';
import type { ForecastConfig } from '../models/config.ts';
import type { ForecastDataset } from '../data/forecast-dataset.ts';
import { createController, DEFAULT_SPARSE, METHODS, type SparseOptions } from '../sparse/methods.ts';
import type { UpdateRecord } from '../sparse/controller.ts';
import type { SparseExecOptions } from '../sparse/sparse-exec.ts';
import { RunForecaster, type RunInfo } from '../run/run-forecaster.ts';
import { engine } from '../tensor/engine.ts';
import { Trainer, type EpochLog, type TrainResult } from './trainer.ts';
import type { LrAdjust } from './lr-schedule.ts';
import { checkFitOptions } from './fit-options.ts';

export interface FitOptions {
  /** Time-Series-Library model name: Transformer, Informer, Autoformer, FEDformer, NSTransformer, DLinear, LSTM. */
  model: ModelName;
  /** Windows, scaler and splits (`new data.ForecastDataset(...)`): seq / label / pred lengths come from it. */
  data: ForecastDataset;
  /** Hyper-parameters over `defaultConfig` (the small preset); channels and lengths follow the data set. */
  config?: Partial<ForecastConfig>;
  /** Sparse-training method: 'dense' (default), 'pals', 'granet', 'rigl', 'set' or 'static'. */
  method?: string;
  /** The method's options over the CLI defaults (PALS: lambda 1.1, gamma 1.1, updateFrequency 20, …). */
  sparse?: Partial<Omit<SparseOptions, 'method'>>;
  /** Seeds every draw: initialisation, dropout, shuffling, masks (default 2020, TSLib's). */
  seed?: number;
  /** Default 10. */
  epochs?: number;
  /** Epochs without a better validation loss before stopping (default 3). */
  patience?: number;
  /** Default 32. */
  batchSize?: number;
  /** Adam's learning rate (default 1e-4). */
  learningRate?: number;
  /** TSLib's schedule (default 'type1': halve every epoch). */
  lradj?: LrAdjust;
  /** Cap on training batches per epoch (quick runs). */
  maxTrainBatches?: number;
  /** Validation batches per sparse-topology decision (a fixed seeded subset); all when undefined. */
  valBatches?: number;
  /** Score the test split after every epoch (default true; only `EpochLog.test_loss` reads it). */
  epochTest?: boolean;
  /** Score the final test on de-normalised values, the data's own units (TSLib's --inverse; default false). */
  inverse?: boolean;
  /**
   * Node: a folder for `checkpoint.safetensors` (every `checkpointEvery` steps and each epoch end) and
   * `best.safetensors`; with `resume`, continue from its checkpoint. Without it the best weights are kept in
   * memory (browsers).
   */
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  /** Sparse execution of masked layers (default: on when masked, CSR below the measured crossover). */
  sparseExecution?: SparseExecOptions | false;
  /** After every training step. */
  onStep?: (p: { epoch: number; step: number; steps: number; loss: number }) => void;
  /** After every epoch, with the history so far. */
  onEpoch?: (log: EpochLog, history: readonly EpochLog[]) => void;
  /** After every sparse-topology update (PALS: shrink / expand / stable, with the new sparsity). */
  onUpdate?: (rec: UpdateRecord) => void;
  /** Stop after the current step (the result has `interrupted: true` and the last weights). */
  signal?: AbortSignal;
}

export interface FitResult {
  /** The trained model (best validation weights unless interrupted), ready to forecast; dispose it when done. */
  forecaster: RunForecaster;
  /** Epochs run, best validation loss, final test metrics (normalised values), history, steps. */
  result: TrainResult;
  /** Every topology update, in order. */
  updates: UpdateRecord[];
}

/** Train a forecaster on a data set; see `FitOptions` for the defaults (those of `sparsecast train`). */
export async function fit(opts: FitOptions): Promise<FitResult> {
  // Before any field is read: fit(null) failed with a TypeError about reading 'data' of null.
  if (typeof opts !== 'object' || opts === null) throw new Error(`fit: expects an options object { model, data, … }, got ${opts === null ? 'null' : typeof opts}`);
  const ds = opts.data;
  const seed = opts.seed ?? 2020;
  const method = opts.method ?? 'dense';
  if (typeof method !== 'string' || !Object.hasOwn(METHODS, method)) throw new Error(`fit: unknown method '${method}' (${Object.keys(METHODS).join(', ')})`);
  checkFitOptions(opts, method);
  const { seqLen, labelLen, predLen, freq } = ds.opts;
  const C = ds.channels;
  const cfg: ForecastConfig = { ...defaultConfig(C), freq, ...opts.config, seqLen, labelLen, predLen, encIn: C, decIn: C, cOut: C };
  if (hasHeads(opts.model) && cfg.dModel % cfg.nHeads !== 0) throw new Error(`fit: dModel ${cfg.dModel} is not divisible by nHeads ${cfg.nHeads}`);
  // The generators of `sparsecast train`, offset per purpose so their streams never overlap.
  const modelRng = new Rng(seed);
  const model = createModel(opts.model, modelRng, cfg);
  const sparseRng = new Rng(seed + 4 * 2 ** 32);
  const sparse: SparseOptions = { ...DEFAULT_SPARSE, ...opts.sparse, method };
  const controller = createController(model, sparse, sparseRng);
  const updates: UpdateRecord[] = [];
  const dir = opts.checkpointDir;
  const trainer = new Trainer(model, ds, modelRng, {
    epochs: opts.epochs ?? 10, patience: opts.patience ?? 3, batchSize: opts.batchSize ?? 32,
    learningRate: opts.learningRate ?? 1e-4, lradj: opts.lradj ?? 'type1', seed,
    maxTrainBatches: opts.maxTrainBatches, epochTest: opts.epochTest, inverse: opts.inverse, valBatches: opts.valBatches,
    checkpointPath: dir ? `${dir}/checkpoint.safetensors` : undefined,
    bestPath: dir ? `${dir}/best.safetensors` : undefined,
    keepBest: !dir,
    checkpointEvery: dir ? opts.checkpointEvery ?? 100 : 0,
    resume: opts.resume,
    controller, sparseRng, sparseExecution: opts.sparseExecution,
    onStep: opts.onStep, onEpoch: opts.onEpoch,
    onUpdate: (rec) => {
      updates.push(rec);
      opts.onUpdate?.(rec);
    },
    shouldStop: opts.signal ? () => opts.signal!.aborted : undefined,
  });
  let result: TrainResult;
  const masks = new Map<string, Uint8Array>();
  try {
    result = await trainer.fit();
    for (const l of controller.masking?.layers ?? []) if (l.active < l.param.size) masks.set(l.name, l.mask.slice());
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    trainer.dispose();
    controller.dispose();
  }
  // The run info, and the settings `sparsecast train` records beside it, so a saved run's config.json reads
  // like the CLI's (`io.saveRun`; `sparsecast eval --checkpoint DIR --data FILE` accepts the folder).
  const settings = {
    data: ds.opts.file, epochs: opts.epochs ?? 10, patience: opts.patience ?? 3, batchSize: opts.batchSize ?? 32,
    learningRate: opts.learningRate ?? 1e-4, lradj: opts.lradj ?? 'type1', backend: engine.backend.name,
    maxTrainBatches: opts.maxTrainBatches, valBatches: opts.valBatches, epochTest: opts.epochTest ?? true, checkpointEvery: 0, sparse,
  };
  const info: RunInfo = {
    ...settings, model: opts.model, cfg, seed, features: ds.opts.features, target: ds.opts.target, kind: ds.opts.kind,
    scaler: { mean: Array.from(ds.scaler.mean), std: Array.from(ds.scaler.std), columns: [...ds.columns] },
  } as RunInfo;
  return { forecaster: new RunForecaster(info, model, masks, { sparseExecution: opts.sparseExecution }), result, updates };
}
