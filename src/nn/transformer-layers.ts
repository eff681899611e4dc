/**
 * Time-Series-Library's Transformer_EncDec: post-norm encoder and decoder layers whose feed-forward part is
 * two kernel-size-1 Conv1d (run channels-last as Linear), with GELU or ReLU.
 */
import { Module, ModuleList } from './module.ts';
import { Conv1d } from './conv1d.ts';
import { LayerNorm } from './layer-norm.ts';
import { Dropout } from './dropout.ts';
import { Linear } from './linear.ts';
import type { AttentionLayer } from './attention.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add } from '../ops/binary.ts';
import { gelu, relu } from '../ops/unary.ts';

export type Activation = 'gelu' | 'relu';

function activate(kind: Activation, x: Tensor): Tensor {
  return kind === 'gelu' ? gelu(x) : relu(x);
}

export class EncoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;

  constructor(rng: Rng, readonly attention: AttentionLayer, dModel: number, dFf: number, dropout: number, readonly activation: Activation) {
    super();
    this.module('attention', attention);
    this.conv1 = this.module('conv1', new Conv1d(rng, dModel, dFf, 1));
    this.conv2 = this.module('conv2', new Conv1d(rng, dFf, dModel, 1));
    this.norm1 = this.module('norm1', new LayerNorm(dModel));
    this.norm2 = this.module('norm2', new LayerNorm(dModel));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const attended = this.attention.forward(x, x, x, mask);
    const x1 = this.norm1.forward(add(x, this.dropout.forward(attended)));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x1)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.norm2.forward(add(x1, y2));
  }
}

export class Encoder extends Module {
  readonly attnLayers: ModuleList<EncoderLayer>;
  readonly norm: LayerNorm | null;
  constructor(layers: EncoderLayer[], norm: LayerNorm | null) {
    super();
    this.attnLayers = this.module('attn_layers', new ModuleList(layers));
    this.norm = norm ? this.module('norm', norm) : null;
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    let h = x;
    for (const layer of this.attnLayers.items) h = layer.forward(h, mask);
    return this.norm ? this.norm.forward(h) : h;
  }
}

export class DecoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout: Dropout;

  constructor(rng: Rng, readonly selfAttention: AttentionLayer, readonly crossAttention: AttentionLayer, dModel: number, dFf: number, dropout: number, readonly activation: Activation) {
    super();
    this.module('self_attention', selfAttention);
    this.module('cross_attention', crossAttention);
    this.conv1 = this.module('conv1', new Conv1d(rng, dModel, dFf, 1));
    this.conv2 = this.module('conv2', new Conv1d(rng, dFf, dModel, 1));
    this.norm1 = this.module('norm1', new LayerNorm(dModel));
    this.norm2 = this.module('norm2', new LayerNorm(dModel));
    this.norm3 = this.module('norm3', new LayerNorm(dModel));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
  }

  forward(x: Tensor, cross: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null): Tensor {
    const x1 = this.norm1.forward(add(x, this.dropout.forward(this.selfAttention.forward(x, x, x, xMask))));
    const x2 = this.norm2.forward(add(x1, this.dropout.forward(this.crossAttention.forward(x1, cross, cross, crossMask))));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x2)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.norm3.forward(add(x2, y2));
  }
}

export class Decoder extends Module {
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: LayerNorm | null;
  readonly projection: Linear | null;
  constructor(layers: DecoderLayer[], norm: LayerNorm | null, projection: Linear | null) {
    super();
    this.layers = this.module('layers', new ModuleList(layers));
    this.norm = norm ? this.module('norm', norm) : null;
    this.projection = projection ? this.module('projection', projection) : null;
  }

  forward(x: Tensor, cross: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null): Tensor {
    let h = x;
    for (const layer of this.layers.items) h = layer.forward(h, cross, xMask, crossMask);
    if (this.norm) h = this.norm.forward(h);
    return this.projection ? this.projection.forward(h) : h;
  }
}
