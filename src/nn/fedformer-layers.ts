/**
 * Time-Series-Library's Autoformer_EncDec building blocks as FEDformer uses them: moving-average series
 * decomposition (`moving_avg`, `series_decomp`), the seasonal LayerNorm (`my_Layernorm`), and the
 * decomposition encoder/decoder stacks (EncoderLayer/Encoder/DecoderLayer/Decoder).
 *
 * FEDformer's own copy: Autoformer's shared version (src/nn/series-decomp.ts, src/nn/autoformer-layers.ts) did
 * not exist when this was written; the two are meant to be merged. State-dict names follow TSLib exactly
 * (`conv1.weight`, `conv2.weight`, `projection.weight`, `norm.layernorm.weight`, …); the decompositions and
 * dropouts hold no parameters.
 *
 * Semantics (TSLib):
 * - moving_avg(k): replicate the first and last time step (k−1)/2 times at each end, AvgPool1d(k, stride 1)
 *   over time. series_decomp(x) = (x − trend, trend).
 * - my_Layernorm(x) = LN(x) − mean_t LN(x) (the mean over the time axis, per channel).
 * - EncoderLayer: x += drop(attn(x)); x = decomp1(x).seasonal; y = drop(conv2(drop(act(conv1(x)))));
 *   out = decomp2(x + y).seasonal. conv1/conv2 are kernel-1 Conv1d without bias.
 * - DecoderLayer: the same with self- and cross-attention and three decompositions; the three trends are
 *   summed and projected to c_out by a circular Conv1d (k = 3, no bias); Decoder adds it to the running trend.
 */
import { Module, ModuleList } from './module.ts';
import { Conv1d } from './conv1d.ts';
import { LayerNorm } from './layer-norm.ts';
import { Dropout } from './dropout.ts';
import type { Linear } from './linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add, sub } from '../ops/binary.ts';
import { gelu, relu } from '../ops/unary.ts';
import { mean } from '../ops/reduce.ts';
import { pad, permute } from '../ops/movement.ts';
import { avgPool1d } from '../ops/pool.ts';

export type Activation = 'gelu' | 'relu';

function activate(kind: Activation, x: Tensor): Tensor {
  return kind === 'gelu' ? gelu(x) : relu(x);
}

/** TSLib's moving_avg with stride 1: x [B, L, C] → trend [B, L + 2⌊(k−1)/2⌋ − k + 1, C] (L for odd k). */
export class MovingAvg extends Module {
  constructor(readonly kernelSize: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    const p = Math.floor((this.kernelSize - 1) / 2);
    const padded = p > 0 ? pad(x, [[p, p], [0, 0]], 'replicate') : x;
    const pooled = avgPool1d(permute(padded, [0, 2, 1]), this.kernelSize, 1, 0);
    return permute(pooled, [0, 2, 1]);
  }
}

/** TSLib's series_decomp: returns [seasonal = x − trend, trend]. */
export class SeriesDecomp extends Module {
  readonly movingAvg: MovingAvg;
  constructor(kernelSize: number) {
    super();
    this.movingAvg = this.module('moving_avg', new MovingAvg(kernelSize));
  }

  forward(x: Tensor): [Tensor, Tensor] {
    const trend = this.movingAvg.forward(x);
    return [sub(x, trend), trend];
  }
}

/** TSLib's my_Layernorm: LayerNorm, then subtract its mean over the time axis. */
export class MyLayernorm extends Module {
  readonly layernorm: LayerNorm;
  constructor(channels: number) {
    super();
    this.layernorm = this.module('layernorm', new LayerNorm(channels));
  }

  forward(x: Tensor): Tensor {
    const h = this.layernorm.forward(x);
    return sub(h, mean(h, 1, true));
  }
}

/** The attention slot of a decomposition layer: (queries, keys, values) → [B, L, d_model]. */
export interface DecompAttention extends Module {
  forward(queries: Tensor, keys: Tensor, values: Tensor, mask?: Tensor | null): Tensor;
}

export class DecompEncoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly decomp1: SeriesDecomp;
  readonly decomp2: SeriesDecomp;
  readonly dropout: Dropout;

  constructor(rng: Rng, readonly attention: DecompAttention, dModel: number, dFf: number, movingAvg: number, dropout: number, readonly activation: Activation) {
    super();
    this.module('attention', attention);
    this.conv1 = this.module('conv1', new Conv1d(rng, dModel, dFf, 1, { bias: false }));
    this.conv2 = this.module('conv2', new Conv1d(rng, dFf, dModel, 1, { bias: false }));
    this.decomp1 = this.module('decomp1', new SeriesDecomp(movingAvg));
    this.decomp2 = this.module('decomp2', new SeriesDecomp(movingAvg));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const x1 = add(x, this.dropout.forward(this.attention.forward(x, x, x, mask)));
    const [s1] = this.decomp1.forward(x1);
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(s1)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.decomp2.forward(add(s1, y2))[0];
  }
}

export class DecompEncoder extends Module {
  readonly attnLayers: ModuleList<DecompEncoderLayer>;
  readonly norm: MyLayernorm | null;
  constructor(layers: DecompEncoderLayer[], norm: MyLayernorm | null) {
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

export class DecompDecoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly decomp1: SeriesDecomp;
  readonly decomp2: SeriesDecomp;
  readonly decomp3: SeriesDecomp;
  readonly dropout: Dropout;
  readonly projection: Conv1d;

  constructor(
    rng: Rng, readonly selfAttention: DecompAttention, readonly crossAttention: DecompAttention,
    dModel: number, cOut: number, dFf: number, movingAvg: number, dropout: number, readonly activation: Activation,
  ) {
    super();
    this.module('self_attention', selfAttention);
    this.module('cross_attention', crossAttention);
    this.conv1 = this.module('conv1', new Conv1d(rng, dModel, dFf, 1, { bias: false }));
    this.conv2 = this.module('conv2', new Conv1d(rng, dFf, dModel, 1, { bias: false }));
    this.decomp1 = this.module('decomp1', new SeriesDecomp(movingAvg));
    this.decomp2 = this.module('decomp2', new SeriesDecomp(movingAvg));
    this.decomp3 = this.module('decomp3', new SeriesDecomp(movingAvg));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
    this.projection = this.module('projection', new Conv1d(rng, dModel, cOut, 3, { padding: 1, paddingMode: 'circular', bias: false }));
  }

  /** Returns [seasonal x, residual trend [B, L, c_out]]. */
  forward(x: Tensor, cross: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null): [Tensor, Tensor] {
    const [x1, trend1] = this.decomp1.forward(add(x, this.dropout.forward(this.selfAttention.forward(x, x, x, xMask))));
    const [x2, trend2] = this.decomp2.forward(add(x1, this.dropout.forward(this.crossAttention.forward(x1, cross, cross, crossMask))));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x2)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    const [x3, trend3] = this.decomp3.forward(add(x2, y2));
    const trend = add(add(trend1, trend2), trend3);
    const projected = this.projection.forward(permute(trend, [0, 2, 1]));
    return [x3, permute(projected, [0, 2, 1])];
  }
}

export class DecompDecoder extends Module {
  readonly layers: ModuleList<DecompDecoderLayer>;
  readonly norm: MyLayernorm | null;
  readonly projection: Linear | null;
  constructor(layers: DecompDecoderLayer[], norm: MyLayernorm | null, projection: Linear | null) {
    super();
    this.layers = this.module('layers', new ModuleList(layers));
    this.norm = norm ? this.module('norm', norm) : null;
    this.projection = projection ? this.module('projection', projection) : null;
  }

  /** Returns [seasonal part (projected), trend]. */
  forward(x: Tensor, cross: Tensor, trend: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null): [Tensor, Tensor] {
    let h = x;
    let t = trend;
    for (const layer of this.layers.items) {
      const [next, residual] = layer.forward(h, cross, xMask, crossMask);
      h = next;
      t = add(t, residual);
    }
    if (this.norm) h = this.norm.forward(h);
    if (this.projection) h = this.projection.forward(h);
    return [h, t];
  }
}
