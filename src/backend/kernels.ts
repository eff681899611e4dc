/**
 * The kernel contract: every primitive a backend must provide, in one place.
 *
 * A kernel takes storages (opaque handles owned by one backend) plus the shapes and attributes it needs,
 * and returns freshly allocated storages. Kernels never see tensors, autograd or models: they are pure
 * functions from buffers to buffers. Shapes are validated by the ops layer before a kernel is called, so a
 * kernel may assume well-formed arguments (the wasm backend still never traps: it checks what it indexes).
 *
 * Conventions shared by every backend:
 * - Storage is contiguous, row-major. Shapes are `number[]`; a scalar has shape `[]` and size 1.
 * - Broadcasting follows NumPy: shapes are right-aligned, a dimension of 1 stretches.
 * - Reductions keep the reduced axes as size 1 (`keepdims`); the ops layer reshapes.
 * - Indices are i32; booleans and masks are u8 (0 or 1).
 * - Ties are broken by the lower flat index everywhere (top-k, argmax, masked top-k), so every backend picks
 *   the same elements.
 * - Summation order is fixed per backend (js and wasm: increasing index of the reduced dimension), which is
 *   what makes runs bit-identical across runtimes.
 *
 * `KERNEL_NAMES` lists the contract for tests: a backend lacking one fails the conformance suite by name.
 */

export type DType = 'f32' | 'i32' | 'u8';

export type TypedArrayFor<D extends DType> = D extends 'f32'
  ? Float32Array
  : D extends 'i32'
    ? Int32Array
    : Uint8Array;

export type AnyTypedArray = Float32Array | Int32Array | Uint8Array;

/** A buffer owned by a backend. `size` counts elements, not bytes. */
export interface Storage {
  readonly backend: string;
  readonly size: number;
  readonly dtype: DType;
}

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'gelu', 'elu', 'sin',
  'cos', 'erf', 'square', 'reciprocal', 'floor',
] as const;
/**
 * `gelu` is the exact erf form, x·Φ(x). `elu` uses alpha = 1. `sign(0) = 0`. `relu(x) = max(x, 0)`.
 * `floor` exists for index arithmetic in f32 (e.g. ProbSparse sampling).
 */
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export const COMPARE_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

export const REDUCE_OPS = ['sum', 'mean', 'max', 'min'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

export type PadMode = 'zero' | 'circular' | 'replicate';

/** Compressed sparse row matrix of shape [rows, cols]. */
export interface CsrStorage {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  /** i32[rows + 1], non-decreasing, rowPtr[0] = 0, rowPtr[rows] = nnz. */
  readonly rowPtr: Storage;
  /** i32[nnz], strictly increasing within a row, each in [0, cols). */
  readonly colIdx: Storage;
  /** f32[nnz]. */
  readonly values: Storage;
}

/**
 * Block sparse row matrix of shape [rows, cols] with dense 4×4 blocks (BSR). Block (bi, bj) covers rows
 * 4bi .. 4bi+3 and columns 4bj .. 4bj+3; the block grid is ceil(rows/4) × ceil(cols/4), so edge blocks of a
 * shape that is not a multiple of 4 reach past the matrix: those positions are stored (denseToBsr writes 0
 * there), bsrToDense drops them, and denseBsrT multiplies them by zero padding of X (see there).
 */
export interface BsrStorage {
  readonly rows: number;
  readonly cols: number;
  /** Stored blocks. */
  readonly nblocks: number;
  /** i32[ceil(rows/4) + 1], non-decreasing, blockPtr[0] = 0, blockPtr[last] = nblocks. */
  readonly blockPtr: Storage;
  /** i32[nblocks]: block column bj of each stored block, each in [0, ceil(cols/4)); increasing within a block row as denseToBsr builds it. */
  readonly blockCol: Storage;
  /**
   * f32[nblocks · 16], block by block; inside a block **column-major**: values[16b + 4c + r] is the entry at
   * row 4bi + r, column 4bj + c. One block column (the 4 rows' weights for one input column) is then one f32x4
   * / vec4, which is what the products multiply by a broadcast input value.
   */
  readonly values: Storage;
}

/**
 * Constant fan-in matrix (the `fan_in` mask structure, src/sparse/structure.ts) of shape [rows, cols]: every
 * live row keeps exactly `k` entries and every other row (an ablated neuron) is all zero. Condensed: the live
 * rows are listed, and each holds k values and k narrow column indices, with no row pointers.
 *
 * Ablated rows are skipped through `liveRows` rather than stored as k zeros: ablation is how the structure
 * spends a layer's budget (SRigL removes many neurons whole), and a row list makes their cost zero in memory
 * and in the product, at one i32 per live row; the product writes 0 to the rows it skips.
 *
 * Column indices are u16 (so `cols` ≤ 65536), packed two per i32 word because the contract's dtypes have no
 * u16: index q is bits 16·(q mod 2) … 16·(q mod 2) + 15 of word ⌊q/2⌋, i.e. a little-endian u16 array, which
 * is what wasm (always little-endian) and WGSL (`extractBits`) read directly. Half the index bytes of CSR and
 * no rowPtr: 6 bytes per stored weight instead of 8 (+ 4 per row).
 */
export interface FanInStorage {
  readonly rows: number;
  readonly cols: number;
  /** Entries per live row, in [0, cols]. */
  readonly k: number;
  /** Number of live rows. */
  readonly live: number;
  /** i32[live]: the live rows, strictly increasing, each in [0, rows). */
  readonly liveRows: Storage;
  /**
   * i32[ceil(live·k / 2)]: packed u16 columns, live row by live row; increasing within a row as denseToFanIn
   * builds them (the products accept any order: they sum in storage order, the order only steers the cache).
   */
  readonly colIdx: Storage;
  /** f32[live·k]: values[j·k + t] = W[liveRows[j], column t of live row j]. */
  readonly values: Storage;
}

export interface MatmulArgs {
  a: Storage;
  b: Storage;
  /** Full shapes, rank ≥ 2; leading (batch) dims broadcast against each other. */
  aShape: number[];
  bShape: number[];
  /** Use the transpose of the last two dims of a / b. */
  transA: boolean;
  transB: boolean;
  /** Optional f32[n] added to every output row (fused bias). */
  bias?: Storage;
}

/**
 * Sizes of a fused attention: q [batch, lq, e], k [batch, lk, e], v [batch, lk, ev], all contiguous; `batch`
 * is every leading dimension flattened (B·H). The kernels never broadcast batch dims (the ops layer does).
 *
 * With `heads` = H > 1 the tensors are instead in a projection's layout, heads interleaved in the feature
 * axis: q [B, lq, H, e], k [B, lk, H, e], v [B, lk, H, ev], and out / dq / dk / dv likewise, with batch = B·H
 * and batch index b·H + h (the order of the [B, H, L, E] layout, so dropout counters and the statistics
 * [batch, lq] are the same either way). Row i of batch b·H + h starts at element ((b·L + i)·H + h)·width and
 * rows are H·width apart: the kernels read the heads in place instead of after a permute.
 */
export interface AttentionShape {
  batch: number;
  lq: number;
  lk: number;
  e: number;
  ev: number;
  /** Heads interleaved in the feature axis (see above); absent or 1: [batch, L, width] contiguous. */
  heads?: number;
}

/**
 * Attributes of a fused attention.
 * - `scale` multiplies the scores: s_ij = scale · q_i·k_j (rounded to f32 after the dot product, then scaled;
 *   when scale is a power of two a backend may scale q first instead, which gives the same bits).
 * - Key j is visible from query i when (not causal or j ≤ i) and (no window or |i − j| ≤ window): masked keys
 *   behave as scores of −∞ (TSLib's TriangularCausalMask for `causal`), i.e. weight exactly 0.
 * - `dropout` drops weight (i, j) of batch b unless uniform(seed, counter + (b·lq + i)·lk + j) < fround(1 − p)
 *   (src/tensor/random.ts), and scales kept weights by fround(1/(1 − p)): the same elements and the same
 *   factor as `random(batch·lq·lk, 'bernoulli', seed, counter, 1 − p)` applied to the [batch, lq, lk] weights,
 *   which is what the unfused path does. 0 ≤ p < 1.
 */
export interface AttentionAttrs {
  scale: number;
  causal: boolean;
  /** Local-window half width w ≥ 0 (query i sees keys i − w .. i + w); absent or −1: no window. */
  window?: number;
  dropout?: { p: number; seed: number; counter: number };
}

export interface Conv1dArgs {
  /** [N, Cin, L] */
  x: Storage;
  xShape: number[];
  /** [Cout, Cin, K] */
  w: Storage;
  wShape: number[];
  stride: number;
  dilation: number;
  /** Zero padding on the left and right of L (other modes are a `pad` before the conv). */
  padLeft: number;
  padRight: number;
}

/**
 * Every kernel a backend must implement. Methods return new storages; inputs are never modified.
 * Output shapes are documented per kernel; the caller (ops layer) already knows them.
 */
/**
 * One Adam step's constants (PyTorch's single-tensor Adam, weight decay 0), each used as an f32:
 * m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², p' = p − stepSize · m' / (√v' / bc2Sqrt + eps), with
 * stepSize = lr / (1 − β1^t) and bc2Sqrt = √(1 − β2^t).
 */
export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  stepSize: number;
  bc2Sqrt: number;
}

export interface Kernels {
  // ---- creation, copies and casts -------------------------------------------------------------
  /** A storage of `size` elements all equal to `value` (cast to dtype). */
  fill(size: number, dtype: DType, value: number): Storage;
  /** Convert element type: f32→i32 truncates toward zero; anything→u8 is (x != 0); same dtype copies. */
  cast(x: Storage, dtype: DType): Storage;
  /**
   * Counter-based Philox4x32-10 stream (see src/tensor/random.ts for the exact definition).
   * uniform: [0,1) from the top 24 bits; normal: Box–Muller on consecutive pairs;
   * bernoulli: u8 (uniform < p). Element i uses counter `offset + i`.
   */
  random(
    size: number,
    dist: 'uniform' | 'normal' | 'bernoulli',
    seed: number,
    offset: number,
    p: number,
  ): Storage;

  // ---- elementwise ------------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage): Storage;
  /** Broadcasting binary op on f32 (i32 inputs allowed for add/sub/mul/max/min). */
  binary(op: BinaryOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage;
  /** Broadcasting comparison; result is u8. */
  compare(op: CompareOp, a: Storage, aShape: number[], b: Storage, bShape: number[]): Storage;
  /** Broadcasting select: cond (u8) ? a : b. */
  where(
    cond: Storage, condShape: number[], a: Storage, aShape: number[], b: Storage, bShape: number[],
  ): Storage;
  /**
   * Gradient of `unary('gelu')`: dx = dy · gelu'(x), gelu'(x) = Φ(x) + x·φ(x), elementwise over f32 dy and x
   * of the same size. One pass instead of the ~8 erf/exp/mul kernels the formula takes as separate ops.
   */
  geluBackward(dy: Storage, x: Storage): Storage;

  /**
   * Dropout with a drawn keep mask: y = x · (keep ? scale : 0) over `x.size` elements (keep u8, same size), the
   * product rounded once — the same bits as multiplying by a [keep ? scale : 0] f32 tensor, in one pass. The
   * backward pass is the same kernel on the gradient.
   */
  dropoutMask(x: Storage, keep: Storage, scale: number): Storage;

  // ---- reductions -----------------------------------------------------------------------------
  /** Reduce over `axes` (sorted, unique, non-negative); output keeps them as size 1. */
  reduce(op: ReduceOp, x: Storage, shape: number[], axes: number[]): Storage;
  /** Index (i32) of the max along `axis` (first one on ties); output keeps the axis as size 1. */
  argmax(x: Storage, shape: number[], axis: number): Storage;
  /** Numerically stable softmax over the last axis. */
  softmax(x: Storage, shape: number[]): Storage;
  /** Numerically stable log-softmax over the last axis. */
  logSoftmax(x: Storage, shape: number[]): Storage;
  /**
   * Layer norm over the last axis (size D) with affine gamma/beta f32[D].
   * Returns y (same shape), mean f32[rows], rstd f32[rows] (rstd = 1/sqrt(var + eps), biased var).
   */
  layerNorm(
    x: Storage, shape: number[], gamma: Storage, beta: Storage, eps: number,
  ): { y: Storage; mean: Storage; rstd: Storage };
  /** Gradients of layerNorm: dx (shape of x), dgamma f32[D], dbeta f32[D]. */
  layerNormBackward(
    dy: Storage, x: Storage, shape: number[], gamma: Storage, mean: Storage, rstd: Storage,
  ): { dx: Storage; dgamma: Storage; dbeta: Storage };
  /**
   * Batch-norm statistics for x of shape [outer, C, inner]: mean f32[C] and biased variance f32[C]
   * over the outer and inner axes.
   */
  batchNormStats(x: Storage, shape: [number, number, number]): { mean: Storage; variance: Storage };

  // ---- linear algebra ---------------------------------------------------------------------------
  /** Batched matmul: out[..., m, n] = op(a)[..., m, k] · op(b)[..., k, n] (+ bias[n]). */
  matmul(args: MatmulArgs): Storage;

  // ---- optimizer ---------------------------------------------------------------------------------
  /**
   * One Adam update of a parameter p with gradient g and moments m, v (all f32, `size` elements): returns the
   * new p, m and v. Each operation rounds to f32 in the order of AdamHyper's formula (so it equals the same
   * update written as elementwise ops); one pass instead of eleven kernels and ten temporaries per parameter.
   */
  adam(p: Storage, g: Storage, m: Storage, v: Storage, size: number, h: AdamHyper): { p: Storage; m: Storage; v: Storage };

  // ---- fused attention --------------------------------------------------------------------------
  /**
   * softmax(scale·Q·Kᵀ, masked) (with dropout) · V without materializing the [lq, lk] scores: backends work on a
   * tile of query rows at a time and skip key blocks no row of the tile can see. Returns out [batch, lq, ev]
   * and two statistics per query row, [batch, lq]: `rowMax` m_i (the largest visible score) and `logSumExp`
   * m_i + ln Σ_j e^{s_ij − m_i} (over visible keys, before dropout), which is all the backward pass needs.
   * A row that sees no key (only possible with a window and lq > lk + window, or with lk = 0) has out = NaN
   * (the softmax of a row of −∞, as the unfused path gives), rowMax = logSumExp = −∞.
   * With dropout a backend may also return `keep`: its record of the dropout draws (an opaque storage), which
   * the caller hands back to attentionBackward so that pass need not draw the same counters again.
   */
  attention(
    q: Storage, k: Storage, v: Storage, shape: AttentionShape, attrs: AttentionAttrs,
  ): { out: Storage; rowMax: Storage; logSumExp: Storage; keep?: Storage };
  /**
   * Gradients of `attention` for dOut [batch, lq, ev], flash-attention style: the weights are recomputed tile
   * by tile as P_ij = e^{s_ij − logSumExp_i} (dropout masks from the same counters), with
   * D_i = Σ_c dOut_ic·out_ic:  dV = (P∘Z)ᵀ·dOut,  dS = P∘(Z∘(dOut·Vᵀ) − D),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q
   * (Z = the dropout keep factor, 1 without dropout). A row that sees no key contributes nothing and gets
   * dQ = 0. Returns dq [batch, lq, e], dk [batch, lk, e], dv [batch, lk, ev]. `keep`: what this backend's
   * `attention` returned for the same call, if anything (the masks then come from it instead of new draws).
   */
  attentionBackward(
    dOut: Storage, q: Storage, k: Storage, v: Storage, out: Storage, logSumExp: Storage,
    shape: AttentionShape, attrs: AttentionAttrs, keep?: Storage,
  ): { dq: Storage; dk: Storage; dv: Storage };

  // ---- indexing and data movement ---------------------------------------------------------------
  /** torch.index_select: take `indices` (i32[n]) along `axis`; output has size n on that axis. */
  indexSelect(x: Storage, shape: number[], axis: number, indices: Storage, n: number): Storage;
  /** torch.gather: out[..i..] = x[.. indices[..i..] on axis ..]; indices has the output shape. */
  gather(x: Storage, shape: number[], axis: number, indices: Storage, indexShape: number[]): Storage;
  /**
   * torch.scatter_add into zeros of `outShape`: out[.. indices[i] on axis ..] += src[i];
   * src and indices share `indexShape`. Accumulation order: increasing flat index of src.
   */
  scatterAdd(
    src: Storage, indices: Storage, indexShape: number[], axis: number, outShape: number[],
  ): Storage;
  /** Top-k along the last axis: values f32 and indices i32 of shape [..., k], sorted descending
   * (ascending when largest = false); ties by lower index. */
  topk(x: Storage, shape: number[], k: number, largest: boolean): { values: Storage; indices: Storage };
  /** Inclusive cumulative sum along `axis`; `reverse` sums from the end (its own adjoint). */
  cumsum(x: Storage, shape: number[], axis: number, reverse: boolean): Storage;
  /** out[i] = x[(i - shift) mod n] along `axis` (torch.roll). */
  roll(x: Storage, shape: number[], axis: number, shift: number): Storage;
  /** Pad each axis by pads[axis] = [before, after]; zero, circular (wrap) or replicate (edge). */
  pad(x: Storage, shape: number[], pads: Array<[number, number]>, mode: PadMode): Storage;
  /** Concatenate along `axis`; all other dims equal. */
  concat(xs: Storage[], shapes: number[][], axis: number): Storage;
  /** Contiguous slice: begin[d] .. begin[d] + size[d] on every axis. */
  slice(x: Storage, shape: number[], begin: number[], size: number[]): Storage;
  /** Materialized transpose: out.shape[d] = shape[perm[d]]. */
  permute(x: Storage, shape: number[], perm: number[]): Storage;
  /** One-hot f32: indices i32[n] → [n, depth]; out-of-range indices give an all-zero row. */
  oneHot(indices: Storage, n: number, depth: number): Storage;

  // ---- convolution and pooling ------------------------------------------------------------------
  /** out [N, Cout, Lout], Lout = floor((L + padL + padR - dilation·(K-1) - 1) / stride) + 1. */
  conv1d(args: Conv1dArgs): Storage;
  /** dx [N, Cin, L] from dy [N, Cout, Lout] and w. */
  conv1dBackwardInput(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'x'>): Storage;
  /** dw [Cout, Cin, K] from x and dy. */
  conv1dBackwardWeight(dy: Storage, dyShape: number[], args: Omit<Conv1dArgs, 'w'>): Storage;
  /**
   * Pooling over the last axis of x [N, C, L] with window k, stride, zero/ignored padding `pad` on both
   * sides (avg counts the padded zeros, as PyTorch's count_include_pad = true; max ignores padding).
   * max also returns the i32 argmax position in L (first on ties) for the backward pass.
   */
  avgPool1d(x: Storage, shape: number[], k: number, stride: number, pad: number): Storage;
  avgPool1dBackward(dy: Storage, dyShape: number[], xShape: number[], k: number, stride: number, pad: number): Storage;
  maxPool1d(
    x: Storage, shape: number[], k: number, stride: number, pad: number,
  ): { values: Storage; indices: Storage };
  /** Scatter dy back to the argmax positions: dx [N, C, L]. */
  maxPool1dBackward(dy: Storage, indices: Storage, dyShape: number[], xShape: number[]): Storage;

  // ---- spectral ---------------------------------------------------------------------------------
  /** Real FFT of the last axis (any length n): [..., n] → [..., floor(n/2)+1, 2] (re, im). */
  rfft(x: Storage, shape: number[]): Storage;
  /** Inverse of rfft: [..., m, 2] → [..., n] with m = floor(n/2)+1; imaginary parts of DC (and of
   * Nyquist for even n) are ignored, as numpy/torch do. Normalised by 1/n. */
  irfft(x: Storage, shape: number[], n: number): Storage;

  // ---- sparse -----------------------------------------------------------------------------------
  /** CSR A [m, k] × dense B [k, n] → dense [m, n]. */
  spmm(a: CsrStorage, b: Storage, n: number): Storage;
  /**
   * Dense X [m, k] × (CSR W [n, k])ᵀ (+ bias [n]) → dense [m, n]: a Linear layer with a sparse weight. The bias
   * is added once to each finished sum, as matmul's fused bias is (wasm and webgpu: the bits of a separate add;
   * js: to its f64 sum before rounding, as its matmul does), so a sparse Linear needs no add pass of its own.
   */
  denseCsrT(x: Storage, m: number, w: CsrStorage, bias?: Storage): Storage;
  /**
   * Sampled dense-dense product at the pattern's positions: for each stored (i, j) of `pattern`,
   * out[p] = Σ_t op(A)[i, t] · op(B)[t, j] with op(A) [m, k], op(B) [k, n]. Returns f32[nnz].
   */
  sddmm(
    a: Storage, aShape: [number, number], transA: boolean,
    b: Storage, bShape: [number, number], transB: boolean,
    pattern: CsrStorage,
  ): Storage;
  /**
   * Dense [rows, cols] → CSR keeping positions where mask (u8) is non-zero, or x != 0 (NaN kept) without a
   * mask. The caller passes `nnz`, the number of kept positions (the ops layer counts it on the host, or from
   * a host mask, or reads it first on the GPU): output sizes are then known before any work runs, which is what
   * lets WebGPU record this kernel without a readback. Every backend checks that the real count equals `nnz`
   * and otherwise throws an Error naming `denseToCsr` and both counts — js and wasm at the call, webgpu at the
   * next `read`/`sync` (its errors are asynchronous; the kernel never writes past `nnz`).
   */
  denseToCsr(x: Storage, rows: number, cols: number, nnz: number, mask?: Storage): CsrStorage;
  csrToDense(a: CsrStorage): Storage;
  /**
   * Dense X [m, k] × (BSR W [n, k])ᵀ → dense [m, n]: a Linear layer with a block-sparse weight (denseCsrT's role
   * for 4×4 blocks). X is read as if zero-padded to ceil(k/4)·4 columns, every stored value (all 16 of a block)
   * is multiplied, and out rows beyond n are not produced. Summation order (js and wasm): out[i, r] is summed
   * from 0 over the stored blocks of r's block row in storage order (increasing block column, as denseToBsr
   * builds them), and within a block over c = 0..3: increasing k, one multiply and one add per step — the order
   * denseCsrT uses for the CSR of the same blocks with their zeros stored. bias [n]: as denseCsrT's.
   */
  denseBsrT(x: Storage, m: number, w: BsrStorage, bias?: Storage): Storage;
  /**
   * Dense [rows, cols] → BSR with 4×4 blocks: a block is stored when any of its positions is kept (mask != 0,
   * or x != 0 with NaN kept when there is no mask). Positions of a stored block that are not kept (masked out,
   * or past the matrix edge) are stored as 0, so the product equals X·(W ⊙ mask)ᵀ for any mask; a mask made
   * of whole 4×4 blocks stores no such zeros. The caller passes `nblocks`, the number of stored blocks (for
   * WebGPU, as denseToCsr's nnz); a wrong count throws an Error naming `denseToBsr` and both counts (webgpu: at
   * the next read).
   */
  denseToBsr(x: Storage, rows: number, cols: number, nblocks: number, mask?: Storage): BsrStorage;
  /** BSR → dense [rows, cols] (block positions past the matrix edge are dropped). */
  bsrToDense(a: BsrStorage): Storage;
  /**
   * Dense X [m, n_in] × (fan-in W [n_out, n_in])ᵀ → dense [m, n_out]: denseCsrT's role for a constant fan-in
   * weight. Rows of W that are not live give 0 (plus the bias). Summation order (js and wasm): out[i, r]
   * is summed from 0 over the k entries of r in storage order (increasing column), one multiply and one add per
   * step — denseCsrT's order for the CSR of the same mask, so the two agree bit for bit on a backend. bias [n]:
   * as denseCsrT's.
   */
  denseFanInT(x: Storage, m: number, w: FanInStorage, bias?: Storage): Storage;
  /**
   * Dense [rows, cols] → fan-in storage keeping positions where mask (u8) is non-zero, or x != 0 (NaN kept)
   * without a mask (masked-in zeros are stored). The caller passes `k` and `live` (as denseToCsr's nnz, so sizes
   * are known before any work runs); a row whose kept count is neither 0 nor k, a live count other than `live`,
   * or cols > 65536 (u16 indices) throws an Error naming `denseToFanIn` (webgpu: at the next read).
   */
  denseToFanIn(x: Storage, rows: number, cols: number, k: number, live: number, mask?: Storage): FanInStorage;
  /** Fan-in → dense [rows, cols] (rows not listed are 0). */
  fanInToDense(a: FanInStorage): Storage;
  /**
   * Input gradient of y = X·Wᵀ for a fan-in W [rows, cols] (the backward product of denseFanInT):
   * dX [m, w.cols] = G [m, w.rows] · W, rows of W that are not live contributing nothing. Summation order (js
   * and wasm): dX[i, c] is summed from 0 over the live rows r in increasing order (and within a row over its
   * entries in storage order), one multiply and one add per stored entry. The dense GEMM G·(W ⊙ M) sums over
   * all rows r in increasing order, adding G[i, r]·0 = ±0 for the unstored ones; a sum started at +0 is never
   * −0 (round to nearest: x + (−x) = +0) and s + ±0 = s otherwise, so those terms change nothing and the two
   * are bit-identical on a backend whose GEMM sums in increasing order from 0 with separate multiply and add
   * (js, and wasm's default build) — unless G holds ±∞ or NaN, which the dense product turns into NaN through
   * ∞·0. Columns of W that no live row uses give 0 (+0).
   */
  fanInDense(g: Storage, m: number, w: FanInStorage): Storage;
  /**
   * Weight gradient of y = X·Wᵀ at a fan-in W's stored positions (sampled Gᵀ·X), laid out like w.values:
   * out[j·k + t] = Σ_i G[i, liveRows[j]] · X[i, col(j, t)] for G [m, w.rows], X [m, w.cols]; f32[live·k].
   * Summation order (js and wasm): increasing i from 0, one multiply and one add per step — sddmm's order for
   * sddmm(G, [m, rows], transA = true, X, [m, cols], false, CSR of the same mask), so the fan-in and CSR
   * weight gradients agree bit for bit on a backend (wasm: in the relaxed-SIMD build too). m = 0 gives zeros.
   */
  fanInSddmm(g: Storage, x: Storage, m: number, w: FanInStorage): Storage;
  /**
   * Weight gradient of y = X·Wᵀ at a BSR W's stored blocks (block sampled Gᵀ·X), laid out like w.values
   * (column-major inside a block): for stored block b at (bi, bj), out[16b + 4c + r] = Σ_i G[i, 4bi + r] ·
   * X[i, 4bj + c] for G [m, w.rows], X [m, w.cols]; f32[16·nblocks]. Positions past the matrix edge (row ≥
   * w.rows or column ≥ w.cols) are 0, whatever G and X hold. Summation order (js and wasm): increasing i from
   * 0, one multiply and one add per step — sddmm's order (transA, as fanInSddmm) for the CSR of the blocks'
   * in-range positions. m = 0 gives zeros.
   */
  bsrSddmm(g: Storage, x: Storage, m: number, w: BsrStorage): Storage;
  /**
   * u8 mask with 1 at the k positions of largest |x| among positions where candidates (u8) is 1;
   * ties by lower index. k ≤ number of candidates.
   */
  maskedTopK(x: Storage, candidates: Storage, k: number): Storage;
}

export type KernelName = keyof Kernels;

/** The contract, as data: conformance tests iterate this list. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'fill', 'cast', 'random',
  'unary', 'binary', 'compare', 'where', 'dropoutMask', 'geluBackward',
  'reduce', 'argmax', 'softmax', 'logSoftmax', 'layerNorm', 'layerNormBackward', 'batchNormStats',
  'matmul', 'attention', 'attentionBackward', 'adam',
  'indexSelect', 'gather', 'scatterAdd', 'topk', 'cumsum', 'roll', 'pad', 'concat', 'slice', 'permute',
  'oneHot',
  'conv1d', 'conv1dBackwardInput', 'conv1dBackwardWeight', 'avgPool1d', 'avgPool1dBackward',
  'maxPool1d', 'maxPool1dBackward',
  'rfft', 'irfft',
  'spmm', 'denseCsrT', 'sddmm', 'denseToCsr', 'csrToDense', 'maskedTopK',
  'denseBsrT', 'denseToBsr', 'bsrToDense', 'bsrSddmm',
  'denseFanInT', 'denseToFanIn', 'fanInToDense', 'fanInDense', 'fanInSddmm',
] as const;

/** Storage management every backend provides beside its kernels. */
export interface Backend {
  readonly name: 'js' | 'wasm' | 'webgpu';
  readonly kernels: Kernels;
  /** Allocate `size` elements, zero-filled. */
  alloc(size: number, dtype: DType): Storage;
  /** Return the storage's memory; using it afterwards is a bug the backend reports. */
  free(s: Storage): void;
  /** Copy host data into a fresh storage. */
  upload(data: AnyTypedArray): Storage;
  read(s: Storage): Promise<AnyTypedArray>;
  /** Synchronous read; CPU backends only. */
  readSync?(s: Storage): AnyTypedArray;
  /** Bytes currently held for live storages. */
  bytesInUse(): number;
  /**
   * Whether this instance can run `kernel`. Absent means every kernel of the contract; the inference-only wasm
   * module (kernels-infer.wasm) lacks the training kernels and a few forward ones (fused attention, sddmm), and
   * ops with an alternative path (FullAttention, ProbSparse query selection) ask before choosing.
   */
  supports?(kernel: KernelName): boolean;
}
