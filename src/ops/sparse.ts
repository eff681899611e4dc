/**
 * Compressed sparse row (CSR) matrices and the sparse products of the kernel contract.
 *
 * A `Csr` is three tensors on one backend — rowPtr (i32 [rows+1]), colIdx (i32 [nnz]) and values
 * (f32 [nnz]) — plus its shape. The pattern (rowPtr, colIdx) is structural; `values` is an ordinary tensor
 * and may require a gradient, so a sparse weight is trained through its values.
 *
 * Validation: shapes and dtypes are always checked; on backends that read synchronously (js, wasm) the
 * pattern's contents are checked too (rowPtr starts at 0, never decreases, ends at nnz; column indices in
 * [0, cols) and strictly increasing within a row), with errors that name the op, the shape and the bad entry.
 *
 * Gradients:
 * - spmm(A, B) = A·B:           dB = Aᵀ·G (dense), dvalues = sddmm(G, Bᵀ) at A's pattern.
 * - denseCsrT(X, W) = X·Wᵀ:      dX = G·W (dense), dvalues = sddmm(Gᵀ, X) at W's pattern.
 * - sddmm(A, B, P):             dA, dB from the dense gradient matrix scattered at P (csrToDense).
 * - csrToDense(A):              dvalues = G gathered at the pattern.
 * - denseToCsr(x, mask):        dx = the values' gradient scattered at the pattern.
 */
import type { CsrStorage, Storage } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { engine } from '../tensor/engine.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../tensor/shape.ts';
import { checkBias, checkDtype, checkInt, checkRank, storages, wrap } from './util.ts';
import { add, mul } from './binary.ts';
import { tensor } from './creation.ts';
import { reshape } from './reshape.ts';
import { matmul } from './matmul.ts';
import { cast, notEqual } from './compare.ts';
import { sum } from './reduce.ts';
import { cumsum, permute, slice } from './movement.ts';
import { hostValues, indexSelect, scatterAdd } from './indexing.ts';

/** Passed by `Csr.fromArrays` (which validated the host arrays already) so the pattern is not read back and checked twice. */
const VALIDATED: unique symbol = Symbol('validated');

export class Csr {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  private rowIdxCache: Tensor | null = null;

  /**
   * Wrap existing tensors (validated; see the module comment). The Csr does not copy them: disposing the
   * Csr disposes them.
   */
  constructor(
    readonly rowPtr: Tensor,
    readonly colIdx: Tensor,
    readonly values: Tensor,
    readonly shape: readonly [number, number],
    validated?: typeof VALIDATED,
  ) {
    const op = 'Csr';
    const [rows, cols] = shape;
    checkInt(op, 'rows', rows, 0);
    checkInt(op, 'cols', cols, 0);
    checkDtype(op, rowPtr, ['i32'], 'rowPtr');
    checkDtype(op, colIdx, ['i32'], 'colIdx');
    checkDtype(op, values, ['f32'], 'values');
    const where = `CSR matrix of shape [${rows}, ${cols}]`;
    if (rowPtr.rank !== 1 || rowPtr.shape[0] !== rows + 1) {
      throw new Error(`${op}: rowPtr ${shapeToString(rowPtr.shape)} must have shape [${rows + 1}] for a ${where}`);
    }
    if (colIdx.rank !== 1 || values.rank !== 1 || colIdx.shape[0] !== values.shape[0]) {
      throw new Error(`${op}: colIdx ${shapeToString(colIdx.shape)} and values ${shapeToString(values.shape)} must be 1-D of equal length (${where})`);
    }
    if (rowPtr.backend !== colIdx.backend || rowPtr.backend !== values.backend) {
      throw new Error(`${op}: rowPtr, colIdx and values live on different backends`);
    }
    this.rows = rows;
    this.cols = cols;
    this.nnz = colIdx.shape[0]!;
    if (validated !== VALIDATED) validatePattern(op, hostValues(rowPtr), hostValues(colIdx), rows, cols, this.nnz);
  }

  /** Build from host arrays (validated before upload). */
  static fromArrays(
    rowPtr: ArrayLike<number>,
    colIdx: ArrayLike<number>,
    values: ArrayLike<number>,
    shape: readonly [number, number],
    opts: { backend?: string } = {},
  ): Csr {
    const [rows, cols] = shape;
    if (rowPtr.length !== rows + 1) {
      throw new Error(`Csr.fromArrays: rowPtr has ${rowPtr.length} entries; a CSR matrix of shape [${rows}, ${cols}] needs ${rows + 1}`);
    }
    if (colIdx.length !== values.length) {
      throw new Error(`Csr.fromArrays: colIdx has ${colIdx.length} entries but values has ${values.length} (shape [${rows}, ${cols}])`);
    }
    validatePattern('Csr.fromArrays', rowPtr, colIdx, rows, cols, colIdx.length);
    const b = { backend: opts.backend };
    return new Csr(
      tensor(Int32Array.from(rowPtr), [rows + 1], { ...b, dtype: 'i32' }),
      tensor(Int32Array.from(colIdx), [colIdx.length], { ...b, dtype: 'i32' }),
      tensor(Float32Array.from(values), [values.length], { ...b, dtype: 'f32' }),
      shape,
      VALIDATED,
    );
  }

  get backend() {
    return this.values.backend;
  }

  /** The kernel-level view (storages). */
  storage(op: string): CsrStorage {
    return this.storageWith(op, this.values.use(op));
  }

  /** The kernel-level view with other values (f32 storage of length nnz); never touches `this.values`. */
  storageWith(op: string, values: Storage): CsrStorage {
    return {
      rows: this.rows,
      cols: this.cols,
      nnz: this.nnz,
      rowPtr: this.rowPtr.use(op),
      colIdx: this.colIdx.use(op),
      values,
    };
  }

  /** Same pattern, other values (f32 [nnz]); the new Csr shares the pattern tensors (do not dispose both). */
  withValues(values: Tensor): Csr {
    if (values.rank !== 1 || values.shape[0] !== this.nnz) {
      throw new Error(`Csr.withValues: values ${shapeToString(values.shape)} must have shape [${this.nnz}]`);
    }
    const c = Object.create(Csr.prototype) as Csr;
    Object.assign(c, { rowPtr: this.rowPtr, colIdx: this.colIdx, values, shape: this.shape, rows: this.rows, cols: this.cols, nnz: this.nnz, rowIdxCache: this.rowIdxCache });
    return c;
  }

  /**
   * Row index (i32 [nnz]) of every stored entry, computed on the backend: mark each row start with a
   * scatter-add of ones at rowPtr[1..rows−1], then a cumulative sum. Cached while alive.
   */
  rowIndices(): Tensor {
    if (this.rowIdxCache && !this.rowIdxCache.isDisposed) return this.rowIdxCache;
    const r = engine.noGrad(() =>
      engine.tidy(() => {
        const be = { backend: this.backend.name };
        if (this.nnz === 0) return tensor(new Int32Array(0), [0], { ...be, dtype: 'i32' });
        if (this.rows <= 1) return tensor(new Int32Array(this.nnz), [this.nnz], { ...be, dtype: 'i32' });
        const starts = slice(this.rowPtr, [1], [this.rows - 1]);
        const ones = tensor(new Float32Array(this.rows - 1).fill(1), [this.rows - 1], be);
        const marks = scatterAdd(ones, starts, 0, [this.nnz + 1]);
        const counts = cumsum(slice(marks, [0], [this.nnz]), 0);
        return cast(counts, 'i32');
      }),
    );
    // The cache belongs to the scope that first asked for it (a later call after that scope ends
    // recomputes it); `dispose()` frees it too.
    this.rowIdxCache = r;
    return r;
  }

  /** Flat positions row·cols + col (i32 [nnz]) of the stored entries. */
  flatIndices(): Tensor {
    return add(mul(this.rowIndices(), this.cols), this.colIdx);
  }

  dispose(): void {
    this.rowPtr.dispose();
    this.colIdx.dispose();
    this.values.dispose();
    this.rowIdxCache?.dispose();
  }

  toString(): string {
    return `Csr([${this.rows}, ${this.cols}], nnz=${this.nnz}, ${this.backend.name})`;
  }
}

function validatePattern(
  op: string, rowPtr: ArrayLike<number> | null, colIdx: ArrayLike<number> | null, rows: number, cols: number, nnz: number,
): void {
  const where = `CSR matrix of shape [${rows}, ${cols}] with ${nnz} stored entries`;
  if (rowPtr) {
    if (rowPtr[0] !== 0) throw new Error(`${op}: rowPtr[0] = ${rowPtr[0]} must be 0 (${where})`);
    for (let r = 0; r < rows; r++) {
      if (rowPtr[r + 1]! < rowPtr[r]!) {
        throw new Error(`${op}: rowPtr decreases at row ${r} (${rowPtr[r]} → ${rowPtr[r + 1]}) (${where})`);
      }
    }
    if (rowPtr[rows] !== nnz) throw new Error(`${op}: rowPtr[${rows}] = ${rowPtr[rows]} must equal nnz = ${nnz} (${where})`);
  }
  if (colIdx) {
    for (let p = 0; p < colIdx.length; p++) {
      const c = colIdx[p]!;
      if (!Number.isInteger(c) || c < 0 || c >= cols) {
        throw new Error(`${op}: column index ${c} at entry ${p} is out of range [0, ${cols}) (${where})`);
      }
    }
    if (rowPtr) {
      for (let r = 0; r < rows; r++) {
        for (let p = rowPtr[r]! + 1; p < rowPtr[r + 1]!; p++) {
          if (colIdx[p]! <= colIdx[p - 1]!) {
            throw new Error(`${op}: column indices of row ${r} are not strictly increasing at entry ${p} (${colIdx[p - 1]} then ${colIdx[p]}) (${where})`);
          }
        }
      }
    }
  }
}

/** Check `a` is a Csr and every tensor shares its backend. */
function csrArg(op: string, a: Csr, ...others: Tensor[]): CsrStorage {
  if (!(a instanceof Csr)) throw new Error(`${op}: expected a Csr matrix`);
  for (const t of others) {
    if (t.backend !== a.backend) throw new Error(`${op}: the CSR matrix and ${shapeToString(t.shape)} live on different backends`);
  }
  return a.storage(op);
}

export interface DenseToCsrOptions {
  /**
   * The number of stored entries when the caller knows it (e.g. a pattern's nnz); the backend checks it. Needed
   * on backends without synchronous reads (webgpu), where the count cannot be taken on the host: use
   * `await denseToCsrAsync(x, mask)` there when it is not known.
   */
  nnz?: number;
}

function checkDenseToCsrArgs(op: string, x: Tensor, mask?: Tensor | null): [number, number] {
  checkRank(op, x, 2);
  checkDtype(op, x, ['f32']);
  const [rows, cols] = x.shape as [number, number];
  if (mask) {
    checkDtype(op, mask, ['u8'], 'mask');
    if (mask.rank !== 2 || mask.shape[0] !== rows || mask.shape[1] !== cols) {
      throw new Error(`${op}: mask ${shapeToString(mask.shape)} must match x ${shapeToString(x.shape)}`);
    }
    if (mask.backend !== x.backend) throw new Error(`${op}: x and mask live on different backends`);
  }
  return [rows, cols];
}

/** Count the positions denseToCsr keeps (mask ≠ 0, or x ≠ 0 with NaN kept) on the host; null without readSync. */
function hostKeptCount(x: Tensor, mask?: Tensor | null): number | null {
  const v = hostValues(mask ?? x);
  if (!v) return null;
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  return n;
}

/**
 * Dense [rows, cols] → CSR keeping the positions where `mask` (u8, same shape) is non-zero, or x ≠ 0 (NaN
 * kept) without a mask. The values are differentiable in x (the gradient is scattered back at the pattern).
 *
 * The kernel needs the number of stored entries up front: on js and wasm it is counted on the host here; on
 * webgpu pass `opts.nnz` (checked by the backend at the next read) or use `denseToCsrAsync`.
 */
export function denseToCsr(x: Tensor, mask?: Tensor | null, opts: DenseToCsrOptions = {}): Csr {
  const op = 'denseToCsr';
  const [rows, cols] = checkDenseToCsrArgs(op, x, mask);
  let nnz = opts.nnz;
  if (nnz !== undefined) checkInt(op, 'nnz', nnz, 0);
  else {
    const counted = hostKeptCount(x, mask);
    if (counted === null) {
      throw new Error(
        `${op}: backend '${x.backend.name}' cannot count the stored entries of ${shapeToString(x.shape)} synchronously; ` +
          'pass { nnz } when it is known, or use `await denseToCsrAsync(x, mask)`',
      );
    }
    nnz = counted;
  }
  const { backend, s } = mask ? storages(op, x, mask) : storages(op, x);
  const c = backend.kernels.denseToCsr(s[0]!, rows, cols, nnz, mask ? s[1] : undefined);
  const rowPtr = wrap(c.rowPtr, [rows + 1], backend);
  const colIdx = wrap(c.colIdx, [c.nnz], backend);
  const values = wrap(c.values, [c.nnz], backend);
  const out = new Csr(rowPtr, colIdx, values, [rows, cols]);
  record(op, [x], [values], ([g]) => [
    wrap(backend.kernels.csrToDense(out.storageWith(op, g!.use(op))), [rows, cols], backend),
  ], [rowPtr, colIdx]);
  return out;
}

/**
 * `denseToCsr` on any backend without knowing nnz: the kept positions are counted on the host (js, wasm) or
 * on the backend and read back first (webgpu: one readback of a single number), then the kernel runs.
 */
export async function denseToCsrAsync(x: Tensor, mask?: Tensor | null): Promise<Csr> {
  const op = 'denseToCsrAsync';
  checkDenseToCsrArgs(op, x, mask);
  let nnz = hostKeptCount(x, mask);
  if (nnz === null) {
    // f32 sum of 0/1 flags is exact below 2^24 elements; the kernel checks the count anyway.
    const count = engine.noGrad(() =>
      engine.tidy(() => sum(mask ? cast(mask, 'f32') : cast(notEqual(x, 0), 'f32'))),
    );
    try {
      nnz = Math.round((await count.data())[0]!);
    } finally {
      count.dispose();
    }
  }
  return denseToCsr(x, mask, { nnz });
}

/** CSR → dense [rows, cols] (zeros elsewhere); differentiable in the values. */
export function csrToDense(a: Csr): Tensor {
  const op = 'csrToDense';
  const cs = csrArg(op, a);
  const backend = a.backend;
  const out = wrap(backend.kernels.csrToDense(cs), [a.rows, a.cols], backend);
  record(op, [a.values], [out], ([g]) => [gatherAtPattern(a, g!)], [a.rowPtr, a.colIdx]);
  return out;
}

/** Entries of a dense [rows, cols] gradient at a's stored positions (f32 [nnz]). */
function gatherAtPattern(a: Csr, g: Tensor): Tensor {
  if (a.nnz === 0) return tensor(new Float32Array(0), [0], { backend: g.backend.name });
  return indexSelect(reshape(g, [a.rows * a.cols]), 0, a.flatIndices());
}

/** CSR A [m, k] × dense B [k, n] → dense [m, n]. Differentiable in A's values and in B. */
export function spmm(a: Csr, b: Tensor): Tensor {
  const op = 'spmm';
  checkRank(op, b, 2, 'dense operand');
  checkDtype(op, b, ['f32'], 'dense operand');
  if (b.shape[0] !== a.cols) {
    throw new Error(`${op}: CSR [${a.rows}, ${a.cols}] × dense ${shapeToString(b.shape)}: inner dimensions ${a.cols} vs ${b.shape[0]}`);
  }
  const cs = csrArg(op, a, b);
  const n = b.shape[1]!;
  const backend = a.backend;
  const out = wrap(backend.kernels.spmm(cs, b.use(op), n), [a.rows, n], backend);
  record(op, [a.values, b], [out], ([g]) => [
    a.values.requiresGrad ? sddmm(g!, b, a, { transB: true }) : null,
    b.requiresGrad ? matmul(csrToDense(a), g!, { transA: true }) : null,
  ], [a.rowPtr, a.colIdx]);
  return out;
}

/**
 * Dense X [m, k] × (CSR W [n, k])ᵀ (+ bias [n]) → dense [m, n]: a Linear layer with a sparse weight
 * (x·Wᵀ + b, the bias added in the kernel as `linear` fuses it). Differentiable in X, in W's values (via sddmm,
 * so the weight gradient exists only at the stored positions) and in the bias.
 */
export function denseCsrT(x: Tensor, w: Csr, bias?: Tensor | null): Tensor {
  const op = 'denseCsrT';
  checkRank(op, x, 2, 'dense operand');
  checkDtype(op, x, ['f32'], 'dense operand');
  if (x.shape[1] !== w.cols) {
    throw new Error(`${op}: dense ${shapeToString(x.shape)} × (CSR [${w.rows}, ${w.cols}])ᵀ: inner dimensions ${x.shape[1]} vs ${w.cols}`);
  }
  if (bias) checkBias(op, bias, w.rows, `CSR [${w.rows}, ${w.cols}]`);
  const cs = csrArg(op, w, x);
  const m = x.shape[0]!;
  const backend = w.backend;
  const out = wrap(backend.kernels.denseCsrT(x.use(op), m, cs, bias?.use(op)), [m, w.rows], backend);
  record(op, bias ? [x, w.values, bias] : [x, w.values], [out], ([g]) => [
    x.requiresGrad ? matmul(g!, csrToDense(w)) : null,
    w.values.requiresGrad ? sddmm(g!, x, w, { transA: true }) : null,
    ...(bias ? [bias.requiresGrad ? sum(g!, 0) : null] : []),
  ], [w.rowPtr, w.colIdx]);
  return out;
}

export interface SddmmOptions {
  transA?: boolean;
  transB?: boolean;
}

/**
 * Sampled dense-dense product: for each stored (i, j) of `pattern` [m, n], out[p] = Σ_t op(A)[i, t]·op(B)[t, j]
 * with op(A) [m, k], op(B) [k, n]. Returns f32 [nnz] (use `pattern.withValues(out)` for a Csr).
 * Differentiable in A and B.
 */
export function sddmm(a: Tensor, b: Tensor, pattern: Csr, opts: SddmmOptions = {}): Tensor {
  const op = 'sddmm';
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  checkRank(op, a, 2, 'left operand');
  checkRank(op, b, 2, 'right operand');
  checkDtype(op, a, ['f32'], 'left operand');
  checkDtype(op, b, ['f32'], 'right operand');
  const [m, ka] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb || m !== pattern.rows || n !== pattern.cols) {
    throw new Error(
      `${op}: op(A) [${m}, ${ka}] · op(B) [${kb}, ${n}] (A ${shapeToString(a.shape)}${transA ? 'ᵀ' : ''}, ` +
        `B ${shapeToString(b.shape)}${transB ? 'ᵀ' : ''}) does not fit the pattern [${pattern.rows}, ${pattern.cols}]`,
    );
  }
  const cs = csrArg(op, pattern, a, b);
  const backend = pattern.backend;
  const out = wrap(
    backend.kernels.sddmm(a.use(op), [a.shape[0]!, a.shape[1]!], transA, b.use(op), [b.shape[0]!, b.shape[1]!], transB, cs),
    [pattern.nnz],
    backend,
  );
  record(op, [a, b], [out], ([g]) => {
    // Gd = g scattered at the pattern [m, n]; d op(A) = Gd·op(B)ᵀ, d op(B) = op(A)ᵀ·Gd.
    const gd = wrap(backend.kernels.csrToDense(pattern.storageWith(op, g!.use(op))), [m, n], backend);
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      // A = op(A) or op(A)ᵀ: dA = Gd·op(B)ᵀ or its transpose op(B)·Gdᵀ.
      da = transA ? matmul(b, gd, { transA: transB, transB: true }) : matmul(gd, b, { transB: !transB });
    }
    if (b.requiresGrad) {
      db = transB ? matmul(gd, a, { transA: true, transB: transA }) : matmul(a, gd, { transA: !transA });
    }
    return [da, db];
  }, [pattern.rowPtr, pattern.colIdx]);
  return out;
}

/**
 * u8 mask (x's shape) with 1 at the k positions of largest |x| among positions where `candidates` (u8, same
 * shape) is 1; ties by lower index. Not differentiable.
 */
export function maskedTopK(x: Tensor, candidates: Tensor, k: number): Tensor {
  const op = 'maskedTopK';
  checkDtype(op, x, ['f32']);
  checkDtype(op, candidates, ['u8'], 'candidates');
  if (candidates.rank !== x.rank || candidates.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`${op}: candidates ${shapeToString(candidates.shape)} must match x ${shapeToString(x.shape)}`);
  }
  checkInt(op, 'k', k, 0);
  const host = hostValues(candidates);
  if (host) {
    let count = 0;
    for (let i = 0; i < host.length; i++) if (host[i]) count++;
    if (k > count) throw new Error(`${op}: k = ${k} exceeds the ${count} candidates of ${shapeToString(x.shape)}`);
  }
  const { backend, s } = storages(op, x, candidates);
  return wrap(backend.kernels.maskedTopK(s[0]!, s[1]!, k), x.shape, backend);
}

/** Transposed copy of a CSR matrix ([cols, rows]), through a dense round trip on the backend. */
export function csrTranspose(a: Csr): Csr {
  return engine.noGrad(() => {
    const d = csrToDense(a);
    const t = permute(d, [1, 0]);
    const ones = tensor(new Float32Array(a.nnz).fill(1), [a.nnz], { backend: a.backend.name });
    const pat = csrToDense(a.withValues(ones));
    const mask = cast(permute(pat, [1, 0]), 'u8');
    const out = denseToCsr(t, mask, { nnz: a.nnz });
    for (const u of [d, t, ones, pat, mask]) u.dispose();
    return out;
  });
}
