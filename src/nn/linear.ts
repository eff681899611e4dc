/** nn.Linear: y = x·Wᵀ + b with weight [out, in], PyTorch's default initialisation. */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { linear } from '../ops/matmul.ts';
import { uniformInit } from './init.ts';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(rng: Rng, readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniformInit(rng, [outFeatures, inFeatures], bound));
    this.bias = bias ? this.param('bias', uniformInit(rng, [outFeatures], bound)) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
