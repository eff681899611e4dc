/**
 * Autoformer's encoder and decoder with progressive decomposition (TSLib layers/Autoformer_EncDec.py):
 * my_Layernorm (LayerNorm, then minus its mean over time), EncoderLayer / Encoder, DecoderLayer (three
 * decompositions whose trends are summed and projected to c_out by a circular k=3 Conv1d) / Decoder (trend
 * accumulation, norm, projection). The feed-forward convolutions are kernel-size-1 Conv1d without bias, run
 * channels-last. Parameter names follow TSLib's state dict.
 */
import { Module, ModuleList } from './module.ts';
import { Conv1d } from './conv1d.ts';
import { LayerNorm } from './layer-norm.ts';
import { Dropout } from './dropout.ts';
import type { Linear } from './linear.ts';
import { SeriesDecomp } from './series-decomp.ts';
import type { AutoCorrelationLayer } from './autocorrelation.ts';
import type { Activation } from './transformer-layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { add, sub } from '../ops/binary.ts';
import { gelu, relu } from '../ops/unary.ts';
import { permute } from '../ops/movement.ts';
import { mean } from '../ops/reduce.ts';

function activate(kind: Activation, x: Tensor): Tensor {
  return kind === 'gelu' ? gelu(x) : relu(x);
}

/** TSLib's my_Layernorm: x̂ = LayerNorm(x) over channels, minus the mean of x̂ over time. */
export class MyLayernorm extends Module {
  readonly layernorm: LayerNorm;
  constructor(channels: number) {
    super();
    this.layernorm = this.module('layernorm', new LayerNorm(channels));
  }

  forward(x: Tensor): Tensor {
    const xh = this.layernorm.forward(x);
    return sub(xh, mean(xh, 1, true));
  }
}

export class AutoformerEncoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly decomp1: SeriesDecomp;
  readonly decomp2: SeriesDecomp;
  readonly dropout: Dropout;

  constructor(rng: Rng, readonly attention: AutoCorrelationLayer, dModel: number, dFf: number, movingAvg: number, dropout: number, readonly activation: Activation) {
    super();
    this.module('attention', attention);
    this.conv1 = this.module('conv1', new Conv1d(rng, dModel, dFf, 1, { bias: false }));
    this.conv2 = this.module('conv2', new Conv1d(rng, dFf, dModel, 1, { bias: false }));
    this.decomp1 = this.module('decomp1', new SeriesDecomp(movingAvg));
    this.decomp2 = this.module('decomp2', new SeriesDecomp(movingAvg));
    this.dropout = this.module('dropout', new Dropout(rng, dropout));
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const attended = this.attention.forward(x, x, x, mask);
    const [x1] = this.decomp1.forward(add(x, this.dropout.forward(attended)));
    const y = this.dropout.forward(activate(this.activation, this.conv1.forwardChannelsLast(x1)));
    const y2 = this.dropout.forward(this.conv2.forwardChannelsLast(y));
    return this.decomp2.forward(add(x1, y2))[0];
  }
}

export class AutoformerEncoder extends Module {
  readonly attnLayers: ModuleList<AutoformerEncoderLayer>;
  readonly norm: MyLayernorm | null;
  constructor(layers: AutoformerEncoderLayer[], norm: MyLayernorm | null) {
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

export class AutoformerDecoderLayer extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly decomp1: SeriesDecomp;
  readonly decomp2: SeriesDecomp;
  readonly decomp3: SeriesDecomp;
  readonly dropout: Dropout;
  readonly projection: Conv1d;

  constructor(
    rng: Rng,
    readonly selfAttention: AutoCorrelationLayer,
    readonly crossAttention: AutoCorrelationLayer,
    dModel: number, cOut: number, dFf: number, movingAvg: number, dropout: number,
    readonly activation: Activation,
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

  /** → [seasonal x [B, L, d_model], residual trend [B, L, c_out]]. */
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

export class AutoformerDecoder extends Module {
  readonly layers: ModuleList<AutoformerDecoderLayer>;
  readonly norm: MyLayernorm | null;
  readonly projection: Linear | null;
  constructor(layers: AutoformerDecoderLayer[], norm: MyLayernorm | null, projection: Linear | null) {
    super();
    this.layers = this.module('layers', new ModuleList(layers));
    this.norm = norm ? this.module('norm', norm) : null;
    this.projection = projection ? this.module('projection', projection) : null;
  }

  /** → [seasonal part, trend (the input trend plus every layer's residual trend)]. */
  forward(x: Tensor, cross: Tensor, trendIn: Tensor, xMask: Tensor | null = null, crossMask: Tensor | null = null): [Tensor, Tensor] {
    let h = x;
    let trend = trendIn;
    for (const layer of this.layers.items) {
      const [next, residual] = layer.forward(h, cross, xMask, crossMask);
      h = next;
      trend = add(trend, residual);
    }
    if (this.norm) h = this.norm.forward(h);
    if (this.projection) h = this.projection.forward(h);
    return [h, trend];
  }
}
