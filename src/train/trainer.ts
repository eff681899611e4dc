/**
 * The training loop of Time-Series-Library's long-term forecasting experiment: Adam on MSE, validation and
 * test loss after every epoch, early stopping on validation, the learning-rate schedule after each epoch,
 * and the final test metrics from the best (lowest validation loss) weights.
 *
 * Reproducible and restartable: every random draw comes from two seeded generators (the model's, for init
 * and dropout; the data's, for shuffling), whose counters are saved in each checkpoint together with the
 * weights, Adam's moments and the position in the epoch. Resuming from any checkpoint replays the rest of
 * the run exactly.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { Rng } from '../tensor/random.ts';
import { engine, tidy } from '../tensor/engine.ts';
import { tensor } from '../ops/creation.ts';
import { sliceAxis } from '../ops/movement.ts';
import { backward } from '../autograd/backward.ts';
import { Adam } from './adam.ts';
import { EarlyStopping } from './early-stopping.ts';
import { adjustedLearningRate, type LrAdjust } from './lr-schedule.ts';
import { SplitScore, scoredChannelScale, type Metrics } from './metrics.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointData } from './checkpoint.ts';
import { decoderInput, type Batch, type ForecastDataset } from '../data/forecast-dataset.ts';
import { batchLoss, batchShape, forwardBatch, gradientsDropped, type BatchShape } from './forecast-loss.ts';
import type { Split } from '../data/dataset.ts';
import type { SafeArray } from '../io/safetensors.ts';
import type { Storage } from '../backend/kernels.ts';
import { measureFlops, summarizeFlops } from '../tensor/flops.ts';
import type { SparsityController, UpdateRecord, SparseStepContext } from '../sparse/controller.ts';
import { enableSparseExecution, type SparseExecOptions, type SparseExecution } from '../sparse/sparse-exec.ts';
import type { Forecaster } from '../models/forecaster.ts';
import { yieldToEventLoop } from '../backend/yield.ts';

// The model interface lives with the models; re-exported here for the imports that predate the move.
export type { Forecaster } from '../models/forecaster.ts';

export interface TrainOptions {
  epochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  lradj: LrAdjust;
  seed: number;
  /** Cap on training batches per epoch (quick runs). */
  maxTrainBatches?: number;
  /**
   * Evaluate the test split after every epoch, as TSLib does (default true). It only feeds `log.jsonl` and the
   * loss plot; false skips it (logged as NaN) to save time on long benchmark runs. The final test is unchanged.
   */
  epochTest?: boolean;
  /**
   * Score the final test on de-normalised values, the data's own units (TSLib's --inverse); validation, early
   * stopping and the per-epoch losses stay on normalised values, as in TSLib.
   */
  inverse?: boolean;
  /** Where `checkpoint.safetensors` and `best.safetensors` go; none → no files. */
  checkpointPath?: string;
  bestPath?: string;
  /**
   * Without `bestPath`: keep the best (lowest validation loss) weights and masks in memory and end `fit` with
   * them, as a run with files does (the library's `fit` in a browser). Default false: end with the last weights.
   */
  keepBest?: boolean;
  /** Save a checkpoint every N training steps as well as at each epoch end (0: epoch ends only). */
  checkpointEvery?: number;
  /** Continue from `checkpointPath`. */
  resume?: boolean;
  onStep?: (p: { epoch: number; step: number; steps: number; loss: number }) => void;
  /** After each epoch, with the whole history so far (restored from the checkpoint on resume). */
  onEpoch?: (log: EpochLog, history: readonly EpochLog[]) => void;
  /**
   * Polled after every step and before each batch of the epoch-end and final evaluation passes (Ctrl-C):
   * save a checkpoint at the last completed step and return early with `interrupted: true`. The loop yields
   * to the event loop before each poll, so a signal handler that sets the flag gets to run.
   */
  shouldStop?: () => boolean;
  /** Sparse training: masks and a controller that re-masks and updates the topology around each step. */
  controller?: SparsityController;
  /** The controller's generator (random growth, random masks); its counter is checkpointed. */
  sparseRng?: Rng;
  /** Validation batches per controller decision (a fixed seeded subset); all when undefined. */
  valBatches?: number;
  /** Called with every topology update record. */
  onUpdate?: (rec: UpdateRecord) => void;
  /**
   * Sparse execution of the masked Linear / Conv1d(k=1) layers (src/sparse/sparse-exec.ts): each runs
   * dense-masked or CSR by its density against the measured crossover. On by default when the controller has
   * masks ({ mode: 'auto' }); false turns it off.
   */
  sparseExecution?: SparseExecOptions | false;
  /** Extra state saved in and restored from checkpoints. */
  extraState?: { save(): Record<string, unknown>; load(s: Record<string, unknown>): void };
}

export interface EpochLog {
  epoch: number;
  train_loss: number;
  val_loss: number;
  test_loss: number;
  lr: number;
  seconds: number;
}

export interface TrainResult {
  epochsRun: number;
  bestVal: number;
  test: Metrics;
  trainSeconds: number;
  history: EpochLog[];
  interrupted: boolean;
  steps: number;
}

interface RunState {
  epoch: number;
  /** Next batch index within the epoch. */
  batch: number;
  step: number;
  /** Data-RNG counter at the start of the epoch (re-draws its permutation on resume). */
  epochRngOffset: number;
  modelRngOffset: number;
  lr: number;
  adamT: number;
  trainLossSum: number;
  early: ReturnType<EarlyStopping['state']>;
  history: EpochLog[];
  bestVal: number;
  trainSeconds: number;
  extra?: Record<string, unknown>;
}

export class NonFiniteLossError extends Error {}

/** Thrown out of a stoppable `evaluate` when `shouldStop` turns true; `fit` turns it into an interrupted run. */
class EvaluationStopped extends Error {}

export class Trainer {
  readonly adam: Adam;
  private readonly dataRng: Rng;
  /** Seconds spent in validation / test passes (the controller's cost when it evaluates). */
  evalSeconds = 0;
  /** Sparse execution of the masked layers, when on (see TrainOptions.sparseExecution). */
  readonly sparseExec: SparseExecution | null;

  constructor(
    readonly model: Forecaster,
    readonly data: ForecastDataset,
    readonly modelRng: Rng,
    readonly opts: TrainOptions,
  ) {
    this.adam = new Adam(model.parameters(), { lr: opts.learningRate });
    this.dataRng = new Rng(opts.seed + 2 ** 32);
    const masking = opts.controller?.masking;
    this.sparseExec = masking && opts.sparseExecution !== false
      ? enableSparseExecution(model, masking, opts.sparseExecution ?? {})
      : null;
  }

  /**
   * `sparseExec.shared.passTrials.training` when the training guard last ran. The trials run inside a step's
   * forward, so the guard follows on the next step; a model that is still dense (PALS starts dense) runs none.
   */
  private guardedAtTrials = 0;

  /**
   * The whole-model guard of 'auto' sparse execution for training (src/sparse/model-guard.ts): whenever
   * per-layer training trials have run since the last guard (the first sparse steps, a material mask change), time
   * forward + backward on this batch with the chosen paths against all-dense and fall back to dense when the
   * choice is not faster. It runs in eval mode with the model generator's position restored and the gradients
   * dropped, so it draws nothing and changes no state a run sees (all paths give the same numbers on wasm).
   */
  private async guardSparseTraining(b: Batch): Promise<void> {
    const ex = this.sparseExec;
    if (!ex || !this.model.parameters()[0]?.backend.readSync) return;
    const mode = [...ex.layers.values()][0]?.opts.mode ?? 'auto';
    if (mode !== 'auto' || ex.shared.passTrials.training === this.guardedAtTrials) return;
    const offset = this.modelRng.offset;
    const run = () => {
      this.model.eval();
      this.gradientsDropped(b);
    };
    try {
      await ex.guard('training', run, 3);
    } finally {
      this.model.train();
      this.modelRng.offset = offset;
    }
    this.guardedAtTrials = ex.shared.passTrials.training;
  }

  /** The batch's window sizes and scored channels (src/train/forecast-loss.ts). */
  private get shape(): BatchShape {
    return batchShape(this.data);
  }

  private forward(b: Batch): { out: Tensor; target: Tensor } {
    return forwardBatch(this.model, b, this.shape);
  }

  /**
   * One optimisation step on a batch; resolves to the loss. `ctx` drives the sparse controller, if any.
   * Reads are awaited, so the same step runs on the GPU backend: the forward pass is recorded inside a tidy
   * (its intermediates stay pinned by the tape), the loss is read, and only a finite loss is back-propagated.
   */
  async trainStep(b: Batch, ctx?: SparseStepContext): Promise<number> {
    this.model.train();
    const c0 = this.opts.controller;
    // Dense weight gradients this step? Only sparse execution's 'sparse-between-updates' mode reads it.
    if (c0?.masking) c0.masking.denseGradients = ctx && c0.needsDenseGradients ? c0.needsDenseGradients(ctx) : true;
    const loss = batchLoss(this.model, b, this.shape);
    try {
      const value = (await loss.data())[0]!;
      if (!Number.isFinite(value)) return value;
      backward(loss);
      const c = this.opts.controller;
      if (c && ctx) await c.beforeOptimizerStep(ctx);
      this.adam.step();
      if (c && ctx) {
        const rec = await c.afterOptimizerStep(ctx);
        if (rec) this.opts.onUpdate?.(rec);
      }
      return value;
    } finally {
      this.adam.zeroGrad();
      loss.dispose();
    }
  }

  /**
   * Forward and backward of one training batch without an optimizer step or controller hook (the gradients
   * are dropped): what a training step costs apart from Adam, for timing sparse vs dense-masked execution.
   * Draws dropout from the model's generator like a real step.
   */
  lossAndGradients(b: Batch): void {
    this.model.train();
    this.gradientsDropped(b);
  }

  /** Forward, loss and backward of one batch in the model's current mode; the gradients are dropped. */
  private gradientsDropped(b: Batch): void {
    gradientsDropped(this.model, b, this.shape);
  }

  private sparseContext(step: number, epoch: number, itersPerEpoch: number): SparseStepContext {
    return {
      step, epoch, itersPerEpoch, totalEpochs: this.opts.epochs,
      validate: async () => (await this.evaluate('val', this.opts.valBatches)).loss,
      momentum: (p) => {
        const i = this.adam.params.indexOf(p);
        return i >= 0 ? this.adam.m[i]! : null;
      },
    };
  }

  /** Masks (as u8 tensors named `mask.<param>`) for checkpoints. */
  private maskTensors(into: Map<string, { shape: number[]; data: SafeArray }>): void {
    const m = this.opts.controller?.masking;
    if (!m) return;
    for (const l of m.layers) into.set(`mask.${l.name}`, { shape: [...l.param.shape], data: l.mask });
  }

  private restoreMasks(tensors: Map<string, { shape: number[]; data: SafeArray }>): void {
    const m = this.opts.controller?.masking;
    if (!m) return;
    const masks = new Map<string, Uint8Array>();
    for (const [k, t] of tensors) if (k.startsWith('mask.')) masks.set(k.slice(5), t.data as Uint8Array);
    if (masks.size) m.load(masks);
  }

  /** Forecasts [B, pred_len, C] (normalised) for a batch, in eval mode. */
  async predict(b: Batch): Promise<Float32Array> {
    this.model.eval();
    const { predLen, labelLen, seqLen } = this.data.opts;
    const C = this.data.channels;
    const F = this.data.markDim;
    const yLen = labelLen + predLen;
    const out = engine.noGrad(() =>
      tidy(() => {
        const y = this.model.forward(
          tensor(b.x, [b.size, seqLen, C]), tensor(b.xMark, [b.size, seqLen, F]),
          tensor(decoderInput(b, labelLen, predLen, C), [b.size, yLen, C]), tensor(b.yMark, [b.size, yLen, F]),
        );
        return engine.keep(sliceAxis(y, 1, y.shape[1]! - predLen, predLen));
      }),
    );
    this.model.train();
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  /** FLOPs of one forward pass on one window (see tensor/flops.ts), with autograd on so weight views are recognised. */
  forwardFlops(density?: (weight: Storage) => number): { dense: number; sparse: number } {
    const b = this.data.batch('test', [0]);
    const { records } = measureFlops(() => tidy(() => {
      this.model.eval();
      this.forward(b);
      this.model.train();
    }));
    return summarizeFlops(records, density);
  }

  /**
   * Mean per-batch MSE over a split (TSLib's vali), and full metrics over all its windows (with `inverse`, on
   * de-normalised values). Yields to the event loop before each batch; with `stoppable`, throws
   * EvaluationStopped there once `shouldStop` is true.
   */
  async evaluate(split: Split, maxBatches = Infinity, stoppable = false, inverse = false): Promise<{ loss: number; metrics: Metrics }> {
    const t0 = performance.now();
    this.model.eval();
    try {
      return await this.evaluatePass(split, maxBatches, stoppable, inverse);
    } finally {
      this.model.train();
      this.evalSeconds += (performance.now() - t0) / 1000;
    }
  }

  private async evaluatePass(split: Split, maxBatches: number, stoppable: boolean, inverse: boolean): Promise<{ loss: number; metrics: Metrics }> {
    const score = new SplitScore(inverse ? scoredChannelScale(this.data.scaler, this.data.opts.features) : undefined);
    const batches = this.data.batches(split, this.opts.batchSize, split === 'test' ? null : new Rng(this.opts.seed + 3 * 2 ** 32));
    for (const ids of batches.slice(0, maxBatches)) {
      await yieldToEventLoop();
      if (stoppable && this.opts.shouldStop?.()) throw new EvaluationStopped();
      const b = this.data.batch(split, ids);
      const { out, target } = engine.noGrad(() =>
        tidy(() => {
          const r = this.forward(b);
          return { out: engine.keep(r.out), target: engine.keep(r.target) };
        }),
      );
      const p = (await out.data()) as Float32Array;
      const y = (await target.data()) as Float32Array;
      out.dispose();
      target.dispose();
      score.add(p, y);
    }
    return score.result();
  }

  /** The model's state dict as host arrays (`model.<key>`). */
  private async modelTensors(): Promise<Map<string, { shape: number[]; data: SafeArray }>> {
    const tensors = new Map<string, { shape: number[]; data: SafeArray }>();
    for (const [k, t] of this.model.stateDict()) tensors.set(`model.${k}`, { shape: [...t.shape], data: (await t.data()) as SafeArray });
    return tensors;
  }

  /** Whether `checkpointPath` holds a checkpoint of this run (saved by it, or resumed from). */
  private checkpointSaved = false;

  private async snapshot(state: RunState): Promise<void> {
    if (!this.opts.checkpointPath) return;
    const tensors = await this.modelTensors();
    const named = this.model.namedParameters();
    for (let i = 0; i < named.length; i++) {
      const k = named[i]![0];
      tensors.set(`adam.m.${k}`, { shape: [...this.adam.m[i]!.shape], data: (await this.adam.m[i]!.data()) as SafeArray });
      tensors.set(`adam.v.${k}`, { shape: [...this.adam.v[i]!.shape], data: (await this.adam.v[i]!.data()) as SafeArray });
    }
    this.maskTensors(tensors);
    const extra = this.opts.extraState?.save();
    const sparse = this.opts.controller ? { controller: this.opts.controller.state(), rngOffset: this.opts.sparseRng?.offset ?? 0 } : undefined;
    saveCheckpoint(this.opts.checkpointPath, { tensors, state: { ...state, extra, sparse, modelRngOffset: this.modelRng.offset, lr: this.adam.lr, adamT: this.adam.t } });
    this.checkpointSaved = true;
  }

  /** The best weights and masks when kept in memory (`keepBest` without `bestPath`). */
  private best: CheckpointData | null = null;

  private async saveBest(): Promise<void> {
    if (!this.opts.bestPath && !this.opts.keepBest) return;
    const tensors = await this.modelTensors();
    this.maskTensors(tensors);
    const data = { tensors, state: { extra: this.opts.extraState?.save() } };
    if (this.opts.bestPath) saveCheckpoint(this.opts.bestPath, data);
    else this.best = data;
  }

  private restore(path: string): RunState {
    const ck = loadCheckpoint(path);
    const values = new Map<string, Float32Array>();
    for (const [k, t] of ck.tensors) if (k.startsWith('model.')) values.set(k.slice(6), t.data as Float32Array);
    this.model.loadStateDict(values);
    this.model.namedParameters().forEach(([k], i) => {
      for (const [prefix, list] of [['adam.m.', this.adam.m], ['adam.v.', this.adam.v]] as const) {
        const t = ck.tensors.get(prefix + k);
        if (!t) throw new Error(`checkpoint: ${path} lacks ${prefix}${k}`);
        const old = list[i]!;
        list[i] = engine.keep(tensor(t.data as Float32Array, old.shape));
        old.dispose();
      }
    });
    const s = ck.state as unknown as RunState & { sparse?: { controller: Record<string, unknown>; rngOffset: number } };
    this.restoreMasks(ck.tensors);
    if (s.sparse && this.opts.controller) {
      this.opts.controller.restore(s.sparse.controller);
      if (this.opts.sparseRng) this.opts.sparseRng.offset = s.sparse.rngOffset;
    }
    this.adam.t = s.adamT;
    this.adam.lr = s.lr;
    this.modelRng.offset = s.modelRngOffset;
    if (s.extra && this.opts.extraState) this.opts.extraState.load(s.extra);
    return s;
  }

  /** Load the best weights (written during `fit`). */
  loadBest(): void {
    const ck = this.opts.bestPath ? loadCheckpoint(this.opts.bestPath) : this.best;
    if (!ck) return;
    const values = new Map<string, Float32Array>();
    for (const [k, t] of ck.tensors) if (k.startsWith('model.')) values.set(k.slice(6), t.data as Float32Array);
    this.model.loadStateDict(values);
    this.restoreMasks(ck.tensors);
    const extra = ck.state.extra as Record<string, unknown> | undefined;
    if (extra && this.opts.extraState) this.opts.extraState.load(extra);
  }

  async fit(): Promise<TrainResult> {
    const o = this.opts;
    const early = new EarlyStopping(o.patience);
    let st: RunState = {
      epoch: 1, batch: 0, step: 0, epochRngOffset: this.dataRng.offset, modelRngOffset: this.modelRng.offset,
      lr: o.learningRate, adamT: 0, trainLossSum: 0, early: early.state(), history: [], bestVal: Infinity, trainSeconds: 0,
    };
    if (o.resume) {
      if (!o.checkpointPath) throw new Error('train: --resume needs a checkpoint path');
      st = this.restore(o.checkpointPath);
      this.checkpointSaved = true;
      early.restore(st.early);
    }
    let interrupted = false;
    let clock = performance.now();
    const elapsed = () => {
      const now = performance.now();
      st.trainSeconds += (now - clock) / 1000;
      clock = now;
    };
    while (st.epoch <= o.epochs && !early.stop) {
      const epochStart = performance.now();
      this.dataRng.offset = st.epochRngOffset;
      const all = this.data.batches('train', o.batchSize, this.dataRng);
      const batches = all.slice(0, o.maxTrainBatches ?? all.length);
      for (; st.batch < batches.length; ) {
        await this.guardSparseTraining(this.data.batch('train', batches[st.batch]!));
        const loss = await this.trainStep(this.data.batch('train', batches[st.batch]!), this.sparseContext(st.step + 1, st.epoch, batches.length));
        if (!Number.isFinite(loss)) {
          elapsed();
          throw new NonFiniteLossError(
            `train: loss is ${loss} at epoch ${st.epoch}, step ${st.step + 1}; stopped without updating the weights. ` +
              (!o.checkpointPath ? 'No checkpoint path was set.'
                : this.checkpointSaved ? `The last good checkpoint is ${o.checkpointPath}.`
                : `No checkpoint was saved before it (the first was due ${o.checkpointEvery ? `after step ${o.checkpointEvery} or ` : ''}at the epoch end): there is none to resume from.`),
          );
        }
        st.batch++;
        st.step++;
        st.trainLossSum += loss;
        o.onStep?.({ epoch: st.epoch, step: st.batch, steps: batches.length, loss });
        const every = o.checkpointEvery ?? 0;
        await yieldToEventLoop();
        const stop = o.shouldStop?.() ?? false;
        if ((every > 0 && st.step % every === 0) || stop) {
          elapsed();
          await this.snapshot(st);
        }
        if (stop) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
      const trainLoss = st.trainLossSum / batches.length;
      let val: { loss: number };
      let testLoss: number;
      try {
        val = await this.evaluate('val', Infinity, true);
        testLoss = o.epochTest === false ? NaN : (await this.evaluate('test', Infinity, true)).loss;
      } catch (e) {
        if (!(e instanceof EvaluationStopped)) throw e;
        // Stopped inside the epoch end: nothing of it (history, early stopping, best weights, lr) has changed
        // yet, so the state as of the epoch's last step is saved; a resumed run redoes the whole epoch end.
        elapsed();
        await this.snapshot(st);
        interrupted = true;
        break;
      }
      const log: EpochLog = { epoch: st.epoch, train_loss: trainLoss, val_loss: val.loss, test_loss: testLoss, lr: this.adam.lr, seconds: (performance.now() - epochStart) / 1000 };
      st.history.push(log);
      o.onEpoch?.(log, st.history);
      if (early.step(val.loss)) {
        st.bestVal = val.loss;
        await this.saveBest();
      }
      const next = adjustedLearningRate(o.lradj, o.learningRate, st.epoch);
      if (next !== null) this.adam.lr = next;
      st.epoch++;
      st.batch = 0;
      st.trainLossSum = 0;
      st.epochRngOffset = this.dataRng.offset;
      st.early = early.state();
      elapsed();
      await this.snapshot(st);
    }
    elapsed();
    if (!interrupted && (o.bestPath || o.keepBest)) this.loadBest();
    let test: Metrics = { mse: NaN, mae: NaN, rmse: NaN, mape: NaN, mspe: NaN };
    if (!interrupted) {
      try {
        test = (await this.evaluate('test', Infinity, true, o.inverse === true)).metrics;
      } catch (e) {
        if (!(e instanceof EvaluationStopped)) throw e;
        // Training is complete and its last epoch-end checkpoint is current (the best weights loaded above are
        // not saved over it): a resumed run skips straight to this final test.
        interrupted = true;
      }
    }
    return { epochsRun: st.history.length, bestVal: st.bestVal, test, trainSeconds: st.trainSeconds, history: st.history, interrupted, steps: st.step };
  }

  dispose(): void {
    this.sparseExec?.dispose();
    this.adam.dispose();
  }
}
