/**
 * Time-Series-Library's FullAttention and AttentionLayer. Scores Q·Kᵀ use the matmul transpose flag (no
 * copy of K); the causal mask is TSLib's TriangularCausalMask (positions above the diagonal get −∞).
 */
import { Module } from './module.ts';
import type { Backend } from '../backend/kernels.ts';
import { HeadProjections } from './head-projections.ts';
import { Dropout } from './dropout.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { matmul } from '../ops/matmul.ts';
import { mul } from '../ops/binary.ts';
import { softmax } from '../ops/nn.ts';
import { permute } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';
import { where } from '../ops/compare.ts';
import { tensor } from '../ops/creation.ts';
import { scaledDotProductAttention } from '../ops/attention.ts';
import { multiHeadAttention } from '../ops/fused-attention.ts';

/** An inner attention: queries [B, H, L, E], keys [B, H, S, E], values [B, H, S, D] → [B, H, L, D]. */
export interface InnerAttention extends Module {
  forward(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor;
  /**
   * Optionally the same on the projections before the heads are split — q [B, L, H·E], k and v [B, S, H·E]
   * → [B, L, H·D] — when this attention can read that layout in place; null when it cannot (AttentionLayer
   * then splits the heads and calls `forward`).
   */
  forwardInterleaved?(q: Tensor, k: Tensor, v: Tensor, heads: number, mask: Tensor | null): Tensor | null;
}

/** u8 [L, S] with 1 where position s > l (masked), as TriangularCausalMask. */
export function causalMaskTensor(l: number, s: number, backend?: string): Tensor {
  const m = new Uint8Array(l * s);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) m[i * s + j] = 1;
  return tensor(m, [l, s], { dtype: 'u8', backend });
}

/**
 * Backends on which FullAttention runs the fused kernel (src/ops/fused-attention.ts) when it is given no
 * explicit mask tensor: the weights are never returned (TSLib returns them only with output_attention,
 * which sparsecast's models do not support), so nothing needs the [B, H, L, S] tensor. Same arithmetic and
 * the same dropout draws as the unfused path. Exported so benchmarks and scripts/profile-step.ts can compare
 * the paths (clear it for the unfused path everywhere).
 */
export const fusedAttentionBackends = new Set<string>(['js', 'wasm', 'webgpu']);

/**
 * Whether FullAttention takes the fused kernel for heads of size e. Measured on a loaded 2-core machine
 * (bench/attention.ts; scripts/profile-step.ts --ab): js is faster fused at every shape, webgpu too on lavapipe
 * (no hardware GPU measured). wasm: faster fused at the small preset (E 16: forward+backward 0.75×, causal
 * 0.5×; a Transformer training step 8–15% faster) and for causal heads at E 64 (0.7×), but ~1.2× slower for
 * non-causal heads at E 64: there the backward's extra product (it recomputes the scores, 5 tile products
 * against the unfused backward's 4 GEMMs, which run a little faster than the fused tiles) costs more than the
 * [B, H, L, S] elementwise passes it saves. So wasm keeps the unfused path for wide non-causal heads.
 */
export function useFusedAttention(backend: Backend, e: number, causal: boolean): boolean {
  if (!fusedAttentionBackends.has(backend.name) || backend.supports?.('attention') === false) return false;
  if (backend.name === 'wasm' && e > 32 && !causal) return false;
  return true;
}

export class FullAttention extends Module implements InnerAttention {
  readonly dropout: Dropout;
  constructor(rng: Rng, readonly maskFlag: boolean, attentionDropout: number, readonly scale: number | null = null) {
    super();
    this.dropout = this.module('dropout', new Dropout(rng, attentionDropout));
  }

  /** The fused kernel on the projections' layout (no head permutes): same numbers as `forward`. */
  forwardInterleaved(q: Tensor, k: Tensor, v: Tensor, heads: number, mask: Tensor | null): Tensor | null {
    const e = q.shape[2]! / heads;
    if (mask !== null || !useFusedAttention(q.backend, e, this.maskFlag)) return null;
    const d = this.dropout;
    return multiHeadAttention(q, k, v, heads, {
      scale: this.scale ?? 1 / Math.sqrt(e), causal: this.maskFlag,
      dropout: d.p, rng: d.rng, training: d.training,
    });
  }

  forward(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor {
    const e = q.shape[3]!;
    const scale = this.scale ?? 1 / Math.sqrt(e);
    if (mask === null && useFusedAttention(q.backend, e, this.maskFlag)) {
      const d = this.dropout;
      return scaledDotProductAttention(q, k, v, {
        scale, causal: this.maskFlag, weights: false,
        dropout: d.p, rng: d.rng, training: d.training,
      }).output;
    }
    let scores = mul(matmul(q, k, { transB: true }), scale);
    if (this.maskFlag) {
      const m = mask ?? causalMaskTensor(q.shape[2]!, k.shape[2]!, q.backend.name);
      scores = where(m, -Infinity, scores);
    }
    const a = this.dropout.forward(softmax(scores));
    return matmul(a, v);
  }
}

export class AttentionLayer extends HeadProjections {
  constructor(rng: Rng, readonly innerAttention: InnerAttention, dModel: number, nHeads: number, dKeys?: number, dValues?: number) {
    super(rng, 'inner_attention', innerAttention, dModel, nHeads, dKeys, dValues);
  }

  /** queries [B, L, d], keys/values [B, S, d] → [B, L, d]. */
  forward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor | null = null): Tensor {
    const [b, l] = queries.shape as [number, number, number];
    const s = keys.shape[1]!;
    const h = this.nHeads;
    const qp = this.queryProjection.forward(queries);
    const kp = this.keyProjection.forward(keys);
    const vp = this.valueProjection.forward(values);
    const inPlace = this.innerAttention.forwardInterleaved?.(qp, kp, vp, h, mask);
    if (inPlace) return this.outProjection.forward(inPlace);
    const heads = (t: Tensor, len: number) => permute(reshape(t, [b, len, h, -1]), [0, 2, 1, 3]);
    const q = heads(qp, l);
    const k = heads(kp, s);
    const v = heads(vp, s);
    const out = this.innerAttention.forward(q, k, v, mask);
    const merged = reshape(permute(out, [0, 2, 1, 3]), [b, l, -1]);
    return this.outProjection.forward(merged);
  }
}
