/**
 * A trained forecaster: the model with everything needed to use it on raw data — its hyper-parameters, the
 * scaler and column names it was trained with, its masks — and nothing of training (no training data set,
 * sparsity controller, optimizer or Trainer). `fit` returns one; `loadRun` / `runFromBytes` rebuild one from a
 * saved run; `sparsecast eval` and `predict` use it; `exportModel` turns it into a `.sc` for `sparsecast/infer`.
 *
 * It forecasts exactly as `sparsecast/infer` does (the same window encoding, src/infer/window.ts), with the
 * dense masked weights instead of CSR copies, so the two agree to float rounding.
 */
import '../tensor/tensor.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Storage } from '../backend/kernels.ts';
import { engine, tidy } from '../tensor/engine.ts';
import { Rng } from '../tensor/random.ts';
import { tensor } from '../ops/creation.ts';
import { sliceAxis } from '../ops/movement.ts';
import { measureFlops, summarizeFlops } from '../tensor/flops.ts';
import { createModel, type ModelName } from '../models/index.ts';
import type { ForecastConfig } from '../models/config.ts';
import type { Forecaster } from '../models/forecaster.ts';
import { Masking } from '../sparse/masking.ts';
import { layerDensities } from '../sparse/controller.ts';
import { enableSparseExecution, type SparseExecOptions, type SparseExecution } from '../sparse/sparse-exec.ts';
import { SplitScore, scoredChannelScale, type Metrics } from '../train/metrics.ts';
import { yieldToEventLoop } from '../backend/yield.ts';
import type { CsvTable } from '../data/csv.ts';
import { matchTrainedColumns } from '../data/columns.ts';
import { decoderInput, ForecastDataset, type Batch, type Features } from '../data/forecast-dataset.ts';
import { futureTimes } from '../data/future-times.ts';
import { refuseUnknownKeys } from '../cli/did-you-mean.ts';
import { inferKind, type DataKind, type Split } from '../data/dataset.ts';
import { TIME_FEATURE_COUNTS, timeFeatures, fromEpochMs, toEpochMs } from '../data/time-features.ts';
import { decodeForecast, encodeWindow, type ForecastWindow, type WindowSpec } from '../infer/window.ts';

/** What a trained model is, apart from its weights: the `config.json` of a run folder, minus run bookkeeping. */
export interface RunInfo {
  /** Time-Series-Library model name. */
  model: ModelName;
  /** Hyper-parameters (TSLib names in camelCase). */
  cfg: ForecastConfig;
  /** The construction seed (FEDformer draws its frequency indices from it). */
  seed: number;
  features: Features;
  target: string;
  /** The scaler fit on the training rows, and the model's channel order by column name. */
  scaler: { mean: number[]; std: number[]; columns: string[] };
  /** How the training file was split (ETTh, ETTm by months; custom 70/10/20): eval scores the same split. */
  kind?: DataKind;
}

export interface RunForecasterOptions {
  /**
   * Sparse execution of the masked Linear layers (CSR where a layer is sparser than the measured crossover),
   * as the Trainer runs them, so evaluation reproduces training's numbers; default on when a layer is masked,
   * false for dense masked weights everywhere.
   */
  sparseExecution?: SparseExecOptions | false;
}

/** Parameters and sparsity of a trained model (the reference's accounting). */
export interface Accounting {
  /** All trainable parameters. */
  params: number;
  /** Non-zeros of the masked weights. */
  nnz: number;
  /** 1 − nnz / params (unmasked biases and norms count as dense). */
  sparsity: number;
  /** Sparsity over the masked weights only. */
  maskedSparsity: number;
  /** Density of each masked weight. */
  layers: Record<string, number>;
}

export interface EvaluateOptions {
  /** Windows per batch (TSLib drops the last partial batch); default 32. */
  batchSize?: number;
  /** Default 'test'. */
  split?: Split;
  /** Score only the first N batches. */
  maxBatches?: number;
  /** Score de-normalised values, the data's own units (TSLib's --inverse); default false: normalised, as TSLib reports. */
  inverse?: boolean;
}

/**
 * What `evaluate` scores must be windows of this model cut into at least one batch: an unknown split failed
 * with 'undefined is not iterable', batchSize 0 looped until out of memory, and maxBatches 0 or a split with
 * fewer windows than a batch scored NaN.
 */
function checkEvaluate(ds: ForecastDataset, opts: EvaluateOptions, cfg: ForecastConfig, channels: number): void {
  const split = opts.split ?? 'test';
  const batchSize = opts.batchSize ?? 32;
  const fail = (what: string): never => {
    throw new Error(`evaluate: ${what}`);
  };
  refuseUnknownKeys('evaluate', opts, ['batchSize', 'split', 'maxBatches', 'inverse']);
  if (opts.inverse !== undefined && typeof opts.inverse !== 'boolean') fail(`inverse must be true or false, got ${JSON.stringify(opts.inverse)}`);
  if (!['train', 'val', 'test'].includes(split)) fail(`split must be train, val or test, got ${JSON.stringify(split)}`);
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) fail(`batchSize must be a positive integer, got ${batchSize}`);
  if (opts.maxBatches !== undefined && !(Number.isSafeInteger(opts.maxBatches) && opts.maxBatches >= 1)) fail(`maxBatches must be a positive integer, got ${opts.maxBatches}`);
  for (const k of ['seqLen', 'labelLen', 'predLen'] as const) {
    if (ds.opts[k] !== cfg[k]) fail(`the data set's ${k} ${ds.opts[k]} differs from the model's ${cfg[k]} (forecaster.dataset(table, { purpose: 'eval' }) builds it for the model)`);
  }
  if (ds.channels !== channels) fail(`the data set has ${ds.channels} channels, the model ${channels}`);
  const n = ds.count(split);
  if (n < batchSize) fail(`the ${split} split of ${ds.opts.file} has ${n} windows, fewer than one batch of ${batchSize} (the last partial batch is dropped, as TSLib does); pass a smaller batchSize`);
}

export interface DatasetFor {
  /** 'eval': the file's test split (its borders per the run's data kind); 'predict': its last seq_len rows. */
  purpose: 'eval' | 'predict';
  /** Name for messages. */
  file?: string;
  /** eval: the test split must hold one whole batch (default 32). */
  batchSize?: number;
  /** Split borders of another kind than the training file's. */
  kind?: DataKind;
  strictDates?: boolean;
  onWarning?: (message: string) => void;
}

/** Every option `dataset` reads: another key is a misspelling that would be ignored (strict_dates, batch_size). */
const DATASET_FOR_KEYS: ReadonlyArray<keyof DatasetFor> = ['purpose', 'file', 'batchSize', 'kind', 'strictDates', 'onWarning'];

export class RunForecaster {
  /** The model (eval mode). Owned by this object: `dispose()` frees it. */
  readonly model: Forecaster;
  /** The masks of the masked weights (by state-dict name); absent names are dense. */
  readonly masks: ReadonlyMap<string, Uint8Array>;
  private readonly masking: Masking;
  private readonly sparseExec: SparseExecution | null;
  private readonly spec: WindowSpec;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;
  /** The backend the model's weights live on: inputs go there whatever backend is current. */
  private readonly backendName: string;
  private disposed = false;

  /** Wrap a built model (its weights already trained or loaded) with its run info and masks. */
  constructor(readonly info: RunInfo, model: Forecaster, masks: ReadonlyMap<string, Uint8Array> = new Map(), opts: RunForecasterOptions = {}) {
    this.model = model;
    model.eval();
    this.backendName = model.parameters()[0]?.backend.name ?? engine.backend.name;
    this.masking = new Masking(model);
    const all = new Map<string, Uint8Array>();
    for (const l of this.masking.layers) {
      const m = masks.get(l.name);
      if (m && m.length !== l.param.size) throw new Error(`${info.model}: mask.${l.name} has ${m.length} entries; the weight has ${l.param.size}`);
      all.set(l.name, m ?? new Uint8Array(l.param.size).fill(1));
    }
    for (const k of masks.keys()) if (!all.has(k)) throw new Error(`${info.model}: mask.${k} names no masked weight of the model`);
    this.masking.load(all);
    this.masks = new Map([...masks].map(([k, m]) => [k, m.slice()]));
    const masked = this.masking.layers.some((l) => l.active < l.param.size);
    this.sparseExec = masked && opts.sparseExecution !== false ? enableSparseExecution(model, this.masking, opts.sparseExecution ?? {}) : null;
    this.spec = { cfg: info.cfg, scaler: info.scaler, timeFeatures: { count: TIME_FEATURE_COUNTS[info.cfg.freq] ?? 1 } };
    this.mean = Float64Array.from(info.scaler.mean);
    this.std = Float64Array.from(info.scaler.std);
  }

  /**
   * Build the run's model (the construction the run made, from its seed) and load its weights: every
   * state-dict key (parameters and buffers) with its size; masks by weight name.
   */
  static fromWeights(info: RunInfo, weights: ReadonlyMap<string, Float32Array>, masks: ReadonlyMap<string, Uint8Array> = new Map(), opts: RunForecasterOptions = {}): RunForecaster {
    const model = engine.noGrad(() => createModel(info.model, new Rng(info.seed), info.cfg));
    try {
      model.loadStateDict(new Map(weights));
      return new RunForecaster(info, model, masks, opts);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * Sparse execution of the masked layers, when on (masked weights, option not false): e.g.
   * `setOptions({ mode: 'dense' })` to time the dense masked path against it.
   */
  get sparseExecution(): SparseExecution | null {
    return this.sparseExec;
  }

  /** Hyper-parameters. */
  get config(): ForecastConfig {
    return this.info.cfg;
  }

  /** Column names in the model's channel order. */
  get columns(): readonly string[] {
    return this.info.scaler.columns;
  }

  /** Run `fn` with the model's backend current (new tensors go there), then restore the caller's. */
  private onModelBackend<T>(fn: () => T): T {
    const prev = engine.hasAnyBackend() ? engine.backend.name : null;
    engine.useBackend(this.backendName);
    try {
      return fn();
    } finally {
      if (prev !== null) engine.useBackend(prev);
    }
  }

  private check(): void {
    if (this.disposed) throw new Error('RunForecaster: this forecaster was disposed');
  }

  /** Forward one batch of host arrays; the last pred_len steps [B, pred_len, C] (normalised). */
  private async forward(size: number, x: Float32Array, xMark: Float32Array, dec: Float32Array, yMark: Float32Array): Promise<Float32Array> {
    this.check();
    const { seqLen, labelLen, predLen } = this.info.cfg;
    const C = this.mean.length;
    const F = this.spec.timeFeatures.count;
    const yLen = labelLen + predLen;
    const out = this.onModelBackend(() => engine.noGrad(() => tidy(() => {
      const y = this.model.forward(tensor(x, [size, seqLen, C]), tensor(xMark, [size, seqLen, F]), tensor(dec, [size, yLen, C]), tensor(yMark, [size, yLen, F]));
      return engine.keep(sliceAxis(y, 1, y.shape[1]! - predLen, predLen));
    })));
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  /**
   * Forecast pred_len steps after a raw window: de-normalised, row-major [pred_len × C], for the steps after the
   * window's last date by the run's freq (as `sparsecast/infer`'s `forecast`; src/data/future-times.ts). With
   * features MS only the last channel (the target) is trained.
   */
  async forecast(window: ForecastWindow): Promise<Float32Array> {
    const [x, marks, dec, yMark] = encodeWindow(this.spec, this.mean, this.std, window);
    return decodeForecast(this.info.cfg.predLen, this.mean, this.std, await this.forward(1, x, marks, dec, yMark), this.columns);
  }

  /** Normalised forecasts [B, pred_len, C] for a batch of a data set (built with `dataset()`). */
  async predict(b: Batch): Promise<Float32Array> {
    const { labelLen, predLen } = this.info.cfg;
    return this.forward(b.size, b.x, b.xMark, decoderInput(b, labelLen, predLen, this.mean.length), b.yMark);
  }

  /**
   * A data file read for this model: its columns taken by the trained names (any order), normalised with the
   * trained scaler (never refit), the run's split borders; refused with what is wrong when it does not fit.
   */
  dataset(table: CsvTable, opts: DatasetFor): ForecastDataset {
    const { features, target, cfg, scaler } = this.info;
    const file = opts.file ?? '<data>';
    if (opts.purpose !== 'eval' && opts.purpose !== 'predict') throw new Error(`dataset: purpose must be 'eval' or 'predict', got ${JSON.stringify(opts.purpose)}`);
    refuseUnknownKeys('dataset', opts, DATASET_FOR_KEYS);
    const matched = matchTrainedColumns(table, { columns: scaler.columns, features }, file);
    const ds = new ForecastDataset(matched, {
      kind: opts.kind ?? this.info.kind ?? inferKind(file), features, target, seqLen: cfg.seqLen, labelLen: cfg.labelLen,
      predLen: cfg.predLen, freq: cfg.freq, file, scaler: { mean: this.mean, std: this.std },
      whole: opts.purpose === 'predict',
      splits: opts.purpose === 'eval' ? ['test'] : undefined,
      // Every pass drops its last partial batch: a split with fewer windows than a batch would score nothing.
      batchSize: opts.purpose === 'eval' ? opts.batchSize ?? 32 : undefined,
      strictDates: opts.strictDates, onWarning: opts.onWarning,
    });
    if (ds.columns.join('\0') !== scaler.columns.join('\0')) {
      throw new Error(`${file}: internal: data columns ${ds.columns.join(', ')} differ from the model's ${scaler.columns.join(', ')}`);
    }
    return ds;
  }

  /**
   * TSLib's scoring of a split: the mean per-batch MSE (`loss`) and MSE / MAE / RMSE / MAPE / MSPE over every
   * window (`metrics`), on normalised values (de-normalised with `inverse`), the last pred_len steps (features
   * MS: the target channel only).
   * Test batches go in order; train and val in the Trainer's seeded order.
   */
  async evaluate(ds: ForecastDataset, opts: EvaluateOptions = {}): Promise<{ loss: number; metrics: Metrics }> {
    const split = opts.split ?? 'test';
    const batchSize = opts.batchSize ?? 32;
    const { labelLen, predLen } = this.info.cfg;
    const C = ds.channels;
    const f0 = ds.opts.features === 'MS' ? C - 1 : 0;
    const yLen = labelLen + predLen;
    checkEvaluate(ds, opts, this.info.cfg, this.mean.length);
    const score = new SplitScore(opts.inverse ? scoredChannelScale(ds.scaler, ds.opts.features) : undefined);
    const batches = ds.batches(split, batchSize, split === 'test' ? null : new Rng(this.info.seed + 3 * 2 ** 32));
    for (const ids of batches.slice(0, opts.maxBatches ?? Infinity)) {
      // Wasm reads settle as microtasks: without a turn of the event loop per batch, a long split would hold
      // off signal handlers (Ctrl-C), timers and a worker's messages until the whole split is scored.
      await yieldToEventLoop();
      const b = ds.batch(split, ids);
      const pred = await this.predict(b);
      const w = C - f0;
      const p = new Float32Array(b.size * predLen * w);
      const y = new Float32Array(p.length);
      for (let i = 0; i < b.size; i++) {
        for (let t = 0; t < predLen; t++) {
          for (let c = 0; c < w; c++) {
            const o = (i * predLen + t) * w + c;
            p[o] = pred[(i * predLen + t) * C + f0 + c]!;
            y[o] = b.y[(i * yLen + labelLen + t) * C + f0 + c]!;
          }
        }
      }
      score.add(p, y);
    }
    return score.result();
  }

  /**
   * Forecast the pred_len steps after a data set's last row (`dataset(table, { purpose: 'predict' })`):
   * de-normalised [pred_len × C] and the steps' times (epoch ms, UTC) after the file's last date, by the run's
   * freq (src/data/future-times.ts: calendar months / years / weekdays, else the file's median step). With
   * features MS only the last channel (the target) is trained; the others are the model's untrained outputs.
   */
  async forecastAfter(ds: ForecastDataset): Promise<{ values: Float32Array; times: number[] }> {
    const { seqLen, labelLen, predLen, freq } = this.info.cfg;
    const rows = ds.dates.length;
    const C = ds.channels;
    const F = ds.markDim;
    const times = futureTimes(ds.dates.map(toEpochMs), predLen, freq);
    if (!times) throw new Error(`${ds.opts.file}: no two increasing dates; the forecast's dates need the file's time step`);
    const future = times.map(fromEpochMs);
    const s = rows - seqLen;
    const yLen = labelLen + predLen;
    const dec = new Float32Array(yLen * C);
    dec.set(ds.data.subarray((rows - labelLen) * C, rows * C));
    const yMark = new Float32Array(yLen * F);
    yMark.set(ds.marks.subarray((rows - labelLen) * F, rows * F));
    yMark.set(timeFeatures(future, freq).values, labelLen * F);
    const pred = await this.forward(1, ds.data.slice(s * C, rows * C), ds.marks.slice(s * F, rows * F), dec, yMark);
    return { values: decodeForecast(predLen, this.mean, this.std, pred, this.columns), times };
  }

  /** Parameters, non-zeros and sparsity. */
  accounting(): Accounting {
    const m = this.masking;
    return { params: m.denseParams, nnz: m.nnz(), sparsity: m.sparsity(), maskedSparsity: m.maskedSparsity(), layers: layerDensities(m) };
  }

  /**
   * FLOPs of one forward pass on one window: `dense` as if every weight were dense, `sparse` with each masked
   * weight's products scaled by its density (src/tensor/flops.ts).
   */
  flops(): { dense: number; sparse: number } {
    this.check();
    const { seqLen, labelLen, predLen } = this.info.cfg;
    const C = this.mean.length;
    const F = this.spec.timeFeatures.count;
    const yLen = labelLen + predLen;
    // Autograd stays on, as in the Trainer's count: it is how weight views are recognised as weights.
    const { records } = this.onModelBackend(() => measureFlops(() => tidy(() => {
      this.model.forward(tensor(new Float32Array(seqLen * C), [1, seqLen, C]), tensor(new Float32Array(seqLen * F), [1, seqLen, F]),
        tensor(new Float32Array(yLen * C), [1, yLen, C]), tensor(new Float32Array(yLen * F), [1, yLen, F]));
    })));
    return summarizeFlops(records, this.masking.flopDensity());
  }

  /** Free the model, the masks' device copies and any sparse-execution copies. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sparseExec?.dispose();
    this.masking.dispose();
    this.model.dispose();
  }
}

/** Every tensor of a model under its state-dict name as host arrays (parameters and buffers). */
export async function hostStateDict(model: Forecaster): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of model.stateDict()) out.set(k, Float32Array.from((await (t as Tensor).data()) as Float32Array));
  return out;
}
