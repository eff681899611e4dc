/**
 * Sparse execution of masked layers: every masked Linear weight (and kernel-size-1 Conv1d weight, run as a
 * Linear on the channel axis by `forwardChannelsLast`) runs dense-masked (the GEMM on W ⊙ M) or as CSR by its
 * current density, against the crossover measured for its backend and shape (src/sparse/crossover.ts).
 *
 * CSR path, for y = X·Wᵀ + b with X [m, k], W [n, k]:
 * - forward      y  = denseCsrT(X, W)                      (CSR of W)
 * - input grad   dX = G·W = denseCsrT(G, Wᵀ)               (CSR of Wᵀ, kept beside W's)
 * - weight grad  'dense' (default): dW = Gᵀ·X, the dense gradient the reference computes (growth reads it,
 *                Adam's dense moments see it);
 *                'sparse-between-updates': dW = sddmm(Gᵀ, X) at W's pattern (zeros elsewhere) except on steps
 *                where `masking.denseGradients` is set (topology updates), which get the dense Gᵀ·X. To keep the
 *                result independent of which path a layer takes, the dense-masked path then masks its weight
 *                gradient too, so both paths give the same state; this differs from the reference only in
 *                Adam's moments at inactive positions (they see zero gradients between updates).
 * The CSR pair's structure follows the layer's mask (Masking.setMask) through host patterns updated
 * incrementally (src/sparse/csr-pattern.ts: only changed rows are rebuilt), and its values are gathered from W
 * when the weight changes (Masking.apply after each optimizer step; the weight's storage is also compared, so
 * any in-place update is seen) — lazily, at the next forward that runs sparse.
 *
 * Equality: the wasm GEMM and CSR kernels sum every output in increasing order of the reduced index with one
 * multiply and one add per term, and inactive weights are exactly 0 after the re-mask, so on wasm the CSR path
 * gives the dense-masked results bit for bit (test/sparse-exec.test.ts checks it, a whole Transformer
 * included); hence a timing-based choice of path never changes a run. The js reference backend agrees within
 * the conformance tolerance only, so 'auto' keeps it dense; on WebGPU the choice comes from a loaded or
 * asynchronously measured crossover (src/sparse/crossover.ts), else dense.
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
import { tensor } from '../ops/creation.ts';
import { add, mul } from '../ops/binary.ts';
import { linear, matmul } from '../ops/matmul.ts';
import { reshape } from '../ops/reshape.ts';
import { sum } from '../ops/reduce.ts';
import { Csr } from '../ops/sparse.ts';
import { gather } from '../ops/indexing.ts';
import { CsrPattern, maskChanges } from './csr-pattern.ts';
import { wrap } from '../ops/util.ts';
import type { Masking, MaskedLayer } from './masking.ts';
import { crossoverDensity } from './crossover.ts';

export type ExecMode = 'auto' | 'dense' | 'sparse';
export type WeightGrad = 'dense' | 'sparse-between-updates';

export interface SparseExecOptions {
  /** 'auto' (default): CSR below the measured crossover density; 'dense' / 'sparse' force a path. */
  mode?: ExecMode;
  /** How the CSR path computes the weight gradient (see the module comment); default 'dense'. */
  weightGrad?: WeightGrad;
  /**
   * How a topology update reaches the CSR patterns: 'auto' (default) merges the changes when `incrementalPays`,
   * else rebuilds from the mask; 'incremental' / 'rebuild' force one (same patterns either way).
   */
  patternUpdate?: 'auto' | 'incremental' | 'rebuild';
}

/**
 * Whether merging `changes` flipped entries into the patterns beats rebuilding them from the mask (bench
 * csr-update, quiet machine: the merge is 2.4–3.7× faster when 1% of the active weights move — 2% of nnz
 * flipped — but 0.86–1.4× at 10%, and slower on layers under ~16 K weights, where the rebuild's two passes
 * take microseconds).
 */
export function incrementalPays(changes: number, nnz: number, size: number): boolean {
  return size >= 16384 && changes <= 0.1 * nnz;
}

/** The executor of one masked weight. */
export class SparseLinearExec implements LinearExecutor {
  /** The path the last forward took. */
  lastPath: 'dense' | 'csr' | null = null;
  /** Host patterns of W and Wᵀ, updated incrementally on mask changes (src/sparse/csr-pattern.ts). */
  private pattern: CsrPattern | null = null;
  private patternT: CsrPattern | null = null;
  /** The mask the patterns were built for (diffed against the next one). */
  private builtMask: Uint8Array | null = null;
  /** Device copies of the patterns (their values are unused placeholders) and the gather positions into W. */
  private csr: Csr | null = null;
  private csrT: Csr | null = null;
  private positions: Tensor | null = null;
  private positionsT: Tensor | null = null;
  /** W's active values in the order of each pattern, refreshed by a gather whenever W changes. */
  private values: Tensor | null = null;
  private valuesT: Tensor | null = null;
  private maskDirty = true;
  private builtFrom: Storage | null = null;
  /** Rows rebuilt by the last incremental pattern update (W's and Wᵀ's), for the bench and tests. */
  lastRebuiltRows: [number, number] | null = null;

  constructor(
    readonly masking: Masking,
    readonly layer: MaskedLayer,
    readonly outFeatures: number,
    readonly inFeatures: number,
    public opts: SparseExecOptions = {},
  ) {}

  /** Called by the Masking listener. */
  changed(what: 'mask' | 'values'): void {
    if (what === 'mask') this.maskDirty = true;
    else this.builtFrom = null;
  }

  get density(): number {
    return this.layer.active / this.layer.param.size;
  }

  /** Whether a forward of m rows would run as CSR now (training: forward + backward products). */
  useCsr(backend: Backend, m: number, training: boolean): boolean {
    const mode = this.opts.mode ?? 'auto';
    if (mode !== 'auto') return mode === 'sparse';
    // The js reference backend's GEMM sums in another order than its CSR kernels (equal within tolerance, not
    // bit for bit), so a timing-based choice there could change a run's last bits: it stays dense unless forced.
    if (this.density >= 1 || backend.name === 'js') return false;
    return this.density < crossoverDensity(backend, m, this.outFeatures, this.inFeatures, training ? 'training' : 'forward');
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
    if (m === 0 || !this.useCsr(x.backend, m, training)) {
      this.lastPath = 'dense';
      if (training && this.maskedWeightGrad()) return this.denseMaskedGrad(x, weight, bias);
      return linear(x, weight, bias);
    }
    this.lastPath = 'csr';
    this.ensureCsr(weight);
    const x2 = reshape(x, [m, k]);
    let y2 = this.csrLinear(x2, weight, m, training);
    if (bias) {
      const yb = add(y2, bias);
      y2.dispose();
      y2 = yb;
    }
    const y = reshape(y2, [...lead, n]);
    x2.dispose();
    y2.dispose();
    return y;
  }

  /** y = X·Wᵀ through CSR; backward as the module comment says. */
  private csrLinear(x2: Tensor, weight: Tensor, m: number, training: boolean): Tensor {
    const op = 'sparseLinear';
    const n = this.outFeatures;
    const k = this.inFeatures;
    const csr = this.csr!;
    const csrT = this.csrT!;
    const values = this.values!;
    const valuesT = this.valuesT!;
    const backend = x2.backend;
    countFlops(op, 2 * m * n * k, weight);
    const y = wrap(backend.kernels.denseCsrT(x2.use(op), m, csr.storageWith(op, values.use(op))), [m, n], backend);
    const sparseDw = training && (this.opts.weightGrad ?? 'dense') === 'sparse-between-updates' && !this.masking.denseGradients;
    record(op, [x2, weight], [y], ([g]) => {
      let dx: Tensor | null = null;
      let dw: Tensor | null = null;
      if (x2.requiresGrad) dx = wrap(backend.kernels.denseCsrT(g!.use(op), m, csrT.storageWith(op, valuesT.use(op))), [m, k], backend);
      if (weight.requiresGrad) {
        if (sparseDw) {
          const vals = backend.kernels.sddmm(g!.use(op), [m, n], true, x2.use(op), [m, k], false, csr.storageWith(op, values.use(op)));
          const dense = backend.kernels.csrToDense(csr.storageWith(op, vals));
          backend.free(vals);
          dw = wrap(dense, [n, k], backend);
        } else {
          dw = matmul(g!, x2, { transA: true });
        }
      }
      return [dx, dw];
    }, [csr.rowPtr, csr.colIdx, values, csrT.rowPtr, csrT.colIdx, valuesT]);
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

  /**
   * Bring the CSR pair up to date: after a mask change, update the host patterns (incrementally when there is
   * a previous mask: only changed rows are rebuilt) and upload them; after a weight change, gather W's values
   * at the patterns' positions. Neither scans or transposes the dense weight.
   */
  private ensureCsr(weight: Tensor): void {
    const n = this.outFeatures;
    const k = this.inFeatures;
    const storage = this.layer.param.use('sparseExec');
    if (!this.maskDirty && this.csr && this.builtFrom === storage) return;
    engine.noGrad(() => {
      const be = { backend: this.layer.param.backend.name };
      if (this.maskDirty || !this.csr) {
        const mask = this.layer.mask;
        const how = this.opts.patternUpdate ?? 'auto';
        const changes = how !== 'rebuild' && this.pattern && this.patternT && this.builtMask ? maskChanges(this.builtMask, mask) : null;
        if (changes && (how === 'incremental' || incrementalPays(changes.length, this.pattern!.nnz, n * k))) {
          this.lastRebuiltRows = [this.pattern!.applyChanges(changes, mask), this.patternT!.applyChanges(changes, mask)];
        } else {
          this.pattern = CsrPattern.fromMask(mask, n, k);
          this.patternT = CsrPattern.fromMask(mask, n, k, true);
          this.lastRebuiltRows = null;
        }
        this.builtMask = mask.slice();
        this.disposeDevice();
        const upload = (p: CsrPattern, shape: [number, number]) => {
          const c = Csr.fromArrays(p.rowPtr, p.colIdx, new Float32Array(p.nnz), shape, be);
          for (const t of [c.rowPtr, c.colIdx, c.values]) engine.keep(t);
          return c;
        };
        this.csr = upload(this.pattern!, [n, k]);
        this.csrT = upload(this.patternT!, [k, n]);
        this.positions = engine.keep(tensor(this.pattern!.positions(), [this.pattern!.nnz], { ...be, dtype: 'i32' }));
        this.positionsT = engine.keep(tensor(this.patternT!.positions(), [this.patternT!.nnz], { ...be, dtype: 'i32' }));
        this.maskDirty = false;
        this.builtFrom = null;
      }
      if (this.builtFrom !== storage) {
        const [v, vt] = engine.tidy(() => {
          const flat = reshape(weight, [n * k]);
          return [engine.keep(gather(flat, 0, this.positions!)), engine.keep(gather(flat, 0, this.positionsT!))] as const;
        });
        this.values?.dispose();
        this.valuesT?.dispose();
        this.values = v;
        this.valuesT = vt;
      }
    });
    this.builtFrom = storage;
  }

  private disposeDevice(): void {
    for (const t of [this.positions, this.positionsT, this.values, this.valuesT]) t?.dispose();
    this.csr?.dispose();
    this.csrT?.dispose();
    this.csr = this.csrT = null;
    this.positions = this.positionsT = this.values = this.valuesT = null;
  }

  dispose(): void {
    this.disposeDevice();
    this.pattern = this.patternT = null;
    this.builtMask = null;
  }
}

function children(m: Module): Module[] {
  return [...(m as unknown as { children: Map<string, Module> }).children.values()];
}

/** The handle `enableSparseExecution` returns. */
export interface SparseExecution {
  /** Executors by masked parameter name. */
  readonly layers: ReadonlyMap<string, SparseLinearExec>;
  /** The path each layer's last forward took. */
  paths(): Record<string, 'dense' | 'csr' | null>;
  setOptions(opts: SparseExecOptions): void;
  /** Restore the dense forwards and free the CSR copies. */
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
  const visit = (m: Module) => {
    if (m instanceof Linear || m instanceof Conv1d) {
      const l = byParam.get(m.weight);
      const conv1 = m instanceof Conv1d && m.kernelSize === 1 && (m.cfg.stride ?? 1) === 1 && (m.cfg.padding ?? 0) === 0
        && (m.cfg.dilation ?? 1) === 1;
      if (l && (m instanceof Linear || conv1) && !execs.has(l.name)) {
        const [n, k] = m instanceof Linear ? [m.outFeatures, m.inFeatures] : [m.outChannels, m.inChannels];
        const ex = new SparseLinearExec(masking, l, n, k, opts);
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
  return {
    layers: execs,
    paths: () => Object.fromEntries([...execs].map(([k, e]) => [k, e.lastPath])),
    setOptions: (o) => {
      for (const e of execs.values()) e.opts = { ...e.opts, ...o };
    },
    dispose: () => {
      masking.listeners.delete(listener);
      for (const m of owners) m.executor = null;
      for (const e of execs.values()) e.dispose();
    },
  };
}
