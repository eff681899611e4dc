/**
 * Informer's self-attention distilling (TSLib layers/Transformer_EncDec.py): nn.BatchNorm1d, ConvLayer
 * (Conv1d k=3 with circular padding 2, BatchNorm1d, ELU, MaxPool1d(3, stride 2, padding 1), which maps a
 * sequence of L steps to ⌊(L + 1) / 2⌋ + 1), and the Encoder that interleaves attention layers with them.
 */
import { Module, ModuleList } from './module.ts';
import { Conv1d } from './conv1d.ts';
import type { LayerNorm } from './layer-norm.ts';
import type { EncoderLayer } from './transformer-layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { engine } from '../tensor/engine.ts';
import { full, scalar } from '../ops/creation.ts';
import { add } from '../ops/binary.ts';
import { elu } from '../ops/unary.ts';
import { permute } from '../ops/movement.ts';
import { maxPool1d } from '../ops/pool.ts';
import { batchNorm1d } from '../ops/batchnorm.ts';

/**
 * nn.BatchNorm1d(C) (affine, tracking running statistics, momentum 0.1, eps 1e-5) on [N, C, L].
 * State-dict keys weight, bias, running_mean, running_var, num_batches_tracked. PyTorch keeps
 * num_batches_tracked as an int64 scalar; here it is an f32 scalar (counted, unused with a fixed momentum).
 */
export class BatchNorm1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly numFeatures: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.param('weight', full([numFeatures], 1));
    this.bias = this.param('bias', full([numFeatures], 0));
    this.buffer('running_mean', full([numFeatures], 0));
    this.buffer('running_var', full([numFeatures], 1));
    this.buffer('num_batches_tracked', scalar(0));
  }

  forward(x: Tensor): Tensor {
    const running = { mean: this.getBuffer('running_mean'), var: this.getBuffer('running_var') };
    const y = batchNorm1d(x, this.weight, this.bias, running, { training: this.training, momentum: this.momentum, eps: this.eps });
    if (this.training) {
      // The op replaced (and disposed) the running tensors; record the new ones.
      this.setBuffer('running_mean', running.mean);
      this.setBuffer('running_var', running.var);
      const n = this.getBuffer('num_batches_tracked');
      this.setBuffer('num_batches_tracked', engine.noGrad(() => add(n, 1)));
    }
    return y;
  }
}

/** TSLib's ConvLayer(c_in): x [B, L, D] → [B, ⌊(L + 1) / 2⌋ + 1, D]. */
export class ConvLayer extends Module {
  readonly downConv: Conv1d;
  readonly norm: BatchNorm1d;

  constructor(rng: Rng, cIn: number) {
    super();
    this.downConv = this.module('downConv', new Conv1d(rng, cIn, cIn, 3, { padding: 2, paddingMode: 'circular' }));
    this.norm = this.module('norm', new BatchNorm1d(cIn));
  }

  forward(x: Tensor): Tensor {
    const y = this.downConv.forward(permute(x, [0, 2, 1]));
    const pooled = maxPool1d(elu(this.norm.forward(y)), 3, 2, 1);
    return permute(pooled, [0, 2, 1]);
  }
}

/**
 * TSLib's Transformer_EncDec.Encoder with conv layers: attention layer i then conv layer i for every conv
 * layer, then the last attention layer, then the norm. Without conv layers it is the plain stack.
 * Keys: attn_layers.N.…, conv_layers.N.…, norm.….
 */
export class DistilEncoder extends Module {
  readonly attnLayers: ModuleList<EncoderLayer>;
  readonly convLayers: ModuleList<ConvLayer> | null;
  readonly norm: LayerNorm | null;

  constructor(layers: EncoderLayer[], convLayers: ConvLayer[] | null, norm: LayerNorm | null) {
    super();
    this.attnLayers = this.module('attn_layers', new ModuleList(layers));
    this.convLayers = convLayers ? this.module('conv_layers', new ModuleList(convLayers)) : null;
    this.norm = norm ? this.module('norm', norm) : null;
  }

  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    let h = x;
    const attn = this.attnLayers.items;
    if (this.convLayers) {
      const convs = this.convLayers.items;
      const n = Math.min(attn.length, convs.length);
      for (let i = 0; i < n; i++) h = convs[i]!.forward(attn[i]!.forward(h, mask));
      h = attn[attn.length - 1]!.forward(h);
    } else {
      for (const layer of attn) h = layer.forward(h, mask);
    }
    return this.norm ? this.norm.forward(h) : h;
  }
}
