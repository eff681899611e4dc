/** nn.LayerNorm over the last axis with affine weight (ones) and bias (zeros). */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { layerNorm } from '../ops/nn.ts';
import { full } from '../ops/creation.ts';

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', full([dim], 1));
    this.bias = this.param('bias', full([dim], 0));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
