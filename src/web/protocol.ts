/**
 * Messages between the demo page (main.ts) and its training worker (worker.ts), and the two size presets.
 * Everything here is structured-clone friendly (plain objects, numbers, strings, typed arrays).
 */
import type { EpochLog } from '../train/trainer.ts';

export type Preset = 'tiny' | 'small';
export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'js';

export const DATASETS = ['ETTh1.csv', 'exchange_rate.csv'] as const;
export const DEMO_MODELS = ['Transformer', 'Informer', 'Autoformer', 'FEDformer', 'NSTransformer', 'DLinear'] as const;
export const DEMO_METHODS = ['dense', 'pals', 'granet', 'rigl', 'set'] as const;

export interface RunConfig {
  dataset: string;
  model: string;
  preset: Preset;
  method: string;
  epochs: number;
  /** Training steps per epoch (a cap on the epoch's batches, as --max_train_batches). */
  stepsPerEpoch: number;
  /** Validation batches per epoch score and per PALS decision. */
  valBatches: number;
  learningRate: number;
  updateFreq: number;
  backend: BackendChoice;
  seed: number;
  /** Test window shown in the forecast chart. */
  window: number;
}

/** Model and window sizes per preset (TSLib names; `small` is the CLI's small preset). */
export const PRESET_SIZES: Record<Preset, {
  seqLen: number; labelLen: number; predLen: number; dModel: number; nHeads: number; eLayers: number; dLayers: number;
  dFf: number; dropout: number; batchSize: number; modes: number; pHiddenDims: number[];
}> = {
  tiny: { seqLen: 48, labelLen: 24, predLen: 24, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32, dropout: 0.05, batchSize: 8, modes: 8, pHiddenDims: [16, 16] },
  small: { seqLen: 96, labelLen: 48, predLen: 96, dModel: 64, nHeads: 4, eLayers: 2, dLayers: 1, dFf: 256, dropout: 0.05, batchSize: 32, modes: 32, pHiddenDims: [128, 128] },
};

export type ToWorker =
  | { type: 'start'; config: RunConfig }
  | { type: 'stop' }
  | { type: 'forecast'; window: number }
  | { type: 'export' };

export interface SparsityPoint {
  step: number;
  sparsity: number;
  /** The controller's decision (PALS: shrink / expand / stable), null for a plain sample (start, epoch end). */
  decision: string | null;
  val_loss: number | null;
  layers: Record<string, number>;
}

export interface ForecastView {
  window: number;
  column: string;
  seqLen: number;
  /** Target channel in the data's units: the input window, then truth and forecast over pred_len. */
  history: number[];
  truth: number[];
  forecast: number[];
  step: number;
  /** Axis labels with units: the column and what it measures ("OT: oil temperature (°C)"), one time step ("1 h"). */
  yLabel: string;
  xLabel: string;
}

export type FromWorker =
  | { type: 'backend'; backend: string; adapter: string | null; note: string }
  | {
      type: 'ready';
      info: { dataset: string; model: string; method: string; channels: number; columns: string[]; testWindows: number; params: number; itersPerEpoch: number; seqLen: number; predLen: number };
    }
  | { type: 'step'; step: number; epoch: number; loss: number; ms: number }
  | { type: 'epoch'; step: number; log: EpochLog }
  | { type: 'sparsity'; point: SparsityPoint }
  | { type: 'forecast'; view: ForecastView }
  | { type: 'done'; reason: 'finished' | 'stopped'; steps: number }
  | { type: 'exported'; files: { name: string; mime: string; bytes: Uint8Array }[]; note: string }
  | { type: 'error'; message: string };
