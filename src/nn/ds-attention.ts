/**
 * Non-stationary Transformer's De-stationary Attention (TSLib layers/SelfAttention_Family.py DSAttention) and
 * the Transformer encoder/decoder layers that carry its τ and Δ factors (TSLib layers/Transformer_EncDec.py,
 * whose forward takes `tau`, `delta`).
 *
 * scores = (Q·Kᵀ)·τ + Δ, causal positions set to −∞, A = dropout(softmax(scale·scores)), out = A·V, with
 * τ [B, 1] viewed as [B, 1, 1, 1] and Δ [B, S] as [B, 1, 1, S]; scale = 1/√E. Encoder self-attention and
 * decoder cross-attention get τ and Δ; decoder self-attention gets τ only (TSLib passes delta=None there).
 *
 * The layers subclass the vanilla Transformer's (same modules, same state-dict names, same registration
 * order); only their forward passes thread τ and Δ through.
 */
import { Module } from './module.ts';
import { Dropout } from './dropout.ts';
import { AttentionLayer, causalMaskTensor, type InnerAttention } from './attention.ts';
import { Decoder, DecoderLayer, Encoder, EncoderLayer, type Activation } from './transformer-layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add, mul } from '../ops/binary.ts';
import { gelu, relu } from '../ops/unary.ts';
import { matmul } from '../ops/matmul.ts';
import { softmax } from '../ops/nn.ts';
import { where } from '../ops/compare.ts';
import { permute } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';

function activate(kind: Activation, x: Tensor): Tensor {
  return kind === 'gelu' ? gelu(x) : relu(x);
}

export class DSAttention extends Module implements InnerAttention {
  readonly dropout: Dropout;
  constructor(rng: Rng, readonly maskFlag: boolean, attentionDropout: number, readonly scale: number | null = null) {
    super();
    this.dropout = this.module('dropout', new Dropout(rng, attentionDropout));
  }

  /** q [B, H, L, E], k [B, H, S, E], v [B, H, S, D], τ [B, 1] or null, Δ [B, S] or null → [B, H, L, D]. */
  forward(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    const b = q.shape[0]!;
    const e = q.shape[3]!;
    const scale = this.scale ?? 1 / Math.sqrt(e);
    let scores = matmul(q, k, { transB: true });
    if (tau) scores = mul(scores, reshape(tau, [b, 1, 1, 1]));
    if (delta) scores = add(scores, reshape(delta, [b, 1, 1, delta.shape[1]!]));
    if (this.maskFlag) {
      const m = mask ?? causalMaskTensor(q.shape[2]!, k.shape[2]!, q.backend.name);
      scores = where(m, -Infinity, scores);
    }
    const a = this.dropout.forward(softmax(mul(scores, scale)));
    return matmul(a, v);
  }
}

/** AttentionLayer whose forward hands τ and Δ to a DSAttention (TSLib's AttentionLayer does the same). */
export class DSAttentionLayer extends AttentionLayer {
  constructor(rng: Rng, readonly dsAttention: DSAttention, dModel: number, nHeads: number, dKeys?: number, dValues?: number) {
    super(rng, dsAttention, dModel, nHeads, dKeys, dValues);
  }

  override forward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor | null = null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    const [b, l] = queries.shape as [number, number, number];
    const s = keys.shape[1]!;
    const h = this.nHeads;
    const heads = (t: Tensor, len: number) => permute(reshape(t, [b, len, h, -1]), [0, 2, 1, 3]);
    const q = heads(this.queryProjection.forward(queries), l);
    const k = heads(this.keyProjection.forward(keys), s);
    const v = heads(this.valueProjection.forward(values), s);
    const out = this.dsAttention.forward(q, k, v, mask, tau, delta);
    return this.outProjection.forward(reshape(permute(out, [0, 2, 1, 3]), [b, l, -1]));
  }
}

export class NSEncoderLayer extends EncoderLayer {
  constructor(rng: Rng, readonly dsLayer: DSAttentionLayer, dModel: number, dFf: number, dropout: number, activation: Activation) {
    super(rng, dsLayer, dModel, dFf, dropout, activation);
  }

  override forward(x: Tensor, mask: Tensor | null = null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    const attended = this.dsLayer.forward(x, x, x, mask, tau, delta);
    const x1 = this.norm1.forward(add(x, this.dropout.forward(attended)));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x1)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.norm2.forward(add(x1, y2));
  }
}

export class NSEncoder extends Encoder {
  constructor(readonly nsLayers: NSEncoderLayer[], norm: ConstructorParameters<typeof Encoder>[1]) {
    super(nsLayers, norm);
  }

  override forward(x: Tensor, mask: Tensor | null = null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    let h = x;
    for (const layer of this.nsLayers) h = layer.forward(h, mask, tau, delta);
    return this.norm ? this.norm.forward(h) : h;
  }
}

export class NSDecoderLayer extends DecoderLayer {
  constructor(rng: Rng, readonly dsSelf: DSAttentionLayer, readonly dsCross: DSAttentionLayer, dModel: number, dFf: number, dropout: number, activation: Activation) {
    super(rng, dsSelf, dsCross, dModel, dFf, dropout, activation);
  }

  override forward(x: Tensor, cross: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    const x1 = this.norm1.forward(add(x, this.dropout.forward(this.dsSelf.forward(x, x, x, xMask, tau, null))));
    const x2 = this.norm2.forward(add(x1, this.dropout.forward(this.dsCross.forward(x1, cross, cross, crossMask, tau, delta))));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x2)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.norm3.forward(add(x2, y2));
  }
}

export class NSDecoder extends Decoder {
  constructor(readonly nsLayers: NSDecoderLayer[], norm: ConstructorParameters<typeof Decoder>[1], projection: ConstructorParameters<typeof Decoder>[2]) {
    super(nsLayers, norm, projection);
  }

  override forward(x: Tensor, cross: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null, tau: Tensor | null = null, delta: Tensor | null = null): Tensor {
    let h = x;
    for (const layer of this.nsLayers) h = layer.forward(h, cross, xMask, crossMask, tau, delta);
    if (this.norm) h = this.norm.forward(h);
    return this.projection ? this.projection.forward(h) : h;
  }
}
