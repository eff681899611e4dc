/** nn.Linear: y = x·Wᵀ + b with weight [out, in], PyTorch's default initialisation. */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { linear } from '../ops/matmul.ts';
import { uniformInit } from './init.ts';

/**
 * Runs `x·Wᵀ + b` for a layer in place of the dense product (sparse execution of a masked weight,
 * src/sparse/sparse-exec.ts). `weight` is the layer's weight as [out, in].
 */
export interface LinearExecutor {
  forward(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** Set by sparse execution (dense-masked or CSR by density); null runs the dense product. */
  executor: LinearExecutor | null = null;

  constructor(rng: Rng, readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniformInit(rng, [outFeatures, inFeatures], bound));
    this.bias = bias ? this.param('bias', uniformInit(rng, [outFeatures], bound)) : null;
  }

  forward(x: Tensor): Tensor {
    if (this.executor) return this.executor.forward(x, this.weight, this.bias);
    return linear(x, this.weight, this.bias);
  }
}
