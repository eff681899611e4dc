/**
 * nn.Conv1d (groups = 1) with PyTorch's padding modes. A kernel-size-1 convolution over [B, L, C] data is a
 * Linear on the channel axis: `forwardChannelsLast` runs it that way (no transposes), which is how the
 * Transformer FFN's conv1/conv2 execute while keeping their [out, in, 1] state-dict shape.
 */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { conv1d } from '../ops/conv.ts';
import { linear } from '../ops/matmul.ts';
import { reshape } from '../ops/reshape.ts';
import { uniformInit } from './init.ts';
import type { LinearExecutor } from './linear.ts';

export interface Conv1dConfig {
  stride?: number;
  padding?: number;
  dilation?: number;
  paddingMode?: 'zeros' | 'circular' | 'replicate';
  bias?: boolean;
}

export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Set by sparse execution for `forwardChannelsLast` (kernel size 1); null runs the dense product. */
  executor: LinearExecutor | null = null;

  constructor(rng: Rng, readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly cfg: Conv1dConfig = {}) {
    super();
    const bound = 1 / Math.sqrt(inChannels * kernelSize);
    this.weight = this.param('weight', uniformInit(rng, [outChannels, inChannels, kernelSize], bound));
    this.bias = cfg.bias === false ? null : this.param('bias', uniformInit(rng, [outChannels], bound));
  }

  /** x [N, Cin, L] → [N, Cout, Lout]. */
  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, {
      stride: this.cfg.stride ?? 1,
      padding: this.cfg.padding ?? 0,
      dilation: this.cfg.dilation ?? 1,
      paddingMode: this.cfg.paddingMode ?? 'zeros',
    });
  }

  /** x [..., L, Cin] → [..., L, Cout] for a kernel-size-1, stride-1, unpadded convolution. */
  forwardChannelsLast(x: Tensor): Tensor {
    if (this.kernelSize !== 1 || (this.cfg.stride ?? 1) !== 1 || (this.cfg.padding ?? 0) !== 0) {
      throw new Error(`Conv1d.forwardChannelsLast: needs kernel 1, stride 1, no padding (have kernel ${this.kernelSize})`);
    }
    const w2 = reshape(this.weight, [this.outChannels, this.inChannels]);
    const y = this.executor ? this.executor.forward(x, w2, this.bias) : linear(x, w2, this.bias);
    w2.dispose();
    return y;
  }
}
