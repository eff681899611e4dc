/**
 * Attention building blocks: masked fill, the causal mask, and scaled dot-product attention as in
 * Time-Series-Library's FullAttention (scores = scale·Q·Kᵀ, masked with −∞ where the mask is 1, softmax,
 * dropout, ·V). Q·Kᵀ uses matmul's transpose flag: no copy of K is made.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { broadcastShapes, sameShape, shapeToString } from '../tensor/shape.ts';
import type { Rng } from '../tensor/random.ts';
import { checkDtype, checkInt } from './util.ts';
import { tensor } from './creation.ts';
import { mul } from './binary.ts';
import { where } from './compare.ts';
import { matmul } from './matmul.ts';
import { dropout, softmax } from './nn.ts';

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
  /** Dropout probability on the attention weights (needs `rng` and `training`). */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
  /** Score scale; default 1/√E. */
  scale?: number;
  /** Value written at masked positions; default −∞ (as TSLib). */
  maskValue?: number;
}

/**
 * q [..., Lq, E], k [..., Lk, E], v [..., Lk, Ev] (batch dims broadcast) → output [..., Lq, Ev] and the
 * attention weights [..., Lq, Lk] (after dropout, as TSLib returns them when output_attention is set).
 */
export function scaledDotProductAttention(
  q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {},
): { output: Tensor; attn: Tensor } {
  const op = 'scaledDotProductAttention';
  for (const [t, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
    checkDtype(op, t, ['f32'], name);
    if (t.rank < 2) throw new Error(`${op}: ${name} ${shapeToString(t.shape)} must have rank ≥ 2 ([..., L, E])`);
  }
  const E = q.shape[q.rank - 1]!;
  if (k.shape[k.rank - 1] !== E) {
    throw new Error(`${op}: query ${shapeToString(q.shape)} and key ${shapeToString(k.shape)} differ in the feature dimension`);
  }
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new Error(`${op}: key ${shapeToString(k.shape)} and value ${shapeToString(v.shape)} differ in length`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = mul(matmul(q, k, { transB: true }), scale);
  if (opts.mask) {
    const masked = maskedFill(scores, opts.mask, opts.maskValue ?? -Infinity);
    scores.dispose();
    scores = masked;
  }
  let attn = softmax(scores, -1);
  scores.dispose();
  const p = opts.dropout ?? 0;
  if (p > 0 && (opts.training ?? false)) {
    if (!opts.rng) throw new Error(`${op}: dropout ${p} in training needs an rng`);
    const dropped = dropout(attn, p, opts.rng, true);
    attn.dispose();
    attn = dropped;
  }
  const output = matmul(attn, v);
  return { output, attn };
}
