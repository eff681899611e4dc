/**
 * A single-layer LSTM as torch.nn.LSTM (batch_first), gate order input, forget, cell, output, with
 * PyTorch's parameter names (weight_ih_l0 [4H, in], weight_hh_l0 [4H, H], bias_ih_l0, bias_hh_l0) and its
 * U(±1/√H) initialisation. Unrolled over time with ops, so autograd differentiates through the recurrence.
 */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { linear } from '../ops/matmul.ts';
import { add, mul } from '../ops/binary.ts';
import { sigmoid, tanh } from '../ops/unary.ts';
import { sliceAxis, split } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';
import { zeros } from '../ops/creation.ts';
import { uniformInit } from './init.ts';

export class Lstm extends Module {
  readonly weightIh: Tensor;
  readonly weightHh: Tensor;
  readonly biasIh: Tensor;
  readonly biasHh: Tensor;

  constructor(rng: Rng, readonly inputSize: number, readonly hiddenSize: number) {
    super();
    const k = 1 / Math.sqrt(hiddenSize);
    this.weightIh = this.param('weight_ih_l0', uniformInit(rng, [4 * hiddenSize, inputSize], k));
    this.weightHh = this.param('weight_hh_l0', uniformInit(rng, [4 * hiddenSize, hiddenSize], k));
    this.biasIh = this.param('bias_ih_l0', uniformInit(rng, [4 * hiddenSize], k));
    this.biasHh = this.param('bias_hh_l0', uniformInit(rng, [4 * hiddenSize], k));
  }

  /** x [B, L, in] → the last hidden state [B, H]. */
  forward(x: Tensor): Tensor {
    const [b, len] = x.shape as [number, number, number];
    const H = this.hiddenSize;
    // The input projection of every step at once: one matmul instead of L small ones.
    const gatesX = linear(x, this.weightIh, this.biasIh);
    let h = zeros([b, H]);
    let c = zeros([b, H]);
    for (let t = 0; t < len; t++) {
      const g = add(reshape(sliceAxis(gatesX, 1, t, 1), [b, 4 * H]), linear(h, this.weightHh, this.biasHh));
      const [i, f, gg, o] = split(g, [H, H, H, H], 1) as [Tensor, Tensor, Tensor, Tensor];
      c = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(gg)));
      h = mul(sigmoid(o), tanh(c));
    }
    return h;
  }
}
