/**
 * A trained model → one `.sc` model file (layout in src/io/model-file.ts) for `sparsecast/infer`: weights,
 * masked layers in their smallest exact encoding (dense, CSR, bitmask, fan_in, block: src/io/sparse-encoding.ts),
 * scaler statistics, column names and time-feature settings.
 * Works on any backend (weights are read asynchronously) and needs no file system: `sparsecast export`, the
 * demo's worker and the library all write through here. The file is read back and bound to a fresh model
 * before it is returned: what we write, we can load.
 */
import '../tensor/tensor.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';
import { Rng } from '../tensor/random.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createModel } from '../models/index.ts';
import type { Forecaster } from '../models/forecaster.ts';
import { FEDformer } from '../models/fedformer.ts';
import {
  DEFAULT_CSR_THRESHOLD, MODEL_NAMES, TIME_FEATURE_COUNT, readModelFile, writeModelFile,
  type ExportedModelName, type ModelConfigInput, type WeightEncoding, type WeightInput,
} from '../io/model-file.ts';
import { bindModelFile } from '../infer/core.ts';
import type { RunInfo } from './run-forecaster.ts';
import { refuseUnknownKeys } from '../cli/did-you-mean.ts';

/** What an export needs: a model, what it is, and its masks (a `RunForecaster` is one). */
export interface ExportSource {
  readonly info: RunInfo;
  readonly model: Forecaster;
  /** Masks of the masked weights by state-dict name; weights without one are stored dense. */
  readonly masks: ReadonlyMap<string, Uint8Array>;
}

export interface ExportOptions {
  /**
   * Masked layers with density below this run through the CSR kernel at load, the others dense (default 0.5;
   * 1: every masked Linear layer). 0 writes the dense twin: every layer stored and run dense.
   */
  csrThreshold?: number;
}

/** What was written (the JSON line `sparsecast export` prints, less `out`). */
export interface ExportSummary {
  bytes: number;
  model: string;
  /** Weights stored dense. */
  dense: number;
  /** Weights stored sparse and run by the CSR kernel. */
  csr: number;
  /** Weights stored as whole 4×4 blocks (the `block` encoding, B a multiple of 4) and run by the BSR kernel. */
  bsr: number;
  /** Weights stored sparse below the threshold and expanded to dense at load (not a Linear / 1×1 convolution weight). */
  csr_expanded: number;
  /** Weights stored sparse at or above the threshold density, expanded to dense at load (the dense product is faster). */
  sparse_dense: number;
  /** Parameters per stored encoding (dense, csr, bitmask, fan_in, block; buffers not counted). */
  encodings: Record<WeightEncoding, number>;
  /** Numbers stored: dense elements plus the sparse weights' active values. */
  stored_values: number;
  /** Trainable parameters (the dense count). */
  params: number;
  csr_threshold: number;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Run `fn` with the js backend current (registered if needed), then restore the caller's choice. */
function onJs<T>(fn: () => T): T {
  if (!engine.hasBackend('js')) engine.registerBackend(createJsBackend());
  const prev = engine.hasAnyBackend() ? engine.backend.name : 'js';
  engine.useBackend('js');
  try {
    return fn();
  } finally {
    engine.useBackend(prev);
  }
}

/** The model file bytes of a trained model, and a summary of what they hold. */
export async function exportModel(source: ExportSource, opts: ExportOptions = {}): Promise<{ bytes: Uint8Array; summary: ExportSummary }> {
  const { info, model, masks } = source;
  // The one option: a misspelling (csr_threshold, the CLI's flag) would export at the default threshold.
  refuseUnknownKeys('exportModel', opts, ['csrThreshold']);
  const csrThreshold = opts.csrThreshold ?? DEFAULT_CSR_THRESHOLD;
  if (!(csrThreshold >= 0 && csrThreshold <= 1)) throw new Error(`exportModel: csrThreshold must be in [0, 1], got ${csrThreshold}`);
  if (!MODEL_NAMES.includes(info.model as ExportedModelName)) throw new Error(`exportModel: unknown model '${info.model}'`);
  const cfg = info.cfg;
  const seen = new Set<Tensor>();
  const weights: WeightInput[] = [];
  const host = async (t: Tensor) => Float32Array.from((await t.data()) as Float32Array);
  for (const [name, t] of model.namedParameters()) {
    if (seen.has(t)) continue; // a shared parameter (FEDformer's Fourier weights) once, under its first name
    seen.add(t);
    const mask = masks.get(name);
    if (mask && mask.length !== t.size) throw new Error(`exportModel: the mask of ${name} has ${mask.length} entries; the weight has ${t.size}`);
    weights.push({ name, shape: [...t.shape], data: await host(t), ...(mask ? { mask } : {}) });
  }
  // Buffers the constructor makes identically (the position tables) are rebuilt at load, not stored: compare
  // with a fresh construction of the same model (the run's seed, as FEDformer's indices come from it).
  const fresh = onJs(() => engine.noGrad(() => createModel(info.model, new Rng(info.seed), cfg)));
  const freshBuffers = new Map(fresh.namedBuffers());
  const buffers = new Set<string>();
  try {
    for (const [name, t] of model.namedBuffers()) {
      if (seen.has(t)) continue;
      seen.add(t);
      buffers.add(name);
      const v = await host(t);
      const f = freshBuffers.get(name);
      if (f && sameBits(v, f.dataSync() as Float32Array)) continue;
      weights.push({ name, shape: [...t.shape], data: v });
    }
  } finally {
    fresh.dispose();
  }
  const config: ModelConfigInput = {
    model: info.model as ExportedModelName,
    cfg: { ...cfg },
    features: info.features,
    target: info.target,
    scaler: { mean: [...info.scaler.mean], std: [...info.scaler.std], columns: [...info.scaler.columns] },
    timeFeatures: { encoding: 'timeF', freq: cfg.freq, count: TIME_FEATURE_COUNT[cfg.freq] ?? 1 },
  };
  if (model instanceof FEDformer) {
    config.modelOptions = {
      encoderIndex: [...model.encoderSelfAtt.index], decoderIndex: [...model.decoderSelfAtt.index],
      crossIndexQ: [...model.decoderCrossAtt.indexQ], crossIndexKv: [...model.decoderCrossAtt.indexKv],
    };
  }
  const bytes = writeModelFile(config, weights, { csrThreshold });
  // Read back and bind to a fresh model on the js backend: what we write, we can load.
  const check = readModelFile(bytes);
  const kinds = onJs(() => {
    const bound = engine.noGrad(() => bindModelFile(check, engine.getBackend('js')));
    const k = [...bound.layers.values()];
    bound.model.dispose();
    for (const s of bound.sparse) s.dispose();
    return k;
  });
  let stored = 0;
  const encodings: Record<WeightEncoding, number> = { dense: 0, csr: 0, bitmask: 0, fan_in: 0, block: 0 };
  for (const c of check.csr.values()) {
    stored += c.nnz;
    encodings[c.encoding]++;
  }
  for (const [name, d] of check.dense) {
    stored += d.data.length;
    if (!buffers.has(name)) encodings.dense++;
  }
  const count = (k: string) => kinds.filter((x) => x === k).length;
  return {
    bytes,
    summary: {
      bytes: bytes.length, model: info.model, dense: count('dense'), csr: count('csr'), bsr: count('bsr'), csr_expanded: count('csr→dense'),
      sparse_dense: count('sparse→dense'), encodings,
      stored_values: stored, params: weights.filter((w) => !buffers.has(w.name)).reduce((a, w) => a + w.data.length, 0),
      csr_threshold: check.config.csrThreshold,
    },
  };
}
