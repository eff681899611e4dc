/**
 * Forward-only forecasting from an exported model file (src/io/model-file.ts): build the model the config
 * names, bind its weights and turn a raw window into a de-normalised forecast, building the time features of the
 * window and of the forecast steps as `sparsecast predict` does.
 *
 * Sparse weights arrive decoded to CSR whatever their encoding (CSR, bitmask, fan_in, block:
 * src/io/sparse-encoding.ts). Those below the file's CSR threshold density in Linear layers (and kernel-size-1
 * convolutions, which are Linear on the channel axis) run sparse, as training's sparse execution and the
 * version-1 files did: through the `denseBsrT` kernel when the file stores them as whole 4×4 blocks (the `block`
 * encoding with B a multiple of 4; src/infer/block-weight.ts), else through `denseCsrT`. The others are
 * expanded to dense: at or above the threshold because
 * the dense GEMM is faster there (the encoding only makes the file small), wider convolutions, Fourier and LSTM
 * weights because the model reads them whole. Both paths sum each output in increasing column order with the
 * masked entries exactly 0, so the forecast is the same bits either way on wasm.
 *
 * No autograd runs here (every forward is inside `noGrad`; the inference bundle also replaces the tape by a
 * no-op), no file or network access: the caller passes the bytes.
 */
import '../tensor/tensor.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Backend } from '../backend/kernels.ts';
import { engine, tidy } from '../tensor/engine.ts';
import { Rng } from '../tensor/random.ts';
import { assignInPlace } from '../tensor/assign.ts';
import { Module } from '../nn/module.ts';
import { Linear } from '../nn/linear.ts';
import { Conv1d } from '../nn/conv1d.ts';
import { tensor } from '../ops/creation.ts';
import { wrap } from '../ops/util.ts';
import { reshape } from '../ops/reshape.ts';
import { permute, sliceAxis } from '../ops/movement.ts';
import { Csr } from '../ops/sparse.ts';
import { BlockWeight } from './block-weight.ts';
import { createModel, type ForecastConfig } from '../models/index.ts';
import { FEDformer } from '../models/fedformer.ts';
import type { Forecaster as ForecastModule } from '../models/forecaster.ts';
import { encodeWindow, type ForecastWindow } from './window.ts';
import { modelFileError as fail, readModelFile, type CsrWeight, type ModelConfig, type ModelFile } from '../io/model-file.ts';

export type { ForecastWindow } from './window.ts';

export type LayerPath = 'dense' | 'csr' | 'bsr' | 'csr→dense' | 'sparse→dense';

export interface Forecaster {
  /** Forecast pred_len steps after the window: de-normalised, row-major [pred_len × C]. */
  forecast(window: ForecastWindow): Float32Array;
  readonly config: ModelConfig;
  /**
   * How each stored weight runs: 'dense' (stored dense), 'csr' (stored sparse, denseCsrT kernel), 'bsr' (stored
   * as whole 4×4 blocks, denseBsrT kernel), 'csr→dense'
   * (stored sparse, below the threshold, expanded as the model reads it whole), 'sparse→dense' (stored sparse at
   * or above the threshold density, expanded: the dense product is faster there).
   */
  readonly layers: ReadonlyMap<string, LayerPath>;
  /** Free the model's tensors. */
  dispose(): void;
}

function children(m: Module): Map<string, Module> {
  // Module keeps its submodules in a private map; the state-dict names are paths through it.
  return (m as unknown as { children: Map<string, Module> }).children;
}

/** The module that owns parameter `name` (`a.b.0.weight` → module at a.b.0), or null. */
function ownerOf(root: Module, name: string): Module | null {
  const path = name.split('.').slice(0, -1);
  let m: Module | undefined = root;
  for (const p of path) {
    m = children(m).get(p);
    if (!m) return null;
  }
  return m;
}

/** x [..., k] · Wᵀ (+ b) with W [n, k] stored sparse (CSR or 4×4 blocks) → [..., n]. */
function sparseLinear(x: Tensor, w: Csr | BlockWeight, bias: Tensor | null): Tensor {
  const lead = x.shape.slice(0, -1);
  const k = x.shape[x.rank - 1]!;
  const m = lead.reduce((a, b) => a * b, 1);
  const x2 = reshape(x, [m, k]);
  // The kernels directly (both add the bias to each finished sum): no tape here, and the denseCsrT op's
  // autograd would only add bytes to the entry.
  const op = 'sparseLinear';
  const y = w instanceof Csr
    ? wrap(x2.backend.kernels.denseCsrT(x2.use(op), m, w.storage(op), bias?.use(op)), [m, w.rows], x2.backend)
    : w.product(x2, bias);
  return reshape(y, [...lead, w.rows]);
}

function csrToHostDense(c: CsrWeight): Float32Array {
  const out = new Float32Array(c.rows * c.cols);
  for (let r = 0; r < c.rows; r++) {
    for (let p = c.rowPtr[r]!; p < c.rowPtr[r + 1]!; p++) out[r * c.cols + c.colIdx[p]!] = c.values[p]!;
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Build the config's model on `backend` and load the file's weights into it (checking names and shapes). */
export function bindModelFile(file: ModelFile, backend: Backend): {
  model: ForecastModule; layers: Map<string, LayerPath>; sparse: Array<Csr | BlockWeight>;
} {
  const { config } = file;
  const cfg: ForecastConfig = { ...config.cfg };
  const rng = new Rng(0); // initial values are overwritten; only FEDformer's indices depend on draws, and they are stored
  const model = config.model === 'FEDformer'
    ? new FEDformer(rng, cfg, { ...config.modelOptions })
    : createModel(config.model, rng, cfg);
  model.eval();
  const layers = new Map<string, LayerPath>();
  const sparse: Array<Csr | BlockWeight> = [];
  try {
    const params = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    for (const [k, t] of model.namedParameters()) {
      if (seen.has(t)) continue;
      seen.add(t);
      params.set(k, t);
    }
    const buffers = new Map(model.namedBuffers().filter(([, t]) => !seen.has(t)));
    const values = new Map<string, Float32Array>();
    for (const [name, d] of [...file.dense, ...file.csr]) {
      const dense = file.dense.has(name); // a sparse weight must be a parameter; a dense tensor may be a buffer
      const t = params.get(name) ?? (dense ? buffers.get(name) : undefined);
      if (!t) fail(`tensor '${name}' is not a parameter${dense ? ' or buffer' : ''} of ${config.model}`);
      if (!sameShape(t.shape, d.shape)) fail(`tensor '${name}' has shape [${d.shape.join(', ')}]; ${config.model} expects [${t.shape.join(', ')}]`);
      if (dense) {
        values.set(name, (d as { data: Float32Array }).data);
        layers.set(name, 'dense');
      }
    }
    const missing = [...params.keys()].filter((k) => !file.dense.has(k) && !file.csr.has(k));
    if (missing.length) fail(`${config.model} parameters missing from the file: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}`);
    model.loadStateDict(values, false);
    for (const [name, c] of file.csr) {
      const t = params.get(name)!;
      const owner = ownerOf(model, name);
      const leaf = name.slice(name.lastIndexOf('.') + 1);
      const asLinear = owner instanceof Linear && leaf === 'weight';
      const asConv1 = owner instanceof Conv1d && leaf === 'weight' && owner.kernelSize === 1 && (owner.cfg.stride ?? 1) === 1
        && (owner.cfg.padding ?? 0) === 0 && (owner.cfg.dilation ?? 1) === 1;
      const below = c.nnz < config.csrThreshold * c.rows * c.cols;
      if ((asLinear || asConv1) && below) {
        const entry = config.sparse[name]!;
        const blocks = entry.encoding === 'block' && entry.block! % 4 === 0; // whole 4×4 blocks: BsrStorage's
        const w = blocks ? BlockWeight.fromCsr(c, backend.name) : Csr.fromArrays(c.rowPtr, c.colIdx, c.values, [c.rows, c.cols], { backend: backend.name });
        sparse.push(w);
        const bias = (owner as Linear | Conv1d).bias;
        if (asLinear) {
          (owner as Linear).forward = (x: Tensor) => sparseLinear(x, w, bias);
        } else {
          const conv = owner as Conv1d;
          conv.forwardChannelsLast = (x: Tensor) => sparseLinear(x, w, bias);
          conv.forward = (x: Tensor) => permute(sparseLinear(permute(x, [0, 2, 1]), w, bias), [0, 2, 1]);
        }
        t.dispose(); // the dense weight is never read again: a stray use fails loudly instead of using init values
        layers.set(name, blocks ? 'bsr' : 'csr');
      } else {
        assignInPlace(t, tensor(csrToHostDense(c), t.shape, { backend: backend.name }));
        layers.set(name, below ? 'csr→dense' : 'sparse→dense');
      }
    }
  } catch (e) {
    model.dispose();
    for (const s of sparse) s.dispose();
    throw e;
  }
  return { model, layers, sparse };
}

/** A forecaster over a registered backend (`engine` must know `backend`). */
export function createForecaster(bytes: Uint8Array, backend: Backend): Forecaster {
  const file = readModelFile(bytes);
  const { config } = file;
  engine.useBackend(backend.name);
  const { model, layers, sparse } = engine.noGrad(() => bindModelFile(file, backend));
  const { seqLen, labelLen, predLen } = config.cfg;
  const C = config.cfg.encIn;
  const F = config.timeFeatures.count;
  const mean = Float64Array.from(config.scaler.mean);
  const std = Float64Array.from(config.scaler.std);
  let disposed = false;
  const at = (i: number) => `row ${Math.floor(i / C)}, column ${config.scaler.columns[i % C]}`;

  const forecast = (window: ForecastWindow): Float32Array => {
    if (disposed) throw new Error('forecast: this forecaster was disposed');
    const [x, marks, dec, yMark] = encodeWindow(config, mean, std, window);
    // The input furthest from the training mean, for the message when the output is not finite.
    let far = 0;
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) > Math.abs(x[far]!)) far = i;
    const yLen = labelLen + predLen;
    engine.useBackend(backend.name);
    const out = engine.noGrad(() => tidy(() => {
      const b = { backend: backend.name };
      const y = model.forward(tensor(x, [1, seqLen, C], b), tensor(marks, [1, seqLen, F], b), tensor(dec, [1, yLen, C], b), tensor(yMark, [1, yLen, F], b));
      return sliceAxis(y, 1, y.shape[1]! - predLen, predLen).dataSync() as Float32Array;
    }));
    const res = new Float32Array(predLen * C);
    for (let i = 0; i < res.length; i++) {
      res[i] = out[i]! * std[i % C]! + mean[i % C]!;
      // A NaN forecast is a silently wrong answer: name where, and the input most likely to blame (values
      // many standard deviations out overflow float32 inside the model).
      if (!Number.isFinite(res[i]!)) {
        throw new Error(`forecast: the output is ${res[i]} at ${at(i)} of the forecast; the most extreme input is window.values[${far}] (${at(far)}) = ${window.values[far]}, ${Math.abs(x[far]!).toPrecision(3)} standard deviations from the training mean`);
      }
    }
    return res;
  };

  return {
    forecast,
    config,
    layers,
    dispose() {
      if (disposed) return;
      disposed = true;
      model.dispose();
      for (const s of sparse) s.dispose();
    },
  };
}
