/** nn.Dropout with the shared seeded stream; identity in eval mode. */
import { Module } from './module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { dropout } from '../ops/nn.ts';

export class Dropout extends Module {
  constructor(readonly rng: Rng, readonly p: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    // Identity: return the input itself (no copy), as nn.Dropout does in eval mode.
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, this.rng, true);
  }
}
