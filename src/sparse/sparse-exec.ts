/**
 * Sparse execution of masked layers: every masked Linear weight (and kernel-size-1 Conv1d weight, run as a
 * Linear on the channel axis by `forwardChannelsLast`) runs on one of five paths, chosen per layer:
 * - 'dense'   the GEMM on W ⊙ M (the dense-masked path);
 * - 'csr'     CSR of W and of Wᵀ (src/sparse/exec-csr.ts), any mask;
 * - 'bsr'     4×4 blocks of W and of Wᵀ (exec-bsr.ts), any mask — pays when the mask is made of whole blocks;
 * - 'fan_in'  the condensed constant fan-in storage (exec-fan-in.ts), only where every live row of the mask
 *             keeps the same number of inputs (checked on the mask);
 * - 'compact' the dense GEMM over the live rows only (exec-compact.ts) — pays when many neurons are ablated.
 *
 * For y = X·Wᵀ + b with X [m, k], W [n, k], a sparse path runs its format's three products (exec-format.ts):
 * - forward      y  = format.forward(X)                   (+ b)
 * - input grad   dX = format.inputGrad(G)                 (G·W)
 * - weight grad  'dense' (default): dW = Gᵀ·X by the GEMM, the dense gradient the reference computes (growth
 *                reads it, Adam's dense moments see it);
 *                'sparse-between-updates': dW = format.weightGradAtPattern(G, X) (Gᵀ·X at W's positions, zeros
 *                elsewhere) except on steps where `masking.denseGradients` is set (topology updates), which get
 *                the dense Gᵀ·X. To keep the result independent of which path a layer takes, the dense-masked
 *                path then masks its weight gradient too, so all paths give the same state; this differs from
 *                the reference only in Adam's moments at inactive positions (they see zero gradients between
 *                updates).
 * A format's structure follows the layer's mask (Masking.setMask) and its values are re-read from W when the
 * weight changes (Masking.apply after each optimizer step; the weight's storage is also compared, so any
 * in-place update is seen) — lazily, at the next forward that runs that format.
 *
 * The choice ('auto'), on backends that read synchronously (wasm): by a short timed trial of the candidates on
 * the layer's real shape and mask for the pass in use (src/sparse/path-choice.ts), cached per (backend, layer,
 * mask version, pass, rows) and measured again only when the mask changes materially. A per-layer choice can
 * still lose for the whole model (caches, the scatters around some products, many small layers), so
 * `SparseExecution.guard` times the whole model's forward or training pass with the chosen paths against
 * all-dense, interleaved, in CPU time, and when the choice is not faster every layer of the model runs dense for
 * that pass ('auto' is then never slower than dense, as measured).
 *
 * Equality: the wasm GEMM and sparse kernels sum every output in increasing order of the reduced index with one
 * multiply and one add per term, and inactive weights are exactly 0 after the re-mask (formats store W ⊙ M),
 * so on wasm every path gives the dense-masked results bit for bit (test/sparse-exec.test.ts checks it for each
 * format, a whole Transformer included, forward, backward and training steps); hence a timing-based choice of
 * path never changes a run. The js reference backend agrees within the conformance tolerance only, so 'auto'
 * keeps it dense; on WebGPU the choice between dense and CSR comes from a loaded or asynchronously measured
 * crossover density (src/sparse/crossover.ts), else dense.
 */
import type { Backend, Storage } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { engine } from '../tensor/engine.ts';
import { countFlops } from '../tensor/flops.ts';
import { sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import { Linear, type LinearExecutor } from '../nn/linear.ts';
import { Conv1d } from '../nn/conv1d.ts';
import { mul } from '../ops/binary.ts';
import { linear, matmul } from '../ops/matmul.ts';
import { reshape } from '../ops/reshape.ts';
import { sum } from '../ops/reduce.ts';
import { wrap } from '../ops/util.ts';
import type { Masking, MaskedLayer } from './masking.ts';
import { crossoverDensity } from './crossover.ts';
import { cpuClock } from '../backend/timing.ts';
import { CsrExec } from './exec-csr.ts';
import { BsrExec } from './exec-bsr.ts';
import { FanInExec } from './exec-fan-in.ts';
import { CompactExec } from './exec-compact.ts';
import { SPARSE_FORMATS, type ExecPath, type FormatExec, type SparseFormat } from './exec-format.ts';
import { guardModel, type GuardResult } from './model-guard.ts';
import { CHOICE_ROWS, candidates, maskSignature, materialChange, timePaths, type MaskSignature, type Pass, type PathTrial } from './path-choice.ts';

export { incrementalPays } from './exec-csr.ts';
export type { ExecPath, SparseFormat } from './exec-format.ts';

/** 'auto' (default): per layer by measurement; 'dense' / a format force a path ('sparse' is 'csr'). */
export type ExecMode = 'auto' | 'dense' | 'sparse' | SparseFormat;
export type WeightGrad = 'dense' | 'sparse-between-updates';

export interface SparseExecOptions {
  /** 'auto' (default): the measured fastest path per layer, under the whole-model guard; else forced. */
  mode?: ExecMode;
  /** How the sparse paths compute the weight gradient (see the module comment); default 'dense'. */
  weightGrad?: WeightGrad;
  /**
   * How a topology update reaches the CSR patterns: 'auto' (default) merges the changes when `incrementalPays`,
   * else rebuilds from the mask; 'incremental' / 'rebuild' force one (same patterns either way).
   */
  patternUpdate?: 'auto' | 'incremental' | 'rebuild';
}

/** State shared by the layers of one model: the whole-model guard's verdicts and the trials' cost. */
export interface ExecShared {
  /**
   * Where the guard found the per-layer choice not faster than all-dense, as `fallbackKey(pass, rows)` of
   * every layer the guarded run reached: 'auto' runs those dense. Keyed by rows as the trials are (capped at
   * CHOICE_ROWS), so a verdict on batch-1 inference does not decide batch-32 inference or training.
   */
  denseFallback: Set<string>;
  /** Set while the guard times the all-dense model. */
  forceDense: boolean;
  /** Per-layer trials run and their cost (wall and CPU ms, building the candidates' storage included). */
  trials: number;
  /** The same count by pass (the trainer guards training again only when training trials ran). */
  passTrials: Record<Pass, number>;
  trialMs: number;
  trialCpuMs: number;
}

export function newShared(): ExecShared {
  return { denseFallback: new Set(), forceDense: false, trials: 0, passTrials: { forward: 0, training: 0 }, trialMs: 0, trialCpuMs: 0 };
}

/** The key of a guard verdict: the pass and a layer's row count as the trials cap it. */
export function fallbackKey(pass: Pass, m: number): string {
  return `${pass}:${Math.min(m, CHOICE_ROWS)}`;
}

interface Built {
  exec: FormatExec;
  /** The mask serial and values serial the executor was filled for, and the weight storage it read. */
  maskSerial: number;
  valuesSerial: number;
  from: Storage | null;
}

/** The executor of one masked weight. */
export class SparseLinearExec implements LinearExecutor {
  /** The path the last forward took. */
  lastPath: ExecPath | null = null;
  /** `fallbackKey` of the last forward that 'auto' decided (what a guard verdict on that run applies to). */
  lastKey: string | null = null;
  private readonly built = new Map<SparseFormat, Built>();
  private maskSerial = 0;
  private valuesSerial = 0;
  private signature: MaskSignature | null = null;
  /** The signature the cached choices were measured on, and the choices by `${backend}:${pass}:${rows}:${dw}`. */
  private measuredOn: MaskSignature | null = null;
  private readonly choices = new Map<string, PathTrial>();
  /** Bumped whenever the mask changes materially (the cached choices are then dropped). */
  maskVersion = 0;

  constructor(
    readonly masking: Masking,
    readonly layer: MaskedLayer,
    readonly outFeatures: number,
    readonly inFeatures: number,
    public opts: SparseExecOptions = {},
    readonly shared: ExecShared = newShared(),
  ) {}

  /** Called by the Masking listener. */
  changed(what: 'mask' | 'values'): void {
    if (what === 'mask') {
      this.maskSerial++;
      this.signature = null;
    } else this.valuesSerial++;
  }

  get density(): number {
    return this.layer.active / this.layer.param.size;
  }

  /** Rows rebuilt by the CSR executor's last incremental pattern update (W's and Wᵀ's). */
  get lastRebuiltRows(): [number, number] | null {
    return (this.built.get('csr')?.exec as CsrExec | undefined)?.lastRebuiltRows ?? null;
  }

  /** The trials behind the cached choices (for reports and tests). */
  trials(): PathTrial[] {
    return [...this.choices.values()];
  }

  /** The path a forward of m rows takes now (training: forward + backward products). */
  pathFor(backend: Backend, m: number, training: boolean): ExecPath {
    const mode = this.opts.mode ?? 'auto';
    if (mode === 'sparse') return 'csr';
    if (mode !== 'auto') return mode;
    const pass: Pass = training ? 'training' : 'forward';
    this.lastKey = fallbackKey(pass, m);
    if (this.shared.forceDense || this.shared.denseFallback.has(this.lastKey)) return 'dense';
    // The js reference backend's GEMM sums in another order than its sparse kernels (equal within tolerance, not
    // bit for bit), so a timing-based choice there could change a run's last bits: it stays dense unless forced.
    if (this.density >= 1 || backend.name === 'js') return 'dense';
    if (!backend.readSync) {
      return this.density < crossoverDensity(backend, m, this.outFeatures, this.inFeatures, pass) ? 'csr' : 'dense';
    }
    return this.measuredChoice(backend, m, pass);
  }

  private measuredChoice(backend: Backend, m: number, pass: Pass): ExecPath {
    const n = this.outFeatures;
    const k = this.inFeatures;
    this.signature ??= maskSignature(this.layer.mask, n, k);
    if (this.measuredOn && materialChange(this.measuredOn, this.signature)) {
      this.choices.clear();
      this.measuredOn = null;
      this.maskVersion++;
    }
    const rows = Math.min(m, CHOICE_ROWS);
    const sparseDw = (this.opts.weightGrad ?? 'dense') === 'sparse-between-updates';
    const key = `${backend.name}:${pass}:${rows}:${sparseDw}`;
    let trial = this.choices.get(key);
    if (!trial) {
      const t0 = performance.now();
      const c0 = cpuClock();
      this.measuredOn ??= this.signature;
      const execs = candidates(this.signature).map((f) => this.ensure(f));
      const t = timePaths(backend, n, k, rows, pass, sparseDw, this.layer.param.use('sparseExec'), this.layer.device.use('sparseExec'), execs);
      trial = { ...t, trialMs: +(performance.now() - t0).toFixed(3), trialCpuMs: +(cpuClock() - c0).toFixed(3) };
      this.choices.set(key, trial);
      this.shared.trials++;
      this.shared.passTrials[pass]++;
      this.shared.trialMs += trial.trialMs;
      this.shared.trialCpuMs += trial.trialCpuMs;
      // Keep only the formats some cached choice runs (device memory is not collected).
      const keep = new Set([...this.choices.values()].map((c) => c.chosen));
      for (const [f, b] of this.built) {
        if (!keep.has(f)) {
          b.exec.dispose();
          this.built.delete(f);
        }
      }
    }
    return trial.chosen;
  }

  private makeExec(format: SparseFormat): FormatExec {
    const ctx = { backend: this.layer.param.backend, layer: this.layer, n: this.outFeatures, k: this.inFeatures };
    switch (format) {
      case 'csr': return new CsrExec(ctx, this.opts.patternUpdate ?? 'auto');
      case 'bsr': return new BsrExec(ctx);
      case 'fan_in': return new FanInExec(ctx);
      case 'compact': return new CompactExec(ctx);
    }
  }

  /** The format's executor, brought up to date with the layer's mask and W. */
  private ensure(format: SparseFormat): FormatExec {
    if (!SPARSE_FORMATS.includes(format)) throw new Error(`sparse execution: unknown format '${format}' for layer ${this.layer.name} (${SPARSE_FORMATS.join(', ')})`);
    let b = this.built.get(format);
    if (!b) {
      b = { exec: this.makeExec(format), maskSerial: -1, valuesSerial: -1, from: null };
      this.built.set(format, b);
    }
    if (b.exec instanceof CsrExec) b.exec.patternUpdate = this.opts.patternUpdate ?? 'auto';
    const storage = this.layer.param.use('sparseExec');
    if (b.maskSerial !== this.maskSerial) {
      b.exec.setMask(this.layer.mask);
      b.maskSerial = this.maskSerial;
      b.from = null;
    }
    if (b.valuesSerial !== this.valuesSerial || b.from !== storage) {
      b.exec.setValues(storage);
      b.valuesSerial = this.valuesSerial;
      b.from = storage;
    }
    return b.exec;
  }

  private maskedWeightGrad(): boolean {
    return (this.opts.weightGrad ?? 'dense') === 'sparse-between-updates' && !this.masking.denseGradients;
  }

  forward(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    const n = this.outFeatures;
    const k = this.inFeatures;
    if (x.rank === 0 || x.shape[x.rank - 1] !== k) return linear(x, weight, bias); // linear reports the error
    const lead = x.shape.slice(0, -1);
    const m = sizeOf(lead);
    const training = engine.gradEnabled && weight.requiresGrad;
    const path = m === 0 ? 'dense' : this.pathFor(x.backend, m, training);
    this.lastPath = path;
    if (path === 'dense') {
      if (training && this.maskedWeightGrad()) return this.denseMaskedGrad(x, weight, bias);
      return linear(x, weight, bias);
    }
    const exec = this.ensure(path);
    const x2 = reshape(x, [m, k]);
    const y2 = this.sparseLinear(exec, x2, weight, bias, m, training);
    const y = reshape(y2, [...lead, n]);
    x2.dispose();
    y2.dispose();
    return y;
  }

  /**
   * y = X·Wᵀ (+ bias) through a format; backward as the module comment says. The bias goes into the product's
   * kernel (added once to each finished sum, as linear's fused bias is): no add op, no extra tensor and pass.
   */
  private sparseLinear(exec: FormatExec, x2: Tensor, weight: Tensor, bias: Tensor | null, m: number, training: boolean): Tensor {
    const op = `sparseLinear(${exec.format})`;
    const n = this.outFeatures;
    const k = this.inFeatures;
    const backend = x2.backend;
    if (bias && (bias.rank !== 1 || bias.shape[0] !== n || bias.dtype !== 'f32')) {
      throw new Error(`${op}: bias is ${bias.dtype} ${JSON.stringify(bias.shape)}; expected f32 [${n}] for weight [${n}, ${k}]`);
    }
    countFlops('sparseLinear', 2 * m * n * k, weight);
    const y = wrap(exec.forward(x2.use(op), m, bias?.use(op)), [m, n], backend);
    const sparseDw = training && this.maskedWeightGrad();
    record(op, bias ? [x2, weight, bias] : [x2, weight], [y], ([g]) => {
      let dx: Tensor | null = null;
      let dw: Tensor | null = null;
      if (x2.requiresGrad) dx = wrap(exec.inputGrad(g!.use(op), m), [m, k], backend);
      if (weight.requiresGrad) {
        dw = sparseDw ? wrap(exec.weightGradAtPattern(g!.use(op), x2.use(op), m), [n, k], backend) : matmul(g!, x2, { transA: true });
      }
      return bias ? [dx, dw, bias.requiresGrad ? sum(g!, 0) : null] : [dx, dw];
    });
    return y;
  }

  /** Dense-masked forward whose weight gradient is masked (the 'sparse-between-updates' semantics). */
  private denseMaskedGrad(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    const op = 'maskedLinear';
    const n = this.outFeatures;
    const k = this.inFeatures;
    const lead = x.shape.slice(0, -1);
    const m = sizeOf(lead);
    const x2 = reshape(x, [m, k]);
    const backend = x2.backend;
    const ins = bias ? [x2, weight, bias] : [x2, weight];
    countFlops(op, 2 * m * n * k, weight);
    const y2 = wrap(
      backend.kernels.matmul({
        a: x2.use(op), b: weight.use(op), aShape: [m, k], bShape: [n, k], transA: false, transB: true, bias: bias?.use(op),
      }),
      [m, n],
      backend,
    );
    const device = this.layer.device;
    record(op, ins, [y2], ([g]) => [
      x2.requiresGrad ? matmul(g!, weight) : null,
      weight.requiresGrad ? mul(matmul(g!, x2, { transA: true }), reshape(device, [n, k])) : null,
      ...(bias ? [bias.requiresGrad ? sum(g!, 0) : null] : []),
    ], [device]);
    const y = reshape(y2, [...lead, n]);
    x2.dispose();
    y2.dispose();
    return y;
  }

  /** Device bytes the built formats hold. */
  bytes(): number {
    let b = 0;
    for (const x of this.built.values()) b += x.exec.bytes();
    return b;
  }

  dispose(): void {
    for (const b of this.built.values()) b.exec.dispose();
    this.built.clear();
    this.choices.clear();
    this.measuredOn = null;
  }
}

function children(m: Module): Module[] {
  return [...(m as unknown as { children: Map<string, Module> }).children.values()];
}

/** The handle `enableSparseExecution` returns. */
export interface SparseExecution {
  /** Executors by masked parameter name. */
  readonly layers: ReadonlyMap<string, SparseLinearExec>;
  /** The guard's verdicts and the trials' cost, shared by the layers. */
  readonly shared: ExecShared;
  /** The path each layer's last forward took. */
  paths(): Record<string, ExecPath | null>;
  /** How many layers' last forward took each sparse format (dense layers not counted). */
  sparseLayers(): Partial<Record<SparseFormat, number>>;
  setOptions(opts: SparseExecOptions): void;
  /**
   * The whole-model guard (src/sparse/model-guard.ts): time `run` (one forward for 'forward', one forward +
   * backward for 'training') with the per-layer choice against all-dense; when not faster, 'auto' runs the
   * whole model dense for that pass from now on.
   */
  guard(pass: Pass, run: () => unknown, rounds?: number): Promise<GuardResult>;
  /** The latest guard result of each (pass, row counts), in the order first guarded. */
  guardResults(): GuardResult[];
  /** Restore the dense forwards and free the sparse copies. */
  dispose(): void;
}

/**
 * Attach sparse execution to every Linear and kernel-size-1 Conv1d (through `forwardChannelsLast`) whose
 * weight `masking` masks. Other masked weights (wider convolutions, embeddings' convs, LSTM, Fourier weights)
 * keep running dense-masked.
 */
export function enableSparseExecution(model: Module, masking: Masking, opts: SparseExecOptions = {}): SparseExecution {
  const byParam = new Map(masking.layers.map((l) => [l.param, l]));
  const execs = new Map<string, SparseLinearExec>();
  const owners: Array<Linear | Conv1d> = [];
  const shared = newShared();
  const visit = (m: Module) => {
    if (m instanceof Linear || m instanceof Conv1d) {
      const l = byParam.get(m.weight);
      const conv1 = m instanceof Conv1d && m.kernelSize === 1 && (m.cfg.stride ?? 1) === 1 && (m.cfg.padding ?? 0) === 0
        && (m.cfg.dilation ?? 1) === 1;
      if (l && (m instanceof Linear || conv1) && !execs.has(l.name)) {
        const [n, k] = m instanceof Linear ? [m.outFeatures, m.inFeatures] : [m.outChannels, m.inChannels];
        const ex = new SparseLinearExec(masking, l, n, k, opts, shared);
        execs.set(l.name, ex);
        m.executor = ex;
        owners.push(m);
      }
    }
    for (const c of children(m)) visit(c);
  };
  visit(model);
  const byLayer = new Map([...execs.values()].map((e) => [e.layer, e]));
  const listener = (l: MaskedLayer, what: 'mask' | 'values') => byLayer.get(l)?.changed(what);
  masking.listeners.add(listener);
  const guards = new Map<string, GuardResult>();
  const handle: SparseExecution = {
    layers: execs,
    shared,
    paths: () => Object.fromEntries([...execs].map(([k, e]) => [k, e.lastPath])),
    sparseLayers: () => countSparse(Object.values(handle.paths())),
    setOptions: (o) => {
      for (const e of execs.values()) e.opts = { ...e.opts, ...o };
    },
    guard: async (pass, run, rounds) => {
      const g = await guardModel(handle, pass, run, rounds);
      guards.set(`${pass}:${g.rows.join(',')}`, g);
      return g;
    },
    guardResults: () => [...guards.values()],
    dispose: () => {
      masking.listeners.delete(listener);
      for (const m of owners) m.executor = null;
      for (const e of execs.values()) e.dispose();
    },
  };
  return handle;
}

/** Layers per sparse format among `paths`. */
export function countSparse(paths: Array<ExecPath | null>): Partial<Record<SparseFormat, number>> {
  const out: Partial<Record<SparseFormat, number>> = {};
  for (const p of paths) if (p && p !== 'dense') out[p] = (out[p] ?? 0) + 1;
  return out;
}
