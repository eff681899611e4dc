/**
 * Attention building blocks: masked fill, the causal mask, and scaled dot-product attention as in
 * Time-Series-Library's FullAttention (scores = scale·Q·Kᵀ, masked with −∞ where the mask is 1, softmax,
 * dropout, ·V). Q·Kᵀ uses matmul's transpose flag: no copy of K is made.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { broadcastShapes, sameShape, shapeToString } from '../tensor/shape.ts';
import { keyRange } from '../backend/attention-band.ts';
import type { Rng } from '../tensor/random.ts';
import { checkDtype, checkInt } from './util.ts';
import { tensor } from './creation.ts';
import { mul } from './binary.ts';
import { where } from './compare.ts';
import { matmul } from './matmul.ts';
import { dropout, softmax } from './nn.ts';
import { attentionSizes, checkNoBlindRows, fusable, fusedAttention } from './fused-attention.ts';

/**
 * x with `value` where `mask` (u8, broadcastable to x's shape) is 1 — torch's masked_fill. Differentiable
 * in x (masked positions get no gradient).
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const op = 'maskedFill';
  checkDtype(op, x, ['f32']);
  checkDtype(op, mask, ['u8'], 'mask');
  let out: number[];
  try {
    out = broadcastShapes(op, x.shape, mask.shape);
  } catch {
    out = [];
  }
  if (!sameShape(out, x.shape) || mask.rank > x.rank) {
    throw new Error(`${op}: mask ${shapeToString(mask.shape)} does not broadcast to x ${shapeToString(x.shape)}`);
  }
  return where(mask, value, x);
}

export interface CausalMaskOptions {
  /** Backend name (the current one by default). */
  backend?: string;
  /** Number of key positions (default L, a square mask). */
  keyLength?: number;
}

/** u8 [L, S] with 1 above the diagonal (j > i: the future is masked), like TSLib's TriangularCausalMask. */
export function causalMask(L: number, opts: CausalMaskOptions = {}): Tensor {
  checkInt('causalMask', 'L', L, 0);
  const S = opts.keyLength ?? L;
  checkInt('causalMask', 'keyLength', S, 0);
  const m = new Uint8Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = 1;
  return tensor(m, [L, S], { backend: opts.backend, dtype: 'u8' });
}

export interface AttentionOptions {
  /** u8, broadcastable to the scores [..., Lq, Lk]; 1 = masked (filled with −∞ before the softmax). */
  mask?: Tensor | null;
  /** Mask keys j > i (as `causalMask`); with `mask` too, a key is masked when either masks it. */
  causal?: boolean;
  /** Local window half width w: query i sees only keys with |i − j| ≤ w. */
  window?: number;
  /** Dropout probability on the attention weights (needs `rng` and `training`). */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
  /** Score scale; default 1/√E. */
  scale?: number;
  /** Value written at masked positions; default −∞ (as TSLib). */
  maskValue?: number;
  /**
   * Return the attention weights (default true). With false the fused kernel runs when it can (no `mask`
   * tensor, equal batch dims, −∞ masking, p < 1): same result, same dropout draws, no [Lq, Lk] tensor.
   */
  weights?: boolean;
}

/** u8 [Lq, Lk] with 1 where the causal / window band hides key j from query i. */
function bandMask(lq: number, lk: number, causal: boolean, window: number | undefined, backend: string): Tensor {
  const m = new Uint8Array(lq * lk).fill(1);
  for (let i = 0; i < lq; i++) {
    const [lo, hi] = keyRange(i, lk, { scale: 1, causal, window });
    m.fill(0, i * lk + lo, i * lk + hi);
  }
  return tensor(m, [lq, lk], { backend, dtype: 'u8' });
}

/** An exact power of two (scaling by it commutes with rounding, barring overflow and subnormals). */
function isPowerOfTwo(x: number): boolean {
  if (!(x > 0) || !Number.isFinite(x)) return false;
  const l = Math.log2(x);
  return Number.isInteger(l) && l > -100 && l < 100;
}

/**
 * q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev] (batch dims broadcast) → output [..., Lq, Ev] and the
 * attention weights [..., Lq, Lk] (after dropout, as TSLib returns them when output_attention is set), or
 * `attn: null` with `weights: false`, which lets the fused kernel run (src/ops/fused-attention.ts).
 */
export function scaledDotProductAttention(
  q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & { weights: false },
): { output: Tensor; attn: null };
export function scaledDotProductAttention(
  q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions,
): { output: Tensor; attn: Tensor };
export function scaledDotProductAttention(
  q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {},
): { output: Tensor; attn: Tensor | null } {
  const op = 'scaledDotProductAttention';
  const { lq, lk, e } = attentionSizes(op, q, k, v);
  const causal = opts.causal ?? false;
  if (opts.window !== undefined && !(Number.isInteger(opts.window) && opts.window >= 0)) {
    throw new Error(`${op}: window must be an integer ≥ 0, got ${opts.window}`);
  }
  if (causal || opts.window !== undefined) checkNoBlindRows(op, lq, lk, causal, opts.window);
  const scale = opts.scale ?? 1 / Math.sqrt(e);
  const p = opts.dropout ?? 0;
  const training = opts.training ?? false;
  const maskValue = opts.maskValue ?? -Infinity;
  if (opts.weights === false && !opts.mask && maskValue === -Infinity && fusable(q, k, v) && p < 1
    && Number.isFinite(scale) && lk > 0) {
    const output = fusedAttention(q, k, v, { scale, causal, window: opts.window, dropout: p, rng: opts.rng, training });
    return { output, attn: null };
  }
  // Scaling Q (B·L·E products) instead of the scores (B·L·L) gives the same bits for a power of two.
  let scores: Tensor;
  if (isPowerOfTwo(scale)) {
    const qs = mul(q, scale);
    scores = matmul(qs, k, { transB: true });
    qs.dispose();
  } else {
    const raw = matmul(q, k, { transB: true });
    scores = mul(raw, scale);
    raw.dispose();
  }
  const band = causal || opts.window !== undefined ? bandMask(lq, lk, causal, opts.window, q.backend.name) : null;
  for (const m of [opts.mask, band]) {
    if (!m) continue;
    const masked = maskedFill(scores, m, maskValue);
    scores.dispose();
    scores = masked;
  }
  band?.dispose();
  let attn = softmax(scores, -1);
  scores.dispose();
  if (p > 0 && training) {
    if (!opts.rng) throw new Error(`${op}: dropout ${p} in training needs an rng`);
    const dropped = dropout(attn, p, opts.rng, true);
    attn.dispose();
    attn = dropped;
  }
  const output = matmul(attn, v);
  if (opts.weights === false) {
    attn.dispose();
    return { output, attn: null };
  }
  return { output, attn };
}
